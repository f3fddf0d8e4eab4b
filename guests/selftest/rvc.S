/*
 * rvc.S: each function issues one or a few compressed instructions by their
 * c. mnemonic (the assembler refuses if it cannot encode them as 16-bit),
 * so rv64c.c can check what each one computed (unpriv spec ch. 16).
 * Registers: a0/a1 are x10/x11, inside the x8-x15 set of the CL/CS/CB forms.
 */
	.text
	.option push
	.option rvc

/* long rvc_addi16sp(void): how far c.addi16sp sp, -64 moved sp (64) */
	.globl rvc_addi16sp
rvc_addi16sp:
	mv	a1, sp
	c.addi16sp sp, -64
	sub	a0, a1, sp
	c.addi16sp sp, 64
	ret

/* long rvc_addi4spn(void): c.addi4spn a0, sp, 16 minus sp (16) */
	.globl rvc_addi4spn
rvc_addi4spn:
	c.addi4spn a0, sp, 16
	sub	a0, a0, sp
	ret

/* long rvc_sdsp_ldsp(long v): c.sdsp then c.ldsp (v) */
	.globl rvc_sdsp_ldsp
rvc_sdsp_ldsp:
	c.addi16sp sp, -32
	c.sdsp	a0, 8(sp)
	c.li	a0, 0
	c.ldsp	a0, 8(sp)
	c.addi16sp sp, 32
	ret

/* long rvc_swsp_lwsp(long v): c.swsp then c.lwsp (low word, sign-extended) */
	.globl rvc_swsp_lwsp
rvc_swsp_lwsp:
	c.addi16sp sp, -32
	c.swsp	a0, 12(sp)
	c.li	a0, 0
	c.lwsp	a0, 12(sp)
	c.addi16sp sp, 32
	ret

/* long rvc_sd_ld(long *p, long v): c.sd v to p[1], c.ld p[1] */
	.globl rvc_sd_ld
rvc_sd_ld:
	c.sd	a1, 8(a0)
	c.ld	a0, 8(a0)
	ret

/* long rvc_sw_lw(int *p, long v): c.sw v to p[1], c.lw p[1] */
	.globl rvc_sw_lw
rvc_sw_lw:
	c.sw	a1, 4(a0)
	c.lw	a0, 4(a0)
	ret

	.globl rvc_addiw
rvc_addiw:
	c.addiw	a0, 1
	ret
	.globl rvc_addi
rvc_addi:
	c.addi	a0, -1
	c.nop
	ret
	.globl rvc_srai
rvc_srai:
	c.srai	a0, 4
	ret
	.globl rvc_srli
rvc_srli:
	c.srli	a0, 4
	ret
	.globl rvc_slli
rvc_slli:
	c.slli	a0, 4
	ret
	.globl rvc_andi
rvc_andi:
	c.andi	a0, -16
	ret
	.globl rvc_li
rvc_li:
	c.li	a0, -5
	ret
	.globl rvc_lui_pos
rvc_lui_pos:
	c.lui	a0, 0x1f
	ret
	.globl rvc_lui_neg
rvc_lui_neg:
	c.lui	a0, 0xfffe0
	ret

/* long rvc_<op>(long a, long b) = a op b */
	.globl rvc_add
rvc_add:
	c.add	a0, a1
	ret
	.globl rvc_sub
rvc_sub:
	c.sub	a0, a1
	ret
	.globl rvc_xor
rvc_xor:
	c.xor	a0, a1
	ret
	.globl rvc_or
rvc_or:
	c.or	a0, a1
	ret
	.globl rvc_and
rvc_and:
	c.and	a0, a1
	ret
	.globl rvc_addw
rvc_addw:
	c.addw	a0, a1
	ret
	.globl rvc_subw
rvc_subw:
	c.subw	a0, a1
	ret
	.globl rvc_mv
rvc_mv:
	c.mv	a0, a1
	ret

/* long rvc_beqz(long v): 1 if c.beqz was taken */
	.globl rvc_beqz
rvc_beqz:
	c.beqz	a0, 1f
	c.li	a0, 0
	ret
1:	c.li	a0, 1
	ret

	.globl rvc_bnez
rvc_bnez:
	c.bnez	a0, 1f
	c.li	a0, 0
	ret
1:	c.li	a0, 1
	ret

/* long rvc_j(void): 1 if c.j skipped the c.li 2 */
	.globl rvc_j
rvc_j:
	c.li	a0, 1
	c.j	1f
	c.li	a0, 2
1:	ret

/* long rvc_jr(void): 1 if c.jr reached its target */
	.globl rvc_jr
rvc_jr:
	lla	a1, 1f
	c.li	a0, 2
	c.jr	a1
	c.li	a0, 3
1:	c.addi	a0, -1
	ret

/* long rvc_jalr_link(void): c.jalr's link minus (its pc + 2): 0 */
	.globl rvc_jalr_link
rvc_jalr_link:
	mv	t1, ra
	lla	a1, 1f
	c.jalr	a1
2:	c.unimp
1:	lla	a2, 2b
	sub	a0, ra, a2
	mv	ra, t1
	ret

	.option pop
