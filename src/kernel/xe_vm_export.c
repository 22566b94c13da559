// SPDX-License-Identifier: MIT
/*
 * Copyright © 2026 The xe-vm-export authors
 */

#include "xe_vm_export.h"

#include <linux/anon_inodes.h>
#include <linux/debugfs.h>
#include <linux/file.h>
#include <linux/fs.h>
#include <linux/module.h>
#include <linux/pid.h>
#include <linux/sched/mm.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

#include <drm/drm_drv.h>
#include <drm/drm_file.h>
#include <drm/drm_managed.h>
#include <drm/drm_print.h>
#include <kunit/static_stub.h>
#include <kunit/visibility.h>
#include <drm/xe_vm_export.h>
#include <uapi/drm/xe_vm_export_drm.h>

#include "xe_device.h"
#include "xe_macros.h"
#include "xe_vm.h"
#include "xe_vm_export_trace.h"
#include "xe_vm_export_types.h"

#if IS_ENABLED(CONFIG_DRM_XE_KUNIT_TEST)
#include "tests/xe_vm_export_test.h"
#endif

/**
 * DOC: VM export
 *
 * &DRM_IOCTL_XE_VM_EXPORT wraps a VM into an anonymous file whose private
 * data, a &struct xe_vm_export, owns a reference to the VM. The file is the
 * identity of the export: imports find the export through the file, never
 * through a file descriptor number. A VM has at most one live export,
 * recorded in &xe_vm_export_state.export, which the file's release clears.
 *
 * References: the DRM file's VM table, each export and each import hold one
 * VM reference each, so the VM structure is freed once, after the last of
 * them is dropped, in any order. Exports and imports also hold a reference
 * to the DRM device, which a VM does not, so that an import kept after
 * unbind still finds its device when it is put. None of them keeps the VM's address space:
 * an export file never blocks &DRM_IOCTL_XE_VM_DESTROY.
 *
 * Revocation: xe calls xe_vm_export_vm_close() first thing when it closes a
 * VM (xe_vm_close_and_put(), on VM_DESTROY and on DRM file close), before
 * the ASID and the page tables are released; it calls the revoke callback of
 * every registered import of the VM and waits for those a concurrent device
 * revocation is running. xe_vm_export_device_remove() (unbind) and the work
 * queued by xe_vm_export_device_wedged() do the same for every registered
 * import of the device. Each import is revoked once: it moves from REGISTERED
 * to REVOKING under the device lock, the callback runs without the lock, then
 * it becomes REVOKED and &xe_vm_export_device.revoke_wq is woken.
 *
 * Locking: &xe_vm_export_device.lock, one per device, protects every
 * &xe_vm_export_state of the device's VMs, its exports and its registered
 * imports. It nests inside &xe_file.vm.lock (export publication checks the
 * file's VM table) and is never held while an importer's callback runs.
 * &xe_vm.lock is taken, for reading, only outside the device lock. A VM that
 * was never exported costs its close one READ_ONCE(): no lock is taken.
 */

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

/*
 * Allocation of the export and import structures, a static stub the KUnit
 * suite redirects to make them fail.
 */
static void *ve_zalloc(size_t size)
{
	KUNIT_STATIC_STUB_REDIRECT(ve_zalloc, size);
	return kzalloc(size, GFP_KERNEL);
}

static void export_free(struct xe_vm_export *exp)
{
	struct drm_device *drm = &exp->vm->xe->drm;

	if (exp->mm)
		mmdrop(exp->mm);
	put_pid(exp->pid);
	xe_vm_put(exp->vm);
	kfree(exp);
	drm_dev_put(drm);
}

static int export_release(struct inode *inode, struct file *file)
{
	struct xe_vm_export *exp = file->private_data;
	struct xe_vm *vm = exp->vm;
	struct xe_vm_export_device *xd = vm_xd(vm);
	bool published;

	mutex_lock(&xd->lock);
	published = vm->export.export == exp;
	if (published) {
		vm->export.export = NULL;
		list_del(&exp->link);
	}
	mutex_unlock(&xd->lock);

	if (published)
		trace_xe_vm_export_release(vm, exp->vm_id);

	export_free(exp);
	return 0;
}

static void export_show_fdinfo(struct seq_file *m, struct file *file)
{
	struct xe_vm_export *exp = file->private_data;
	struct xe_vm *vm = exp->vm;
	bool closed;

	mutex_lock(&vm_xd(vm)->lock);
	closed = vm->export.revoked;
	mutex_unlock(&vm_xd(vm)->lock);

	seq_printf(m, "xe_vm_id:\t%u\n", exp->vm_id);
	seq_printf(m, "xe_device:\t%s\n", dev_name(vm->xe->drm.dev));
	seq_printf(m, "xe_exporter_pid:\t%d\n", pid_vnr(exp->pid));
	seq_printf(m, "xe_vm_closed:\t%d\n", closed || vm_gone(vm));
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

	exp = ve_zalloc(sizeof(*exp));
	if (!exp) {
		xe_vm_put(vm);
		return NULL;
	}

	/* The VM does not keep its device: an export may outlive both. */
	drm_dev_get(&vm->xe->drm);
	exp->vm = vm;
	exp->vm_id = vm_id;
	exp->pid = get_pid(task_tgid(current));
	exp->mm = current->mm;
	if (exp->mm)
		mmgrab(exp->mm);
	INIT_LIST_HEAD(&exp->link);

	return exp;
}

static int export_publish(struct xe_device *xe, struct xe_file *xef,
			  struct xe_vm_export *exp)
{
	struct xe_vm_export_device *xd = &xe->vm_export;
	struct xe_vm *vm = exp->vm;
	int err = 0;

	mutex_lock(&xef->vm.lock);
	mutex_lock(&xd->lock);
	if (XE_IOCTL_DBG(xe, xa_load(&xef->vm.xa, exp->vm_id) != vm ||
			 vm->export.revoked)) {
		err = -ENOENT;
	} else if (XE_IOCTL_DBG(xe, vm->export.export)) {
		err = -EEXIST;
	} else {
		if (!vm->export.exported) {
			INIT_LIST_HEAD(&vm->export.importers);
			/* Pairs with the READ_ONCE() of xe_vm_export_vm_close() */
			WRITE_ONCE(vm->export.exported, true);
		}
		vm->export.export = exp;
		list_add_tail(&exp->link, &xd->exports);
	}
	mutex_unlock(&xd->lock);
	mutex_unlock(&xef->vm.lock);

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
		export_free(exp);
		goto put_fd;
	}

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
 * unknown, closed or banned VM, -EEXIST if the VM already has a live export,
 * -ENOMEM, -EMFILE, -ENFILE.
 */
int xe_vm_export_ioctl(struct drm_device *dev, void *data,
		       struct drm_file *file)
{
	return vm_export(to_xe_device(dev), to_xe_file(file), data);
}

static struct xe_vm_import *import_file(struct device *dev, struct file *file)
{
	struct xe_vm_export *exp;
	struct xe_vm_import *imp;
	struct xe_vm *vm;

	if (file->f_op != &export_fops)
		return ERR_PTR(-EINVAL);

	exp = file->private_data;
	vm = exp->vm;
	if (dev && dev != vm->xe->drm.dev)
		return ERR_PTR(-EINVAL);
	if (current->mm != exp->mm)
		return ERR_PTR(-EPERM);
	if (vm_gone(vm))
		return ERR_PTR(-ENOENT);

	imp = ve_zalloc(sizeof(*imp));
	if (!imp)
		return ERR_PTR(-ENOMEM);

	drm_dev_get(&vm->xe->drm);
	imp->vm = xe_vm_get(vm);
	imp->vm_id = exp->vm_id;
	INIT_LIST_HEAD(&imp->vm_link);
	INIT_LIST_HEAD(&imp->dev_link);
	atomic_inc(&vm->export.imports);

	trace_xe_vm_export_import(vm, imp->vm_id);

	return imp;
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
 * process, -ENOENT if the VM is closed or banned, -ENOMEM.
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
EXPORT_SYMBOL_NS_GPL(xe_vm_import_get, XE_VM_EXPORT);

/*
 * Device lock held: take @imp off the lists if it is registered. A revoked
 * import is not on them: its revocation holds it until the callback
 * returned, which import_wait_revoke() waits for.
 */
static void import_unlink(struct xe_vm_import *imp, bool warn)
{
	struct xe_vm *vm = imp->vm;

	lockdep_assert_held(&vm_xd(vm)->lock);
	switch (imp->state) {
	case XE_VM_IMPORT_REGISTERED:
		list_del_init(&imp->vm_link);
		list_del_init(&imp->dev_link);
		vm->export.registered--;
		imp->state = XE_VM_IMPORT_IDLE;
		break;
	case XE_VM_IMPORT_IDLE:
		WARN_ON(warn);
		break;
	default:
		break;
	}
}

/* Wait for the end of @imp's revoke callback if that is running. */
static void import_wait_revoke(struct xe_vm_import *imp)
{
	wait_event(vm_xd(imp->vm)->revoke_wq,
		   READ_ONCE(imp->state) != XE_VM_IMPORT_REVOKING);
}

/* Unregister @imp; waits for its revoke callback if that is running. */
static void import_unregister(struct xe_vm_import *imp, bool warn)
{
	struct xe_vm_export_device *xd = vm_xd(imp->vm);

	mutex_lock(&xd->lock);
	import_unlink(imp, warn);
	mutex_unlock(&xd->lock);
	import_wait_revoke(imp);
}

/**
 * xe_vm_import_put() - Release an import
 * @imp: the import, from xe_vm_import_get(); NULL is ignored
 *
 * Unregisters the import if it is still registered (waiting for its revoke
 * callback if that is running) and drops its VM reference; the VM structure
 * is freed if that was the last one.
 *
 * Context: process context, may sleep; not from the import's own revoke
 * callback.
 */
void xe_vm_import_put(struct xe_vm_import *imp)
{
	struct drm_device *drm;
	struct xe_vm *vm;

	if (!imp)
		return;

	vm = imp->vm;
	drm = &vm->xe->drm;
	/* one section of the device lock, the wait (if any) after it */
	mutex_lock(&vm_xd(vm)->lock);
	import_unlink(imp, false);
	mutex_unlock(&vm_xd(vm)->lock);
	import_wait_revoke(imp);
	atomic_dec(&vm->export.imports);

	trace_xe_vm_export_unimport(vm, imp->vm_id);

	xe_vm_put(vm);
	kfree(imp);
	drm_dev_put(drm);
}
EXPORT_SYMBOL_NS_GPL(xe_vm_import_put, XE_VM_EXPORT);

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
 * wedging). See &struct xe_vm_import_ops for the callback's contract.
 * Registration does not keep the owner from destroying the VM: the owner's
 * destroy revokes and succeeds.
 *
 * Context: process context, may sleep; takes &xe_vm.lock and the device's
 * VM export lock.
 *
 * Return: 0, -EINVAL if @ops or its revoke callback is NULL, -EALREADY if
 * @imp is registered, -ENOENT if the VM was destroyed, closed or banned, or
 * the import was revoked, or the device was wedged or is being removed.
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

	mutex_lock(&xd->lock);
	if (imp->state == XE_VM_IMPORT_REGISTERED) {
		err = -EALREADY;
	} else if (imp->state != XE_VM_IMPORT_IDLE || vm->export.revoked ||
		   xd->revoked) {
		err = -ENOENT;
	} else {
		imp->ops = ops;
		imp->priv = priv;
		imp->state = XE_VM_IMPORT_REGISTERED;
		list_add_tail(&imp->vm_link, &vm->export.importers);
		list_add_tail(&imp->dev_link, &xd->importers);
		vm->export.registered++;
	}
	mutex_unlock(&xd->lock);

	return err;
}
EXPORT_SYMBOL_NS_GPL(xe_vm_import_register, XE_VM_EXPORT);

/**
 * xe_vm_import_unregister() - Undo xe_vm_import_register()
 * @imp: the import, registered (or already revoked: then this only waits
 *	 for the end of its revoke callback)
 *
 * When this returns, the revoke callback is not running and will not be
 * called for this registration.
 *
 * Context: process context, may sleep; not from the import's own revoke
 * callback.
 */
void xe_vm_import_unregister(struct xe_vm_import *imp)
{
	import_unregister(imp, true);
}
EXPORT_SYMBOL_NS_GPL(xe_vm_import_unregister, XE_VM_EXPORT);

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
EXPORT_SYMBOL_NS_GPL(xe_vm_import_is_closed, XE_VM_EXPORT);

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
EXPORT_SYMBOL_NS_GPL(xe_vm_import_asid, XE_VM_EXPORT);

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
EXPORT_SYMBOL_NS_GPL(xe_vm_import_va_bits, XE_VM_EXPORT);

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
EXPORT_SYMBOL_NS_GPL(xe_vm_import_flags, XE_VM_EXPORT);

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
EXPORT_SYMBOL_NS_GPL(xe_vm_import_device, XE_VM_EXPORT);

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
EXPORT_SYMBOL_NS_GPL(xe_vm_import_drm_device, XE_VM_EXPORT);

/* Device lock held: take @imp off the lists, to be revoked by the caller. */
static void import_pick(struct xe_vm_import *imp, struct list_head *todo)
{
	struct xe_vm *vm = imp->vm;

	list_del_init(&imp->dev_link);
	list_move_tail(&imp->vm_link, todo);
	imp->state = XE_VM_IMPORT_REVOKING;
	vm->export.registered--;
	WRITE_ONCE(vm->export.revoking, vm->export.revoking + 1);
}

/* Report a callback that kept the VM's teardown waiting for over a second. */
#define REVOKE_SLOW	HZ

/* Call the revoke callback of each import on @todo, without the lock. */
static void revoke_list(struct xe_vm_export_device *xd, struct list_head *todo)
{
	struct xe_vm_import *imp;
	unsigned long start;
	struct xe_vm *vm;

	while (!list_empty(todo)) {
		imp = list_first_entry(todo, struct xe_vm_import, vm_link);
		list_del_init(&imp->vm_link);
		vm = imp->vm;

		trace_xe_vm_export_revoke(vm, imp->vm_id);
		start = jiffies;
		imp->ops->revoke(imp, imp->priv);
		if (time_after(jiffies, start + REVOKE_SLOW))
			drm_warn(&vm->xe->drm, "VM export: revoke callback %ps of VM %u took %u ms\n",
				 imp->ops->revoke, imp->vm_id,
				 jiffies_to_msecs(jiffies - start));

		mutex_lock(&xd->lock);
		WRITE_ONCE(imp->state, XE_VM_IMPORT_REVOKED);
		WRITE_ONCE(vm->export.revoking, vm->export.revoking - 1);
		mutex_unlock(&xd->lock);
		wake_up_all(&xd->revoke_wq);
	}
}

/**
 * xe_vm_export_vm_close() - Revoke the importers of a VM that xe closes
 * @vm: the VM
 *
 * Hook called by xe_vm_close_and_put() before anything of the VM is torn
 * down, with no lock of the VM held, possibly under &xe_file.vm.lock.
 * Marks the VM closed for the VM export code (no new registration, export
 * or import), calls the revoke callback of each registered import and
 * returns once every callback of the VM's imports returned, including those
 * a device revocation is running. Only then may xe release the ASID.
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
	LIST_HEAD(todo);

	if (!READ_ONCE(vm->export.exported))
		return;

	mutex_lock(&xd->lock);
	vm->export.revoked = true;
	list_for_each_entry_safe(imp, next, &vm->export.importers, vm_link)
		import_pick(imp, &todo);
	mutex_unlock(&xd->lock);

	revoke_list(xd, &todo);

	/* Callbacks of this VM that a device revocation runs. */
	wait_event(xd->revoke_wq, !READ_ONCE(vm->export.revoking));
}

static void device_revoke(struct xe_vm_export_device *xd)
{
	struct xe_vm_import *imp, *next;
	LIST_HEAD(todo);

	mutex_lock(&xd->lock);
	xd->revoked = true;
	list_for_each_entry_safe(imp, next, &xd->importers, dev_link)
		import_pick(imp, &todo);
	mutex_unlock(&xd->lock);

	revoke_list(xd, &todo);
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
 * whatever locks xe declares the device wedged: the callbacks run from a
 * work item. From now on no import of the device can be registered.
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
 * registered on the device returned, those of a wedge revocation included.
 * From now on no import of the device can be registered.
 *
 * Context: process context, may sleep.
 */
void xe_vm_export_device_remove(struct xe_device *xe)
{
	struct xe_vm_export_device *xd = &xe->vm_export;

	device_revoke(xd);
	flush_work(&xd->wedge_work);
}

static int vm_exports_show(struct seq_file *m, void *data)
{
	struct xe_device *xe = m->private;
	struct xe_vm_export_device *xd = &xe->vm_export;
	struct xe_vm_export *exp;

	seq_puts(m, "vm_id pid registered imports\n");

	mutex_lock(&xd->lock);
	list_for_each_entry(exp, &xd->exports, link) {
		struct xe_vm *vm = exp->vm;

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
/*
 * For the KUnit suite, which lives in xe_test.ko (tests/Makefile), never in
 * xe.ko: the internals it drives, in one symbol for the tests only.
 */
const struct xe_vm_export_test_ops xe_vm_export_test_ops = {
	.fops = &export_fops,
	.zalloc = ve_zalloc,
	.alloc = export_alloc,
	.free = export_free,
	.publish = export_publish,
	.exports_show = vm_exports_show,
	.show_fdinfo = export_show_fdinfo,
	.ioctl = xe_vm_export_ioctl,
	.vm_lookup = xe_vm_lookup,
	.vm_destroy_ioctl = xe_vm_destroy_ioctl,
	.vm_close = xe_vm_export_vm_close,
	.device_init = xe_vm_export_device_init,
	.device_remove = xe_vm_export_device_remove,
	.device_wedged = xe_vm_export_device_wedged,
};
EXPORT_SYMBOL_IF_KUNIT(xe_vm_export_test_ops);
#endif
