/*
 * init: the first process. Its argument is the kernel command line: the
 * programs to run, one after the other, each word `prog` or `prog:arg`
 * (words with '=', like console=ttyS0, are for someone else). With no
 * program named it runs the default set. It exits 0 when every program
 * exited 0, and the kernel then powers off.
 */
#include "user.h"

#define DEFAULT_SET "nanobench cpubench forkbench smpbench diskperf netperf"
#define WORD 64

/* Runs one program in a child and returns its exit status. */
static int run(const char *prog, const char *arg)
{
	int pid = fork(), status = -1;

	if (pid < 0) {
		printf("init: fork failed\n");
		return -1;
	}
	if (pid == 0) {
		exec(prog, arg);
		printf("init: exec %s failed\n", prog);
		exit(127);
	}
	if (wait(&status) != pid)
		printf("init: wait returned another child\n");
	printf("init: %s exited %d\n", prog, status);
	return status;
}

/* Copies the next word of *s into w (at most WORD-1 bytes); 0 at the end. */
static int next_word(const char **s, char *w)
{
	int n = 0;

	while (**s == ' ')
		(*s)++;
	while (**s && **s != ' ') {
		if (n < WORD - 1)
			w[n++] = **s;
		(*s)++;
	}
	w[n] = 0;
	return n;
}

static int has(const char *w, char c)
{
	for (; *w; w++)
		if (*w == c)
			return 1;
	return 0;
}

/* Runs each program word of list; counts `ran` and returns the failures. */
static int run_list(const char *list, int *ran)
{
	char w[WORD];
	int failures = 0;

	while (next_word(&list, w)) {
		if (has(w, '='))
			continue;
		char *arg = "";
		for (char *p = w; *p; p++)
			if (*p == ':') {
				*p = 0;
				arg = p + 1;
				break;
			}
		(*ran)++;
		if (run(w, arg) != 0)
			failures++;
	}
	return failures;
}

int init_main(const char *arg)
{
	int ran = 0, failures = run_list(arg, &ran);

	if (ran == 0)
		failures = run_list(DEFAULT_SET, &ran);
	printf("init: %d programs, %d failed\n", ran, failures);
	return failures ? 1 : 0;
}
