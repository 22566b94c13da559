/* SPDX-License-Identifier: MIT */
/*
 * Copyright © 2026 The xe-vm-export authors
 */

#ifndef _DRM_XE_VM_EXPORT_H_
#define _DRM_XE_VM_EXPORT_H_

#include <linux/bits.h>
#include <linux/types.h>
#include <linux/version.h>

/**
 * DOC: xe VM import API for auxiliary drivers
 *
 * A process exports one of its xe VMs with &DRM_IOCTL_XE_VM_EXPORT and hands
 * the resulting file descriptor to an auxiliary driver (a NIC or RDMA driver
 * bound to the same device) through that driver's own interface. The
 * auxiliary driver turns the file descriptor into a referenced, opaque
 * &struct xe_vm_import with xe_vm_import_get(), reads what it needs to
 * program its side of the shared address space, and may register the VM so
 * that the owner cannot destroy it with &DRM_IOCTL_XE_VM_DESTROY while it is
 * in use.
 *
 * The symbols are GPL-only and live in the ``XE_VM_EXPORT`` symbol
 * namespace; a consumer module declares::
 *
 *     MODULE_IMPORT_NS(XE_VM_EXPORT);
 *
 * and builds with ``KBUILD_EXTRA_SYMBOLS`` pointing at the ``Module.symvers``
 * of the xe module that provides them.
 *
 * Lifetime: an import keeps the VM structure alive, never the VM's content.
 * When the owning DRM file is closed (the process exits, say) the VM is closed
 * even if it is registered; xe_vm_import_is_closed() then returns true and the
 * auxiliary driver must stop using the address space. The import itself stays
 * valid until xe_vm_import_put().
 *
 * All functions may sleep and must not be called from atomic context.
 */

/*
 * MODULE_IMPORT_NS(XE_VM_EXPORT) and xe's exports work unchanged on every
 * series: since Linux 6.13 (commit cdd30ebb1b9f, "module: Convert symbol
 * namespace to string literal") the namespace is a string literal, which
 * the token names there; before, the macros stringify the bare token.
 * Consumers build without xe's tree, hence the version test.
 */
#if KERNEL_VERSION(LINUX_VERSION_MAJOR, LINUX_VERSION_PATCHLEVEL, 0) >= \
	KERNEL_VERSION(6, 13, 0)
#define XE_VM_EXPORT "XE_VM_EXPORT"
#endif

struct device;
struct drm_device;
struct xe_vm_import;

/** @XE_VM_IMPORT_FLAG_LR_MODE: the VM runs long-running (preempt fence) jobs */
#define XE_VM_IMPORT_FLAG_LR_MODE	BIT(0)
/** @XE_VM_IMPORT_FLAG_FAULT_MODE: the VM uses recoverable page faults */
#define XE_VM_IMPORT_FLAG_FAULT_MODE	BIT(1)
/** @XE_VM_IMPORT_FLAG_SCRATCH_PAGE: unmapped addresses hit a scratch page */
#define XE_VM_IMPORT_FLAG_SCRATCH_PAGE	BIT(2)

struct xe_vm_import *xe_vm_import_get(struct device *dev, int fd);
void xe_vm_import_put(struct xe_vm_import *imp);

int xe_vm_import_register(struct xe_vm_import *imp);
void xe_vm_import_unregister(struct xe_vm_import *imp);

bool xe_vm_import_is_closed(const struct xe_vm_import *imp);
u32 xe_vm_import_asid(const struct xe_vm_import *imp);
unsigned int xe_vm_import_va_bits(const struct xe_vm_import *imp);
u32 xe_vm_import_flags(const struct xe_vm_import *imp);
struct device *xe_vm_import_device(const struct xe_vm_import *imp);
struct drm_device *xe_vm_import_drm_device(const struct xe_vm_import *imp);

#endif /* _DRM_XE_VM_EXPORT_H_ */
