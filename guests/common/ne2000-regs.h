/*
 * ne2000-regs.h: the NE2000's (DP8390's) register map, as popek's device
 * model (src/devices/ne2000.ts) and the data sheet name them: one contract
 * for both of its drivers (ne2000-test's and labos's). Offsets are in the
 * card's window, page 0 unless noted.
 */
#ifndef GUESTS_NE2000_REGS_H
#define GUESTS_NE2000_REGS_H

#define CR        0x00	/* command: STP STA TXP RD PS */
#define PSTART    0x01	/* w: first page of the receive ring */
#define PSTOP     0x02	/* w: page after it */
#define BNRY      0x03	/* boundary: the last page the driver has read */
#define TPSR      0x04	/* w: transmit page */
#define TBCR0     0x05	/* w: transmit byte count, low and high */
#define TBCR1     0x06
#define ISR       0x07	/* interrupt status; writing 1s clears */
#define RSAR0     0x08	/* w: remote-DMA start address, low and high */
#define RSAR1     0x09
#define RBCR0     0x0a	/* w: remote-DMA byte count, low and high */
#define RBCR1     0x0b
#define RCR       0x0c	/* w: receive configuration */
#define TCR       0x0d	/* w: transmit configuration */
#define DCR       0x0e	/* w: data configuration */
#define IMR       0x0f	/* w: interrupt mask */
#define CNTR2     0x0f	/* r: missed-frame tally (a read clears it) */
#define PAR0      0x01	/* page 1: the station address, 6 bytes */
#define CURR      0x07	/* page 1: where the card writes the next frame */
#define MAR0      0x08	/* page 1: the multicast filter, 8 bytes */
#define DATA      0x10	/* the remote-DMA data port */
#define RESET     0x18	/* a read resets the card */

#define CR_STP    0x01
#define CR_STA    0x02
#define CR_TXP    0x04
#define CR_RREAD  0x08
#define CR_RWRITE 0x10
#define CR_NODMA  0x20
#define CR_PAGE1  0x40

#define ISR_PRX   0x01
#define ISR_PTX   0x02
#define ISR_TXE   0x08
#define ISR_OVW   0x10
#define ISR_CNT   0x20
#define ISR_RDC   0x40
#define ISR_RST   0x80

#define RCR_AB    0x04	/* accept broadcast (and our own MAC) */
#define RCR_MON   0x20	/* monitor: receive nothing while configuring */
#define TCR_LOOP  0x02	/* internal loopback: send nothing while configuring */
#define DCR_WORD  0x49	/* word-wide transfers, normal mode, FIFO threshold 8 */

#endif
