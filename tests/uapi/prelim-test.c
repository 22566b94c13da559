/* SPDX-License-Identifier: MIT */
/*
 * A program written against Intel's PRELIM VM export names, built by
 * header-test.sh against xe_vm_export_prelim.h: it must compile unchanged
 * and issue the very same request as DRM_IOCTL_XE_VM_EXPORT. Run with a
 * DRM file descriptor number as its argument it performs the export;
 * without one it only checks the request.
 */

#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>

#include <drm/xe_vm_export_prelim.h>

#ifdef __cplusplus
#define ASSERT(cond, msg) static_assert(cond, msg)
#else
#define ASSERT(cond, msg) _Static_assert(cond, msg)
#endif

ASSERT(PRELIM_DRM_XE_VM_EXPORT == 0x5e, "PRELIM ioctl nr");
ASSERT(PRELIM_DRM_IOCTL_XE_VM_EXPORT == DRM_IOCTL_XE_VM_EXPORT, "same request");
ASSERT(sizeof(struct prelim_drm_xe_vm_export_param) ==
       sizeof(struct drm_xe_vm_export), "same size");
ASSERT(offsetof(struct prelim_drm_xe_vm_export_param, fd) ==
       offsetof(struct drm_xe_vm_export, fd), "fd");
ASSERT(offsetof(struct prelim_drm_xe_vm_export_param, pad2) ==
       offsetof(struct drm_xe_vm_export, pad2), "pad2");
ASSERT(offsetof(struct prelim_drm_xe_vm_export_param, reserved) ==
       offsetof(struct drm_xe_vm_export, reserved), "reserved");

/* What PRELIM userspace writes, verbatim in style. */
static int prelim_vm_export(int drm_fd, unsigned int vm_id, int *out)
{
	struct prelim_drm_xe_vm_export_param param;

	memset(&param, 0, sizeof(param));
	param.vm_id = vm_id;
	if (ioctl(drm_fd, PRELIM_DRM_IOCTL_XE_VM_EXPORT, &param))
		return -errno;
	*out = param.fd;
	return 0;
}

int main(int argc, char **argv)
{
	int fd = -1, err;

	if (argc < 2)
		return 0;
	err = prelim_vm_export(atoi(argv[1]), argc > 2 ? (unsigned int)atoi(argv[2]) : 0, &fd);
	printf("PRELIM_DRM_IOCTL_XE_VM_EXPORT: %d (fd %d)\n", err, fd);
	return 0;
}
