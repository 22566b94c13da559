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
 * program its side of the shared address space, and registers the import
 * with xe_vm_import_register() and a &struct xe_vm_import_ops before it
 * starts translating through the VM's ASID.
 *
 * The symbols are GPL-only and live in the ``XE_VM_EXPORT`` symbol
 * namespace; a consumer module declares::
 *
 *     MODULE_IMPORT_NS(XE_VM_EXPORT);
 *
 * and builds with ``KBUILD_EXTRA_SYMBOLS`` pointing at the ``Module.symvers``
 * of the xe module that provides them.
 *
 * Revocation: an import keeps the VM *structure* alive, never the VM's
 * address space. The owner destroys the VM (&DRM_IOCTL_XE_VM_DESTROY),
 * closes its DRM file (the process exits), the device is unbound or wedged:
 * in each case xe calls &xe_vm_import_ops.revoke of every registered import
 * of the VM *before* the VM's ASID and page tables are released; the ASID
 * cannot be handed to another VM before every registered importer returned
 * from its callback. After that, the import's accessors report the VM closed
 * and the importer must not use the ASID any more. The import itself stays
 * valid until xe_vm_import_put().
 *
 * An importer that uses the ASID without being registered has no such
 * guarantee: it must not.
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

/**
 * struct xe_vm_import_ops - an importer's callbacks
 *
 * Passed to xe_vm_import_register(); must stay valid until the import is
 * unregistered or released.
 */
struct xe_vm_import_ops {
	/**
	 * @revoke: mandatory; the VM's address space goes away. Called once
	 * per registration, in process or workqueue context, may sleep.
	 *
	 * When: on &DRM_IOCTL_XE_VM_DESTROY of the VM, when the owning DRM
	 * file is closed, when the device is removed (unbind) and after it
	 * was declared wedged. It is called before the VM's ASID and page
	 * tables are released, and the ASID stays allocated until every
	 * registered importer's callback has returned.
	 *
	 * What it must do: stop the importer's hardware from translating
	 * through the ASID (quiesce queues, invalidate its own translation
	 * caches) and wait until it has stopped, then return. After it
	 * returns the importer must not use the ASID again; every accessor
	 * of the import reports the VM closed.
	 *
	 * Locks: called without any lock of the VM export code held, but
	 * possibly under xe's &xe_file.vm.lock (closing a DRM file, or
	 * destroying a VM). It may take the importer's own locks. It must
	 * not call xe_vm_import_unregister() or xe_vm_import_put() on @imp
	 * (both wait for the callback to return: deadlock) nor any ioctl of
	 * the xe device, and must not wait for a thread that does; it may
	 * queue a work item that releases the import later. The accessors of
	 * the import may be called.
	 *
	 * Slow or stuck importers: xe waits for the callback, without a
	 * timeout, because releasing the ASID early would let the importer
	 * translate through another process's VM. The VM's teardown (and the
	 * task closing or destroying it) waits meanwhile; a callback that
	 * takes longer than a second is reported in the kernel log with the
	 * importer's symbol, and the hung task detector reports a stuck one.
	 * Other VMs and devices are not delayed.
	 *
	 * @imp: the import; @priv: the pointer given to
	 * xe_vm_import_register().
	 */
	void (*revoke)(struct xe_vm_import *imp, void *priv);
};

/** XE_VM_IMPORT_FLAG_LR_MODE - the VM runs long-running (preempt fence) jobs */
#define XE_VM_IMPORT_FLAG_LR_MODE	BIT(0)
/** XE_VM_IMPORT_FLAG_FAULT_MODE - the VM uses recoverable page faults */
#define XE_VM_IMPORT_FLAG_FAULT_MODE	BIT(1)
/** XE_VM_IMPORT_FLAG_SCRATCH_PAGE - unmapped addresses hit a scratch page */
#define XE_VM_IMPORT_FLAG_SCRATCH_PAGE	BIT(2)

struct xe_vm_import *xe_vm_import_get(struct device *dev, int fd);
void xe_vm_import_put(struct xe_vm_import *imp);

int xe_vm_import_register(struct xe_vm_import *imp,
			  const struct xe_vm_import_ops *ops, void *priv);
void xe_vm_import_unregister(struct xe_vm_import *imp);

bool xe_vm_import_is_closed(const struct xe_vm_import *imp);
u32 xe_vm_import_asid(const struct xe_vm_import *imp);
unsigned int xe_vm_import_va_bits(const struct xe_vm_import *imp);
u32 xe_vm_import_flags(const struct xe_vm_import *imp);
struct device *xe_vm_import_device(const struct xe_vm_import *imp);
struct drm_device *xe_vm_import_drm_device(const struct xe_vm_import *imp);

#endif /* _DRM_XE_VM_EXPORT_H_ */
