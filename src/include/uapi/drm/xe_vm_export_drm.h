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
 * export; ``xe_vm_export_prelim.h`` next to this header adds the PRELIM
 * names, so a program written against PRELIM compiles and works unchanged.
 *
 * Rules:
 *  - a VM has at most one live export; a second export fails with -EEXIST
 *    while the caller still has the first one's file in its file
 *    descriptor table. Once the caller closed its descriptors of it, a new
 *    export replaces the old one even if a copy lives on elsewhere (a
 *    forked child, an SCM_RIGHTS message, pidfd_getfd()): the old file
 *    then imports nothing (-ENOENT) and keeps nothing of the VM;
 *  - the export file descriptor never keeps the VM's owner from destroying
 *    it: &DRM_IOCTL_XE_VM_DESTROY succeeds whether the VM is exported,
 *    imported or registered by an auxiliary driver. Before the VM's address
 *    space (its ASID and page tables) is released, xe revokes every
 *    auxiliary driver that registered the VM and waits until each has
 *    stopped using it; then the destroy returns 0. Closing the DRM file
 *    does the same for each of its VMs. A file descriptor that outlives the
 *    VM's close (or its replacement by a new export) keeps a small structure
 *    allocated, nothing of the VM nor of the device, and imports through
 *    it fail with -ENOENT;
 *  - only the process (address space) that exported the VM can hand the
 *    file descriptor to an auxiliary driver; another process holding a copy
 *    gets -EPERM from the driver;
 *  - the returned file descriptor has ``O_CLOEXEC`` set. Its
 *    ``/proc/<pid>/fdinfo/<fd>`` shows ``xe_vm_id``, ``xe_device``,
 *    ``xe_exporter_pid`` and ``xe_vm_closed``.
 *
 * Detecting support: call &DRM_IOCTL_XE_VM_EXPORT with every field zero
 * (``vm_id`` 0 names no VM: xe numbers VMs from 1). It has no side effect.
 * A kernel with VM export answers -ENOENT (no such VM). A kernel without it
 * answers -EINVAL, because xe rejects an ioctl number it does not know
 * before reading the argument. As the all-zero argument is valid, VM export
 * itself never answers it with -EINVAL, so the two answers cannot be
 * confused.
 *
 * Errors of &DRM_IOCTL_XE_VM_EXPORT:
 *  - -EINVAL: @pad, @pad2 or a @reserved word is non-zero, or @fd is not 0
 *    on input; or the kernel lacks VM export (see above);
 *  - -ENOENT: no VM with @vm_id in this DRM file, or the VM is closed or
 *    banned;
 *  - -EEXIST: the VM already has a live export, still open in the caller;
 *  - -ECANCELED: the device is wedged (xe refuses every ioctl then; the
 *    VM's importers have been or are being revoked);
 *  - -ENODEV: the device was unplugged (unbound or removed);
 *  - -EMFILE, -ENFILE, -ENOMEM: resource limits.
 */

/**
 * DRM_XE_VM_EXPORT - ioctl number of VM export, outside upstream xe's range
 */
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
