/*
 * ne2000.h: a polling NE2000 (DP8390) driver for bare-metal M-mode guests,
 * on popek's lab slot 0 (src/machine/memlayout.ts NE2000_BASE, PLIC source 11).
 * Every register and data-port access below is one MMIO access: under
 * `--virt trap` one VM exit each. ne_mmio_accesses counts them.
 */
#ifndef NE2000_TEST_NE2000_H
#define NE2000_TEST_NE2000_H

#define NE_BASE        0x10009000UL

/* Largest frame the driver handles (no FCS). */
#define NE_MAX_FRAME   1518

extern unsigned long ne_mmio_accesses;
extern unsigned char ne_mac[6];

/* Resets and starts the card: MAC from the PROM, broadcast accepted. 0, or -1 without a card. */
int ne_init(void);
/* Sends len bytes (padded to 60); waits for PTX. 0, or -1 on TXE. */
int ne_send(const unsigned char *frame, unsigned int len);
/* Unmasks the ISR causes in mask (IMR): the card's line to the PLIC follows ISR & IMR. */
void ne_irq_mask(unsigned char mask);
/* The next received frame into buf (up to cap bytes): its length, or 0 when the ring is empty. */
unsigned int ne_recv(unsigned char *buf, unsigned int cap);

#endif
