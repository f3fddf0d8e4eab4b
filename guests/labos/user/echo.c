/* echo: reads one line from the console (interrupt-driven input) and prints it back. */
#include "user.h"

int echo_main(const char *arg)
{
	char line[128];

	(void)arg;
	printf("echo: type a line\n");
	long n = read(line, sizeof(line) - 1);
	if (n <= 0)
		return 1;
	line[n] = 0;
	printf("echo: %s", line);
	return 0;
}
