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
 *   crash     starts a subtest, writes bytes that are no UTF-8 (0xFF...) and
 *             control characters to stdout and stderr, dies of SIGSEGV
 *   hang      starts a subtest and never ends, ignoring SIGTERM (verify's
 *             deadline ends it with SIGKILL)
 *   unsupported  what the smoke test printed on our xe without VM export
 *             before XE_VM_EXPORT_REQUIRE: feature-detect SUCCESS ("not
 *             supported"), the rest SKIP (probe answered EINVAL), exit 0;
 *             it ignores XE_VM_EXPORT_REQUIRE
 *   unsupported-require  the same, but with XE_VM_EXPORT_REQUIRE=1 (verify
 *             says the loaded xe is ours) feature-detect FAILs, exit 98, as
 *             the smoke test does
 *   stuck     starts a subtest and blocks in a read of $XE_SMOKE_STUCK_PATH,
 *             a file of a FUSE mount that never answers: an uninterruptible
 *             sleep that SIGKILL does not end
 *   skip      two subtests SKIP, exit 77
 *   silent    prints nothing, exit 0
 *   liar      every subtest SUCCESS, but exit 1
 *
 * Not installed: built by tests/smoke/run.sh only.
 */

#include <fcntl.h>
#include <signal.h>
#include <stdbool.h>
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
		printf("outcome: \xff\xfe\x01\x1b[31m not UTF-8 \xc3\x28 on stdout\n");
		static const char bytes[] = "outcome: \xff\xff\x00\x07\x1b[0m\xed\xa0\x80 not UTF-8 on stderr\n";

		fwrite(bytes, 1, sizeof(bytes) - 1, stderr);
		fprintf(stderr, "outcome: about to write through NULL\n");
		fflush(stderr);
		*null = 1;
		return 0;
	}
	if (!strcmp(o, "hang")) {
		signal(SIGTERM, SIG_IGN);
		fprintf(stderr, "outcome: waiting forever, SIGTERM ignored\n");
		fflush(stderr);
		for (;;)
			pause();
	}
	if (!strcmp(o, "stuck")) {
		const char *path = getenv("XE_SMOKE_STUCK_PATH");
		char c;
		ssize_t n = -1;
		int fd;

		fprintf(stderr, "outcome: reading %s, which never answers\n", path);
		fflush(stderr);
		fd = open(path ? path : "/nonexistent", O_RDONLY);
		if (fd >= 0)
			n = read(fd, &c, 1);
		fprintf(stderr, "outcome: the read returned %zd\n", n);
		return 1;
	}
	if (!strncmp(o, "unsupported", 11)) {
		const char *req = getenv("XE_VM_EXPORT_REQUIRE");
		bool fail = !strcmp(o, "unsupported-require") && req && !strcmp(req, "1");

		start("feature-detect");
		printf("VM export not supported by this kernel's xe\n");
		if (fail)
			fprintf(stderr, "(outcome:%d) CRITICAL: VM export required but the probe answered EINVAL\n",
				getpid());
		result("feature-detect", fail ? "FAIL" : "SUCCESS");
		start("basic");
		printf("Test requirement not met in subtest basic: this kernel's xe lacks VM export (probe answered EINVAL)\n");
		result("basic", "SKIP");
		return fail ? 98 : 0;
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
