// SPDX-License-Identifier: GPL-2.0 AND MIT
/*
 * Copyright © 2026 The xe-vm-export authors
 */

/*
 * KUnit tests of VM export, run against xe's mock device.
 *
 * What is real: the xe_device (xe_kunit_helper_xe_device_test_init(), with
 * the first platform's info, e.g. va_bits), the DRM device and its reference
 * counting, the VM's drm_gpuvm (drm_gpuvm_init() with a real resv object,
 * so VM references are the real kref), the VM's lock, size and flags, the
 * xe_file VM table and its lock, file descriptors in the test thread's fd
 * table, the anonymous export files and their release, the mm comparison,
 * the ioctl handlers (xe_vm_export_ioctl(), and xe_vm_destroy_ioctl() where
 * it fails with -EBUSY) and the exported import API.
 *
 * What is not: mock mode has no GT, no page tables and no TTM, so VMs are not
 * made by xe_vm_create(). fake_vm_create() builds the minimal state the VM
 * export code touches and fake_vm_free() replaces xe's vm_free (which would
 * tear down page tables). A successful VM_DESTROY and the VM part of closing
 * the DRM file are reproduced by fake_vm_destroy() and fake_file_close() with
 * xe's locking and order: remove from the file under xe_file.vm.lock, close
 * (size = 0) under vm->lock, drop the file's reference.
 */

#include <kunit/device.h>
#include <kunit/test.h>
#include <linux/delay.h>
#include <linux/fdtable.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/prandom.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>

#include <drm/drm_gpuvm.h>

#include "tests/xe_kunit_helpers.h"
#include "xe_vm_export_compat.h"

MODULE_IMPORT_NS(XE_VM_EXPORT_NS(EXPORTED_FOR_KUNIT_TESTING));

struct fake_vm {
	struct xe_vm vm;
	atomic_t *frees;
};

struct ve_ctx {
	struct xe_device *xe;
	struct xe_file *xef;
	struct drm_file *file;
	atomic_t frees;
};

static void fake_vm_free(struct drm_gpuvm *gpuvm)
{
	struct fake_vm *fvm = container_of(gpuvm, struct fake_vm, vm.gpuvm);

	atomic_inc(fvm->frees);
	kfree(fvm);
}

static const struct drm_gpuvm_ops fake_gpuvm_ops = {
	.vm_free = fake_vm_free,
};

static struct xe_vm *fake_vm_create(struct ve_ctx *ctx, u32 flags, u32 *id)
{
	struct xe_device *xe = ctx->xe;
	struct drm_gem_object *r_obj;
	struct fake_vm *fvm;
	u32 vm_id;

	fvm = kzalloc(sizeof(*fvm), GFP_KERNEL);
	if (!fvm)
		return NULL;
	r_obj = drm_gpuvm_resv_object_alloc(&xe->drm);
	if (!r_obj) {
		kfree(fvm);
		return NULL;
	}

	fvm->frees = &ctx->frees;
	fvm->vm.xe = xe;
	fvm->vm.xef = ctx->xef;
	fvm->vm.flags = flags;
	fvm->vm.usm.asid = 0x42;
	fvm->vm.size = 1ull << xe->info.va_bits;
	init_rwsem(&fvm->vm.lock);
	drm_gpuvm_init(&fvm->vm.gpuvm, "xe-vm-export-test", 0, &xe->drm, r_obj,
		       0, fvm->vm.size, 0, 0, &fake_gpuvm_ops);
	drm_gem_object_put(r_obj);

	if (xa_alloc(&ctx->xef->vm.xa, &vm_id, &fvm->vm, xa_limit_32b,
		     GFP_KERNEL)) {
		xe_vm_put(&fvm->vm);
		return NULL;
	}

	*id = vm_id;
	return &fvm->vm;
}

static void fake_vm_close_and_put(struct xe_vm *vm)
{
	down_write(&vm->lock);
	vm->size = 0;
	up_write(&vm->lock);
	xe_vm_put(vm);
}

/* xe_vm_destroy_ioctl() with the VM teardown of fake VMs */
static int fake_vm_destroy(struct ve_ctx *ctx, u32 id)
{
	struct xe_file *xef = ctx->xef;
	struct xe_vm *vm;
	int err = 0;

	mutex_lock(&xef->vm.lock);
	vm = xa_load(&xef->vm.xa, id);
	if (!vm)
		err = -ENOENT;
	else if (xe_vm_export_busy(vm))
		err = -EBUSY;
	else
		xa_erase(&xef->vm.xa, id);
	mutex_unlock(&xef->vm.lock);

	if (!err)
		fake_vm_close_and_put(vm);

	return err;
}

/* The VM part of xe_file_close() */
static void fake_file_close(struct ve_ctx *ctx, u32 id)
{
	struct xe_vm *vm = xa_erase(&ctx->xef->vm.xa, id);

	fake_vm_close_and_put(vm);
}

static int real_vm_destroy(struct ve_ctx *ctx, u32 id)
{
	struct drm_xe_vm_destroy args = { .vm_id = id };

	return xe_vm_destroy_ioctl(&ctx->xe->drm, &args, ctx->file);
}

static int do_export(struct ve_ctx *ctx, u32 id, int *fd)
{
	struct drm_xe_vm_export args = { .vm_id = id };
	int err;

	err = xe_vm_export_ioctl(&ctx->xe->drm, &args, ctx->file);
	*fd = err ? -1 : args.fd;
	return err;
}

/* Close an fd and run the release of its file before returning. */
static void close_sync(int fd)
{
	close_fd(fd);
	flush_delayed_fput();
}

static int ve_test_init(struct kunit *test)
{
	struct ve_ctx *ctx;

	xe_kunit_helper_xe_device_test_init(test);

	ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctx);
	ctx->xe = test->priv;

	ctx->xef = kunit_kzalloc(test, sizeof(*ctx->xef), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctx->xef);
	ctx->xef->xe = ctx->xe;
	mutex_init(&ctx->xef->vm.lock);
	xa_init_flags(&ctx->xef->vm.xa, XA_FLAGS_ALLOC1);

	ctx->file = kunit_kzalloc(test, sizeof(*ctx->file), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctx->file);
	ctx->file->driver_priv = ctx->xef;

	test->priv = ctx;
	return 0;
}

static void ve_test_exit(struct kunit *test)
{
	struct ve_ctx *ctx = test->priv;

	flush_delayed_fput();
	KUNIT_EXPECT_TRUE(test, xa_empty(&ctx->xef->vm.xa));
	xa_destroy(&ctx->xef->vm.xa);
	mutex_destroy(&ctx->xef->vm.lock);
}

static struct xe_vm *vm_create_assert(struct kunit *test, u32 flags, u32 *id)
{
	struct ve_ctx *ctx = test->priv;
	struct xe_vm *vm;

	vm = fake_vm_create(ctx, flags, id);
	KUNIT_ASSERT_NOT_NULL(test, vm);
	return vm;
}

static void export_fd(struct kunit *test)
{
	struct ve_ctx *ctx = test->priv;
	struct xe_vm_export *exp;
	struct xe_vm *vm;
	struct file *file;
	bool cloexec;
	int fd;
	u32 id;

	vm = vm_create_assert(test, 0, &id);
	KUNIT_ASSERT_EQ(test, do_export(ctx, id, &fd), 0);
	KUNIT_EXPECT_GE(test, fd, 0);

	rcu_read_lock();
	cloexec = close_on_exec(fd, current->files);
	rcu_read_unlock();
	KUNIT_EXPECT_TRUE(test, cloexec);

	file = fget(fd);
	KUNIT_ASSERT_NOT_NULL(test, file);
	KUNIT_EXPECT_PTR_EQ(test, file->f_op, &export_fops);
	exp = file->private_data;
	KUNIT_EXPECT_PTR_EQ(test, exp->vm, vm);
	KUNIT_EXPECT_EQ(test, exp->vm_id, id);
	KUNIT_EXPECT_PTR_EQ(test, vm->export.export, exp);
	KUNIT_EXPECT_EQ(test, kref_read(&vm->gpuvm.kref), 2);
	fput(file);

	close_sync(fd);
	KUNIT_EXPECT_NULL(test, vm->export.export);
	KUNIT_EXPECT_EQ(test, kref_read(&vm->gpuvm.kref), 1);
	KUNIT_EXPECT_EQ(test, fake_vm_destroy(ctx, id), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 1);
}

static void export_twice(struct kunit *test)
{
	struct ve_ctx *ctx = test->priv;
	int fd, fd2;
	u32 id;

	vm_create_assert(test, 0, &id);
	KUNIT_ASSERT_EQ(test, do_export(ctx, id, &fd), 0);
	KUNIT_EXPECT_EQ(test, do_export(ctx, id, &fd2), -EEXIST);
	KUNIT_EXPECT_EQ(test, fd2, -1);

	close_sync(fd);
	KUNIT_ASSERT_EQ(test, do_export(ctx, id, &fd), 0);
	close_sync(fd);

	KUNIT_EXPECT_EQ(test, fake_vm_destroy(ctx, id), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 1);
}

struct bad_arg {
	const char *name;
	struct drm_xe_vm_export args;
};

static const struct bad_arg bad_args[] = {
	{ "pad", { .pad = 1 } },
	{ "pad2", { .pad2 = 0x80000000 } },
	{ "fd", { .fd = 3 } },
	{ "reserved0", { .reserved = { 1, 0 } } },
	{ "reserved1", { .reserved = { 0, 1ull << 63 } } },
};

static void bad_arg_desc(const struct bad_arg *arg, char *desc)
{
	strscpy(desc, arg->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(bad_arg, bad_args, bad_arg_desc);

static void export_bad_arg(struct kunit *test)
{
	const struct bad_arg *param = test->param_value;
	struct drm_xe_vm_export args = param->args;
	struct ve_ctx *ctx = test->priv;
	struct xe_vm *vm;
	u32 id;

	vm = vm_create_assert(test, 0, &id);
	args.vm_id = id;
	KUNIT_EXPECT_EQ(test, xe_vm_export_ioctl(&ctx->xe->drm, &args, ctx->file),
			-EINVAL);
	KUNIT_EXPECT_NULL(test, vm->export.export);
	KUNIT_EXPECT_EQ(test, fake_vm_destroy(ctx, id), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 1);
}

static void export_unknown(struct kunit *test)
{
	struct ve_ctx *ctx = test->priv;
	int fd;
	u32 id;

	KUNIT_EXPECT_EQ(test, do_export(ctx, 0, &fd), -ENOENT);
	vm_create_assert(test, 0, &id);
	KUNIT_EXPECT_EQ(test, do_export(ctx, id + 1, &fd), -ENOENT);
	KUNIT_EXPECT_EQ(test, do_export(ctx, U32_MAX, &fd), -ENOENT);
	KUNIT_EXPECT_EQ(test, fake_vm_destroy(ctx, id), 0);
	KUNIT_EXPECT_EQ(test, do_export(ctx, id, &fd), -ENOENT);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 1);
}

static void export_closed(struct kunit *test)
{
	struct ve_ctx *ctx = test->priv;
	struct xe_vm *vm;
	int fd;
	u32 id;

	vm = vm_create_assert(test, 0, &id);
	down_write(&vm->lock);
	vm->size = 0;
	up_write(&vm->lock);
	KUNIT_EXPECT_EQ(test, do_export(ctx, id, &fd), -ENOENT);
	KUNIT_EXPECT_NULL(test, vm->export.export);
	KUNIT_EXPECT_EQ(test, fake_vm_destroy(ctx, id), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 1);
}

static void export_banned(struct kunit *test)
{
	struct ve_ctx *ctx = test->priv;
	struct xe_vm *vm;
	int fd;
	u32 id;

	vm = vm_create_assert(test, 0, &id);
	down_write(&vm->lock);
	vm->flags |= XE_VM_FLAG_BANNED;
	up_write(&vm->lock);
	KUNIT_EXPECT_EQ(test, do_export(ctx, id, &fd), -ENOENT);
	KUNIT_EXPECT_NULL(test, vm->export.export);
	KUNIT_EXPECT_EQ(test, fake_vm_destroy(ctx, id), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 1);
}

/* VM_DESTROY between the export's lookup and its publication */
static void export_destroy_race(struct kunit *test)
{
	struct ve_ctx *ctx = test->priv;
	struct xe_vm_export *exp;
	struct xe_vm *vm;
	u32 id;

	vm_create_assert(test, 0, &id);
	vm = xe_vm_lookup(ctx->xef, id);
	KUNIT_ASSERT_NOT_NULL(test, vm);
	exp = export_alloc(vm, id);
	KUNIT_ASSERT_NOT_NULL(test, exp);

	KUNIT_EXPECT_EQ(test, fake_vm_destroy(ctx, id), 0);
	KUNIT_EXPECT_EQ(test, export_publish(ctx->xe, ctx->xef, exp), -ENOENT);
	KUNIT_EXPECT_NULL(test, vm->export.export);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 0);
	export_free(exp);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 1);
}

/* No free fd: the VM reference taken by the lookup is dropped again */
static void export_emfile(struct kunit *test)
{
	struct rlimit *rlim = &current->signal->rlim[RLIMIT_NOFILE];
	struct ve_ctx *ctx = test->priv;
	unsigned long old;
	struct xe_vm *vm;
	int err, fd;
	u32 id;

	vm = vm_create_assert(test, 0, &id);

	task_lock(current->group_leader);
	old = rlim->rlim_cur;
	rlim->rlim_cur = 0;
	task_unlock(current->group_leader);

	err = do_export(ctx, id, &fd);

	task_lock(current->group_leader);
	rlim->rlim_cur = old;
	task_unlock(current->group_leader);

	KUNIT_EXPECT_EQ(test, err, -EMFILE);
	KUNIT_EXPECT_NULL(test, vm->export.export);
	KUNIT_EXPECT_EQ(test, kref_read(&vm->gpuvm.kref), 1);
	KUNIT_EXPECT_EQ(test, fake_vm_destroy(ctx, id), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 1);
}

static void destroy_exported(struct kunit *test)
{
	struct ve_ctx *ctx = test->priv;
	int fd;
	u32 id;

	vm_create_assert(test, 0, &id);
	KUNIT_ASSERT_EQ(test, do_export(ctx, id, &fd), 0);
	/* the real ioctl: on -EBUSY it stops before any VM teardown */
	KUNIT_EXPECT_EQ(test, real_vm_destroy(ctx, id), -EBUSY);
	KUNIT_EXPECT_EQ(test, fake_vm_destroy(ctx, id), -EBUSY);
	close_sync(fd);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 0);
	KUNIT_EXPECT_EQ(test, fake_vm_destroy(ctx, id), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 1);
}

static void import_vm(struct kunit *test)
{
	struct ve_ctx *ctx = test->priv;
	struct xe_vm_import *imp, *imp2;
	struct xe_vm *vm;
	int fd;
	u32 id;

	vm = vm_create_assert(test, XE_VM_FLAG_LR_MODE | XE_VM_FLAG_SCRATCH_PAGE |
			      XE_VM_FLAG_64K, &id);
	KUNIT_ASSERT_EQ(test, do_export(ctx, id, &fd), 0);

	imp = xe_vm_import_get(ctx->xe->drm.dev, fd);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, imp);
	KUNIT_EXPECT_PTR_EQ(test, imp->vm, vm);
	KUNIT_EXPECT_EQ(test, kref_read(&vm->gpuvm.kref), 3);
	KUNIT_EXPECT_EQ(test, vm->export.imports, 1);
	KUNIT_EXPECT_EQ(test, xe_vm_import_asid(imp), 0x42);
	KUNIT_EXPECT_EQ(test, xe_vm_import_va_bits(imp), ctx->xe->info.va_bits);
	KUNIT_EXPECT_EQ(test, xe_vm_import_flags(imp),
			XE_VM_IMPORT_FLAG_LR_MODE | XE_VM_IMPORT_FLAG_SCRATCH_PAGE);
	KUNIT_EXPECT_PTR_EQ(test, xe_vm_import_device(imp), ctx->xe->drm.dev);
	KUNIT_EXPECT_PTR_EQ(test, xe_vm_import_drm_device(imp), &ctx->xe->drm);
	KUNIT_EXPECT_FALSE(test, xe_vm_import_is_closed(imp));
	vm->flags ^= XE_VM_FLAG_LR_MODE | XE_VM_FLAG_FAULT_MODE;
	KUNIT_EXPECT_EQ(test, xe_vm_import_flags(imp),
			XE_VM_IMPORT_FLAG_FAULT_MODE | XE_VM_IMPORT_FLAG_SCRATCH_PAGE);

	/* NULL accepts any device; imports are counted */
	imp2 = xe_vm_import_get(NULL, fd);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, imp2);
	KUNIT_EXPECT_EQ(test, vm->export.imports, 2);
	xe_vm_import_put(imp2);
	xe_vm_import_put(NULL);

	close_sync(fd);
	KUNIT_EXPECT_EQ(test, fake_vm_destroy(ctx, id), 0);
	KUNIT_EXPECT_TRUE(test, xe_vm_import_is_closed(imp));
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 0);
	xe_vm_import_put(imp);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 1);
}

static const struct file_operations other_fops = {
	.owner = THIS_MODULE,
};

static void import_errors(struct kunit *test)
{
	struct ve_ctx *ctx = test->priv;
	struct xe_vm_import *imp;
	struct device *other_dev;
	struct mm_struct *mm;
	struct file *file;
	int fd, other_fd;
	u32 id;

	vm_create_assert(test, 0, &id);
	KUNIT_ASSERT_EQ(test, do_export(ctx, id, &fd), 0);

	/* wrong file type */
	other_fd = get_unused_fd_flags(O_CLOEXEC);
	KUNIT_ASSERT_GE(test, other_fd, 0);
	file = anon_inode_getfile("[xe_vm_export_test]", &other_fops, NULL, O_RDWR);
	KUNIT_ASSERT_FALSE(test, IS_ERR(file));
	fd_install(other_fd, file);
	KUNIT_EXPECT_PTR_EQ(test, xe_vm_import_get(NULL, other_fd), ERR_PTR(-EINVAL));
	close_sync(other_fd);

	/* bad fd: never opened, negative, just closed */
	KUNIT_EXPECT_PTR_EQ(test, xe_vm_import_get(NULL, -1), ERR_PTR(-EBADF));
	KUNIT_EXPECT_PTR_EQ(test, xe_vm_import_get(NULL, other_fd), ERR_PTR(-EBADF));

	/* another device */
	other_dev = kunit_device_register(test, "xe_vm_export_other");
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, other_dev);
	KUNIT_EXPECT_PTR_EQ(test, xe_vm_import_get(other_dev, fd), ERR_PTR(-EINVAL));

	/*
	 * Another process: the test thread exported without an mm; import
	 * from inside a foreign mm. No assertion may abort between use and
	 * unuse.
	 */
	mm = mm_alloc();
	KUNIT_ASSERT_NOT_NULL(test, mm);
	kthread_use_mm(mm);
	imp = xe_vm_import_get(NULL, fd);
	kthread_unuse_mm(mm);
	KUNIT_EXPECT_PTR_EQ(test, imp, ERR_PTR(-EPERM));
	if (!IS_ERR(imp))
		xe_vm_import_put(imp);
	close_sync(fd);

	/* ... and the other way round: export inside the mm, import outside */
	kthread_use_mm(mm);
	KUNIT_EXPECT_EQ(test, do_export(ctx, id, &fd), 0);
	kthread_unuse_mm(mm);
	mmput(mm);
	if (fd >= 0) {
		KUNIT_EXPECT_PTR_EQ(test, xe_vm_import_get(NULL, fd), ERR_PTR(-EPERM));
		close_sync(fd);
	}

	/* VM closed after export: its DRM file went away */
	KUNIT_ASSERT_EQ(test, do_export(ctx, id, &fd), 0);
	fake_file_close(ctx, id);
	KUNIT_EXPECT_PTR_EQ(test, xe_vm_import_get(NULL, fd), ERR_PTR(-ENOENT));
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 0);
	close_sync(fd);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 1);
}

static void register_blocks_destroy(struct kunit *test)
{
	struct ve_ctx *ctx = test->priv;
	struct xe_vm_import *imp;
	struct xe_vm *vm;
	int fd;
	u32 id;

	vm = vm_create_assert(test, 0, &id);
	KUNIT_ASSERT_EQ(test, do_export(ctx, id, &fd), 0);
	imp = xe_vm_import_get(NULL, fd);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, imp);
	KUNIT_EXPECT_EQ(test, xe_vm_import_register(imp), 0);
	KUNIT_EXPECT_EQ(test, xe_vm_import_register(imp), -EALREADY);
	KUNIT_EXPECT_EQ(test, vm->export.registered, 1);
	close_sync(fd);

	KUNIT_EXPECT_EQ(test, real_vm_destroy(ctx, id), -EBUSY);
	xe_vm_import_unregister(imp);
	KUNIT_EXPECT_EQ(test, vm->export.registered, 0);
	KUNIT_EXPECT_EQ(test, fake_vm_destroy(ctx, id), 0);

	/* a destroyed VM cannot be registered */
	KUNIT_EXPECT_EQ(test, xe_vm_import_register(imp), -ENOENT);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 0);
	xe_vm_import_put(imp);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 1);
}

static void put_unregisters(struct kunit *test)
{
	struct ve_ctx *ctx = test->priv;
	struct xe_vm_import *imp;
	struct xe_vm *vm;
	int fd;
	u32 id;

	vm = vm_create_assert(test, 0, &id);
	KUNIT_ASSERT_EQ(test, do_export(ctx, id, &fd), 0);
	imp = xe_vm_import_get(NULL, fd);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, imp);
	close_sync(fd);
	KUNIT_EXPECT_EQ(test, xe_vm_import_register(imp), 0);
	xe_vm_import_put(imp);
	KUNIT_EXPECT_EQ(test, vm->export.registered, 0);
	KUNIT_EXPECT_EQ(test, vm->export.imports, 0);
	KUNIT_EXPECT_EQ(test, fake_vm_destroy(ctx, id), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 1);
}

/* The three holders of a VM reference, dropped in every order. */
enum holder { HOLDER_FILE, HOLDER_EXPORT, HOLDER_IMPORT };

struct release_order {
	const char *name;
	enum holder order[3];
};

static const struct release_order release_orders[] = {
	{ "file-export-import", { HOLDER_FILE, HOLDER_EXPORT, HOLDER_IMPORT } },
	{ "file-import-export", { HOLDER_FILE, HOLDER_IMPORT, HOLDER_EXPORT } },
	{ "export-file-import", { HOLDER_EXPORT, HOLDER_FILE, HOLDER_IMPORT } },
	{ "export-import-file", { HOLDER_EXPORT, HOLDER_IMPORT, HOLDER_FILE } },
	{ "import-file-export", { HOLDER_IMPORT, HOLDER_FILE, HOLDER_EXPORT } },
	{ "import-export-file", { HOLDER_IMPORT, HOLDER_EXPORT, HOLDER_FILE } },
};

static void release_order_desc(const struct release_order *o, char *desc)
{
	strscpy(desc, o->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(release_order, release_orders, release_order_desc);

static void release_orders_free_once(struct kunit *test)
{
	const struct release_order *param = test->param_value;
	struct ve_ctx *ctx = test->priv;
	struct xe_vm_import *imp;
	int i, fd;
	u32 id;

	vm_create_assert(test, 0, &id);
	KUNIT_ASSERT_EQ(test, do_export(ctx, id, &fd), 0);
	imp = xe_vm_import_get(NULL, fd);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, imp);

	for (i = 0; i < ARRAY_SIZE(param->order); i++) {
		KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 0);
		switch (param->order[i]) {
		case HOLDER_FILE:
			fake_file_close(ctx, id);
			break;
		case HOLDER_EXPORT:
			close_sync(fd);
			break;
		case HOLDER_IMPORT:
			xe_vm_import_put(imp);
			break;
		}
	}

	/* the last put queues no work for fake VMs: the free is synchronous */
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 1);
}

#if IS_MODULE(CONFIG_DRM_XE) && IS_ENABLED(CONFIG_MODULE_UNLOAD)
static void module_ref(struct kunit *test)
{
	struct ve_ctx *ctx = test->priv;
	unsigned int refs;
	int fd;
	u32 id;

	vm_create_assert(test, 0, &id);
	refs = module_refcount(THIS_MODULE);
	KUNIT_ASSERT_EQ(test, do_export(ctx, id, &fd), 0);
	KUNIT_EXPECT_EQ(test, module_refcount(THIS_MODULE), refs + 1);
	close_sync(fd);
	KUNIT_EXPECT_EQ(test, module_refcount(THIS_MODULE), refs);
	KUNIT_EXPECT_EQ(test, fake_vm_destroy(ctx, id), 0);
}
#else
static void module_ref(struct kunit *test)
{
	kunit_skip(test, "xe is built in or modules cannot unload");
}
#endif

static void debugfs_list(struct kunit *test)
{
	struct ve_ctx *ctx = test->priv;
	struct xe_vm_import *imp;
	struct xe_device *other_xe;
	struct seq_file m = {};
	char line[64];
	int fd;
	u32 id;

	vm_create_assert(test, 0, &id);
	KUNIT_ASSERT_EQ(test, do_export(ctx, id, &fd), 0);
	imp = xe_vm_import_get(NULL, fd);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, imp);
	KUNIT_EXPECT_EQ(test, xe_vm_import_register(imp), 0);

	/* only compared by address: never dereferenced */
	other_xe = kunit_kzalloc(test, sizeof(*other_xe), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, other_xe);

	m.size = PAGE_SIZE;
	m.buf = kunit_kzalloc(test, m.size, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, m.buf);
	m.private = ctx->xe;
	KUNIT_EXPECT_EQ(test, vm_exports_show(&m, NULL), 0);
	snprintf(line, sizeof(line), "\n%u %d 1 1\n", id, task_tgid_nr(current));
	KUNIT_EXPECT_NOT_NULL(test, strstr(m.buf, line));

	/* another device's file does not list this export */
	memset(m.buf, 0, m.size);
	m.count = 0;
	m.private = other_xe;
	KUNIT_EXPECT_EQ(test, vm_exports_show(&m, NULL), 0);
	KUNIT_EXPECT_STREQ(test, m.buf, "vm_id pid registered imports\n");
	m.private = ctx->xe;

	xe_vm_import_put(imp);
	close_sync(fd);

	memset(m.buf, 0, m.size);
	m.count = 0;
	KUNIT_EXPECT_EQ(test, vm_exports_show(&m, NULL), 0);
	KUNIT_EXPECT_STREQ(test, m.buf, "vm_id pid registered imports\n");
	KUNIT_EXPECT_EQ(test, fake_vm_destroy(ctx, id), 0);
}

#define STRESS_THREADS		4
#define STRESS_ITERATIONS	1000
#define STRESS_VMS		3

struct stress {
	struct ve_ctx *ctx;
	u32 ids[STRESS_VMS];
	atomic_t created;
	atomic_t bad;
	atomic_t exports, eexist, destroys, ebusy, imports, registers;
	struct completion done[STRESS_THREADS];
};

static void stress_count(atomic_t *ok, atomic_t *busy, atomic_t *bad,
			 int err, int busy_err)
{
	if (!err)
		atomic_inc(ok);
	else if (err == busy_err)
		atomic_inc(busy);
	else if (err != -ENOENT)
		atomic_inc(bad);
}

static void stress_step(struct stress *s, u32 rnd)
{
	struct ve_ctx *ctx = s->ctx;
	unsigned int slot = rnd % STRESS_VMS;
	u32 id = READ_ONCE(s->ids[slot]);
	struct xe_vm_import *imp;
	int err, fd;

	switch ((rnd >> 8) % 3) {
	case 0:	/* export, maybe import, release */
		err = do_export(ctx, id, &fd);
		stress_count(&s->exports, &s->eexist, &s->bad, err, -EEXIST);
		if (err)
			return;
		if (rnd & BIT(17))
			usleep_range(10, 50);
		if (rnd & BIT(16)) {
			imp = xe_vm_import_get(NULL, fd);
			if (IS_ERR(imp)) {
				if (PTR_ERR(imp) != -ENOENT)
					atomic_inc(&s->bad);
			} else {
				atomic_inc(&s->imports);
				if (!xe_vm_import_register(imp))
					atomic_inc(&s->registers);
				close_sync(fd);
				fd = -1;
				xe_vm_import_put(imp);
			}
		}
		if (fd >= 0)
			close_sync(fd);
		break;
	case 1:	/* destroy and recreate */
		err = fake_vm_destroy(ctx, id);
		stress_count(&s->destroys, &s->ebusy, &s->bad, err, -EBUSY);
		if (err)
			return;
		if (!fake_vm_create(ctx, 0, &id)) {
			atomic_inc(&s->bad);
			return;
		}
		atomic_inc(&s->created);
		WRITE_ONCE(s->ids[slot], id);
		break;
	case 2:	/* import through a fresh export, destroy while registered */
		err = do_export(ctx, id, &fd);
		stress_count(&s->exports, &s->eexist, &s->bad, err, -EEXIST);
		if (err)
			return;
		imp = xe_vm_import_get(NULL, fd);
		close_sync(fd);
		if (IS_ERR(imp))
			return;
		atomic_inc(&s->imports);
		if (!xe_vm_import_register(imp)) {
			atomic_inc(&s->registers);
			if (rnd & BIT(17))
				usleep_range(10, 50);
			if (fake_vm_destroy(ctx, id) != -EBUSY)
				atomic_inc(&s->bad);
			xe_vm_import_unregister(imp);
		}
		xe_vm_import_put(imp);
		break;
	}
}

struct stress_thread {
	struct stress *s;
	int n;
};

static int stress_fn(void *data)
{
	struct stress_thread *t = data;
	struct rnd_state rnd;
	int i;

	prandom_seed_state(&rnd, 0x5eed + t->n);
	for (i = 0; i < STRESS_ITERATIONS; i++) {
		stress_step(t->s, prandom_u32_state(&rnd));
		if (!(i % 32))
			cond_resched();
	}
	complete(&t->s->done[t->n]);
	return 0;
}

static void stress(struct kunit *test)
{
	struct ve_ctx *ctx = test->priv;
	struct stress_thread t[STRESS_THREADS];
	struct task_struct *task;
	struct stress *s;
	int i, started = 0;

	s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, s);
	s->ctx = ctx;
	for (i = 0; i < STRESS_VMS; i++) {
		vm_create_assert(test, 0, &s->ids[i]);
		atomic_inc(&s->created);
	}

	for (i = 0; i < STRESS_THREADS; i++) {
		init_completion(&s->done[i]);
		t[i].s = s;
		t[i].n = i;
		task = kthread_run(stress_fn, &t[i], "xe_vm_export_stress/%d", i);
		if (IS_ERR(task))
			break;
		started++;
	}
	for (i = 0; i < started; i++)
		wait_for_completion(&s->done[i]);
	KUNIT_ASSERT_EQ(test, started, STRESS_THREADS);

	flush_delayed_fput();
	for (i = 0; i < STRESS_VMS; i++)
		KUNIT_EXPECT_EQ(test, fake_vm_destroy(ctx, s->ids[i]), 0);

	kunit_info(test, "%d threads x %d steps: %d exports (%d EEXIST), %d imports, %d registers, %d destroys (%d EBUSY), %d VMs\n",
		   STRESS_THREADS, STRESS_ITERATIONS, atomic_read(&s->exports),
		   atomic_read(&s->eexist), atomic_read(&s->imports),
		   atomic_read(&s->registers), atomic_read(&s->destroys),
		   atomic_read(&s->ebusy), atomic_read(&s->created));
	KUNIT_EXPECT_EQ(test, atomic_read(&s->bad), 0);
	KUNIT_EXPECT_GT(test, atomic_read(&s->exports), 0);
	KUNIT_EXPECT_GT(test, atomic_read(&s->imports), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), atomic_read(&s->created));
}

#define BENCH_CYCLES	2000

static void bench(struct kunit *test)
{
	struct ve_ctx *ctx = test->priv;
	struct xe_vm_import *imp;
	s64 export_ns, anon_ns;
	struct file *file;
	ktime_t start;
	int i, fd;
	u32 id;

	vm_create_assert(test, 0, &id);

	start = ktime_get();
	for (i = 0; i < BENCH_CYCLES; i++) {
		file = anon_inode_getfile("[xe_vm_export_test]", &other_fops,
					  NULL, O_RDWR);
		KUNIT_ASSERT_FALSE(test, IS_ERR(file));
		fput(file);
		flush_delayed_fput();
	}
	anon_ns = ktime_to_ns(ktime_sub(ktime_get(), start));

	start = ktime_get();
	for (i = 0; i < BENCH_CYCLES; i++) {
		KUNIT_ASSERT_EQ(test, do_export(ctx, id, &fd), 0);
		imp = xe_vm_import_get(NULL, fd);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, imp);
		xe_vm_import_put(imp);
		close_sync(fd);
	}
	export_ns = ktime_to_ns(ktime_sub(ktime_get(), start));

	anon_ns = max_t(s64, anon_ns, 1);
	export_ns = max_t(s64, export_ns, 1);
	kunit_info(test, "export+import+release: %lld cycles/s; anon inode create+release (baseline): %lld cycles/s; ratio export/baseline %lld.%02lld\n",
		   div64_s64(BENCH_CYCLES * NSEC_PER_SEC, export_ns),
		   div64_s64(BENCH_CYCLES * NSEC_PER_SEC, anon_ns),
		   div64_s64(anon_ns, export_ns),
		   div64_s64(anon_ns * 100, export_ns) % 100);
	KUNIT_EXPECT_EQ(test, fake_vm_destroy(ctx, id), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 1);
}

static struct kunit_case xe_vm_export_cases[] = {
	KUNIT_CASE(export_fd),
	KUNIT_CASE(export_twice),
	KUNIT_CASE_PARAM(export_bad_arg, bad_arg_gen_params),
	KUNIT_CASE(export_unknown),
	KUNIT_CASE(export_closed),
	KUNIT_CASE(export_banned),
	KUNIT_CASE(export_destroy_race),
	KUNIT_CASE(export_emfile),
	KUNIT_CASE(destroy_exported),
	KUNIT_CASE(import_vm),
	KUNIT_CASE(import_errors),
	KUNIT_CASE(register_blocks_destroy),
	KUNIT_CASE(put_unregisters),
	KUNIT_CASE_PARAM(release_orders_free_once, release_order_gen_params),
	KUNIT_CASE(module_ref),
	KUNIT_CASE(debugfs_list),
	KUNIT_CASE_SLOW(stress),
	KUNIT_CASE_SLOW(bench),
	{}
};

static struct kunit_suite xe_vm_export_suite = {
	.name = "xe_vm_export",
	.test_cases = xe_vm_export_cases,
	.init = ve_test_init,
	.exit = ve_test_exit,
};

kunit_test_suite(xe_vm_export_suite);
