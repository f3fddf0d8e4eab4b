/* string.c: the string functions the kernel needs (memset, memcpy: common/string.c). */
#include "kernel.h"

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
