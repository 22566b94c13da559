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
 * registered importer: &DRM_IOCTL_XE_VM_BIND unmaps and remaps, buffer
 * objects are evicted or moved, userptr ranges are invalidated by the core
 * mm. xe invalidates translations only in the hardware of its own GTs,
 * through each GT's GuC: the page-table updates of a bind or unbind
 * invalidate the range for the VM's ASID on the tile's primary and media GT
 * (xe_pt.c: xe_pt_update_ops_run() and invalidation_fence_init(); once the
 * update completed, invalidation_fence_work_func() calls
 * xe_gt_tlb_invalidation_range()), eviction and userptr invalidation of a
 * VM in fault mode do the same through xe_vm_invalidate_vma()
 * (xe_gt_tlb_invalidation_vma()), and the VM's close through
 * xe_gt_tlb_invalidation_vm() (6.12 names; 7.x routes the same requests
 * through the jobs of xe_tlb_inval_job.c and
 * xe_tlb_inval_range_tilemask_submit(),
 * which also serves its shared virtual memory, xe_svm_invalidate(), and
 * madvise, xe_vm_invalidate_madvise_range()).
 * The requests are GuC actions (XE_GUC_ACTION_TLB_INVALIDATION) that reach
 * the engines of that GT, nothing else: an importer's hardware outside xe's
 * GTs (another PCI function, the importer's own translation cache or
 * IOTLB) is never told by them. Such an importer provides
 * &xe_vm_import_ops.invalidate_range, which xe calls at the places listed
 * above where it invalidates its own GTs' TLBs for a range of the VM.
 *
 * Not covered, on any series: a VM that is not in fault mode
 * (%XE_VM_IMPORT_FLAG_FAULT_MODE clear) keeps its page tables when one of
 * its buffer objects is evicted or a userptr range is invalidated: xe stops
 * the VM's own GPU work (preempt fences, or waiting for its jobs) and
 * rebinds before that work resumes, and neither the GTs nor an importer
 * are told. An importer that translates through the VM on its own must
 * therefore only use VMs in fault mode, or VMs whose memory is never
 * evicted or invalidated while it is registered.
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
	/**
	 * @invalidate_range: optional; the VM's page tables changed for the
	 * virtual addresses [@start, @end): the importer drops whatever its
	 * hardware cached of their translations, and waits until it did,
	 * before returning. It must not fail (the change already happened).
	 *
	 * When: wherever xe invalidates its own GTs' TLBs for a range of the
	 * VM (see "Translation caches" above), right before it does: in the
	 * work or job that runs once the page-table update of a
	 * &DRM_IOCTL_XE_VM_BIND unbind, remap or rebind completed, and when
	 * a VM in fault mode has a range zapped because a buffer object moves
	 * or a userptr range is invalidated, and on 7.x when a shared virtual
	 * memory range is invalidated or a madvise zaps a range. Always
	 * before the memory that the
	 * range mapped can be reused: the buffer object's move, the release of
	 * the unbound object and the core mm's invalidation wait for it.
	 * Spurious calls (a range that mapped nothing) are possible, and a
	 * change may be reported more than once (once per GT or tile that xe
	 * invalidates). On 6.12 the bind path finds the VM by its ASID: on a
	 * device without ASIDs (xe_vm_import_asid() returns 0) binds and
	 * unbinds are not reported.
	 *
	 * Only between xe_vm_import_register() and the end of that
	 * registration: it is never called after xe_vm_import_unregister() or
	 * xe_vm_import_put() returned, nor once @revoke is about to be called
	 * (xe waits for every invalidation in flight before it calls @revoke).
	 * Calls for different ranges may run concurrently, from different
	 * threads.
	 *
	 * Context: process context (a work item, a scheduler job, the thread
	 * of a move or of an MMU notifier), may sleep, but it runs where xe
	 * signals dma_fences: the TLB invalidation's fence, which the memory's
	 * release waits for, signals only after it returned; inside a buffer
	 * object's move (its dma_resv held); and inside the core mm's MMU
	 * notifier, which may be called from memory reclaim. So it must not
	 * wait for any dma_fence, must not allocate memory other than with
	 * GFP_NOWAIT or GFP_ATOMIC, must not take a lock that is held anywhere
	 * while memory is allocated or while waiting for a dma_fence, must
	 * not call any function of this API or any ioctl of xe, and must
	 * return in bounded time: the end of the registration of any import
	 * of the same VM (unregister, put, revocation, and so the VM's close
	 * and the device's removal) waits for the invalidations of that VM
	 * in flight. Those of other VMs, of the same device or another, do
	 * not wait for it. xe runs it as a
	 * dma_fence signalling section (dma_fence_begin_signalling()): with
	 * lockdep, a lock it takes that is also held somewhere around a
	 * dma_fence wait, or around an allocation that reclaim may turn into
	 * one, is reported as soon as lockdep has seen both.
	 *
	 * @imp: the import; @start, @end: the range, in bytes of the VM's
	 * address space, @end exclusive; @priv: the pointer given to
	 * xe_vm_import_register().
	 */
	void (*invalidate_range)(struct xe_vm_import *imp, u64 start, u64 end,
				 void *priv);
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
