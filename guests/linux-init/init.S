/*
 * /init for a Linux kernel booted on popek: the first user-space program.
 * It speaks the Linux system-call ABI directly (a7 = number, a0.. = args,
 * ecall), so it needs no C library: it writes one line to the console and
 * powers the machine off, which Linux does through SBI SRST, OpenSBI
 * through the sifive_test finisher, and popek then exits 0.
 */
#define SYS_write  64
#define MESSAGE_LENGTH 43 /* the message below, with its newline */
#define SYS_reboot 142
#define LINUX_REBOOT_MAGIC1     0xfee1dead
#define LINUX_REBOOT_MAGIC2     672274793
#define LINUX_REBOOT_CMD_POWER_OFF 0x4321fedc

	.section .text
	.globl _start
_start:
	li	a7, SYS_write
	li	a0, 1
	la	a1, message
	li	a2, MESSAGE_LENGTH
	ecall
	li	a7, SYS_reboot
	li	a0, LINUX_REBOOT_MAGIC1
	li	a1, LINUX_REBOOT_MAGIC2
	li	a2, LINUX_REBOOT_CMD_POWER_OFF
	li	a3, 0
	ecall
1:	j	1b

	.section .rodata
message:
	.ascii	"popek: hello from Linux user space (PID 1)\n"
message_end:
