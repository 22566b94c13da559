/* SPDX-License-Identifier: MIT */
/*
 * Copyright © 2026 The xe-vm-export authors
 */

#ifndef _UAPI_XE_VM_EXPORT_PRELIM_H_
#define _UAPI_XE_VM_EXPORT_PRELIM_H_

#include "xe_vm_export_drm.h"

#if defined(__cplusplus)
extern "C" {
#endif

/**
 * DOC: PRELIM names of xe VM export
 *
 * Programs written against Intel's downstream PRELIM header use
 * ``PRELIM_DRM_IOCTL_XE_VM_EXPORT`` and &struct prelim_drm_xe_vm_export_param.
 * Including this header instead (or after it: the PRELIM header's own
 * definitions then stand) makes them compile unchanged; the ioctl number,
 * the layout and the semantics are those of &DRM_IOCTL_XE_VM_EXPORT.
 */

#ifndef PRELIM_DRM_XE_VM_EXPORT

/**
 * PRELIM_DRM_XE_VM_EXPORT - the PRELIM name of &DRM_XE_VM_EXPORT
 */
#define PRELIM_DRM_XE_VM_EXPORT		DRM_XE_VM_EXPORT

/**
 * struct prelim_drm_xe_vm_export_param - &struct drm_xe_vm_export by its
 * PRELIM name, member for member
 */
struct prelim_drm_xe_vm_export_param {
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

/**
 * PRELIM_DRM_IOCTL_XE_VM_EXPORT - the PRELIM name of &DRM_IOCTL_XE_VM_EXPORT
 *
 * The same request value: the same number, direction and argument size.
 */
#define PRELIM_DRM_IOCTL_XE_VM_EXPORT \
	DRM_IOWR(DRM_COMMAND_BASE + PRELIM_DRM_XE_VM_EXPORT, \
		 struct prelim_drm_xe_vm_export_param)

#endif /* PRELIM_DRM_XE_VM_EXPORT */

#if defined(__cplusplus)
}
#endif

#endif /* _UAPI_XE_VM_EXPORT_PRELIM_H_ */
