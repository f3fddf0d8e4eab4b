/*
 * virtio_blk.h: a polling virtio-blk driver over virtio-mmio version 2, for
 * bare-metal M-mode guests (one request in flight, queue 0 of 8 entries).
 */
#ifndef GUESTS_VIRTIO_BLK_H
#define GUESTS_VIRTIO_BLK_H

#define VBLK_SECTOR   512
#define VBLK_T_IN     0
#define VBLK_T_OUT    1
#define VBLK_T_FLUSH  4
#define VBLK_T_GET_ID 8

/* Finds the first block device among QEMU virt's eight slots and brings it up; prints and exits on failure. Returns its base. */
unsigned long vblk_init(void);
/*
 * on = 0: a pure polling driver (what a benchmark wants): no interrupts asked
 * for (avail.flags NO_INTERRUPT), no InterruptStatus read or InterruptACK
 * write per request, so the notify is the one exit a request costs under
 * --virt trap. Default on: every request checks its used-buffer interrupt.
 */
void vblk_interrupts(int on);
/* Sectors of the disk (configuration space). */
unsigned long vblk_capacity(void);
/* One request, waited for by polling; returns the status byte (0 = OK). buf may be 0 when len is 0. */
int vblk_request(unsigned int type, unsigned long sector, void *buf, unsigned int len);
/* Prints "virtio-blk: FAIL: why" and exits 1. */
void vblk_fail(const char *why) __attribute__((noreturn));

#endif
