/*
 * string.c: the string functions the kernel needs. memset and memcpy move
 * eight bytes at a time when both addresses allow it: the kernel zeroes
 * every page it hands out and copies every network frame, and a byte loop
 * made those the most of a page fault's and a frame's instructions.
 */
#include "kernel.h"

#define WORD_ALIGNED(a, b) ((((u64)(a) | (u64)(b)) & 7) == 0)

void *memset(void *dst, int c, unsigned long n)
{
	u8 *d = dst;

	if (c == 0 && WORD_ALIGNED(d, n))
		for (; n; n -= 8, d += 8)
			*(u64 *)d = 0;
	for (; n; n--)
		*d++ = (u8)c;
	return dst;
}

void *memcpy(void *dst, const void *src, unsigned long n)
{
	u8 *d = dst;
	const u8 *s = src;

	if (WORD_ALIGNED(d, s))
		for (; n >= 8; n -= 8, d += 8, s += 8)
			*(u64 *)d = *(const u64 *)s;
	for (; n; n--)
		*d++ = *s++;
	return dst;
}

int strcmp(const char *a, const char *b)
{
	while (*a && *a == *b)
		a++, b++;
	return (unsigned char)*a - (unsigned char)*b;
}

int strncmp(const char *a, const char *b, unsigned long n)
{
	for (; n > 0; n--, a++, b++) {
		if (*a != *b || *a == 0)
			return (unsigned char)*a - (unsigned char)*b;
	}
	return 0;
}

unsigned long strlen(const char *s)
{
	unsigned long n = 0;

	while (s[n])
		n++;
	return n;
}
