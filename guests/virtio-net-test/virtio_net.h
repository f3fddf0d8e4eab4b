/*
 * virtio_net.h: a batching virtio-net driver over virtio-mmio version 2, for
 * bare-metal M-mode guests. Queues of VNET_NUM entries; EVENT_IDX (virtio
 * 1.2 §2.7.10) keeps notifications and interrupts to one per batch:
 * the driver notifies only when the device asked (avail_event), and asks
 * for an interrupt (used_event) only when it is about to sleep.
 * vnet_mmio_accesses counts register accesses: under --virt trap each is
 * one VM exit. The transport (registers, set-up, notify) is
 * common/virtio_mmio.c's.
 */
#ifndef VIRTIO_NET_TEST_VIRTIO_NET_H
#define VIRTIO_NET_TEST_VIRTIO_NET_H

#define VNET_NUM       1024
/* Largest frame the driver handles (no FCS). */
#define VNET_MAX_FRAME 1514

#include "virtio_mmio.h"

/* The transport counts every register access the driver makes (virtio_mmio.c). */
#define vnet_mmio_accesses virtio_mmio_accesses
extern unsigned long vnet_notifies;
extern unsigned char vnet_mac[6];
/* The device's PLIC source (1 + its virtio-mmio slot). */
extern unsigned int vnet_irq;

/* Finds the first network device among QEMU virt's eight slots and brings it up with every receive buffer posted. 0, or -1 without one. */
int vnet_init(void);
/* Transmit slots free now (completed sends reclaimed). */
unsigned int vnet_tx_free(void);
/* The frame buffer of the next transmit slot: write the frame there, then vnet_tx_queue it. */
unsigned char *vnet_tx_slot(void);
/* Queues the frame written in vnet_tx_slot() (len bytes); becomes visible to the device at vnet_tx_kick. */
void vnet_tx_queue(unsigned int len);
/* Publishes the queued frames; notifies the device if it asked to be told. */
void vnet_tx_kick(void);
/* Hands every received frame to fn, reposts the buffers, notifies if the device asked; returns how many. */
unsigned int vnet_rx_poll(void (*fn)(const unsigned char *frame, unsigned int len));
/* Asks for an interrupt on the next received frame; 0 if one already arrived (do not sleep). */
int vnet_rx_arm(void);
/* Acknowledges the device's interrupt (InterruptACK). */
void vnet_irq_ack(void);

#endif
