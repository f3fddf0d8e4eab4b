/*
 * nic-args.h: what the bare-metal NIC test programs (ne2000-test,
 * virtio-net-test, assigned-test) share around their drivers: the command
 * line from /chosen/bootargs, its words and numbers, and a MAC in text.
 */
#ifndef NIC_ARGS_H
#define NIC_ARGS_H

/* Copies /chosen/bootargs into buf (NUL-terminated, at most len - 1 bytes); an empty string without one. */
void bootargs_copy(const void *fdt, char *buf, unsigned int len);
/* Whether s starts with the word `word` (followed by a space or the end). */
int args_starts(const char *s, const char *word);
/* The decimal number at *p after spaces (at most 9 digits; 0 without one), *p moved past it. */
unsigned long args_number(const char **p);
/* Prints a MAC address as aa:bb:cc:dd:ee:ff. */
void console_put_mac(const unsigned char *m);

#endif
