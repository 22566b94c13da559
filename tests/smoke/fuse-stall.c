// SPDX-License-Identifier: MIT
/*
 * Copyright © 2026 The xe-vm-export authors
 */

/*
 * fuse-stall MOUNTPOINT - a FUSE file system that answers INIT and then
 * reads every request without ever answering it. A process that opens a
 * file under MOUNTPOINT waits for the answer to its LOOKUP; once this daemon
 * has read that request, the kernel waits it out uninterruptibly (state D)
 * even after SIGKILL (fs/fuse/dev.c, request_wait_answer()). That is the
 * test double of a smoke test stuck in an ioctl that never returns.
 *
 * It runs until killed; its exit closes /dev/fuse, which aborts the
 * connection and ends the stuck process's wait (ECONNABORTED). The caller
 * unmounts MOUNTPOINT (umount -l). Needs root (mount(2)).
 *
 * Not installed: built by tests/smoke/run.sh only.
 */

#include <errno.h>
#include <fcntl.h>
#include <linux/fuse.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

static char buf[1 << 20 | 4096];

static int reply_init(int fd, const struct fuse_in_header *in)
{
	struct {
		struct fuse_out_header hdr;
		struct fuse_init_out init;
	} out;

	memset(&out, 0, sizeof(out));
	out.hdr.len = sizeof(out);
	out.hdr.unique = in->unique;
	out.init.major = FUSE_KERNEL_VERSION;
	out.init.minor = FUSE_KERNEL_MINOR_VERSION;
	out.init.max_readahead = 4096;
	out.init.max_write = 4096;
	out.init.max_background = 1;
	out.init.congestion_threshold = 1;
	return write(fd, &out, sizeof(out)) == (ssize_t)sizeof(out) ? 0 : -1;
}

int main(int argc, char **argv)
{
	char opts[128];
	int fd;

	if (argc != 2) {
		fprintf(stderr, "usage: fuse-stall MOUNTPOINT\n");
		return 2;
	}
	fd = open("/dev/fuse", O_RDWR | O_CLOEXEC);
	if (fd < 0) {
		perror("fuse-stall: /dev/fuse");
		return 1;
	}
	snprintf(opts, sizeof(opts), "fd=%d,rootmode=40000,user_id=0,group_id=0", fd);
	if (mount("xe-smoke-stall", argv[1], "fuse.xe-smoke-stall", MS_NOSUID | MS_NODEV, opts)) {
		perror("fuse-stall: mount");
		return 1;
	}
	printf("fuse-stall: mounted on %s\n", argv[1]);
	fflush(stdout);
	for (;;) {
		ssize_t n = read(fd, buf, sizeof(buf));
		const struct fuse_in_header *in = (const void *)buf;

		if (n < 0 && (errno == EINTR || errno == EAGAIN))
			continue;
		if (n < (ssize_t)sizeof(*in))
			return n < 0 ? 1 : 0;
		if (in->opcode == FUSE_INIT && reply_init(fd, in)) {
			perror("fuse-stall: INIT reply");
			return 1;
		}
		/* Every other request is read and never answered. */
	}
}
