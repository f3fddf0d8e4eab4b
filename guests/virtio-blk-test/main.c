/*
 * virtio-blk-test: a bare-metal M-mode guest that drives a virtio-blk disk
 * through common/virtio_blk.c (the version-2 registers, programmed
 * directly). Runs the same on QEMU (-machine virt -bios none -global
 * virtio-mmio.force-legacy=false) and on popek:
 *   1. reads sector 0 and prints its first line (the host put it there);
 *   2. writes sectors 2 and 3 with a known pattern ("popek-sector-N" then
 *      bytes i ^ N) and flushes;
 *   3. reads them back and compares;
 *   4. asks for the device ID and prints it.
 * Exit 0 when all agree; the host then checks sectors 2 and 3 in the file.
 */
#include "console.h"
#include "virtio_blk.h"

static unsigned char data[2 * VBLK_SECTOR] __attribute__((aligned(16)));

static void pattern(unsigned char *p, unsigned long sector)
{
	const char *tag = "popek-sector-";
	int i = 0;
	for (; tag[i]; i++)
		p[i] = tag[i];
	p[i++] = '0' + sector;
	for (; i < VBLK_SECTOR; i++)
		p[i] = (unsigned char)(i ^ sector);
}

int main(unsigned long hartid, const void *fdt)
{
	(void)hartid;
	(void)fdt;
	unsigned long base = vblk_init();
	console_puts("virtio-blk-test: disk at ");
	console_put_hex(base, 8);
	unsigned long capacity = vblk_capacity();
	console_puts(", ");
	console_put_dec(capacity);
	console_puts(" sectors\n");
	if (capacity < 4)
		vblk_fail("disk smaller than 4 sectors");

	if (vblk_request(VBLK_T_IN, 0, data, VBLK_SECTOR) != 0)
		vblk_fail("read of sector 0");
	console_puts("sector 0: ");
	for (int i = 0; i < 64 && data[i] && data[i] != '\n'; i++)
		console_putc(data[i]);
	console_puts("\n");

	pattern(data, 2);
	pattern(data + VBLK_SECTOR, 3);
	if (vblk_request(VBLK_T_OUT, 2, data, 2 * VBLK_SECTOR) != 0)
		vblk_fail("write of sectors 2-3");
	if (vblk_request(VBLK_T_FLUSH, 0, 0, 0) != 0)
		vblk_fail("flush");
	for (int i = 0; i < 2 * VBLK_SECTOR; i++)
		data[i] = 0;
	if (vblk_request(VBLK_T_IN, 2, data, 2 * VBLK_SECTOR) != 0)
		vblk_fail("read of sectors 2-3");
	static unsigned char want[VBLK_SECTOR];
	for (unsigned long s = 2; s <= 3; s++) {
		pattern(want, s);
		for (int i = 0; i < VBLK_SECTOR; i++)
			if (data[(s - 2) * VBLK_SECTOR + i] != want[i])
				vblk_fail("read back differs from what was written");
	}
	console_puts("sectors 2-3 written, flushed and read back\n");

	static char id[21];
	if (vblk_request(VBLK_T_GET_ID, 0, id, 20) != 0)
		vblk_fail("get-id");
	console_puts("device id: ");
	console_puts(id);
	console_puts("\nvirtio-blk-test: PASS\n");
	return 0;
}
