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

#include <drm/drm_file.h>
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
 * data, a &struct xe_vm_export, owns a reference to the VM. The file is the
 * identity of the export: imports find the export through the file, never
 * through a file descriptor number. A VM has at most one live export,
 * recorded in &xe_vm_export_state.export, which the file's release clears.
 *
 * References: the DRM file's VM table, each export and each import hold one
 * VM reference each, so the VM is freed once, after the last of them is
 * dropped, in any order. Closing the DRM file closes the VM (imports then fail
 * with -ENOENT) but does not free it under an export or an import.
 *
 * Locking: the VM export lock protects every &xe_vm_export_state and the list
 * of live exports. It nests inside &xe_file.vm.lock, which serialises the
 * publication of an export and the registration of an import with
 * &DRM_IOCTL_XE_VM_DESTROY: destroy either sees the VM exported or registered
 * and fails with -EBUSY, or removes the VM first and the export or the
 * registration fails with -ENOENT. &xe_vm.lock is taken, for reading, only
 * outside the export lock.
 */

static DEFINE_MUTEX(export_lock);
static LIST_HEAD(export_list);

static bool vm_gone(struct xe_vm *vm)
{
	bool gone;

	down_read(&vm->lock);
	gone = xe_vm_is_closed_or_banned(vm);
	up_read(&vm->lock);

	return gone;
}

static void export_free(struct xe_vm_export *exp)
{
	if (exp->mm)
		mmdrop(exp->mm);
	put_pid(exp->pid);
	xe_vm_put(exp->vm);
	kfree(exp);
}

static int export_release(struct inode *inode, struct file *file)
{
	struct xe_vm_export *exp = file->private_data;
	struct xe_vm *vm = exp->vm;
	bool published;

	mutex_lock(&export_lock);
	published = vm->export.export == exp;
	if (published) {
		vm->export.export = NULL;
		list_del(&exp->link);
	}
	mutex_unlock(&export_lock);

	if (published)
		trace_xe_vm_export_release(vm, exp->vm_id);

	export_free(exp);
	return 0;
}

static const struct file_operations export_fops = {
	.owner = THIS_MODULE,
	.release = export_release,
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
	struct xe_vm *vm = exp->vm;
	int err = 0;

	mutex_lock(&xef->vm.lock);
	mutex_lock(&export_lock);
	if (XE_IOCTL_DBG(xe, xa_load(&xef->vm.xa, exp->vm_id) != vm)) {
		err = -ENOENT;
	} else if (XE_IOCTL_DBG(xe, vm->export.export)) {
		err = -EEXIST;
	} else {
		vm->export.export = exp;
		list_add_tail(&exp->link, &export_list);
	}
	mutex_unlock(&export_lock);
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
 * &xe_file.vm.lock, &xe_vm.lock and the VM export lock.
 *
 * Return: 0 with the new file descriptor in &drm_xe_vm_export.fd, or a
 * negative error code: -EINVAL for non-zero input fields, -ENOENT for an
 * unknown, closed or banned VM, -EEXIST if the VM already has a live export.
 */
int xe_vm_export_ioctl(struct drm_device *dev, void *data,
		       struct drm_file *file)
{
	return vm_export(to_xe_device(dev), to_xe_file(file), data);
}

/**
 * xe_vm_export_busy() - Whether a VM is exported or registered
 * @vm: the VM
 *
 * Called by &DRM_IOCTL_XE_VM_DESTROY with &xe_file.vm.lock held, which keeps
 * the answer valid until the VM is removed from the file.
 *
 * Return: true if @vm has a live export or a registered import.
 */
bool xe_vm_export_busy(struct xe_vm *vm)
{
	bool busy;

	mutex_lock(&export_lock);
	busy = vm->export.export || vm->export.registered;
	mutex_unlock(&export_lock);

	return busy;
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

	imp = kzalloc(sizeof(*imp), GFP_KERNEL);
	if (!imp)
		return ERR_PTR(-ENOMEM);

	imp->vm = xe_vm_get(vm);
	imp->vm_id = exp->vm_id;

	mutex_lock(&export_lock);
	vm->export.imports++;
	mutex_unlock(&export_lock);

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

/**
 * xe_vm_import_put() - Release an import
 * @imp: the import, from xe_vm_import_get(); NULL is ignored
 *
 * Unregisters the import if it is still registered and drops its VM
 * reference; the VM is freed if that was the last one.
 *
 * Context: process context, may sleep.
 */
void xe_vm_import_put(struct xe_vm_import *imp)
{
	struct xe_vm *vm;

	if (!imp)
		return;

	vm = imp->vm;
	mutex_lock(&export_lock);
	if (imp->registered)
		vm->export.registered--;
	vm->export.imports--;
	mutex_unlock(&export_lock);

	trace_xe_vm_export_unimport(vm, imp->vm_id);

	xe_vm_put(vm);
	kfree(imp);
}
EXPORT_SYMBOL_NS_GPL(xe_vm_import_put, XE_VM_EXPORT);

/**
 * xe_vm_import_register() - Prevent the owner from destroying the VM
 * @imp: the import
 *
 * While an import is registered, &DRM_IOCTL_XE_VM_DESTROY of its VM fails
 * with -EBUSY. Closing the owner's DRM file still closes the VM.
 *
 * Context: process context, may sleep; takes &xe_file.vm.lock.
 *
 * Return: 0, -EALREADY if @imp is already registered, -ENOENT if the VM was
 * destroyed, closed or banned.
 */
int xe_vm_import_register(struct xe_vm_import *imp)
{
	struct xe_vm *vm = imp->vm;
	struct xe_file *xef = vm->xef;
	int err = 0;

	if (vm_gone(vm))
		return -ENOENT;

	mutex_lock(&xef->vm.lock);
	mutex_lock(&export_lock);
	if (xa_load(&xef->vm.xa, imp->vm_id) != vm) {
		err = -ENOENT;
	} else if (imp->registered) {
		err = -EALREADY;
	} else {
		imp->registered = true;
		vm->export.registered++;
	}
	mutex_unlock(&export_lock);
	mutex_unlock(&xef->vm.lock);

	return err;
}
EXPORT_SYMBOL_NS_GPL(xe_vm_import_register, XE_VM_EXPORT);

/**
 * xe_vm_import_unregister() - Undo xe_vm_import_register()
 * @imp: the import, registered
 *
 * Context: process context, may sleep.
 */
void xe_vm_import_unregister(struct xe_vm_import *imp)
{
	struct xe_vm *vm = imp->vm;

	mutex_lock(&export_lock);
	if (!WARN_ON(!imp->registered)) {
		imp->registered = false;
		vm->export.registered--;
	}
	mutex_unlock(&export_lock);
}
EXPORT_SYMBOL_NS_GPL(xe_vm_import_unregister, XE_VM_EXPORT);

/**
 * xe_vm_import_is_closed() - Whether the imported VM is closed or banned
 * @imp: the import
 *
 * A closed VM no longer translates addresses; the auxiliary driver must stop
 * using it and release the import.
 *
 * Context: process context, may sleep.
 *
 * Return: true if the VM was closed (its DRM file went away) or banned.
 */
bool xe_vm_import_is_closed(const struct xe_vm_import *imp)
{
	return vm_gone(imp->vm);
}
EXPORT_SYMBOL_NS_GPL(xe_vm_import_is_closed, XE_VM_EXPORT);

/**
 * xe_vm_import_asid() - Address space ID of the imported VM
 * @imp: the import
 *
 * Return: the ASID the GPU tags the VM's translations and faults with, or 0
 * on devices without ASIDs.
 */
u32 xe_vm_import_asid(const struct xe_vm_import *imp)
{
	return imp->vm->usm.asid;
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
 * Return: a mask of XE_VM_IMPORT_FLAG_* from <drm/xe_vm_export.h>.
 */
u32 xe_vm_import_flags(const struct xe_vm_import *imp)
{
	u32 flags = imp->vm->flags;
	u32 out = 0;

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

static int vm_exports_show(struct seq_file *m, void *data)
{
	struct xe_device *xe = m->private;
	struct xe_vm_export *exp;

	seq_puts(m, "vm_id pid registered imports\n");

	mutex_lock(&export_lock);
	list_for_each_entry(exp, &export_list, link) {
		struct xe_vm *vm = exp->vm;

		if (vm->xe != xe)
			continue;
		seq_printf(m, "%u %d %u %u\n", exp->vm_id, pid_nr(exp->pid),
			   vm->export.registered, vm->export.imports);
	}
	mutex_unlock(&export_lock);

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
