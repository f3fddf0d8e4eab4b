/*
 * virtio_blk.h: a polling virtio-blk driver over virtio-mmio version 2
 * (common/virtio_mmio.c), for bare-metal M-mode guests: one request at a
 * time (vblk_request), or up to VBLK_MAX_DEPTH in flight (vblk_submit,
 * vblk_kick, vblk_reap).
 */
#ifndef GUESTS_VIRTIO_BLK_H
#define GUESTS_VIRTIO_BLK_H

#define VBLK_SECTOR   512
#define VBLK_T_IN     0
#define VBLK_T_OUT    1
#define VBLK_T_FLUSH  4
#define VBLK_T_GET_ID 8
/* Requests in flight at most (each takes three descriptors of the queue). */
#define VBLK_MAX_DEPTH 32

/* Finds the first block device among QEMU virt's eight slots and brings it up; prints and exits on failure. Returns its base. */
unsigned long vblk_init(void);
/*
 * on = 0: a pure polling driver (what a benchmark wants): no interrupts asked
 * for (avail.flags NO_INTERRUPT), no InterruptStatus read or InterruptACK
 * write per request, so the notify is the one exit a request costs under
 * --virt trap. Default on: every vblk_request checks its used-buffer interrupt.
 */
void vblk_interrupts(int on);
/* Sectors of the disk (configuration space). */
unsigned long vblk_capacity(void);
/* One request, waited for by polling; returns the status byte (0 = OK). buf may be 0 when len is 0. Nothing else may be in flight. */
int vblk_request(unsigned int type, unsigned long sector, void *buf, unsigned int len);
/*
 * Puts a request on the available ring without telling the device; its tag
 * (0 .. VBLK_MAX_DEPTH-1), or -1 when VBLK_MAX_DEPTH are in flight.
 * vblk_kick publishes everything submitted since the last kick with one
 * notify; vblk_reap returns a finished request's tag (its status byte in
 * *status), or -1 while none is back.
 */
int vblk_submit(unsigned int type, unsigned long sector, void *buf, unsigned int len);
void vblk_kick(void);
int vblk_reap(int *status);
/* Prints "virtio-blk: FAIL: why" and exits 1. */
void vblk_fail(const char *why) __attribute__((noreturn));

#endif
