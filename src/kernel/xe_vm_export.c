// SPDX-License-Identifier: MIT
/*
 * Copyright © 2026 The xe-vm-export authors
 */

#include "xe_vm_export.h"

#include <linux/anon_inodes.h>
#include <linux/completion.h>
#include <linux/debugfs.h>
#include <linux/dma-fence.h>
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/lockdep.h>
#include <linux/module.h>
#include <linux/pid.h>
#include <linux/rcupdate.h>
#include <linux/rculist.h>
#include <linux/sched/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/srcu.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_managed.h>
#include <drm/drm_print.h>
#include <drm/xe_vm_export.h>
#include <uapi/drm/xe_vm_export_drm.h>

#include "xe_device.h"
#include "xe_macros.h"
#include "xe_vm.h"
#include "xe_vm_export_trace.h"
#include "xe_vm_export_types.h"

/**
 * DOC: VM export
 *
 * &DRM_IOCTL_XE_VM_EXPORT wraps a VM into an anonymous file whose private
 * data is a &struct xe_vm_export. The file is the identity of the export:
 * imports find the export through the file, never through a file descriptor
 * number. A VM has at most one published export, recorded in
 * &xe_vm_export_state.export.
 *
 * References: the DRM file's VM table, each attached export and each import
 * hold one VM reference each, so the VM structure is freed once, after the
 * last of them is dropped, in any order. An export is attached to its VM
 * from the ioctl until the first of: its file's release, the VM's close
 * (VM_DESTROY, DRM file close), or its replacement by a new export of the
 * owner (see below). Detaching drops the export's VM reference, so an export
 * file that outlives its VM (a copy in a fork child, in an SCM_RIGHTS
 * message or taken with pidfd_getfd()) keeps nothing of xe allocated but the
 * module (the file's owner), and imports through it fail with -ENOENT.
 *
 * Device lifetime: a VM never holds its DRM device, and xe frees a VM from a
 * work item (xe_vm_free() queues vm_destroy_work_func()) that still uses the
 * device (its TTM device, its runtime PM). A VM that is exported once
 * therefore takes one reference to its DRM device, dropped by
 * xe_vm_export_vm_free(), which xe calls last in that work item, after its
 * last use of the device. Exports and imports hold no device reference of
 * their own: holding the VM keeps the device. Whatever the order in which
 * unbind, the DRM file's close, the export file's release and the
 * importer's put come, the device outlives the VM's teardown.
 *
 * Re-export: a second export of a VM fails with -EEXIST while the published
 * export's file is in the caller's file descriptor table. When it is not,
 * the caller (the owner, which has the VM in its DRM file) has let go of
 * that file and whoever still holds it cannot import through it anyway (a
 * different process): the old export is detached and the new one published.
 *
 * Revocation: xe calls xe_vm_export_vm_close() first thing when it closes a
 * VM (xe_vm_close_and_put(), on VM_DESTROY and on DRM file close), before
 * the ASID and the page tables are released. It calls the revoke callback of
 * every registered import of the VM, one after the other, in the closing
 * thread, and waits for those of the VM's imports that a device revocation
 * runs. xe_vm_export_device_remove() (unbind) and the work queued by
 * xe_vm_export_device_wedged() revoke every registered import of the device:
 * each in a work item of its own, so that a stuck callback delays only the
 * teardown of its own VM (and the unbind, which waits for every callback of
 * the device, those a VM close runs included). Each import is revoked once:
 * it moves from REGISTERED to REVOKING under the device lock, the callback
 * runs without any lock of ours, then it becomes REVOKED, its completion is
 * completed and the device's wait queue woken.
 *
 * Waits: put and unregister wait for the callback of their import only;
 * the VM close for those of its VM; the device removal for those of the
 * device. Every wait and every callback is annotated for lockdep with one
 * map, as dma_fence_begin_signalling() and dma_fence_wait() are: waiting
 * for a callback inside a callback, or while holding a lock that a callback
 * takes, is reported the first time it happens, whether or not it blocked.
 *
 * Invalidation: xe calls xe_vm_export_vm_invalidate() where it invalidates
 * its own GTs' TLBs for a range of the VM, once the page tables changed
 * (the TLB invalidation work or job of a bind's or unbind's page-table
 * update, xe_vm_invalidate_vma(), and on 7.x the SVM and madvise range
 * invalidations). It calls the invalidate callback
 * of each registered import that has one, walking the VM's
 * &xe_vm_export_state.invalidators under the VM's own SRCU
 * (&xe_vm_export_state.srcu), without any lock of ours: it may run in the
 * core mm's MMU notifier, which must not wait for a registration. The end
 * of a registration (unregister, put, revocation) takes the import off that
 * list and waits for a grace period of its VM's SRCU, so that no invalidate
 * callback runs after unregister or put returned, nor during or after the
 * revoke callback, and the import and its owner module are not freed under
 * a running callback. The grace period is per VM: a stuck invalidate
 * callback delays the end of the registrations of its own VM (and so that
 * VM's close and the device's unbind), never those of another VM. The SRCU
 * is set up by the VM's first export and cleaned up by
 * xe_vm_export_vm_free(), after the last invalidation and registration.
 *
 * Locking: &xe_vm_export_device.lock, one per device, protects every
 * &xe_vm_export_state of the device's VMs, its exports' publication and its
 * imports' registration. It nests inside &xe_file.vm.lock (export
 * publication checks the file's VM table) and is never held while an
 * importer's callback runs or while waiting for one. &xe_vm_export.lock, a
 * spinlock, protects only the export's VM pointer and nests inside the
 * device lock. &xe_vm.lock is taken, for reading, only outside both. A VM
 * that was never exported costs its close and its free one READ_ONCE(): no
 * lock is taken.
 */

#ifdef CONFIG_LOCKDEP
static struct lockdep_map revoke_lockdep_map = {
	.name = "xe_vm_import_revoke",
};
#endif

/* A callback runs: what it takes nests inside the map. */
static void revoke_begin(void)
{
	lock_map_acquire(&revoke_lockdep_map);
}

static void revoke_end(void)
{
	lock_map_release(&revoke_lockdep_map);
}

/* About to wait for callbacks: the caller's locks are held around the map. */
static void revoke_might_wait(void)
{
	lock_map_acquire(&revoke_lockdep_map);
	lock_map_release(&revoke_lockdep_map);
}

static struct xe_vm_export_device *vm_xd(struct xe_vm *vm)
{
	return &vm->xe->vm_export;
}

static bool vm_gone(struct xe_vm *vm)
{
	bool gone;

	down_read(&vm->lock);
	gone = xe_vm_is_closed_or_banned(vm);
	up_read(&vm->lock);

	return gone;
}

/* A new reference to @exp's VM, or NULL once the export is detached. */
static struct xe_vm *export_get_vm(struct xe_vm_export *exp)
{
	struct xe_vm *vm;

	spin_lock(&exp->lock);
	vm = exp->vm;
	if (vm)
		xe_vm_get(vm);
	spin_unlock(&exp->lock);

	return vm;
}

/* Take @exp's VM reference over; NULL if someone else already did. */
static struct xe_vm *export_claim_vm(struct xe_vm_export *exp)
{
	struct xe_vm *vm;

	spin_lock(&exp->lock);
	vm = exp->vm;
	exp->vm = NULL;
	spin_unlock(&exp->lock);

	return vm;
}

/*
 * Device lock held: unpublish the VM's export, if any, and detach it.
 * Returns the export's VM reference, for the caller to drop after the lock
 * (never the last one: the caller holds another), or NULL.
 */
static struct xe_vm *export_detach_locked(struct xe_vm *vm)
{
	struct xe_vm_export *exp = vm->export.export;

	lockdep_assert_held(&vm_xd(vm)->lock);
	if (!exp)
		return NULL;

	vm->export.export = NULL;
	list_del_init(&exp->link);
	trace_xe_vm_export_release(vm, exp->vm_id);

	return export_claim_vm(exp);
}

static void export_free(struct xe_vm_export *exp)
{
	if (exp->mm)
		mmdrop(exp->mm);
	put_pid(exp->pid);
	kfree(exp);
}

static int export_release(struct inode *inode, struct file *file)
{
	struct xe_vm_export *exp = file->private_data;
	struct xe_vm_export_device *xd;
	bool published = false;
	struct xe_vm *vm;

	vm = export_claim_vm(exp);
	if (vm) {
		xd = vm_xd(vm);
		mutex_lock(&xd->lock);
		if (vm->export.export == exp) {
			vm->export.export = NULL;
			list_del_init(&exp->link);
			published = true;
		}
		mutex_unlock(&xd->lock);

		if (published)
			trace_xe_vm_export_release(vm, exp->vm_id);
		xe_vm_put(vm);
	}

	export_free(exp);
	return 0;
}

static void export_show_fdinfo(struct seq_file *m, struct file *file)
{
	struct xe_vm_export *exp = file->private_data;
	struct xe_vm *vm;
	bool closed = true;

	vm = export_get_vm(exp);
	if (vm) {
		mutex_lock(&vm_xd(vm)->lock);
		closed = vm->export.revoked;
		mutex_unlock(&vm_xd(vm)->lock);
		closed = closed || vm_gone(vm);
		xe_vm_put(vm);
	}

	seq_printf(m, "xe_vm_id:\t%u\n", exp->vm_id);
	seq_printf(m, "xe_device:\t%s\n", exp->dev_name);
	seq_printf(m, "xe_exporter_pid:\t%d\n", pid_vnr(exp->pid));
	seq_printf(m, "xe_vm_closed:\t%d\n", closed);
}

static const struct file_operations export_fops = {
	.owner = THIS_MODULE,
	.release = export_release,
	.show_fdinfo = export_show_fdinfo,
	.llseek = noop_llseek,
};

/* Takes over the caller's VM reference, also on failure. */
static struct xe_vm_export *export_alloc(struct xe_vm *vm, u32 vm_id)
{
	struct xe_vm_export *exp;

	exp = kzalloc(sizeof(*exp), GFP_KERNEL);
	if (!exp) {
		xe_vm_put(vm);
		return NULL;
	}

	spin_lock_init(&exp->lock);
	exp->vm = vm;
	exp->vm_id = vm_id;
	strscpy(exp->dev_name, dev_name(vm->xe->drm.dev), sizeof(exp->dev_name));
	exp->pid = get_pid(task_tgid(current));
	exp->mm = current->mm;
	if (exp->mm)
		mmgrab(exp->mm);
	INIT_LIST_HEAD(&exp->link);

	return exp;
}

static int fd_is(const void *file, struct file *f, unsigned int fd)
{
	return f == file;
}

/* Whether the calling process still has @exp's file in its fd table. */
static bool export_held_by_caller(struct xe_vm_export *exp)
{
	return current->files && iterate_fd(current->files, 0, fd_is, exp->file);
}

static int export_publish(struct xe_device *xe, struct xe_file *xef,
			  struct xe_vm_export *exp)
{
	struct xe_vm_export_device *xd = &xe->vm_export;
	struct xe_vm *vm = exp->vm, *stale = NULL;
	int err = 0;

	mutex_lock(&xef->vm.lock);
	mutex_lock(&xd->lock);
	if (XE_IOCTL_DBG(xe, xa_load(&xef->vm.xa, exp->vm_id) != vm ||
			 vm->export.revoked)) {
		err = -ENOENT;
	} else if (XE_IOCTL_DBG(xe, vm->export.export &&
				export_held_by_caller(vm->export.export))) {
		err = -EEXIST;
	} else if (!vm->export.exported && init_srcu_struct(&vm->export.srcu)) {
		/* cleaned up by xe_vm_export_vm_free() once exported */
		err = -ENOMEM;
	} else {
		/* an export the owner let go of: replaced */
		stale = export_detach_locked(vm);
		if (!vm->export.exported) {
			INIT_LIST_HEAD(&vm->export.importers);
			INIT_LIST_HEAD(&vm->export.invalidators);
			/* dropped by xe_vm_export_vm_free() */
			drm_dev_get(&xe->drm);
			/*
			 * Pairs with the READ_ONCE() of xe_vm_export_vm_close()
			 * and the acquire of xe_vm_export_vm_invalidate(): the
			 * lists are initialised before the flag is seen.
			 */
			smp_store_release(&vm->export.exported, true);
		}
		vm->export.export = exp;
		list_add_tail(&exp->link, &xd->exports);
	}
	mutex_unlock(&xd->lock);
	mutex_unlock(&xef->vm.lock);

	if (stale)
		xe_vm_put(stale);

	return err;
}

static int vm_export(struct xe_device *xe, struct xe_file *xef,
		     struct drm_xe_vm_export *args)
{
	struct xe_vm_export *exp;
	struct file *file;
	struct xe_vm *vm;
	int fd, err;

	if (XE_IOCTL_DBG(xe, args->pad) ||
	    XE_IOCTL_DBG(xe, args->pad2) ||
	    XE_IOCTL_DBG(xe, args->fd) ||
	    XE_IOCTL_DBG(xe, args->reserved[0] || args->reserved[1]))
		return -EINVAL;

	vm = xe_vm_lookup(xef, args->vm_id);
	if (XE_IOCTL_DBG(xe, !vm))
		return -ENOENT;

	if (XE_IOCTL_DBG(xe, vm_gone(vm))) {
		err = -ENOENT;
		goto put_vm;
	}

	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd < 0) {
		err = fd;
		goto put_vm;
	}

	exp = export_alloc(vm, args->vm_id);
	if (!exp) {
		err = -ENOMEM;
		goto put_fd;
	}

	file = anon_inode_getfile("[xe_vm_export]", &export_fops, exp, O_RDWR);
	if (IS_ERR(file)) {
		err = PTR_ERR(file);
		xe_vm_put(export_claim_vm(exp));
		export_free(exp);
		goto put_fd;
	}
	exp->file = file;

	/* From here on the file owns the export and its VM reference. */
	err = export_publish(xe, xef, exp);
	if (err)
		goto put_file;

	trace_xe_vm_export_create(vm, args->vm_id);

	/*
	 * drm_ioctl() copies @args back to userspace after we return; nothing
	 * of ours can fail after the file becomes visible in the fd table.
	 */
	args->fd = fd;
	fd_install(fd, file);

	return 0;

put_file:
	fput(file);
put_fd:
	put_unused_fd(fd);
	return err;
put_vm:
	xe_vm_put(vm);
	return err;
}

/**
 * xe_vm_export_ioctl() - Export a VM as a file descriptor
 * @dev: DRM device
 * @data: &struct drm_xe_vm_export, already copied from userspace
 * @file: DRM file owning the VM
 *
 * Handler of &DRM_IOCTL_XE_VM_EXPORT. Context: process context; takes
 * &xe_file.vm.lock, &xe_vm.lock and the device's VM export lock.
 *
 * Return: 0 with the new file descriptor in &drm_xe_vm_export.fd, or a
 * negative error code: -EINVAL for non-zero input fields, -ENOENT for an
 * unknown, closed or banned VM, -EEXIST if the VM already has a live export
 * whose file is in the caller's file descriptor table, -ENOMEM, -EMFILE,
 * -ENFILE.
 */
int xe_vm_export_ioctl(struct drm_device *dev, void *data,
		       struct drm_file *file)
{
	return vm_export(to_xe_device(dev), to_xe_file(file), data);
}

static void import_revoke_work(struct work_struct *work);

static struct xe_vm_import *import_file(struct device *dev, struct file *file)
{
	struct xe_vm_export *exp;
	struct xe_vm_import *imp;
	struct xe_vm *vm;
	int err;

	if (file->f_op != &export_fops)
		return ERR_PTR(-EINVAL);

	exp = file->private_data;
	if (current->mm != exp->mm)
		return ERR_PTR(-EPERM);

	vm = export_get_vm(exp);
	if (!vm)
		return ERR_PTR(-ENOENT);
	if (dev && dev != vm->xe->drm.dev) {
		err = -EINVAL;
		goto put_vm;
	}
	if (vm_gone(vm)) {
		err = -ENOENT;
		goto put_vm;
	}

	imp = kzalloc(sizeof(*imp), GFP_KERNEL);
	if (!imp) {
		err = -ENOMEM;
		goto put_vm;
	}

	imp->vm = vm;
	imp->vm_id = exp->vm_id;
	INIT_LIST_HEAD(&imp->vm_link);
	INIT_LIST_HEAD(&imp->dev_link);
	INIT_LIST_HEAD(&imp->inval_link);
	INIT_WORK(&imp->revoke_work, import_revoke_work);
	init_completion(&imp->revoked);
	atomic_inc(&vm->export.imports);

	trace_xe_vm_export_import(vm, imp->vm_id);

	return imp;

put_vm:
	xe_vm_put(vm);
	return ERR_PTR(err);
}

/**
 * xe_vm_import_get() - Import a VM from an export file descriptor
 * @dev: the device the caller serves, or NULL to accept any xe device
 * @fd: file descriptor returned by &DRM_IOCTL_XE_VM_EXPORT
 *
 * Looks @fd up in the calling process and returns a new import holding a
 * reference to the exported VM. The caller must run in the process that
 * exported the VM (the same address space), typically inside its own ioctl.
 * The import does not allow the use of the VM's ASID until it is registered
 * with xe_vm_import_register().
 *
 * Context: process context, may sleep.
 *
 * Return: the import, to be released with xe_vm_import_put(), or an ERR_PTR:
 * -EBADF if @fd is not open, -EINVAL if it is not a VM export or the VM is on
 * another device than @dev, -EPERM if the caller is not in the exporting
 * process, -ENOENT if the VM is closed or banned or the export was replaced,
 * -ENOMEM.
 */
struct xe_vm_import *xe_vm_import_get(struct device *dev, int fd)
{
	struct xe_vm_import *imp;
	struct fd f;

	f = fdget(fd);
	if (!fd_file(f))
		return ERR_PTR(-EBADF);

	imp = import_file(dev, fd_file(f));
	fdput(f);

	return imp;
}
EXPORT_SYMBOL_NS_GPL(xe_vm_import_get, XE_VM_EXPORT_NS);

/*
 * Device lock held, @imp registered: take @imp off its VM's invalidate
 * list. Returns whether it was on it: the caller then waits for a grace
 * period of the VM's SRCU, after the device lock, before the import or its
 * callbacks may go.
 */
static bool import_stop_invalidating(struct xe_vm_import *imp)
{
	lockdep_assert_held(&vm_xd(imp->vm)->lock);
	if (!imp->ops->invalidate_range)
		return false;
	list_del_rcu(&imp->inval_link);
	return true;
}

/*
 * Unregister @imp; waits for its own revoke callback if that is queued or
 * running, and for nothing else.
 */
static void import_unregister(struct xe_vm_import *imp, bool warn)
{
	struct xe_vm_export_device *xd = vm_xd(imp->vm);
	struct module *owner = NULL;
	enum xe_vm_import_state state;
	struct xe_vm *vm = imp->vm;
	bool invalidator = false;

	/* a wait for a callback, even when there is none this time */
	revoke_might_wait();

	mutex_lock(&xd->lock);
	state = imp->state;
	if (state == XE_VM_IMPORT_REGISTERED) {
		list_del_init(&imp->vm_link);
		list_del_init(&imp->dev_link);
		invalidator = import_stop_invalidating(imp);
		vm->export.registered--;
		imp->state = XE_VM_IMPORT_IDLE;
		owner = imp->owner;
		imp->owner = NULL;
	}
	mutex_unlock(&xd->lock);

	/* invalidate callbacks in flight that may still see @imp */
	if (invalidator)
		synchronize_srcu(&vm->export.srcu);
	WARN_ON(warn && state == XE_VM_IMPORT_IDLE);
	if (state == XE_VM_IMPORT_REVOKING || state == XE_VM_IMPORT_REVOKED)
		wait_for_completion(&imp->revoked);
	module_put(owner);
}

/**
 * xe_vm_import_put() - Release an import
 * @imp: the import, from xe_vm_import_get(); NULL is ignored
 *
 * Unregisters the import if it is still registered (waiting for its own
 * revoke callback if that is queued or running) and drops its VM reference;
 * the VM structure is freed if that was the last one.
 *
 * Context: process context, may sleep. Not from any import's revoke
 * callback, nor under a lock that a revoke callback takes (see &struct
 * xe_vm_import_ops): lockdep reports both.
 */
void xe_vm_import_put(struct xe_vm_import *imp)
{
	struct xe_vm *vm;

	if (!imp)
		return;

	vm = imp->vm;
	import_unregister(imp, false);
	atomic_dec(&vm->export.imports);

	trace_xe_vm_export_unimport(vm, imp->vm_id);

	kfree(imp);
	xe_vm_put(vm);
}
EXPORT_SYMBOL_NS_GPL(xe_vm_import_put, XE_VM_EXPORT_NS);

/**
 * xe_vm_import_register() - Ask to be told before the VM goes away
 * @imp: the import
 * @ops: the importer's callbacks; &xe_vm_import_ops.revoke is mandatory.
 *	 Must stay valid while @imp is registered.
 * @priv: passed to the callbacks
 *
 * After a successful registration, and until the import is unregistered or
 * its revoke callback has returned, the VM's ASID stays the VM's: xe calls
 * @ops->revoke before it releases the ASID, whatever closes the VM
 * (&DRM_IOCTL_XE_VM_DESTROY, closing the owning DRM file, device unbind or
 * wedging). If @ops has an invalidate callback, xe calls it for every range
 * of the VM whose translations it invalidates in its own GTs, until the
 * registration ends. See &struct xe_vm_import_ops for the callbacks'
 * contract.
 * Registration does not keep the owner from destroying the VM: the owner's
 * destroy revokes and succeeds. The registration holds a reference to
 * @ops->owner, dropped when it ends: by unregistration, by the put of the
 * import, or once the revoke callback returned.
 *
 * Context: process context, may sleep; takes &xe_vm.lock and the device's
 * VM export lock.
 *
 * Return: 0, -EINVAL if @ops or its revoke callback is NULL, -EALREADY if
 * @imp is registered, -ENOENT if the VM was destroyed, closed or banned, or
 * the import was revoked, or the device was wedged or is being removed,
 * -ENODEV if @ops->owner is being unloaded.
 */
int xe_vm_import_register(struct xe_vm_import *imp,
			  const struct xe_vm_import_ops *ops, void *priv)
{
	struct xe_vm *vm = imp->vm;
	struct xe_vm_export_device *xd = vm_xd(vm);
	int err = 0;

	if (!ops || !ops->revoke)
		return -EINVAL;
	if (vm_gone(vm))
		return -ENOENT;
	if (!try_module_get(ops->owner))
		return -ENODEV;

	mutex_lock(&xd->lock);
	if (imp->state == XE_VM_IMPORT_REGISTERED) {
		err = -EALREADY;
	} else if (imp->state != XE_VM_IMPORT_IDLE || vm->export.revoked ||
		   xd->revoked) {
		err = -ENOENT;
	} else {
		imp->ops = ops;
		imp->priv = priv;
		imp->owner = ops->owner;
		imp->state = XE_VM_IMPORT_REGISTERED;
		list_add_tail(&imp->vm_link, &vm->export.importers);
		list_add_tail(&imp->dev_link, &xd->importers);
		if (ops->invalidate_range)
			list_add_tail_rcu(&imp->inval_link,
					  &vm->export.invalidators);
		vm->export.registered++;
	}
	mutex_unlock(&xd->lock);

	if (err)
		module_put(ops->owner);
	return err;
}
EXPORT_SYMBOL_NS_GPL(xe_vm_import_register, XE_VM_EXPORT_NS);

/**
 * xe_vm_import_unregister() - Undo xe_vm_import_register()
 * @imp: the import, registered (or already revoked: then this only waits
 *	 for the end of its revoke callback)
 *
 * When this returns, the revoke callback of @imp is not running and will
 * not be called for this registration. Only @imp's own callback is waited
 * for.
 *
 * Context: process context, may sleep. Not from any import's revoke
 * callback, nor under a lock that a revoke callback takes (see &struct
 * xe_vm_import_ops): lockdep reports both.
 */
void xe_vm_import_unregister(struct xe_vm_import *imp)
{
	import_unregister(imp, true);
}
EXPORT_SYMBOL_NS_GPL(xe_vm_import_unregister, XE_VM_EXPORT_NS);

/* Whether @imp must no longer use its VM; device lock held. */
static bool import_revoked(const struct xe_vm_import *imp)
{
	const struct xe_vm *vm = imp->vm;

	return imp->state == XE_VM_IMPORT_REVOKING ||
	       imp->state == XE_VM_IMPORT_REVOKED ||
	       vm->export.revoked || vm->xe->vm_export.revoked;
}

/**
 * xe_vm_import_is_closed() - Whether the imported VM is closed
 * @imp: the import
 *
 * Context: process context, may sleep. May be called from the import's
 * revoke callback.
 *
 * Return: true if the import was revoked, the VM was destroyed, closed (its
 * DRM file went away) or banned, or its device was wedged or removed.
 */
bool xe_vm_import_is_closed(const struct xe_vm_import *imp)
{
	struct xe_vm_export_device *xd = vm_xd(imp->vm);
	bool closed;

	mutex_lock(&xd->lock);
	closed = import_revoked(imp);
	mutex_unlock(&xd->lock);

	return closed || vm_gone(imp->vm);
}
EXPORT_SYMBOL_NS_GPL(xe_vm_import_is_closed, XE_VM_EXPORT_NS);

/**
 * xe_vm_import_asid() - Address space ID of the imported VM
 * @imp: the import
 *
 * The ASID may only be used while @imp is registered and not revoked.
 *
 * Context: process context, may sleep.
 *
 * Return: the ASID the GPU tags the VM's translations and faults with; 0 on
 * devices without ASIDs and once the import is revoked or the VM closed.
 */
u32 xe_vm_import_asid(const struct xe_vm_import *imp)
{
	struct xe_vm_export_device *xd = vm_xd(imp->vm);
	u32 asid;

	mutex_lock(&xd->lock);
	asid = import_revoked(imp) ? 0 : imp->vm->usm.asid;
	mutex_unlock(&xd->lock);

	return asid;
}
EXPORT_SYMBOL_NS_GPL(xe_vm_import_asid, XE_VM_EXPORT_NS);

/**
 * xe_vm_import_va_bits() - Width of the imported VM's virtual addresses
 * @imp: the import
 *
 * Return: the number of virtual address bits of the VM's device.
 */
unsigned int xe_vm_import_va_bits(const struct xe_vm_import *imp)
{
	return imp->vm->xe->info.va_bits;
}
EXPORT_SYMBOL_NS_GPL(xe_vm_import_va_bits, XE_VM_EXPORT_NS);

/**
 * xe_vm_import_flags() - Mode of the imported VM
 * @imp: the import
 *
 * Reads the VM's flags under &xe_vm.lock, which xe holds when it changes
 * them.
 *
 * Context: process context, may sleep.
 *
 * Return: a mask of XE_VM_IMPORT_FLAG_* from <drm/xe_vm_export.h>.
 */
u32 xe_vm_import_flags(const struct xe_vm_import *imp)
{
	struct xe_vm *vm = imp->vm;
	u32 flags, out = 0;

	down_read(&vm->lock);
	flags = vm->flags;
	up_read(&vm->lock);

	if (flags & XE_VM_FLAG_LR_MODE)
		out |= XE_VM_IMPORT_FLAG_LR_MODE;
	if (flags & XE_VM_FLAG_FAULT_MODE)
		out |= XE_VM_IMPORT_FLAG_FAULT_MODE;
	if (flags & XE_VM_FLAG_SCRATCH_PAGE)
		out |= XE_VM_IMPORT_FLAG_SCRATCH_PAGE;

	return out;
}
EXPORT_SYMBOL_NS_GPL(xe_vm_import_flags, XE_VM_EXPORT_NS);

/**
 * xe_vm_import_device() - Device of the imported VM
 * @imp: the import
 *
 * Return: the GPU's &struct device (its PCI device), valid while @imp is.
 */
struct device *xe_vm_import_device(const struct xe_vm_import *imp)
{
	return imp->vm->xe->drm.dev;
}
EXPORT_SYMBOL_NS_GPL(xe_vm_import_device, XE_VM_EXPORT_NS);

/**
 * xe_vm_import_drm_device() - DRM device of the imported VM
 * @imp: the import
 *
 * Return: the GPU's &struct drm_device, valid while @imp is.
 */
struct drm_device *xe_vm_import_drm_device(const struct xe_vm_import *imp)
{
	return &imp->vm->xe->drm;
}
EXPORT_SYMBOL_NS_GPL(xe_vm_import_drm_device, XE_VM_EXPORT_NS);

/* Device lock held: take @imp off the lists, to be revoked by the caller. */
static void import_pick(struct xe_vm_import *imp)
{
	struct xe_vm *vm = imp->vm;
	struct xe_vm_export_device *xd = vm_xd(vm);

	lockdep_assert_held(&xd->lock);
	list_del_init(&imp->vm_link);
	list_del_init(&imp->dev_link);
	/* import_revoke() waits for the invalidations in flight */
	import_stop_invalidating(imp);
	imp->state = XE_VM_IMPORT_REVOKING;
	vm->export.registered--;
	WRITE_ONCE(vm->export.revoking, vm->export.revoking + 1);
	WRITE_ONCE(xd->revoking, xd->revoking + 1);
}

/* Report a callback that kept the VM's teardown waiting for over a second. */
#define REVOKE_SLOW	HZ

/*
 * Call @imp's revoke callback (picked by the caller), without any lock, then
 * end the registration. The completion is the last access to @imp: a put
 * waiting for it may free the import, and with it the VM and the device.
 */
static void import_revoke(struct xe_vm_import *imp)
{
	struct xe_vm *vm = imp->vm;
	struct xe_vm_export_device *xd = vm_xd(vm);
	struct module *owner = imp->owner;
	unsigned long start = jiffies;

	/* no invalidate callback of @imp runs from here on */
	if (imp->ops->invalidate_range)
		synchronize_srcu(&vm->export.srcu);

	trace_xe_vm_export_revoke(vm, imp->vm_id);
	revoke_begin();
	imp->ops->revoke(imp, imp->priv);
	revoke_end();
	if (time_after(jiffies, start + REVOKE_SLOW))
		drm_warn(&vm->xe->drm, "VM export: revoke callback %ps of VM %u took %u ms\n",
			 imp->ops->revoke, imp->vm_id,
			 jiffies_to_msecs(jiffies - start));

	mutex_lock(&xd->lock);
	imp->state = XE_VM_IMPORT_REVOKED;
	imp->owner = NULL;
	WRITE_ONCE(vm->export.revoking, vm->export.revoking - 1);
	WRITE_ONCE(xd->revoking, xd->revoking - 1);
	mutex_unlock(&xd->lock);
	wake_up_all(&xd->revoke_wq);
	complete_all(&imp->revoked);
	module_put(owner);
}

static void import_revoke_work(struct work_struct *work)
{
	import_revoke(container_of(work, struct xe_vm_import, revoke_work));
}

/**
 * xe_vm_export_vm_close() - Revoke the importers of a VM that xe closes
 * @vm: the VM
 *
 * Hook called by xe_vm_close_and_put() before anything of the VM is torn
 * down, with no lock of xe held. Marks the VM closed for the VM export code
 * (no new registration, export or import), detaches its export, calls the
 * revoke callback of each registered import in this thread and returns once
 * every callback of the VM's imports returned, including those a device
 * revocation runs. Only then may xe release the ASID. Callbacks of other
 * VMs are not waited for.
 *
 * A VM never exported has no import: it is recognised without a lock, as
 * exports are published only while the VM is in its file's VM table, under
 * &xe_file.vm.lock, and xe closes a VM after removing it from the table
 * under that lock, or when no ioctl can run on the file any more.
 *
 * Context: process context, may sleep.
 */
void xe_vm_export_vm_close(struct xe_vm *vm)
{
	struct xe_vm_export_device *xd = vm_xd(vm);
	struct xe_vm_import *imp, *next;
	struct xe_vm *exp_vm;
	LIST_HEAD(todo);

	if (!READ_ONCE(vm->export.exported))
		return;

	mutex_lock(&xd->lock);
	vm->export.revoked = true;
	exp_vm = export_detach_locked(vm);
	list_for_each_entry_safe(imp, next, &vm->export.importers, vm_link) {
		import_pick(imp);
		list_add_tail(&imp->vm_link, &todo);
	}
	mutex_unlock(&xd->lock);

	list_for_each_entry_safe(imp, next, &todo, vm_link) {
		list_del_init(&imp->vm_link);
		import_revoke(imp);
	}

	/* Callbacks of this VM's imports that a device revocation runs. */
	revoke_might_wait();
	wait_event(xd->revoke_wq, !READ_ONCE(vm->export.revoking));

	/* not the last reference: xe's caller holds one */
	if (exp_vm)
		xe_vm_put(exp_vm);
}

/**
 * xe_vm_export_vm_free() - Release what an exported VM holds of its device
 * @vm: the VM, being freed
 *
 * Hook called last by xe's VM destroy work (vm_destroy_work_func()), after
 * its last use of the device and before the VM's memory is freed. Drops the
 * DRM device reference that the VM's first export took; the device may be
 * released here.
 *
 * Context: process context (a work item), may sleep.
 */
void xe_vm_export_vm_free(struct xe_vm *vm)
{
	/*
	 * Nobody else holds the VM: no export can race, no invalidation runs
	 * (its callers hold the VM) and no registration ends (an import holds
	 * the VM).
	 */
	if (vm->export.exported) {
		cleanup_srcu_struct(&vm->export.srcu);
		drm_dev_put(&vm->xe->drm);
	}
}

/**
 * xe_vm_export_vm_invalidate() - Tell importers that a range of a VM changed
 * @vm: the VM
 * @start: first address of the range
 * @end: end of the range, exclusive
 *
 * Hook called by xe where it invalidates its own GTs' TLBs for a range of
 * @vm, after the page tables changed: when it zaps the page-table entries
 * of a VMA (xe_vm_invalidate_vma(); on 7.x also a shared virtual memory
 * range, xe_svm_invalidate(), and a madvise range,
 * xe_vm_invalidate_madvise_range()), and on 7.x in the TLB invalidation job
 * of a bind's or unbind's page-table update (xe_tlb_inval_job_run(); 6.12
 * goes through xe_vm_export_asid_invalidate()). Calls the invalidate
 * callback of every registered import of @vm that has one, in this thread,
 * and returns after they all returned. A VM never exported costs one
 * load-acquire.
 *
 * The callbacks run as a dma_fence signalling section for lockdep: the TLB
 * invalidation's fence, which releases the range's memory, waits for them.
 *
 * Context: may sleep. Called from the work or job that signals a TLB
 * invalidation fence, with dma_resv locks held, or from the core mm's MMU
 * notifier: takes no lock of the VM export code.
 */
void xe_vm_export_vm_invalidate(struct xe_vm *vm, u64 start, u64 end)
{
	struct xe_vm_import *imp;
	bool cookie;
	int idx;

	/* Pairs with the smp_store_release() of export_publish() */
	if (!smp_load_acquire(&vm->export.exported))
		return;
	/*
	 * The page tables already changed: a registration this misses sees
	 * the new ones.
	 */
	if (list_empty(&vm->export.invalidators))
		return;

	cookie = dma_fence_begin_signalling();
	idx = srcu_read_lock(&vm->export.srcu);
	list_for_each_entry_srcu(imp, &vm->export.invalidators, inval_link,
				 srcu_read_lock_held(&vm->export.srcu)) {
		trace_xe_vm_export_invalidate(vm, imp->vm_id, start, end);
		imp->ops->invalidate_range(imp, start, end, imp->priv);
	}
	srcu_read_unlock(&vm->export.srcu, idx);
	dma_fence_end_signalling(cookie);
}

/**
 * xe_vm_export_asid_invalidate() - xe_vm_export_vm_invalidate() by ASID
 * @xe: the device
 * @asid: the ASID of the VM whose page tables changed
 * @start: first address of the range
 * @end: end of the range, exclusive
 *
 * Hook called by 6.12's TLB invalidation work of a bind's or unbind's
 * page-table update (invalidation_fence_work_func()), which knows the VM
 * only by its ASID, after the update completed and before it issues the
 * TLB invalidation whose fence releases the range's memory. The VM is
 * alive and still owns @asid: xe closes a VM only after waiting for the
 * fences of its page-table updates, and releases the ASID after that. An
 * ASID without VM is ignored.
 *
 * Context: as xe_vm_export_vm_invalidate().
 */
void xe_vm_export_asid_invalidate(struct xe_device *xe, u32 asid, u64 start,
				  u64 end)
{
	struct xe_vm *vm;

	rcu_read_lock();
	vm = xa_load(&xe->usm.asid_to_vm, asid);
	rcu_read_unlock();

	if (vm)
		xe_vm_export_vm_invalidate(vm, start, end);
}

/* Queue the revocation of every registered import of the device. */
static void device_revoke(struct xe_vm_export_device *xd)
{
	struct xe_vm_import *imp, *next;

	mutex_lock(&xd->lock);
	xd->revoked = true;
	list_for_each_entry_safe(imp, next, &xd->importers, dev_link) {
		import_pick(imp);
		queue_work(system_unbound_wq, &imp->revoke_work);
	}
	mutex_unlock(&xd->lock);
}

static void device_wedge_work(struct work_struct *work)
{
	device_revoke(container_of(work, struct xe_vm_export_device, wedge_work));
}

static void device_fini(struct drm_device *drm, void *arg)
{
	struct xe_vm_export_device *xd = arg;

	cancel_work_sync(&xd->wedge_work);
	mutex_destroy(&xd->lock);
}

/**
 * xe_vm_export_device_init() - Set up the VM export state of a device
 * @xe: the device, being created
 *
 * Hook called by xe_device_create(). The state is torn down by a DRM managed
 * action when the DRM device is released.
 *
 * Return: 0 or -ENOMEM.
 */
int xe_vm_export_device_init(struct xe_device *xe)
{
	struct xe_vm_export_device *xd = &xe->vm_export;

	mutex_init(&xd->lock);
	INIT_LIST_HEAD(&xd->exports);
	INIT_LIST_HEAD(&xd->importers);
	init_waitqueue_head(&xd->revoke_wq);
	INIT_WORK(&xd->wedge_work, device_wedge_work);

	return drmm_add_action_or_reset(&xe->drm, device_fini, xd);
}

/**
 * xe_vm_export_device_wedged() - Revoke every importer of a wedged device
 * @xe: the device
 *
 * Hook called by xe_device_declare_wedged(), in whatever context and under
 * whatever locks xe declares the device wedged: the callbacks run from work
 * items, one per import. From now on no import of the device can be
 * registered.
 */
void xe_vm_export_device_wedged(struct xe_device *xe)
{
	queue_work(system_unbound_wq, &xe->vm_export.wedge_work);
}

/**
 * xe_vm_export_device_remove() - Revoke every importer of a removed device
 * @xe: the device
 *
 * Hook called by xe_device_remove() (driver unbind, device removal) before
 * the device is torn down. Returns after the revoke callback of every import
 * of the device returned: those it queues, those of a wedge revocation and
 * those a concurrent VM close runs. From now on no import of the device can
 * be registered.
 *
 * Context: process context, may sleep.
 */
void xe_vm_export_device_remove(struct xe_device *xe)
{
	struct xe_vm_export_device *xd = &xe->vm_export;

	device_revoke(xd);
	flush_work(&xd->wedge_work);
	revoke_might_wait();
	wait_event(xd->revoke_wq, !READ_ONCE(xd->revoking));
}

static int vm_exports_show(struct seq_file *m, void *data)
{
	struct xe_device *xe = m->private;
	struct xe_vm_export_device *xd = &xe->vm_export;
	struct xe_vm_export *exp;
	struct xe_vm *vm;

	seq_puts(m, "vm_id pid registered imports\n");

	mutex_lock(&xd->lock);
	list_for_each_entry(exp, &xd->exports, link) {
		/* NULL while its release waits for the lock */
		spin_lock(&exp->lock);
		vm = exp->vm;
		spin_unlock(&exp->lock);
		if (!vm)
			continue;
		seq_printf(m, "%u %d %u %u\n", exp->vm_id, pid_nr(exp->pid),
			   vm->export.registered,
			   atomic_read(&vm->export.imports));
	}
	mutex_unlock(&xd->lock);

	return 0;
}
DEFINE_SHOW_ATTRIBUTE(vm_exports);

/**
 * xe_vm_export_debugfs_register() - Create the ``vm_exports`` debugfs file
 * @xe: the device
 *
 * The file lists the device's live exports, one a line: VM ID, PID of the
 * exporting process, number of registrations, number of imports.
 */
void xe_vm_export_debugfs_register(struct xe_device *xe)
{
	debugfs_create_file("vm_exports", 0400, xe->drm.primary->debugfs_root,
			    xe, &vm_exports_fops);
}

#if IS_ENABLED(CONFIG_DRM_XE_KUNIT_TEST)
#include "tests/xe_vm_export_test.c"
#endif
