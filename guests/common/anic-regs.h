/*
 * anic-regs.h: the assigned NIC's register page and descriptor, as popek's
 * device (src/devices/assigned-nic/) defines them: one contract for both of
 * its drivers (assigned-test's and labos's). Offsets are in the register
 * page; the rings are arrays of struct anic_desc in guest RAM.
 */
#ifndef GUESTS_ANIC_REGS_H
#define GUESTS_ANIC_REGS_H

#define REG_ID          0x000
#define REG_MAC_LO      0x008
#define REG_MAC_HI      0x00c
#define REG_STATUS      0x010
#define REG_ERROR       0x014
#define REG_CTRL        0x040
#define REG_IRQ_ENABLE  0x044
#define REG_IRQ_HART    0x048
#define REG_TX_BASE_LO  0x04c
#define REG_TX_BASE_HI  0x050
#define REG_TX_SIZE     0x054
#define REG_RX_BASE_LO  0x058
#define REG_RX_BASE_HI  0x05c
#define REG_RX_SIZE     0x060
#define REG_TX_TAIL     0x080
#define REG_RX_TAIL     0x084
#define REG_TX_ACK      0x088
#define REG_RX_ACK      0x08c
#define REG_TX_HEAD     0x0c0
#define REG_RX_HEAD     0x0c4

#define ANIC_ID         0x43494e41	/* "ANIC" */
#define STATUS_RUNNING  1
#define STATUS_FAILED   2
#define CTRL_ENABLE     1
#define IRQ_RX          1
#define IRQ_TX          2
#define DESC_DONE       0x80000000U
#define DESC_ERROR      0x40000000U

struct anic_desc {
	unsigned long addr;
	unsigned short len;
	unsigned short flags;
	volatile unsigned int status;
};

#endif
