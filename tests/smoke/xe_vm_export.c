// SPDX-License-Identifier: MIT
/*
 * Copyright © 2026 The xe-vm-export authors
 */

/*
 * xe_vm_export - smoke test of DRM_IOCTL_XE_VM_EXPORT in the IGT format.
 *
 * The binary speaks the protocol of IGT test binaries so that igt_runner can
 * run it beside IGT's own tests:
 *
 *   --list-subtests         one subtest name a line, exit 0
 *   --run-subtest PATTERN   run the subtests matching PATTERN, a wildmat as
 *                           IGT's: comma-separated globs, a glob starting
 *                           with '!' excludes, the last one that matches a
 *                           name decides ("*,!aux-*"); no match: exit 79
 *   --describe [PATTERN]    what the test and each subtest prove, in IGT's
 *                           "SUB name file:line:" layout
 *   --device FILTER         the device, in IGT's filter syntax (drm:PATH,
 *                           sys:PATH, pci:vendor=..,device=..,card=N,slot=..)
 *                           or a render node's path; default $IGT_DEVICE,
 *                           else the first xe render node
 *
 * Output: "IGT-Version: ..." first, then "Starting subtest: NAME" and
 * "Subtest NAME: SUCCESS|FAIL|SKIP (x.xxxs)" per subtest. When /dev/kmsg is
 * writable, the kernel log gets IGT's markers ("[IGT] xe_vm_export: starting
 * subtest NAME", "... finished subtest NAME, RESULT"), which igt_runner uses
 * to cut the kernel log per subtest. Exit codes: 0 something passed and
 * nothing failed, 77 every subtest skipped, 98 a subtest failed, 79 invalid
 * invocation.
 *
 * Each subtest creates its own VM and closes what it opened, so subtests do
 * not depend on each other's order. A machine without an xe device skips
 * every subtest; a kernel whose xe lacks VM export passes feature-detect and
 * skips the rest, unless XE_VM_EXPORT_REQUIRE=1 says that the loaded xe is
 * xe-vm-export's (xe-vm-export-verify sets it when it knows): then
 * feature-detect fails, since VM export should be there.
 *
 * The kernel log markers go to /dev/kmsg when it is a character device,
 * opened for writing only (never created or truncated), or to the existing
 * file $XE_VM_EXPORT_KMSG (appended to).
 */

#include <errno.h>
#include <fcntl.h>
#include <fnmatch.h>
#include <getopt.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <xf86drm.h>

#include "xe_vm_export_drm.h"
#include "xe_uapi_min.h"
#ifdef HAVE_AUX_UAPI
#include "xe_vm_export_aux.h"
#endif

#define EXIT_OK		0
#define EXIT_SKIP	77
#define EXIT_INVALID	79
#define EXIT_FAILURE_	98

#define MAX_TRACKED_FDS	64

#ifndef XE_VM_EXPORT_VERSION
#define XE_VM_EXPORT_VERSION "unknown"
#endif

static const char test_description[] =
	"Smoke test of DRM_IOCTL_XE_VM_EXPORT (xe-vm-export): the ioctl's contract "
	"on a real xe device, and its import by the sample auxiliary driver.";

enum result { RES_SUCCESS, RES_SKIP, RES_FAIL };

static const char *const result_names[] = {
	[RES_SUCCESS] = "SUCCESS",
	[RES_SKIP] = "SKIP",
	[RES_FAIL] = "FAIL",
};

/* What a subtest needs before it can run; missing → SKIP. */
#define NEED_DEVICE	(1u << 0)
#define NEED_EXPORT	(1u << 1)
#define NEED_AUX	(1u << 2)

/* State found once, before the first subtest (IGT's fixture). */
static struct {
	char node[256];		/* xe render node, empty when none */
	int fd;			/* open on node for the probe, or -1 */
	int probe_errno;	/* errno of the all-zero export probe */
	char aux_node[256];	/* sample consumer's misc device, or empty */
} fixture = { .fd = -1 };

/*
 * export_required() - XE_VM_EXPORT_REQUIRE=1: the caller knows the loaded xe
 * is xe-vm-export's, so a missing VM export is a failure, not a skip.
 */
static bool export_required(void)
{
	const char *env = getenv("XE_VM_EXPORT_REQUIRE");

	return env && !strcmp(env, "1");
}

/* Per-subtest bookkeeping: the jump out of a failed check, open fds. */
static jmp_buf subtest_jmp;
static char subtest_reason[512];
static int tracked[MAX_TRACKED_FDS];
static unsigned int ntracked;

static const char *progname = "xe_vm_export";

static void jump_out(enum result res, const char *fmt, va_list ap)
{
	vsnprintf(subtest_reason, sizeof(subtest_reason), fmt, ap);
	longjmp(subtest_jmp, res);
}

/* fail_if(COND, FMT...) - end the subtest with FAIL when COND holds. */
#define fail_if(cond, ...) \
	do { if (cond) fail_at(__func__, __LINE__, #cond, __VA_ARGS__); } while (0)

static void __attribute__((noreturn, format(printf, 4, 5)))
fail_at(const char *func, int line, const char *cond, const char *fmt, ...)
{
	va_list ap;

	fprintf(stderr, "(%s:%d) CRITICAL: Test assertion failure function %s, line %d:\n",
		progname, getpid(), func, line);
	fprintf(stderr, "(%s:%d) CRITICAL: Failed assertion: %s\n",
		progname, getpid(), cond);
	va_start(ap, fmt);
	jump_out(RES_FAIL, fmt, ap);
	va_end(ap);
	__builtin_unreachable();
}

/* skip_test(FMT...) - end the subtest with SKIP. */
static void __attribute__((noreturn, unused, format(printf, 1, 2)))
skip_test(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	jump_out(RES_SKIP, fmt, ap);
	va_end(ap);
	__builtin_unreachable();
}

/* track() - remember @fd so that it is closed when the subtest ends. */
static int track(int fd)
{
	if (fd >= 0 && ntracked < MAX_TRACKED_FDS)
		tracked[ntracked++] = fd;
	return fd;
}

/* untrack_close() - close @fd now and forget it. */
static void untrack_close(int fd)
{
	unsigned int i;

	for (i = 0; i < ntracked; i++) {
		if (tracked[i] == fd) {
			tracked[i] = tracked[--ntracked];
			break;
		}
	}
	fail_if(close(fd) != 0, "close(%d): %s", fd, strerror(errno));
}

static void close_tracked(void)
{
	while (ntracked)
		close(tracked[--ntracked]);
}

/* ---------------------------------------------------------------------
 * ioctl wrappers: __name() returns 0 or -errno, name() fails the subtest.
 */

static int __ioctl(int fd, unsigned long request, void *arg)
{
	int ret;

	do {
		ret = ioctl(fd, request, arg);
	} while (ret == -1 && (errno == EINTR || errno == EAGAIN));

	return ret ? -errno : 0;
}

static int __xe_vm_export(int fd, struct drm_xe_vm_export *args)
{
	return __ioctl(fd, DRM_IOCTL_XE_VM_EXPORT, args);
}

/* xe_vm_export() - export @vm_id and return the export fd, tracked. */
static int xe_vm_export(int fd, uint32_t vm_id)
{
	struct drm_xe_vm_export args = { .vm_id = vm_id };
	int err = __xe_vm_export(fd, &args);

	fail_if(err, "export of vm %u: %s", vm_id, strerror(-err));
	fail_if(args.fd < 0, "export of vm %u returned fd %d", vm_id, args.fd);
	return track(args.fd);
}

static int __xe_vm_create(int fd, uint32_t flags, uint32_t *vm_id)
{
	struct xe_smoke_vm_create args = { .flags = flags };
	int err = __ioctl(fd, XE_SMOKE_IOCTL_VM_CREATE, &args);

	if (!err)
		*vm_id = args.vm_id;
	return err;
}

static uint32_t xe_vm_create(int fd)
{
	uint32_t vm_id = 0;
	int err = __xe_vm_create(fd, 0, &vm_id);

	fail_if(err, "VM_CREATE: %s", strerror(-err));
	return vm_id;
}

static int __xe_vm_destroy(int fd, uint32_t vm_id)
{
	struct xe_smoke_vm_destroy args = { .vm_id = vm_id };

	return __ioctl(fd, XE_SMOKE_IOCTL_VM_DESTROY, &args);
}

static void xe_vm_destroy(int fd, uint32_t vm_id)
{
	int err = __xe_vm_destroy(fd, vm_id);

	fail_if(err, "VM_DESTROY of vm %u: %s", vm_id, strerror(-err));
}

/* xe_va_bits() - the device's VA width from the config query, 0 if unknown. */
static unsigned int xe_va_bits(int fd)
{
	struct xe_smoke_device_query q = { .query = XE_SMOKE_QUERY_CONFIG };
	struct xe_smoke_query_config *cfg;
	unsigned int bits = 0;

	if (__ioctl(fd, XE_SMOKE_IOCTL_DEVICE_QUERY, &q) || !q.size)
		return 0;
	cfg = calloc(1, q.size);
	if (!cfg)
		return 0;
	q.data = (uintptr_t)cfg;
	if (!__ioctl(fd, XE_SMOKE_IOCTL_DEVICE_QUERY, &q) &&
	    cfg->num_params > XE_SMOKE_QUERY_CONFIG_VA_BITS)
		bits = cfg->info[XE_SMOKE_QUERY_CONFIG_VA_BITS];
	free(cfg);
	return bits;
}

/* drm_open_xe() - a new fd on the fixture's xe node, tracked. */
static int drm_open_xe(void)
{
	int fd = open(fixture.node, O_RDWR | O_CLOEXEC);

	fail_if(fd < 0, "open %s: %s", fixture.node, strerror(errno));
	return track(fd);
}

static void expect_export_err(int fd, struct drm_xe_vm_export *args, int want)
{
	int err = __xe_vm_export(fd, args);

	if (!err)
		track(args->fd);
	fail_if(err != want, "export of vm %u: got %s, want %s", args->vm_id,
		err ? strerror(-err) : "success", strerror(-want));
}

/* ---------------------------------------------------------------------
 * Subtests. Each comment says what the subtest proves.
 */

/*
 * basic: a new VM exports to a valid file descriptor, and the VM is destroyed
 * normally once that descriptor is closed.
 */
static void test_basic(void)
{
	int fd = drm_open_xe();
	uint32_t vm = xe_vm_create(fd);
	int efd = xe_vm_export(fd, vm);
	struct stat st;

	fail_if(fstat(efd, &st) != 0, "fstat of export fd: %s", strerror(errno));
	untrack_close(efd);
	xe_vm_destroy(fd, vm);
}

/*
 * export-twice: a VM has one live export; a second export fails with EEXIST
 * and leaves the first descriptor valid.
 */
static void test_export_twice(void)
{
	int fd = drm_open_xe();
	uint32_t vm = xe_vm_create(fd);
	int efd = xe_vm_export(fd, vm);
	struct drm_xe_vm_export args = { .vm_id = vm };

	expect_export_err(fd, &args, -EEXIST);
	fail_if(fcntl(efd, F_GETFD) < 0, "first export fd no longer valid");
	untrack_close(efd);
	xe_vm_destroy(fd, vm);
}

/*
 * re-export-after-close: the export ends when every holder closed its
 * descriptor (a dup keeps it alive, whatever its number); then the VM
 * exports again.
 */
static void test_re_export_after_close(void)
{
	int fd = drm_open_xe();
	uint32_t vm = xe_vm_create(fd);
	int efd = xe_vm_export(fd, vm);
	int dup_fd = track(dup(efd));
	struct drm_xe_vm_export args = { .vm_id = vm };

	fail_if(dup_fd < 0, "dup: %s", strerror(errno));
	untrack_close(efd);
	expect_export_err(fd, &args, -EEXIST);
	untrack_close(dup_fd);
	efd = xe_vm_export(fd, vm);
	untrack_close(efd);
	xe_vm_destroy(fd, vm);
}

/* cloexec: the export descriptor has FD_CLOEXEC set. */
static void test_cloexec(void)
{
	int fd = drm_open_xe();
	uint32_t vm = xe_vm_create(fd);
	int efd = xe_vm_export(fd, vm);
	int flags = fcntl(efd, F_GETFD);

	fail_if(flags < 0, "F_GETFD: %s", strerror(errno));
	fail_if(!(flags & FD_CLOEXEC), "export fd lacks FD_CLOEXEC");
	untrack_close(efd);
	xe_vm_destroy(fd, vm);
}

/*
 * invalid-vm-id: ids of no VM (never created, already destroyed) fail with
 * ENOENT.
 */
static void test_invalid_vm_id(void)
{
	int fd = drm_open_xe();
	uint32_t vm = xe_vm_create(fd);
	struct drm_xe_vm_export args = { .vm_id = 0xdeadbeef };

	expect_export_err(fd, &args, -ENOENT);
	xe_vm_destroy(fd, vm);
	args = (struct drm_xe_vm_export){ .vm_id = vm };
	expect_export_err(fd, &args, -ENOENT);
}

/*
 * bad-*: each must-be-zero field, set non-zero, fails with EINVAL and has no
 * side effect: the VM exports normally right after.
 */
static void test_bad_field(void (*poison)(struct drm_xe_vm_export *))
{
	int fd = drm_open_xe();
	uint32_t vm = xe_vm_create(fd);
	struct drm_xe_vm_export args = { .vm_id = vm };
	int efd;

	poison(&args);
	expect_export_err(fd, &args, -EINVAL);
	efd = xe_vm_export(fd, vm);
	untrack_close(efd);
	xe_vm_destroy(fd, vm);
}

static void poison_pad(struct drm_xe_vm_export *a) { a->pad = 1; }
static void poison_pad2(struct drm_xe_vm_export *a) { a->pad2 = 1; }
static void poison_reserved0(struct drm_xe_vm_export *a) { a->reserved[0] = 1; }
static void poison_reserved1(struct drm_xe_vm_export *a) { a->reserved[1] = 1ull << 63; }
static void poison_fd(struct drm_xe_vm_export *a) { a->fd = 3; }

static void test_bad_pad(void) { test_bad_field(poison_pad); }
static void test_bad_pad2(void) { test_bad_field(poison_pad2); }
static void test_bad_reserved0(void) { test_bad_field(poison_reserved0); }
static void test_bad_reserved1(void) { test_bad_field(poison_reserved1); }
static void test_bad_fd(void) { test_bad_field(poison_fd); }

/*
 * destroy-while-exported: an export fd vetoes nothing: VM_DESTROY of an
 * exported VM succeeds, and the VM can no longer be exported (ENOENT), while
 * the old export fd is still open.
 */
static void test_destroy_while_exported(void)
{
	int fd = drm_open_xe();
	uint32_t vm = xe_vm_create(fd);
	int efd = xe_vm_export(fd, vm);
	int err = __xe_vm_destroy(fd, vm);
	struct drm_xe_vm_export args = { .vm_id = vm };

	fail_if(err, "destroy of exported vm: got %s, want success", strerror(-err));
	expect_export_err(fd, &args, -ENOENT);
	untrack_close(efd);
}

/*
 * destroy-after-close: once the export is closed, the VM is destroyed and its
 * id no longer exports.
 */
static void test_destroy_after_close(void)
{
	int fd = drm_open_xe();
	uint32_t vm = xe_vm_create(fd);
	int efd = xe_vm_export(fd, vm);
	struct drm_xe_vm_export args = { .vm_id = vm };

	untrack_close(efd);
	xe_vm_destroy(fd, vm);
	expect_export_err(fd, &args, -ENOENT);
}

/*
 * close-drm-fd-first: closing the DRM file while the export descriptor is
 * open does not free the VM under it: the descriptor stays usable and closes
 * cleanly, and the device keeps working (a new file creates and destroys a
 * VM). Whether the VM's memory is released afterwards is KUnit's business:
 * userspace cannot see it.
 */
static void test_close_drm_fd_first(void)
{
	int fd = drm_open_xe();
	uint32_t vm = xe_vm_create(fd);
	int efd = xe_vm_export(fd, vm);
	struct stat st;

	untrack_close(fd);
	fail_if(fstat(efd, &st) != 0, "fstat after DRM close: %s", strerror(errno));
	fail_if(fcntl(efd, F_GETFD) < 0, "export fd invalid after DRM close");
	untrack_close(efd);

	fd = drm_open_xe();
	vm = xe_vm_create(fd);
	xe_vm_destroy(fd, vm);
}

/*
 * feature-detect: the documented probe (all-zero argument) answers ENOENT on
 * a kernel with VM export and EINVAL on one without, twice the same, with no
 * side effect; on a kernel without VM export this is the one subtest that
 * runs, and proves userspace can tell.
 */
static void test_feature_detect(void)
{
	int fd = drm_open_xe();
	struct drm_xe_vm_export args = { 0 };
	int first = __xe_vm_export(fd, &args);
	int second;
	uint32_t vm;

	fail_if(first == 0, "probe with vm_id 0 succeeded (fd %d)", track(args.fd));
	fail_if(first != -ENOENT && first != -EINVAL,
		"probe: got %s, want ENOENT (supported) or EINVAL (unsupported)",
		strerror(-first));
	args = (struct drm_xe_vm_export){ 0 };
	second = __xe_vm_export(fd, &args);
	fail_if(second != first, "probe answers differ: %s then %s",
		strerror(-first), strerror(-second));
	printf("VM export %s by this kernel's xe\n",
	       first == -ENOENT ? "supported" : "not supported");
	fail_if(first == -EINVAL && export_required(),
		"VM export required (XE_VM_EXPORT_REQUIRE=1: the loaded xe is xe-vm-export's), but the probe answered EINVAL");
	if (first == -EINVAL)
		return;

	/* Supported: the probe must not have touched a live VM. */
	vm = xe_vm_create(fd);
	args = (struct drm_xe_vm_export){ 0 };
	fail_if(__xe_vm_export(fd, &args) != -ENOENT, "probe with a live VM not ENOENT");
	untrack_close(xe_vm_export(fd, vm));
	xe_vm_destroy(fd, vm);
}

/* ---------------------------------------------------------------------
 * Aux path, through the sample consumer's misc device.
 */

struct aux_report {
	uint32_t asid;
	uint32_t va_bits;
	uint32_t flags;
};

#ifdef HAVE_AUX_UAPI
/* __aux_import() - hand @efd to the sample consumer; 0 or -errno. */
static int __aux_import(int aux_fd, int efd, struct aux_report *out)
{
	struct xe_vm_export_aux_import args = { .fd = efd };
	int err = __ioctl(aux_fd, XE_VM_EXPORT_AUX_IOCTL_IMPORT, &args);

	if (!err && out) {
		out->asid = args.asid;
		out->va_bits = args.va_bits;
		out->flags = args.flags;
	}
	return err;
}

/* __aux_state() - the state of @aux_fd's import (XE_VM_EXPORT_AUX_STATE_*). */
static int __aux_state(int aux_fd, uint32_t *asid)
{
	struct xe_vm_export_aux_state st = { 0 };
	int err = __ioctl(aux_fd, XE_VM_EXPORT_AUX_IOCTL_STATE, &st);

	fail_if(err, "aux state: %s", strerror(-err));
	if (asid)
		*asid = st.asid;
	return st.state;
}
#else
static int __aux_import(int aux_fd, int efd, struct aux_report *out)
{
	(void)aux_fd; (void)efd; (void)out;
	skip_test("built without the sample consumer's UAPI header");
}

static int __aux_state(int aux_fd, uint32_t *asid)
{
	(void)aux_fd; (void)asid;
	skip_test("built without the sample consumer's UAPI header");
}
#define XE_VM_EXPORT_AUX_STATE_LIVE	1
#define XE_VM_EXPORT_AUX_STATE_REVOKED	2
#endif

static int aux_open(void)
{
	int afd = open(fixture.aux_node, O_RDWR | O_CLOEXEC);

	fail_if(afd < 0, "open %s: %s", fixture.aux_node, strerror(errno));
	return track(afd);
}

/*
 * aux-import: in the exporting process, the sample consumer imports the VM
 * through its misc device and reports the VM's data (a VA width equal to the
 * device's).
 */
static void test_aux_import(void)
{
	int fd = drm_open_xe();
	uint32_t vm = xe_vm_create(fd);
	int efd = xe_vm_export(fd, vm);
	int afd = aux_open();
	struct aux_report rep = { 0 };
	unsigned int dev_bits = xe_va_bits(fd);
	int err = __aux_import(afd, efd, &rep);

	fail_if(err, "aux import: %s", strerror(-err));
	printf("aux import: asid %u, va_bits %u, flags %#x\n",
	       rep.asid, rep.va_bits, rep.flags);
	fail_if(rep.va_bits < 32 || rep.va_bits > 64, "va_bits %u out of range", rep.va_bits);
	fail_if(dev_bits && rep.va_bits != dev_bits,
		"va_bits %u, device config says %u", rep.va_bits, dev_bits);
	untrack_close(afd);
	untrack_close(efd);
	xe_vm_destroy(fd, vm);
}

/*
 * aux-destroy-while-registered: VM_DESTROY of a VM registered by the aux
 * driver succeeds and revokes the aux driver's import before it returns:
 * the sample consumer's device reports its import revoked and no ASID in
 * use any more.
 */
static void test_aux_destroy_while_registered(void)
{
	int fd = drm_open_xe();
	uint32_t vm = xe_vm_create(fd);
	int efd = xe_vm_export(fd, vm);
	int afd = aux_open();
	struct aux_report rep = { 0 };
	int err = __aux_import(afd, efd, &rep);
	uint32_t asid;
	int state;

	fail_if(err, "aux import: %s", strerror(-err));
	state = __aux_state(afd, &asid);
	fail_if(state != XE_VM_EXPORT_AUX_STATE_LIVE || asid != rep.asid,
		"aux import before destroy: state %d asid %u, want live (%d) asid %u",
		state, asid, XE_VM_EXPORT_AUX_STATE_LIVE, rep.asid);
	untrack_close(efd);
	err = __xe_vm_destroy(fd, vm);
	fail_if(err, "destroy of registered vm: got %s, want success", strerror(-err));
	state = __aux_state(afd, &asid);
	fail_if(state != XE_VM_EXPORT_AUX_STATE_REVOKED || asid,
		"aux import after destroy: state %d asid %u, want revoked (%d) asid 0",
		state, asid, XE_VM_EXPORT_AUX_STATE_REVOKED);
	untrack_close(afd);
}

static int send_fd(int sock, int fd)
{
	char data = 'x';
	struct iovec iov = { .iov_base = &data, .iov_len = 1 };
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl = { 0 };
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *c = CMSG_FIRSTHDR(&msg);

	c->cmsg_level = SOL_SOCKET;
	c->cmsg_type = SCM_RIGHTS;
	c->cmsg_len = CMSG_LEN(sizeof(int));
	memcpy(CMSG_DATA(c), &fd, sizeof(int));
	return sendmsg(sock, &msg, 0) == 1 ? 0 : -errno;
}

static int recv_fd(int sock)
{
	char data;
	struct iovec iov = { .iov_base = &data, .iov_len = 1 };
	union {
		struct cmsghdr hdr;
		char buf[CMSG_SPACE(sizeof(int))];
	} ctl;
	struct msghdr msg = {
		.msg_iov = &iov, .msg_iovlen = 1,
		.msg_control = ctl.buf, .msg_controllen = sizeof(ctl.buf),
	};
	struct cmsghdr *c;
	int fd;

	if (recvmsg(sock, &msg, MSG_CMSG_CLOEXEC) != 1)
		return -1;
	c = CMSG_FIRSTHDR(&msg);
	if (!c || c->cmsg_type != SCM_RIGHTS)
		return -1;
	memcpy(&fd, CMSG_DATA(c), sizeof(int));
	return fd;
}

/* Exit statuses of the importing child of aux-import-other-process. */
enum { CHILD_EPERM = 0, CHILD_NO_FD = 10, CHILD_NO_AUX = 11, CHILD_IMPORTED = 12,
       CHILD_OTHER_ERR = 13 };

/*
 * aux-import-other-process: the export fd passed to another process over
 * SCM_RIGHTS is refused there by the aux driver's import (EPERM): an export
 * never grants the VM to another address space.
 */
static void test_aux_import_other_process(void)
{
	int fd = drm_open_xe();
	uint32_t vm = xe_vm_create(fd);
	int efd = xe_vm_export(fd, vm);
	int sv[2], status;
	pid_t pid;

	fail_if(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), "socketpair: %s",
		strerror(errno));
	track(sv[0]);
	track(sv[1]);
	fflush(NULL);
	pid = fork();
	fail_if(pid < 0, "fork: %s", strerror(errno));
	if (pid == 0) {
		int got = recv_fd(sv[1]);
		int afd, err;

		if (got < 0)
			_exit(CHILD_NO_FD);
		afd = open(fixture.aux_node, O_RDWR | O_CLOEXEC);
		if (afd < 0)
			_exit(CHILD_NO_AUX);
		err = __aux_import(afd, got, NULL);
		_exit(err == -EPERM ? CHILD_EPERM : err == 0 ? CHILD_IMPORTED : CHILD_OTHER_ERR);
	}
	fail_if(send_fd(sv[0], efd) != 0, "sending the export fd failed");
	fail_if(waitpid(pid, &status, 0) != pid, "waitpid: %s", strerror(errno));
	fail_if(!WIFEXITED(status), "importing child died (status %#x)", status);
	fail_if(WEXITSTATUS(status) == CHILD_IMPORTED,
		"another process imported the VM: want EPERM");
	fail_if(WEXITSTATUS(status) != CHILD_EPERM,
		"importing child failed before or beside the import (exit %d)",
		WEXITSTATUS(status));
	untrack_close(efd);
	xe_vm_destroy(fd, vm);
}

/* ---------------------------------------------------------------------
 * Subtest table, fixture and the IGT protocol.
 */

struct subtest {
	const char *name;
	void (*fn)(void);
	unsigned int needs;
	const char *doc;
	int line;		/* of the table entry, for --describe */
};

/*
 * kmsg() - one IGT marker in the kernel log, when it is writable: one
 * write() per record, as /dev/kmsg takes it. Nothing is ever created or
 * truncated: /dev/kmsg is used only when it is a character device (in a
 * container it may be missing, or a plain file), and the test's log file
 * $XE_VM_EXPORT_KMSG only when it exists (appended to).
 */
static void __attribute__((format(printf, 1, 2))) kmsg(const char *fmt, ...)
{
	const char *env = getenv("XE_VM_EXPORT_KMSG");
	const char *path = env && *env ? env : "/dev/kmsg";
	char line[512];
	struct stat st;
	va_list ap;
	int fd, n;

	fd = open(path, O_WRONLY | O_APPEND | O_CLOEXEC | O_NOCTTY);
	if (fd < 0)
		return;
	if (fstat(fd, &st) || (path != env && !S_ISCHR(st.st_mode))) {
		close(fd);
		return;
	}
	n = snprintf(line, sizeof(line), "<6>[IGT] %s: ", progname);
	va_start(ap, fmt);
	vsnprintf(line + n, sizeof(line) - n, fmt, ap);
	va_end(ap);
	if (write(fd, line, strlen(line)) < 0) {
		/* A log marker that cannot be written is not the test's result. */
	}
	close(fd);
}

static const struct subtest subtests[] = {
	{ "basic", test_basic, NEED_EXPORT,
	  "A new VM exports to a valid fd; the VM is destroyed once the fd is closed.", __LINE__ },
	{ "export-twice", test_export_twice, NEED_EXPORT,
	  "A second export of a VM fails with EEXIST; the first fd stays valid.", __LINE__ },
	{ "re-export-after-close", test_re_export_after_close, NEED_EXPORT,
	  "The export ends when every holder (dups too) closed it; then the VM exports again.", __LINE__ },
	{ "cloexec", test_cloexec, NEED_EXPORT,
	  "The export fd has FD_CLOEXEC set.", __LINE__ },
	{ "invalid-vm-id", test_invalid_vm_id, NEED_EXPORT,
	  "Unknown and destroyed VM ids fail with ENOENT.", __LINE__ },
	{ "bad-pad", test_bad_pad, NEED_EXPORT,
	  "Non-zero pad fails with EINVAL, without side effect.", __LINE__ },
	{ "bad-pad2", test_bad_pad2, NEED_EXPORT,
	  "Non-zero pad2 fails with EINVAL, without side effect.", __LINE__ },
	{ "bad-reserved-0", test_bad_reserved0, NEED_EXPORT,
	  "Non-zero reserved[0] fails with EINVAL, without side effect.", __LINE__ },
	{ "bad-reserved-1", test_bad_reserved1, NEED_EXPORT,
	  "Non-zero reserved[1] fails with EINVAL, without side effect.", __LINE__ },
	{ "bad-fd", test_bad_fd, NEED_EXPORT,
	  "Non-zero fd on input fails with EINVAL, without side effect.", __LINE__ },
	{ "destroy-while-exported", test_destroy_while_exported, NEED_EXPORT,
	  "VM_DESTROY of an exported VM succeeds (the export fd vetoes nothing); it no longer exports (ENOENT).", __LINE__ },
	{ "destroy-after-close", test_destroy_after_close, NEED_EXPORT,
	  "After the export is closed the VM is destroyed and its id no longer exports.", __LINE__ },
	{ "close-drm-fd-first", test_close_drm_fd_first, NEED_EXPORT,
	  "Closing the DRM fd first leaves the export fd usable and closable; the device keeps working.", __LINE__ },
	{ "feature-detect", test_feature_detect, NEED_DEVICE,
	  "The all-zero probe tells a kernel with VM export (ENOENT) from one without (EINVAL); EINVAL fails with XE_VM_EXPORT_REQUIRE=1.", __LINE__ },
	{ "aux-import", test_aux_import, NEED_EXPORT | NEED_AUX,
	  "The sample consumer imports the VM in the exporting process and reports its data.", __LINE__ },
	{ "aux-destroy-while-registered", test_aux_destroy_while_registered, NEED_EXPORT | NEED_AUX,
	  "VM_DESTROY of a VM registered by the aux driver succeeds; the aux device reports the import revoked.", __LINE__ },
	{ "aux-import-other-process", test_aux_import_other_process, NEED_EXPORT | NEED_AUX,
	  "An export fd passed to another process over SCM_RIGHTS is refused there (EPERM).", __LINE__ },
};

#define NSUBTESTS (sizeof(subtests) / sizeof(subtests[0]))

/* is_xe_node() - @path opens and its DRM driver is named "xe". */
static bool is_xe_node(const char *path)
{
	int fd = open(path, O_RDWR | O_CLOEXEC);
	drmVersionPtr v;
	bool xe;

	if (fd < 0)
		return false;
	v = drmGetVersion(fd);
	xe = v && v->name && !strcmp(v->name, "xe");
	drmFreeVersion(v);
	close(fd);
	return xe;
}

/* A device filter in IGT's syntax, parsed: what a device must match. */
struct dev_filter {
	int vendor;		/* PCI vendor id, -1 any */
	int device;		/* PCI device id, -1 any */
	unsigned int card;	/* the card-th match (0 the first) */
	char slot[32];		/* PCI slot "dddd:bb:dd.f", empty any */
};

/* parse_pci_filter() - "vendor=intel,device=e20b,card=0,slot=..."; 0 or -1. */
static int parse_pci_filter(const char *spec, struct dev_filter *f)
{
	char buf[256], *save = NULL, *tok, *end;

	snprintf(buf, sizeof(buf), "%s", spec);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		char *val = strchr(tok, '=');

		if (!val)
			return -1;
		*val++ = '\0';
		if (!strcmp(tok, "vendor")) {
			f->vendor = !strcasecmp(val, "intel") ? 0x8086 : (int)strtol(val, &end, 16);
			if (strcasecmp(val, "intel") && (*end || !*val))
				return -1;
		} else if (!strcmp(tok, "device")) {
			f->device = (int)strtol(val, &end, 16);
			if (*end || !*val)
				return -1;
		} else if (!strcmp(tok, "card")) {
			f->card = (unsigned int)strtoul(val, &end, 10);
			if (*end || !*val)
				return -1;
		} else if (!strcmp(tok, "slot")) {
			snprintf(f->slot, sizeof(f->slot), "%s", val);
		} else {
			return -1;
		}
	}
	return 0;
}

static bool pci_matches(drmDevicePtr d, const struct dev_filter *f)
{
	char slot[32];

	if (d->bustype != DRM_BUS_PCI)
		return false;
	if (f->vendor >= 0 && d->deviceinfo.pci->vendor_id != f->vendor)
		return false;
	if (f->device >= 0 && d->deviceinfo.pci->device_id != f->device)
		return false;
	snprintf(slot, sizeof(slot), "%04x:%02x:%02x.%x", d->businfo.pci->domain,
		 d->businfo.pci->bus, d->businfo.pci->dev, d->businfo.pci->func);
	return !f->slot[0] || !strcasecmp(slot, f->slot);
}

/*
 * find_xe_node() - the render node of the xe device that @f selects (NULL:
 * the first xe device), via libdrm.
 */
static bool find_xe_node(const struct dev_filter *f, char *out, size_t len)
{
	drmDevicePtr devs[64];
	int n = drmGetDevices2(0, devs, 64);
	unsigned int seen = 0;
	bool found = false;
	int i;

	for (i = 0; i < n && !found; i++) {
		const char *node;

		if (!(devs[i]->available_nodes & (1 << DRM_NODE_RENDER)))
			continue;
		node = devs[i]->nodes[DRM_NODE_RENDER];
		if (!is_xe_node(node) || (f && !pci_matches(devs[i], f)))
			continue;
		if (f && seen++ != f->card)
			continue;
		snprintf(out, len, "%s", node);
		found = true;
	}
	if (n > 0)
		drmFreeDevices(devs, n);
	return found;
}

/* sys_node() - the render node under a sysfs device directory, or false. */
static bool sys_node(const char *sysdir, char *out, size_t len)
{
	char path[512];
	int minor;

	for (minor = 128; minor < 192; minor++) {
		snprintf(path, sizeof(path), "%s/drm/renderD%d", sysdir, minor);
		if (!access(path, F_OK)) {
			snprintf(out, len, "/dev/dri/renderD%d", minor);
			return true;
		}
	}
	return false;
}

/*
 * select_device() - the xe render node that @filter (IGT's device filter
 * syntax, or a path) selects into fixture.node; leaves it empty when no xe
 * device matches. Returns -1 for a filter it cannot parse.
 */
static int select_device(const char *filter)
{
	struct dev_filter f = { .vendor = -1, .device = -1 };
	char node[256] = "";

	if (!filter || !*filter) {
		find_xe_node(NULL, fixture.node, sizeof(fixture.node));
		return 0;
	}
	if (!strncmp(filter, "pci:", 4)) {
		if (parse_pci_filter(filter + 4, &f))
			return -1;
		find_xe_node(&f, fixture.node, sizeof(fixture.node));
		return 0;
	}
	if (!strncmp(filter, "sys:", 4)) {
		if (!sys_node(filter + 4, node, sizeof(node)))
			node[0] = '\0';
	} else if (!strncmp(filter, "drm:", 4)) {
		snprintf(node, sizeof(node), "%s", filter + 4);
	} else if (filter[0] == '/') {
		snprintf(node, sizeof(node), "%s", filter);
	} else {
		return -1;
	}
	if (node[0] && is_xe_node(node))
		snprintf(fixture.node, sizeof(fixture.node), "%s", node);
	else
		fprintf(stderr, "%s: device filter %s selects no xe DRM node\n", progname, filter);
	return 0;
}

static void find_aux_node(void)
{
	const char *env = getenv("XE_VM_EXPORT_AUX_NODE");
	const char *def = "/dev/xe_vm_export_aux";
	const char *node = env && *env ? env : def;

	if (access(node, R_OK | W_OK) == 0)
		snprintf(fixture.aux_node, sizeof(fixture.aux_node), "%s", node);
}

static void setup_fixture(void)
{
	struct drm_xe_vm_export probe = { 0 };

	if (fixture.node[0]) {
		fixture.fd = open(fixture.node, O_RDWR | O_CLOEXEC);
		if (fixture.fd >= 0)
			fixture.probe_errno = -__xe_vm_export(fixture.fd, &probe);
	}
	find_aux_node();
}

/* unmet() - why @st cannot run here, or NULL. */
static const char *unmet(const struct subtest *st)
{
	if (!fixture.node[0] || fixture.fd < 0)
		return "no xe device found (no render node whose driver is xe, or none the device filter selects)";
	if ((st->needs & NEED_EXPORT) && fixture.probe_errno != ENOENT)
		return fixture.probe_errno == EINVAL ?
		       "this kernel's xe lacks VM export (probe answered EINVAL)" :
		       "VM export probe answered neither ENOENT nor EINVAL";
	if ((st->needs & NEED_AUX) && !fixture.aux_node[0])
		return "sample consumer not loaded (no misc device node)";
	return NULL;
}

static double now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static enum result run_subtest(const struct subtest *st)
{
	volatile enum result res;
	const char *why;
	double start = now();
	int jmp;

	printf("Starting subtest: %s\n", st->name);
	fflush(stdout);
	kmsg("starting subtest %s\n", st->name);
	subtest_reason[0] = '\0';
	why = unmet(st);
	if (why) {
		res = RES_SKIP;
		snprintf(subtest_reason, sizeof(subtest_reason), "%s", why);
	} else if ((jmp = setjmp(subtest_jmp)) == 0) {
		st->fn();
		res = RES_SUCCESS;
	} else {
		res = (enum result)jmp;
	}
	close_tracked();
	if (res == RES_SKIP)
		printf("Test requirement not met in subtest %s: %s\n", st->name, subtest_reason);
	else if (res == RES_FAIL)
		fprintf(stderr, "(%s:%d) CRITICAL: %s\n", progname, getpid(), subtest_reason);
	fflush(stderr);
	printf("Subtest %s: %s (%.3fs)\n", st->name, result_names[res], now() - start);
	fflush(stdout);
	kmsg("finished subtest %s, %s\n", st->name, result_names[res]);
	return res;
}

/*
 * matches() - @name matches @pattern, a wildmat as IGT's --run-subtest takes
 * it (RFC 3977 section 4): comma-separated globs; a glob that starts with '!'
 * excludes; the last glob that matches @name decides.
 */
static bool matches(const char *pattern, const char *name)
{
	char buf[1024], *save = NULL, *tok;
	bool match = false;

	snprintf(buf, sizeof(buf), "%s", pattern);
	for (tok = strtok_r(buf, ",", &save); tok; tok = strtok_r(NULL, ",", &save)) {
		bool neg = tok[0] == '!';

		if (!fnmatch(tok + neg, name, 0))
			match = !neg;
	}
	return match;
}

/* print_version() - the header igt_runner reads first ("IGT-Version: "). */
static void print_version(void)
{
	struct utsname uts;

	uname(&uts);
	printf("IGT-Version: %s-xe-vm-export (%s) (%s: %s %s)\n", XE_VM_EXPORT_VERSION,
	       uts.machine, uts.sysname, uts.release, uts.machine);
}

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s [OPTIONS]\n"
		"  --list-subtests         list the subtests, one a line\n"
		"  --run-subtest PATTERN   run the matching subtests: globs a,b,c; !glob excludes\n"
		"  --describe [PATTERN]    say what the test and each (matching) subtest prove\n"
		"  --device FILTER         drm:PATH, sys:PATH, pci:vendor=..,device=..,card=N,slot=..\n"
		"                          or a render node (default: $IGT_DEVICE, else the first xe)\n"
		"  --help                  this text\n"
		"Exit: 0 passed, 77 all skipped, 98 a subtest failed, 79 invalid arguments.\n",
		progname);
}

int main(int argc, char **argv)
{
	enum { OPT_LIST = 256, OPT_RUN, OPT_DESCRIBE, OPT_DEVICE, OPT_HELP };
	static const struct option opts[] = {
		{ "list-subtests", no_argument, NULL, OPT_LIST },
		{ "run-subtest", required_argument, NULL, OPT_RUN },
		{ "describe", optional_argument, NULL, OPT_DESCRIBE },
		{ "device", required_argument, NULL, OPT_DEVICE },
		{ "help", no_argument, NULL, OPT_HELP },
		{ 0 }
	};
	const char *pattern = NULL, *device = NULL;
	bool list = false, describe = false;
	unsigned int i, ran = 0, counts[3] = { 0 };
	int c, ret;

	setvbuf(stdout, NULL, _IOLBF, 0);
	while ((c = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
		switch (c) {
		case OPT_LIST:
			list = true;
			break;
		case OPT_RUN:
			pattern = optarg;
			break;
		case OPT_DESCRIBE:
			describe = true;
			if (!optarg && optind < argc && argv[optind][0] != '-')
				optarg = argv[optind++];
			if (optarg)
				pattern = optarg;
			break;
		case OPT_DEVICE:
			device = optarg;
			break;
		case 'h':
		case OPT_HELP:
			usage(stdout);
			return EXIT_OK;
		default:
			usage(stderr);
			return EXIT_INVALID;
		}
	}
	if (optind < argc) {
		fprintf(stderr, "%s: unexpected argument '%s'\n", progname, argv[optind]);
		usage(stderr);
		return EXIT_INVALID;
	}

	if (list || describe) {
		if (describe)
			printf("%s\n\n", test_description);
		for (i = 0; i < NSUBTESTS; i++) {
			if (pattern && !matches(pattern, subtests[i].name))
				continue;
			if (describe)
				printf("SUB %s %s:%d:\n  %s\n\n", subtests[i].name, __FILE__,
				       subtests[i].line, subtests[i].doc);
			else
				printf("%s\n", subtests[i].name);
		}
		return EXIT_OK;
	}

	if (pattern) {
		for (i = 0; i < NSUBTESTS && !matches(pattern, subtests[i].name); i++)
			;
		if (i == NSUBTESTS) {
			fprintf(stderr, "Unknown subtest: %s\n", pattern);
			return EXIT_INVALID;
		}
	}

	if (!device)
		device = getenv("IGT_DEVICE");
	if (select_device(device)) {
		fprintf(stderr, "%s: cannot parse the device filter '%s'\n", progname, device);
		return EXIT_INVALID;
	}
	kmsg("executing\n");
	print_version();
	setup_fixture();
	for (i = 0; i < NSUBTESTS; i++) {
		if (pattern && !matches(pattern, subtests[i].name))
			continue;
		counts[run_subtest(&subtests[i])]++;
		ran++;
	}
	if (fixture.fd >= 0)
		close(fixture.fd);

	if (counts[RES_FAIL])
		ret = EXIT_FAILURE_;
	else if (counts[RES_SUCCESS])
		ret = EXIT_OK;
	else
		ret = ran ? EXIT_SKIP : EXIT_INVALID;
	kmsg("exiting, ret=%d\n", ret);
	return ret;
}
