/* SPDX-License-Identifier: MIT */
/*
 * Copyright © 2026 The xe-vm-export authors
 */

#ifndef _UAPI_XE_VM_EXPORT_DRM_H_
#define _UAPI_XE_VM_EXPORT_DRM_H_

/*
 * Userspace finds drm.h next to this header or through libdrm's include path
 * (pkg-config --cflags libdrm); the kernel build through its uapi directory.
 */
#ifdef __KERNEL__
#include <drm/drm.h>
#else
#include "drm.h"
#endif

#if defined(__cplusplus)
extern "C" {
#endif

/**
 * DOC: xe VM export
 *
 * &DRM_IOCTL_XE_VM_EXPORT turns a VM created with &DRM_IOCTL_XE_VM_CREATE
 * into a file descriptor. An auxiliary driver bound to the same device (a
 * NIC or RDMA driver, for instance) receives that file descriptor through its
 * own interface and shares the VM's GPU address space. The file descriptor
 * does not grant access to the VM to another process: the importer must run
 * in the process (address space) that exported the VM.
 *
 * This header is standalone: it can be included next to the system's
 * ``drm/xe_drm.h`` and does not replace it. The ioctl number and the layout
 * of &struct drm_xe_vm_export are those of Intel's downstream PRELIM VM
 * export, so userspace built against that interface works unchanged.
 *
 * Rules:
 *  - a VM has at most one live export; a second export fails with -EEXIST
 *    until the file descriptor of the first one is closed by every holder;
 *  - while a VM is exported, or registered by an auxiliary driver,
 *    &DRM_IOCTL_XE_VM_DESTROY on it fails with -EBUSY;
 *  - the returned file descriptor has ``O_CLOEXEC`` set.
 *
 * Detecting support, without side effects: issue the ioctl with every field
 * zero and ``vm_id`` 0, which no VM ever has. A kernel with VM export
 * answers -ENOENT. A kernel without it answers -EINVAL: xe rejects ioctl
 * numbers it does not know before looking at the argument. Any valid call
 * with a bad argument never returns -EINVAL for the probe's all-zero
 * argument, so the two cases cannot be confused.
 *
 * Errors of &DRM_IOCTL_XE_VM_EXPORT:
 *  - -EINVAL: @pad, @pad2 or a @reserved word is non-zero, or @fd is not 0
 *    on input; or the kernel lacks VM export (see above);
 *  - -ENOENT: no VM with @vm_id in this DRM file, or the VM is closed or
 *    banned;
 *  - -EEXIST: the VM already has a live export;
 *  - -EMFILE, -ENFILE, -ENOMEM: resource limits.
 */

/** @DRM_XE_VM_EXPORT: ioctl number of VM export, outside upstream xe's range */
#define DRM_XE_VM_EXPORT		0x5e

/**
 * DRM_IOCTL_XE_VM_EXPORT - export a VM as a file descriptor
 *
 * Input and output: &struct drm_xe_vm_export.
 */
#define DRM_IOCTL_XE_VM_EXPORT \
	DRM_IOWR(DRM_COMMAND_BASE + DRM_XE_VM_EXPORT, struct drm_xe_vm_export)

/**
 * struct drm_xe_vm_export - Input and output of &DRM_IOCTL_XE_VM_EXPORT
 *
 * Example::
 *
 *     struct drm_xe_vm_export args = { .vm_id = vm_id };
 *
 *     if (ioctl(drm_fd, DRM_IOCTL_XE_VM_EXPORT, &args) == 0)
 *             hand_to_aux_driver(args.fd);
 */
struct drm_xe_vm_export {
	/** @vm_id: in, ID of the VM to export, from &DRM_IOCTL_XE_VM_CREATE */
	__u32 vm_id;

	/** @pad: MBZ */
	__u32 pad;

	/** @fd: out, the export file descriptor; MBZ on input */
	__s32 fd;

	/** @pad2: MBZ */
	__u32 pad2;

	/** @reserved: MBZ */
	__u64 reserved[2];
};

#if defined(__cplusplus)
}
#endif

#endif /* _UAPI_XE_VM_EXPORT_DRM_H_ */
