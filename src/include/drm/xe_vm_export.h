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
 * namespace; a consumer module declares, on every kernel series::
 *
 *     MODULE_IMPORT_NS(XE_VM_EXPORT_NS);
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
 * Translation caches: while the VM lives, its page tables change under a
 * registered importer without any callback: &DRM_IOCTL_XE_VM_BIND unmaps
 * and remaps, buffer objects are evicted or moved, userptr ranges are
 * invalidated by the core mm. xe invalidates translations only in the
 * hardware of its own GTs, through each GT's GuC: the page-table updates
 * of a bind or unbind invalidate the range for the VM's ASID on the tile's
 * primary and media GT (xe_pt.c: invalidation_fence_init() and
 * xe_gt_tlb_invalidation_range()), eviction and userptr invalidation do the
 * same through xe_vm_invalidate_vma() (xe_gt_tlb_invalidation_vma()), and
 * the VM's close through xe_gt_tlb_invalidation_vm() (6.12 names; 7.x
 * routes the same requests through xe_tlb_inval_*()). The requests are GuC
 * actions (XE_GUC_ACTION_TLB_INVALIDATION) that reach the engines of that
 * GT, nothing else: an importer's hardware outside xe's GTs (another PCI
 * function, the importer's own translation cache or IOTLB) is never told.
 * Such an importer must therefore not cache translations of the VM's page
 * tables across a change of its mappings, or must only be used with VMs
 * whose mappings do not change while it is registered; only revocation is
 * signalled to it.
 *
 * All functions may sleep and must not be called from atomic context.
 */

/**
 * XE_VM_EXPORT_NS - the API's symbol namespace, as this kernel's
 * MODULE_IMPORT_NS() and EXPORT_SYMBOL_NS_GPL() take it
 *
 * The namespace is ``XE_VM_EXPORT`` on every kernel. Since Linux 6.13
 * (commit cdd30ebb1b9f, "module: Convert symbol namespace to string
 * literal") the macros take a string literal; before, they stringify a bare
 * token. Consumers build without xe's tree, hence the version test; they
 * write ``MODULE_IMPORT_NS(XE_VM_EXPORT_NS);`` on any kernel. On 6.12 the
 * macro names the token ``XE_VM_EXPORT``, which is never defined.
 */
#if KERNEL_VERSION(LINUX_VERSION_MAJOR, LINUX_VERSION_PATCHLEVEL, 0) >= \
	KERNEL_VERSION(6, 13, 0)
#define XE_VM_EXPORT_NS "XE_VM_EXPORT"
#else
#define XE_VM_EXPORT_NS XE_VM_EXPORT
#endif

struct device;
struct drm_device;
struct module;
struct xe_vm_import;

/**
 * struct xe_vm_import_ops - an importer's callbacks
 *
 * Passed to xe_vm_import_register(); must stay valid until the import is
 * unregistered or released.
 */
struct xe_vm_import_ops {
	/**
	 * @owner: the module that provides the callbacks (``THIS_MODULE``);
	 * NULL only for built-in code. Registration takes a reference to it,
	 * dropped when the registration ends: xe_vm_import_unregister(),
	 * xe_vm_import_put() of a registered import, or the return of
	 * @revoke. The module cannot be unloaded while xe may call it.
	 */
	struct module *owner;
	/**
	 * @revoke: mandatory; the VM's address space goes away. Called once
	 * per registration, in process or workqueue context, may sleep.
	 *
	 * When: on &DRM_IOCTL_XE_VM_DESTROY of the VM and when the owning
	 * DRM file is closed (in the closing thread, the VM's registered
	 * imports one after the other), when the device is removed (unbind)
	 * and after it was declared wedged (each import from a work item of
	 * its own: callbacks of different imports may run concurrently). It
	 * is called before the VM's ASID and page tables are released, and
	 * the ASID stays allocated until every registered importer's
	 * callback has returned.
	 *
	 * What it must do: stop the importer's hardware from translating
	 * through the ASID (quiesce queues, invalidate its own translation
	 * caches) and wait until it has stopped, then return. After it
	 * returns the importer must not use the ASID again; every accessor
	 * of the import reports the VM closed.
	 *
	 * Locks: called without any lock of xe or of the VM export code
	 * held. It may take the importer's own locks, and the accessors of
	 * the import may be called. The rule: xe waits for this callback
	 * (the VM's close, device removal, and xe_vm_import_unregister() and
	 * xe_vm_import_put() of this import), so the callback must not wait
	 * for anything that waits for a revoke callback. It must not call
	 * xe_vm_import_unregister() or xe_vm_import_put() on any import
	 * (they wait for that import's callback), nor any ioctl of the xe
	 * device (it may close a VM), and must not wait for a thread that
	 * does; it may queue a work item that releases the import later.
	 * Conversely, xe_vm_import_unregister() and xe_vm_import_put() must
	 * not be called under a lock that any revoke callback takes. With
	 * lockdep (CONFIG_PROVE_LOCKING), xe annotates the callbacks and
	 * every wait for them as dma_fence signalling sections and waits
	 * are: a breach of this rule is reported the first time it runs,
	 * whether or not it deadlocked that time.
	 *
	 * Slow or stuck importers: xe waits for the callback, without a
	 * timeout, because releasing the ASID early would let the importer
	 * translate through another process's VM. The teardown of the VM
	 * (and the task closing or destroying it) waits meanwhile, and so
	 * does the device's removal; a callback that takes longer than a
	 * second is reported in the kernel log with the importer's symbol,
	 * and the hung task detector reports a stuck one. The teardown of
	 * other VMs, of the same device or another, does not wait for it.
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
