/* SPDX-License-Identifier: MIT */
/*
 * Copyright © 2026 The xe-vm-export authors
 */

#ifndef _UAPI_XE_VM_EXPORT_AUX_H_
#define _UAPI_XE_VM_EXPORT_AUX_H_

#include <linux/ioctl.h>
#include <linux/types.h>

/**
 * DOC: xe_vm_export_aux, a sample auxiliary driver
 *
 * ``/dev/xe_vm_export_aux`` takes an xe VM export file descriptor, the way
 * an RDMA driver receives one through its own uverbs call: it imports the
 * VM, registers a revoke callback and reports what an auxiliary driver reads
 * to program its side of the shared address space. The registration and the
 * import last until the ``/dev/xe_vm_export_aux`` file is closed or xe
 * revokes them (the VM is destroyed or closed, the GPU unbound or wedged).
 * One import per open file at a time. %XE_VM_EXPORT_AUX_IOCTL_STATE tells
 * whether the file's import is live or was revoked, as a test observes it.
 */

/**
 * struct xe_vm_export_aux_import - Argument of %XE_VM_EXPORT_AUX_IOCTL_IMPORT
 */
struct xe_vm_export_aux_import {
	/** @fd: in, file descriptor from DRM_IOCTL_XE_VM_EXPORT */
	__s32 fd;
	/** @flags: out, XE_VM_IMPORT_FLAG_* of <drm/xe_vm_export.h> */
	__u32 flags;
	/** @asid: out, address space ID of the VM, 0 if the GPU has none */
	__u32 asid;
	/** @va_bits: out, width of the VM's virtual addresses */
	__u32 va_bits;
	/** @reserved: MBZ */
	__u64 reserved[2];
};

/*
 * Errors: those of xe_vm_import_get() and xe_vm_import_register(), -EBUSY
 * if this file holds an import not revoked yet, -EINVAL for non-zero
 * @reserved.
 */
#define XE_VM_EXPORT_AUX_IOCTL_IMPORT \
	_IOWR('X', 0x5e, struct xe_vm_export_aux_import)

/* No import on this file yet. */
#define XE_VM_EXPORT_AUX_STATE_NONE	0
/* The import is registered and its VM alive. */
#define XE_VM_EXPORT_AUX_STATE_LIVE	1
/* xe revoked the import (or its VM is closed): its ASID is no longer used. */
#define XE_VM_EXPORT_AUX_STATE_REVOKED	2

/**
 * struct xe_vm_export_aux_state - Argument of %XE_VM_EXPORT_AUX_IOCTL_STATE
 */
struct xe_vm_export_aux_state {
	/** @state: out, XE_VM_EXPORT_AUX_STATE_* of this file's last import */
	__u32 state;
	/** @asid: out, the ASID the "hardware" uses now, 0 when none */
	__u32 asid;
	/**
	 * @invalidations: out, how many ranges xe told the imports of this
	 * file to invalidate (&xe_vm_import_ops.invalidate_range)
	 */
	__u64 invalidations;
};

#define XE_VM_EXPORT_AUX_IOCTL_STATE \
	_IOR('X', 0x5f, struct xe_vm_export_aux_state)

#endif /* _UAPI_XE_VM_EXPORT_AUX_H_ */
