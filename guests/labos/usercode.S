/*
 * usercode.S: the programs' image, built from user/ by the Makefile (linked
 * at USER_BASE by user/user.ld, then flattened with objcopy) and carried in
 * the kernel's read-only data. exec copies it into fresh user pages: the
 * kernel needs no file system and no ELF loader, and the programs still run
 * at user addresses, in their own pages, like any program.
 */
	.section .rodata
	.balign 4096
	.globl user_image, user_image_end
user_image:
	.incbin "build/labos/user.bin"
user_image_end:
