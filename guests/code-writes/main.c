/*
 * code-writes: code rewritten by someone other than the hart that runs it,
 * then fence.i: the hart must run the new code (Zifencei; a hart's fence.i
 * makes every store visible to it before the fence visible to its fetches).
 * Three writers, each after the old code has run hot (so a JIT has compiled
 * it):
 *   1. the disk: a virtio-blk read into the code page (DMA; under --virt trap
 *      an I/O worker thread writes the page);
 *   2. the device model itself: GET_ID's answer written into the code page
 *      (under --virt trap, by the hypervisor's main thread);
 *   3. another hart: hart 1 stores the new instruction.
 * The host puts c.li a0, 2; c.jr ra at the start of sector 0, and gives the
 * disk the serial ")E": the two bytes of c.li a0, 10. Needs two harts.
 * Prints "code-writes: PASS" and exits 0 when every call returned the new value.
 */
#include "console.h"
#include "virtio_blk.h"

#define C_LI_A0(imm) (0x4501 | ((imm) << 2)) /* c.li a0, imm (0..31) */
#define C_RET 0x8082                        /* c.jr ra */
#define HOT_CALLS 6000                      /* past popek's JIT thresholds (wasm 4096) */
#define WAIT_SPINS 200000000UL

static unsigned short code[2048] __attribute__((aligned(4096)));
typedef long (*code_fn)(void);
/* 1: hart 0 asks hart 1 to rewrite the code; 2: hart 1 has. */
static volatile long step;

static void fence_i(void)
{
	__asm__ volatile("fence.i" ::: "memory");
}

/* Runs the code HOT_CALLS times; what it returned, if always the same, else -1. */
static long run_hot(void)
{
	long first = ((code_fn)code)();
	for (int i = 1; i < HOT_CALLS; i++)
		if (((code_fn)code)() != first)
			return -1;
	return first;
}

static void expect(const char *writer, long want)
{
	fence_i();
	long got = ((code_fn)code)();
	console_puts("code-writes: ");
	console_puts(writer);
	if (got != want) {
		console_puts(": FAIL, the old code ran (returned ");
		console_put_sdec(got);
		console_puts(")\n");
		finisher_exit(1);
	}
	console_puts(": the new code ran\n");
}

int main(unsigned long hartid, const void *fdt)
{
	(void)hartid;
	(void)fdt;
	vblk_init();
	/* Polling only: the read completes when the used ring says so, with no
	 * exit to the device model after it (so the I/O worker's own marking is
	 * what the fence.i relies on). */
	vblk_interrupts(0);
	code[0] = C_LI_A0(1);
	code[1] = C_RET;
	fence_i();
	if (run_hot() != 1)
		vblk_fail("the first code did not return 1");

	if (vblk_request(VBLK_T_IN, 0, code, VBLK_SECTOR) != 0)
		vblk_fail("read of sector 0");
	expect("virtio-blk read", 2);

	run_hot();
	if (vblk_request(VBLK_T_GET_ID, 0, code, 2) != 0)
		vblk_fail("get-id");
	expect("virtio-blk get-id", 10);

	run_hot();
	step = 1;
	unsigned long spins = 0;
	while (step != 2)
		if (++spins == WAIT_SPINS)
			vblk_fail("hart 1 never rewrote the code (run with two harts)");
	expect("hart 1's store", 3);

	console_puts("code-writes: PASS\n");
	return 0;
}

void secondary_main(unsigned long hartid, const void *fdt)
{
	(void)fdt;
	if (hartid != 1)
		return;
	while (step != 1)
		;
	*(volatile unsigned short *)code = C_LI_A0(3);
	__asm__ volatile("fence rw, rw" ::: "memory");
	step = 2;
}
