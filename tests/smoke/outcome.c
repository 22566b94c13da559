// SPDX-License-Identifier: MIT
/*
 * Copyright © 2026 The xe-vm-export authors
 */

/*
 * outcome - a stand-in IGT test binary for the smoke tests of
 * xe-vm-export-verify: it really ends the way $XE_SMOKE_OUTCOME says, so that
 * verify is driven through every outcome a real test can have.
 *
 *   pass      two subtests SUCCESS, exit 0
 *   fail      one SUCCESS, one FAIL (an assertion on stderr), exit 98
 *   crash     starts a subtest and dies of SIGSEGV (a NULL write)
 *   hang      starts a subtest and never ends (verify's timeout kills it)
 *   skip      two subtests SKIP, exit 77
 *   silent    prints nothing, exit 0
 *   liar      every subtest SUCCESS, but exit 1
 *
 * Not installed: built by tests/smoke/run.sh only.
 */

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static void start(const char *name)
{
	printf("Starting subtest: %s\n", name);
	fflush(stdout);
}

static void result(const char *name, const char *res)
{
	printf("Subtest %s: %s (0.001s)\n", name, res);
	fflush(stdout);
}

int main(void)
{
	const char *o = getenv("XE_SMOKE_OUTCOME");
	volatile int *null = NULL;

	setvbuf(stdout, NULL, _IOLBF, 0);
	printf("IGT-Version: 0.0.0-outcome (x86_64) (Linux: test x86_64)\n");
	if (!o)
		o = "pass";
	if (!strcmp(o, "silent"))
		return 0;
	start("first");
	if (!strcmp(o, "crash")) {
		fprintf(stderr, "outcome: about to write through NULL\n");
		fflush(stderr);
		*null = 1;
		return 0;
	}
	if (!strcmp(o, "hang")) {
		fprintf(stderr, "outcome: waiting forever\n");
		fflush(stderr);
		for (;;)
			pause();
	}
	if (!strcmp(o, "skip")) {
		printf("Test requirement not met in subtest first: nothing here\n");
		result("first", "SKIP");
		start("second");
		result("second", "SKIP");
		return 77;
	}
	result("first", "SUCCESS");
	start("second");
	if (!strcmp(o, "fail")) {
		fprintf(stderr, "(outcome:%d) CRITICAL: Failed assertion: 1 == 2\n", getpid());
		result("second", "FAIL");
		return 98;
	}
	result("second", "SUCCESS");
	return !strcmp(o, "liar") ? 1 : 0;
}
