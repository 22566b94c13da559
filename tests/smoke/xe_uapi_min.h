/* SPDX-License-Identifier: MIT */
/*
 * Copyright © 2026 The xe-vm-export authors
 */

/*
 * The three xe ioctls the smoke test needs besides VM export, declared here
 * because the distributions the test is built on may ship no xe uAPI header
 * (Debian 12's libdrm and linux-libc-dev predate xe). Numbers and layouts are
 * the stable xe ABI (upstream include/uapi/drm/xe_drm.h, Linux ≥ 6.8); only
 * the fields the test uses are named. Prefixed xe_smoke_ so that a system
 * xe_drm.h can be included beside this file without clashes.
 */

#ifndef XE_UAPI_MIN_H
#define XE_UAPI_MIN_H

#include "drm.h"

/* DRM_XE_DEVICE_QUERY: 0x00, read-write. */
struct xe_smoke_device_query {
	__u64 extensions;
	__u32 query;		/* XE_SMOKE_QUERY_CONFIG */
	__u32 size;		/* 0: ask for the size; else the size of data */
	__u64 data;		/* user pointer to the reply */
	__u64 reserved[2];
};

/* Reply to the config query: num_params words of info. */
struct xe_smoke_query_config {
	__u32 num_params;
	__u32 pad;
	__u64 info[];
};

#define XE_SMOKE_QUERY_CONFIG		2
#define XE_SMOKE_QUERY_CONFIG_VA_BITS	3

/* DRM_XE_VM_CREATE: 0x03, read-write. */
struct xe_smoke_vm_create {
	__u64 extensions;
	__u32 flags;
	__u32 vm_id;		/* out */
	__u64 reserved[2];
};

/* DRM_XE_VM_DESTROY: 0x04, write. */
struct xe_smoke_vm_destroy {
	__u32 vm_id;
	__u32 pad;
	__u64 reserved[2];
};

#define XE_SMOKE_IOCTL_DEVICE_QUERY \
	DRM_IOWR(DRM_COMMAND_BASE + 0x00, struct xe_smoke_device_query)
#define XE_SMOKE_IOCTL_VM_CREATE \
	DRM_IOWR(DRM_COMMAND_BASE + 0x03, struct xe_smoke_vm_create)
#define XE_SMOKE_IOCTL_VM_DESTROY \
	DRM_IOW(DRM_COMMAND_BASE + 0x04, struct xe_smoke_vm_destroy)

#endif /* XE_UAPI_MIN_H */
