/*
 * main.c: one image holds every program (like busybox); exec starts it at
 * _ustart with the program's name, and umain runs the one named.
 */
#include "user.h"

struct program {
	const char *name;
	int (*main)(const char *arg);
};

static const struct program programs[] = {
	{ "init", init_main },
	{ "nanobench", nanobench_main },
	{ "cpubench", cpubench_main },
	{ "forkbench", forkbench_main },
	{ "smpbench", smpbench_main },
	{ "diskperf", diskperf_main },
	{ "netperf", netperf_main },
	{ "ping", ping_main },
	{ "echo", echo_main },
};

void umain(const char *name, const char *arg) __attribute__((noreturn));
void umain(const char *name, const char *arg)
{
	for (unsigned long i = 0; i < sizeof(programs) / sizeof(programs[0]); i++)
		if (strcmp(name, programs[i].name) == 0)
			exit(programs[i].main(arg));
	printf("labos: no program %s\n", name);
	exit(127);
}
