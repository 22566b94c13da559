// SPDX-License-Identifier: GPL-2.0 AND MIT
/*
 * Copyright © 2026 The xe-vm-export authors
 */

/*
 * KUnit tests of VM export, run against xe's mock device. Built into
 * xe_test.ko, never into xe.ko: the VM export unit hands its internals to
 * this suite through xe_vm_export_test_ops (tests only).
 *
 * What is real: the xe_device (xe_kunit_helper_xe_device_test_init(), with
 * the first platform's info, e.g. va_bits) and its VM export state, the DRM
 * device and its reference counting, the VM's drm_gpuvm (drm_gpuvm_init()
 * with a real resv object, so VM references are the real kref), the VM's
 * lock, size and flags, the xe_file VM table and its lock, file descriptors
 * in the test thread's fd table, the anonymous export files and their
 * release, address spaces (mm_alloc() + kthread_use_mm()), the ioctl
 * handlers (xe_vm_export_ioctl(), xe_vm_destroy_ioctl() where it fails), the
 * exported import API and the hooks xe calls (VM close, device remove and
 * wedge).
 *
 * What is not: mock mode has no GT, no page tables and no TTM, so VMs are not
 * made by xe_vm_create(). fake_vm_create() builds the minimal state the VM
 * export code touches, with an ASID from a cyclic xarray as xe allocates
 * them, and fake_vm_free() replaces xe's vm_free. A successful VM_DESTROY
 * and the VM part of closing the DRM file are reproduced by fake_vm_destroy()
 * and fake_file_close() with xe's locking and order: VM_DESTROY removes the
 * VM from the file under xe_file.vm.lock, file close leaves every VM in the
 * file's table (as upstream xe_file_close() does); both then run
 * fake_vm_close_and_put(), which, like the hooked xe_vm_close_and_put(),
 * calls the VM export hook first, then closes the VM (size = 0) under
 * vm->lock, releases the ASID and drops the file's reference.
 */

#include <kunit/device.h>
#include <kunit/static_stub.h>
#include <kunit/test.h>
#include <linux/anon_inodes.h>
#include <linux/delay.h>
#include <linux/fdtable.h>
#include <linux/file.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/math64.h>
#include <linux/module.h>
#include <linux/prandom.h>
#include <linux/sched/mm.h>
#include <linux/sched/signal.h>
#include <linux/sched/task.h>
#include <linux/seq_file.h>

#include <drm/drm_gpuvm.h>
#include <drm/xe_vm_export.h>
#include <uapi/drm/xe_vm_export_drm.h>

#include "tests/xe_kunit_helpers.h"
#include "tests/xe_vm_export_test.h"
#include "xe_device.h"
#include "xe_vm.h"

/*
 * The kernel's own namespace is exported as a bare token before 6.13 and as
 * a string since: the modinfo line both imports write, on every kernel.
 */
MODULE_INFO(import_ns, "EXPORTED_FOR_KUNIT_TESTING");
MODULE_IMPORT_NS(XE_VM_EXPORT);

#define T (&xe_vm_export_test_ops)

#define ASID_MAX	31

struct fake_vm {
	struct xe_vm vm;
	atomic_t *frees;
};

struct ve_ctx {
	struct xe_device *xe;
	struct xe_file *xef;
	struct drm_file *file;
	atomic_t frees;
	/* the device's ASIDs, allocated cyclically like xe's */
	struct xarray asids;
	u32 next_asid;
	bool file_closed;
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
	u32 vm_id, asid;

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
	fvm->vm.size = 1ull << xe->info.va_bits;
	init_rwsem(&fvm->vm.lock);
	drm_gpuvm_init(&fvm->vm.gpuvm, "xe-vm-export-test", 0, &xe->drm, r_obj,
		       0, fvm->vm.size, 0, 0, &fake_gpuvm_ops);
	drm_gem_object_put(r_obj);

	if (xa_alloc_cyclic(&ctx->asids, &asid, &fvm->vm, XA_LIMIT(1, ASID_MAX),
			    &ctx->next_asid, GFP_KERNEL) < 0) {
		xe_vm_put(&fvm->vm);
		return NULL;
	}
	fvm->vm.usm.asid = asid;

	if (xa_alloc(&ctx->xef->vm.xa, &vm_id, &fvm->vm, xa_limit_32b,
		     GFP_KERNEL)) {
		xa_erase(&ctx->asids, asid);
		xe_vm_put(&fvm->vm);
		return NULL;
	}

	*id = vm_id;
	return &fvm->vm;
}

/* xe_vm_close_and_put() of a fake VM: the hook first, then the teardown */
static void fake_vm_close_and_put(struct ve_ctx *ctx, struct xe_vm *vm)
{
	T->vm_close(vm);
	down_write(&vm->lock);
	vm->size = 0;
	up_write(&vm->lock);
	xa_erase(&ctx->asids, vm->usm.asid);
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
	else
		xa_erase(&xef->vm.xa, id);
	mutex_unlock(&xef->vm.lock);

	if (!err)
		fake_vm_close_and_put(ctx, vm);

	return err;
}

/* The VM part of xe_file_close(): the VMs stay in the file's table. */
static void fake_file_close(struct ve_ctx *ctx)
{
	unsigned long idx;
	struct xe_vm *vm;

	ctx->file_closed = true;
	xa_for_each(&ctx->xef->vm.xa, idx, vm)
		fake_vm_close_and_put(ctx, vm);
}

static int real_vm_destroy(struct ve_ctx *ctx, u32 id)
{
	struct drm_xe_vm_destroy args = { .vm_id = id };

	return T->vm_destroy_ioctl(&ctx->xe->drm, &args, ctx->file);
}

static int do_export(struct ve_ctx *ctx, u32 id, int *fd)
{
	struct drm_xe_vm_export args = { .vm_id = id };
	int err;

	err = T->ioctl(&ctx->xe->drm, &args, ctx->file);
	*fd = err ? -1 : args.fd;
	return err;
}

/* Close an fd and run the release of its file before returning. */
static void close_sync(int fd)
{
	close_fd(fd);
	flush_delayed_fput();
}

/* A test importer: counts its revocations and checks the ASID is held. */
struct importer {
	struct ve_ctx *ctx;
	struct xe_vm_import *imp;
	u32 asid;
	atomic_t revokes;
	/* the ASID still belonged to the VM when revoke was called */
	bool asid_held;
	/* the accessors reported the VM closed inside the callback */
	bool closed_inside;
	/* order of the revocation among all importers of the test */
	int seq;
	atomic_t *seq_counter;
	/* when set, the callback waits for @go after completing @entered */
	struct completion *entered, *go;
	/* when set, the callback sleeps this long */
	unsigned int sleep_ms;
};

static void importer_revoke(struct xe_vm_import *imp, void *priv)
{
	struct importer *ti = priv;

	ti->asid_held = xa_load(&ti->ctx->asids, ti->asid) == imp->vm;
	ti->closed_inside = xe_vm_import_is_closed(imp) &&
			    !xe_vm_import_asid(imp);
	if (ti->seq_counter)
		ti->seq = atomic_inc_return(ti->seq_counter);
	if (ti->entered) {
		complete(ti->entered);
		wait_for_completion(ti->go);
	}
	if (ti->sleep_ms)
		msleep(ti->sleep_ms);
	atomic_inc(&ti->revokes);
}

static const struct xe_vm_import_ops importer_ops = {
	.revoke = importer_revoke,
};

static int ve_test_init(struct kunit *test)
{
	struct ve_ctx *ctx;

	xe_kunit_helper_xe_device_test_init(test);

	ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctx);
	ctx->xe = test->priv;
	KUNIT_ASSERT_EQ(test, T->device_init(ctx->xe), 0);
	xa_init_flags(&ctx->asids, XA_FLAGS_ALLOC);

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
	/* a closed file keeps its (closed) VMs in the table, like xe's */
	if (!ctx->file_closed)
		KUNIT_EXPECT_TRUE(test, xa_empty(&ctx->xef->vm.xa));
	KUNIT_EXPECT_TRUE(test, xa_empty(&ctx->asids));
	KUNIT_EXPECT_TRUE(test, list_empty(&ctx->xe->vm_export.exports));
	KUNIT_EXPECT_TRUE(test, list_empty(&ctx->xe->vm_export.importers));
	xa_destroy(&ctx->asids);
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

static struct xe_vm_import *import_assert(struct kunit *test, int fd)
{
	struct xe_vm_import *imp = xe_vm_import_get(NULL, fd);

	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, imp);
	return imp;
}

/* A VM of the test's file, exported once and imported once. */
struct imported_vm {
	struct xe_vm *vm;
	struct xe_vm_import *imp;
	u32 id;
	int fd;
};

/* Create a VM, export it and import it through the export's fd. */
static void imported_vm_assert(struct kunit *test, struct imported_vm *iv)
{
	iv->vm = vm_create_assert(test, 0, &iv->id);
	KUNIT_ASSERT_EQ(test, do_export(test->priv, iv->id, &iv->fd), 0);
	iv->imp = import_assert(test, iv->fd);
}

/* Import through @fd and register @ti. */
static void importer_start(struct kunit *test, struct importer *ti, int fd)
{
	ti->ctx = test->priv;
	ti->imp = import_assert(test, fd);
	ti->asid = xe_vm_import_asid(ti->imp);
	KUNIT_ASSERT_NE(test, ti->asid, 0);
	KUNIT_ASSERT_EQ(test, xe_vm_import_register(ti->imp, &importer_ops, ti), 0);
}

/* The checks every revoked importer must pass. */
static void expect_revoked_once(struct kunit *test, struct importer *ti)
{
	KUNIT_EXPECT_EQ(test, atomic_read(&ti->revokes), 1);
	KUNIT_EXPECT_TRUE(test, ti->asid_held);
	KUNIT_EXPECT_TRUE(test, ti->closed_inside);
	KUNIT_EXPECT_TRUE(test, xe_vm_import_is_closed(ti->imp));
	KUNIT_EXPECT_EQ(test, xe_vm_import_asid(ti->imp), 0);
	/* once revoked, never registered again */
	KUNIT_EXPECT_EQ(test, xe_vm_import_register(ti->imp, &importer_ops, ti),
			-ENOENT);
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
	KUNIT_EXPECT_PTR_EQ(test, file->f_op, T->fops);
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
	struct xe_vm *vm;
	int fd, fd2;
	u32 id;

	vm = vm_create_assert(test, 0, &id);
	KUNIT_ASSERT_EQ(test, do_export(ctx, id, &fd), 0);
	KUNIT_EXPECT_EQ(test, do_export(ctx, id, &fd2), -EEXIST);
	/* the failed export's file is released (deferred in a kthread)... */
	flush_delayed_fput();
	/* ... and left no reference behind, nor changed the live export */
	KUNIT_EXPECT_EQ(test, kref_read(&vm->gpuvm.kref), 2);
	KUNIT_EXPECT_NOT_NULL(test, vm->export.export);

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
	KUNIT_EXPECT_EQ(test, T->ioctl(&ctx->xe->drm, &args, ctx->file), -EINVAL);
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
	/* the real VM_DESTROY: an unknown VM */
	KUNIT_EXPECT_EQ(test, real_vm_destroy(ctx, id + 1), -ENOENT);
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
	vm = T->vm_lookup(ctx->xef, id);
	KUNIT_ASSERT_NOT_NULL(test, vm);
	exp = T->alloc(vm, id);
	KUNIT_ASSERT_NOT_NULL(test, exp);

	KUNIT_EXPECT_EQ(test, fake_vm_destroy(ctx, id), 0);
	KUNIT_EXPECT_EQ(test, T->publish(ctx->xe, ctx->xef, exp), -ENOENT);
	KUNIT_EXPECT_NULL(test, vm->export.export);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 0);
	T->free(exp);
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

static void *zalloc_fails(size_t size)
{
	return NULL;
}

/* Allocation failures of the export and of the import */
static void alloc_failures(struct kunit *test)
{
	struct ve_ctx *ctx = test->priv;
	struct xe_vm *vm;
	int fd, fd2;
	u32 id;

	vm = vm_create_assert(test, 0, &id);
	KUNIT_ASSERT_EQ(test, do_export(ctx, id, &fd), 0);

	kunit_activate_static_stub(test, T->zalloc, zalloc_fails);
	KUNIT_EXPECT_PTR_EQ(test, xe_vm_import_get(NULL, fd), ERR_PTR(-ENOMEM));
	KUNIT_EXPECT_EQ(test, atomic_read(&vm->export.imports), 0);
	close_sync(fd);
	KUNIT_EXPECT_EQ(test, do_export(ctx, id, &fd2), -ENOMEM);
	kunit_deactivate_static_stub(test, T->zalloc);

	KUNIT_EXPECT_NULL(test, vm->export.export);
	KUNIT_EXPECT_EQ(test, kref_read(&vm->gpuvm.kref), 1);
	/* the failed export returned its fd: the next one gets the same */
	KUNIT_ASSERT_EQ(test, do_export(ctx, id, &fd2), 0);
	KUNIT_EXPECT_EQ(test, fd2, fd);
	close_sync(fd2);
	KUNIT_EXPECT_EQ(test, fake_vm_destroy(ctx, id), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 1);
}

/*
 * The export fd vetoes nothing: VM_DESTROY succeeds while it is open, and
 * the fd then imports nothing.
 */
static void destroy_exported(struct kunit *test)
{
	struct ve_ctx *ctx = test->priv;
	struct xe_vm *vm;
	int fd;
	u32 id;

	vm = vm_create_assert(test, 0, &id);
	KUNIT_ASSERT_EQ(test, do_export(ctx, id, &fd), 0);
	KUNIT_EXPECT_EQ(test, fake_vm_destroy(ctx, id), 0);
	KUNIT_EXPECT_PTR_EQ(test, xe_vm_import_get(NULL, fd), ERR_PTR(-ENOENT));
	/* the fd keeps only the VM structure */
	KUNIT_EXPECT_EQ(test, kref_read(&vm->gpuvm.kref), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 0);
	close_sync(fd);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 1);
}

static void import_vm(struct kunit *test)
{
	struct ve_ctx *ctx = test->priv;
	struct xe_vm_import *imp, *imp2;
	unsigned int dev_refs;
	struct xe_vm *vm;
	int fd;
	u32 id;

	vm = vm_create_assert(test, XE_VM_FLAG_LR_MODE | XE_VM_FLAG_SCRATCH_PAGE |
			      XE_VM_FLAG_64K, &id);
	dev_refs = kref_read(&ctx->xe->drm.ref);
	KUNIT_ASSERT_EQ(test, do_export(ctx, id, &fd), 0);
	/* exports and imports keep the device, which the VM does not */
	KUNIT_EXPECT_EQ(test, kref_read(&ctx->xe->drm.ref), dev_refs + 1);

	imp = xe_vm_import_get(ctx->xe->drm.dev, fd);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, imp);
	KUNIT_EXPECT_PTR_EQ(test, imp->vm, vm);
	KUNIT_EXPECT_EQ(test, kref_read(&vm->gpuvm.kref), 3);
	KUNIT_EXPECT_EQ(test, atomic_read(&vm->export.imports), 1);
	KUNIT_EXPECT_EQ(test, xe_vm_import_asid(imp), vm->usm.asid);
	KUNIT_EXPECT_NE(test, xe_vm_import_asid(imp), 0);
	KUNIT_EXPECT_EQ(test, xe_vm_import_va_bits(imp), ctx->xe->info.va_bits);
	KUNIT_EXPECT_EQ(test, xe_vm_import_flags(imp),
			XE_VM_IMPORT_FLAG_LR_MODE | XE_VM_IMPORT_FLAG_SCRATCH_PAGE);
	KUNIT_EXPECT_PTR_EQ(test, xe_vm_import_device(imp), ctx->xe->drm.dev);
	KUNIT_EXPECT_PTR_EQ(test, xe_vm_import_drm_device(imp), &ctx->xe->drm);
	KUNIT_EXPECT_FALSE(test, xe_vm_import_is_closed(imp));
	down_write(&vm->lock);
	vm->flags ^= XE_VM_FLAG_LR_MODE | XE_VM_FLAG_FAULT_MODE;
	up_write(&vm->lock);
	KUNIT_EXPECT_EQ(test, xe_vm_import_flags(imp),
			XE_VM_IMPORT_FLAG_FAULT_MODE | XE_VM_IMPORT_FLAG_SCRATCH_PAGE);

	/* NULL accepts any device; imports are counted */
	imp2 = xe_vm_import_get(NULL, fd);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, imp2);
	KUNIT_EXPECT_EQ(test, atomic_read(&vm->export.imports), 2);
	KUNIT_EXPECT_EQ(test, kref_read(&ctx->xe->drm.ref), dev_refs + 3);
	xe_vm_import_put(imp2);
	KUNIT_EXPECT_EQ(test, atomic_read(&vm->export.imports), 1);
	xe_vm_import_put(NULL);

	close_sync(fd);
	KUNIT_EXPECT_EQ(test, fake_vm_destroy(ctx, id), 0);
	KUNIT_EXPECT_TRUE(test, xe_vm_import_is_closed(imp));
	KUNIT_EXPECT_EQ(test, xe_vm_import_asid(imp), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 0);
	/* the import's reference is the only one left beside the VM's own */
	KUNIT_EXPECT_EQ(test, kref_read(&ctx->xe->drm.ref), dev_refs + 1);
	xe_vm_import_put(imp);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 1);
}

static const struct file_operations other_fops = {
	.owner = THIS_MODULE,
};

static void import_errors(struct kunit *test)
{
	struct ve_ctx *ctx = test->priv;
	struct device *other_dev;
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
	close_sync(fd);

	/* VM closed after export: its DRM file went away */
	KUNIT_ASSERT_EQ(test, do_export(ctx, id, &fd), 0);
	fake_file_close(ctx);
	KUNIT_EXPECT_PTR_EQ(test, xe_vm_import_get(NULL, fd), ERR_PTR(-ENOENT));
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 0);
	close_sync(fd);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 1);
}

/*
 * Two real address spaces: the export belongs to the process (mm) that made
 * it. The test thread switches between two fresh mms; no assertion may
 * abort between use and unuse.
 */
static void import_two_mms(struct kunit *test)
{
	struct ve_ctx *ctx = test->priv;
	struct xe_vm_import *in_a, *in_b;
	struct mm_struct *a, *b;
	int fd, err;
	u32 id;

	vm_create_assert(test, 0, &id);
	a = mm_alloc();
	KUNIT_ASSERT_NOT_NULL(test, a);
	b = mm_alloc();
	if (!b)
		mmput(a);
	KUNIT_ASSERT_NOT_NULL(test, b);

	kthread_use_mm(a);
	err = do_export(ctx, id, &fd);
	in_a = err ? NULL : xe_vm_import_get(NULL, fd);
	kthread_unuse_mm(a);

	kthread_use_mm(b);
	in_b = err ? NULL : xe_vm_import_get(NULL, fd);
	kthread_unuse_mm(b);

	KUNIT_EXPECT_EQ(test, err, 0);
	if (!err) {
		/* the exporter's own mm imports, another mm does not */
		KUNIT_EXPECT_FALSE(test, IS_ERR_OR_NULL(in_a));
		KUNIT_EXPECT_PTR_EQ(test, in_b, ERR_PTR(-EPERM));
		/* nor does the test thread, which has no mm */
		KUNIT_EXPECT_PTR_EQ(test, xe_vm_import_get(NULL, fd), ERR_PTR(-EPERM));
		if (!IS_ERR_OR_NULL(in_a))
			xe_vm_import_put(in_a);
		if (!IS_ERR_OR_NULL(in_b))
			xe_vm_import_put(in_b);
		close_sync(fd);
	}
	mmput(b);
	mmput(a);
	KUNIT_EXPECT_EQ(test, fake_vm_destroy(ctx, id), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 1);
}

struct fork_child {
	struct file *file;
	struct mm_struct *mm;
	struct xe_vm_import *imp;
	struct completion imported, exit, done;
};

static int fork_child_fn(void *data)
{
	struct fork_child *c = data;
	int fd;

	kthread_use_mm(c->mm);
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd >= 0) {
		fd_install(fd, get_file(c->file));
		c->imp = xe_vm_import_get(NULL, fd);
	} else {
		c->imp = ERR_PTR(fd);
	}
	kthread_unuse_mm(c->mm);
	complete(&c->imported);
	wait_for_completion(&c->exit);
	/* the child's copy goes last, long after the parent is done */
	if (fd >= 0)
		close_sync(fd);
	complete(&c->done);
	return 0;
}

/*
 * A fork child holding the export fd (fork copies the fd table: O_CLOEXEC
 * does not apply) changes nothing for the parent: it cannot import, and the
 * parent destroys the VM while the child still holds the fd.
 */
static void fork_child_holds_fd(struct kunit *test)
{
	struct ve_ctx *ctx = test->priv;
	struct importer ti = {};
	struct task_struct *task;
	struct fork_child *c;
	int fd;
	u32 id;

	c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, c);
	init_completion(&c->imported);
	init_completion(&c->exit);
	init_completion(&c->done);
	c->mm = mm_alloc();
	KUNIT_ASSERT_NOT_NULL(test, c->mm);

	vm_create_assert(test, 0, &id);
	KUNIT_ASSERT_EQ(test, do_export(ctx, id, &fd), 0);
	c->file = fget(fd);
	KUNIT_ASSERT_NOT_NULL(test, c->file);
	task = kthread_run(fork_child_fn, c, "xe_vm_export_child");
	KUNIT_ASSERT_FALSE(test, IS_ERR(task));
	wait_for_completion(&c->imported);
	fput(c->file);

	KUNIT_EXPECT_PTR_EQ(test, c->imp, ERR_PTR(-EPERM));
	/* the parent imports, registers and destroys as if alone */
	importer_start(test, &ti, fd);
	close_sync(fd);
	KUNIT_EXPECT_EQ(test, fake_vm_destroy(ctx, id), 0);
	expect_revoked_once(test, &ti);
	xe_vm_import_put(ti.imp);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 0);

	complete(&c->exit);
	wait_for_completion(&c->done);
	mmput(c->mm);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 1);
}

static void register_errors(struct kunit *test)
{
	static const struct xe_vm_import_ops no_revoke = {};
	struct ve_ctx *ctx = test->priv;
	struct importer ti = {};
	struct imported_vm iv;

	imported_vm_assert(test, &iv);
	close_sync(iv.fd);

	/* the callback is mandatory */
	KUNIT_EXPECT_EQ(test, xe_vm_import_register(iv.imp, NULL, &ti), -EINVAL);
	KUNIT_EXPECT_EQ(test, xe_vm_import_register(iv.imp, &no_revoke, &ti), -EINVAL);
	KUNIT_EXPECT_EQ(test, iv.vm->export.registered, 0);

	ti.ctx = ctx;
	KUNIT_EXPECT_EQ(test, xe_vm_import_register(iv.imp, &importer_ops, &ti), 0);
	KUNIT_EXPECT_EQ(test, xe_vm_import_register(iv.imp, &importer_ops, &ti), -EALREADY);
	KUNIT_EXPECT_EQ(test, iv.vm->export.registered, 1);
	xe_vm_import_unregister(iv.imp);
	KUNIT_EXPECT_EQ(test, iv.vm->export.registered, 0);
	/* again, and unregistered: no callback on destroy */
	KUNIT_EXPECT_EQ(test, xe_vm_import_register(iv.imp, &importer_ops, &ti), 0);
	xe_vm_import_unregister(iv.imp);
	KUNIT_EXPECT_EQ(test, fake_vm_destroy(ctx, iv.id), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ti.revokes), 0);

	/* a destroyed VM cannot be registered */
	KUNIT_EXPECT_EQ(test, xe_vm_import_register(iv.imp, &importer_ops, &ti), -ENOENT);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 0);
	xe_vm_import_put(iv.imp);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 1);
}

/* A banned VM cannot be registered (its ASID is about to go) */
static void register_banned(struct kunit *test)
{
	struct ve_ctx *ctx = test->priv;
	struct importer ti = {};
	struct imported_vm iv;

	imported_vm_assert(test, &iv);
	close_sync(iv.fd);
	down_write(&iv.vm->lock);
	iv.vm->flags |= XE_VM_FLAG_BANNED;
	up_write(&iv.vm->lock);
	KUNIT_EXPECT_TRUE(test, xe_vm_import_is_closed(iv.imp));
	KUNIT_EXPECT_EQ(test, xe_vm_import_register(iv.imp, &importer_ops, &ti), -ENOENT);
	xe_vm_import_put(iv.imp);
	KUNIT_EXPECT_EQ(test, fake_vm_destroy(ctx, iv.id), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 1);
}

/* VM_DESTROY of a registered VM revokes, then succeeds */
static void revoke_on_destroy(struct kunit *test)
{
	struct ve_ctx *ctx = test->priv;
	struct importer ti = {}, ti2 = {};
	atomic_t seq = ATOMIC_INIT(0);
	struct xe_vm *vm;
	int fd;
	u32 id;

	vm = vm_create_assert(test, 0, &id);
	KUNIT_ASSERT_EQ(test, do_export(ctx, id, &fd), 0);
	ti.seq_counter = &seq;
	ti2.seq_counter = &seq;
	importer_start(test, &ti, fd);
	importer_start(test, &ti2, fd);
	KUNIT_EXPECT_EQ(test, vm->export.registered, 2);

	KUNIT_EXPECT_EQ(test, fake_vm_destroy(ctx, id), 0);
	expect_revoked_once(test, &ti);
	expect_revoked_once(test, &ti2);
	/* in registration order */
	KUNIT_EXPECT_EQ(test, ti.seq, 1);
	KUNIT_EXPECT_EQ(test, ti2.seq, 2);
	KUNIT_EXPECT_EQ(test, vm->export.registered, 0);

	/* unregistering a revoked import is allowed and calls nothing */
	xe_vm_import_unregister(ti.imp);
	xe_vm_import_put(ti.imp);
	xe_vm_import_put(ti2.imp);
	KUNIT_EXPECT_EQ(test, atomic_read(&ti.revokes), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&ti2.revokes), 1);
	close_sync(fd);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 1);
}

/*
 * Closing the DRM file revokes every VM's importers before their ASIDs are
 * released; the closed VMs stay in the file's table, as upstream leaves
 * them, and cannot be registered, imported or exported any more.
 */
static void revoke_on_file_close(struct kunit *test)
{
	struct ve_ctx *ctx = test->priv;
	struct importer ti[2] = {};
	struct xe_vm_import *late;
	struct xe_vm *vm[2];
	int fd[2], i;
	u32 id[2];

	for (i = 0; i < 2; i++) {
		vm[i] = vm_create_assert(test, 0, &id[i]);
		KUNIT_ASSERT_EQ(test, do_export(ctx, id[i], &fd[i]), 0);
		importer_start(test, &ti[i], fd[i]);
	}
	late = import_assert(test, fd[0]);

	fake_file_close(ctx);
	for (i = 0; i < 2; i++) {
		KUNIT_EXPECT_PTR_EQ(test, xa_load(&ctx->xef->vm.xa, id[i]), vm[i]);
		expect_revoked_once(test, &ti[i]);
	}
	/* register after close, the VM still in the table: -ENOENT */
	KUNIT_EXPECT_EQ(test, xe_vm_import_register(late, &importer_ops, &ti[0]),
			-ENOENT);
	KUNIT_EXPECT_PTR_EQ(test, xe_vm_import_get(NULL, fd[0]), ERR_PTR(-ENOENT));

	xe_vm_import_put(late);
	for (i = 0; i < 2; i++) {
		xe_vm_import_put(ti[i].imp);
		close_sync(fd[i]);
	}
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 2);
}

/*
 * Registration racing the close: xe has called the hook (first thing in
 * xe_vm_close_and_put()) but not yet closed the VM, which is still in the
 * file's table and not yet closed for xe: registration already fails.
 */
static void register_races_close(struct kunit *test)
{
	struct ve_ctx *ctx = test->priv;
	struct importer ti = {};
	struct imported_vm iv;

	imported_vm_assert(test, &iv);
	T->vm_close(iv.vm);
	KUNIT_EXPECT_PTR_EQ(test, xa_load(&ctx->xef->vm.xa, iv.id), iv.vm);
	KUNIT_EXPECT_NE(test, iv.vm->size, 0);
	KUNIT_EXPECT_EQ(test, xe_vm_import_register(iv.imp, &importer_ops, &ti), -ENOENT);
	KUNIT_EXPECT_TRUE(test, xe_vm_import_is_closed(iv.imp));
	/* nor can the VM be exported again */
	close_sync(iv.fd);
	KUNIT_EXPECT_EQ(test, do_export(ctx, iv.id, &iv.fd), -ENOENT);
	/* the refused export's file is released (deferred in a kthread) */
	flush_delayed_fput();
	fake_file_close(ctx);
	KUNIT_EXPECT_EQ(test, atomic_read(&ti.revokes), 0);
	xe_vm_import_put(iv.imp);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 1);
}

/* Unbind: every importer of the device is told once, then the VMs close */
static void revoke_on_remove(struct kunit *test)
{
	struct ve_ctx *ctx = test->priv;
	struct importer ti[2] = {};
	struct xe_vm_import *late;
	int fd[2], i;
	u32 id[2];

	for (i = 0; i < 2; i++) {
		vm_create_assert(test, 0, &id[i]);
		KUNIT_ASSERT_EQ(test, do_export(ctx, id[i], &fd[i]), 0);
		importer_start(test, &ti[i], fd[i]);
	}
	late = import_assert(test, fd[1]);

	T->device_remove(ctx->xe);
	for (i = 0; i < 2; i++)
		expect_revoked_once(test, &ti[i]);
	KUNIT_EXPECT_EQ(test, xe_vm_import_register(late, &importer_ops, &ti[1]),
			-ENOENT);
	KUNIT_EXPECT_TRUE(test, xe_vm_import_is_closed(late));

	/* the VMs' own close later calls nobody again */
	fake_file_close(ctx);
	for (i = 0; i < 2; i++) {
		KUNIT_EXPECT_EQ(test, atomic_read(&ti[i].revokes), 1);
		xe_vm_import_put(ti[i].imp);
		close_sync(fd[i]);
	}
	xe_vm_import_put(late);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 2);
}

/* Wedging: the importers are told from a work item */
static void revoke_on_wedge(struct kunit *test)
{
	struct ve_ctx *ctx = test->priv;
	struct importer ti = {};
	int fd;
	u32 id;

	vm_create_assert(test, 0, &id);
	KUNIT_ASSERT_EQ(test, do_export(ctx, id, &fd), 0);
	importer_start(test, &ti, fd);

	T->device_wedged(ctx->xe);
	flush_work(&ctx->xe->vm_export.wedge_work);
	expect_revoked_once(test, &ti);

	KUNIT_EXPECT_EQ(test, fake_vm_destroy(ctx, id), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ti.revokes), 1);
	/* remove after wedge: nothing left to tell */
	T->device_remove(ctx->xe);
	KUNIT_EXPECT_EQ(test, atomic_read(&ti.revokes), 1);
	xe_vm_import_put(ti.imp);
	close_sync(fd);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 1);
}

struct async_op {
	struct ve_ctx *ctx;
	u32 id;
	struct xe_vm_import *imp;
	struct completion done;
	int err;
};

static int async_destroy_fn(void *data)
{
	struct async_op *op = data;

	op->err = fake_vm_destroy(op->ctx, op->id);
	complete(&op->done);
	return 0;
}

static int async_put_fn(void *data)
{
	struct async_op *op = data;

	xe_vm_import_put(op->imp);
	complete(&op->done);
	return 0;
}

static int async_remove_fn(void *data)
{
	struct async_op *op = data;

	T->device_remove(op->ctx->xe);
	complete(&op->done);
	return 0;
}

static void async_start(struct kunit *test, struct async_op *op,
			int (*fn)(void *data), const char *name)
{
	struct task_struct *task;

	init_completion(&op->done);
	task = kthread_run(fn, op, "xe_vm_export_%s", name);
	KUNIT_ASSERT_FALSE(test, IS_ERR(task));
}

/*
 * While a callback runs: the VM's teardown (ASID release) and the
 * importer's put wait for it, and a VM close racing a device revocation
 * waits for the callback the device revocation runs.
 */
static void revoke_waits(struct kunit *test)
{
	struct ve_ctx *ctx = test->priv;
	struct async_op destroy = { .ctx = ctx }, put = { .ctx = ctx };
	struct async_op remove = { .ctx = ctx };
	DECLARE_COMPLETION_ONSTACK(entered);
	DECLARE_COMPLETION_ONSTACK(go);
	struct importer ti = { .entered = &entered, .go = &go };
	struct xe_vm *vm;
	int fd;
	u32 id;

	vm = vm_create_assert(test, 0, &id);
	KUNIT_ASSERT_EQ(test, do_export(ctx, id, &fd), 0);
	importer_start(test, &ti, fd);
	close_sync(fd);

	/* the device revocation runs the callback, which blocks */
	async_start(test, &remove, async_remove_fn, "remove");
	wait_for_completion(&entered);
	/* VM_DESTROY of the VM must wait: the ASID is still in use */
	destroy.id = id;
	async_start(test, &destroy, async_destroy_fn, "destroy");
	put.imp = ti.imp;
	async_start(test, &put, async_put_fn, "put");
	msleep(100);
	KUNIT_EXPECT_FALSE(test, completion_done(&remove.done));
	KUNIT_EXPECT_FALSE(test, completion_done(&destroy.done));
	KUNIT_EXPECT_FALSE(test, completion_done(&put.done));
	KUNIT_EXPECT_PTR_EQ(test, xa_load(&ctx->asids, ti.asid), vm);

	complete(&go);
	wait_for_completion(&remove.done);
	wait_for_completion(&destroy.done);
	wait_for_completion(&put.done);
	KUNIT_EXPECT_EQ(test, destroy.err, 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ti.revokes), 1);
	KUNIT_EXPECT_TRUE(test, ti.asid_held);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 1);
}

/* A callback over a second is reported, and still waited for */
static void revoke_slow(struct kunit *test)
{
	struct ve_ctx *ctx = test->priv;
	struct importer ti = { .sleep_ms = 1100 };
	int fd;
	u32 id;

	vm_create_assert(test, 0, &id);
	KUNIT_ASSERT_EQ(test, do_export(ctx, id, &fd), 0);
	importer_start(test, &ti, fd);
	close_sync(fd);
	KUNIT_EXPECT_EQ(test, fake_vm_destroy(ctx, id), 0);
	expect_revoked_once(test, &ti);
	xe_vm_import_put(ti.imp);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 1);
}

static void put_unregisters(struct kunit *test)
{
	struct ve_ctx *ctx = test->priv;
	struct importer ti = {};
	struct xe_vm *vm;
	int fd;
	u32 id;

	vm = vm_create_assert(test, 0, &id);
	KUNIT_ASSERT_EQ(test, do_export(ctx, id, &fd), 0);
	importer_start(test, &ti, fd);
	close_sync(fd);
	xe_vm_import_put(ti.imp);
	KUNIT_EXPECT_EQ(test, vm->export.registered, 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&vm->export.imports), 0);
	KUNIT_EXPECT_EQ(test, fake_vm_destroy(ctx, id), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ti.revokes), 0);
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
	struct importer ti = {};
	int i, fd;
	u32 id;

	vm_create_assert(test, 0, &id);
	KUNIT_ASSERT_EQ(test, do_export(ctx, id, &fd), 0);
	importer_start(test, &ti, fd);

	for (i = 0; i < ARRAY_SIZE(param->order); i++) {
		KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 0);
		switch (param->order[i]) {
		case HOLDER_FILE:
			fake_file_close(ctx);
			break;
		case HOLDER_EXPORT:
			close_sync(fd);
			break;
		case HOLDER_IMPORT:
			xe_vm_import_put(ti.imp);
			break;
		}
	}

	/* told once if the file closed while the import was registered */
	KUNIT_EXPECT_EQ(test, atomic_read(&ti.revokes),
			param->order[0] == HOLDER_FILE ||
			(param->order[1] == HOLDER_FILE &&
			 param->order[0] != HOLDER_IMPORT) ? 1 : 0);
	/* the last put queues no work for fake VMs: the free is synchronous */
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 1);
}

static void module_ref(struct kunit *test)
{
	struct ve_ctx *ctx = test->priv;
	struct module *xe_mod = T->fops->owner;
	unsigned int refs;
	int fd;
	u32 id;

	if (!IS_ENABLED(CONFIG_MODULE_UNLOAD) || !xe_mod)
		kunit_skip(test, "xe is built in or modules cannot unload");

	vm_create_assert(test, 0, &id);
	refs = module_refcount(xe_mod);
	KUNIT_ASSERT_EQ(test, do_export(ctx, id, &fd), 0);
	KUNIT_EXPECT_EQ(test, module_refcount(xe_mod), refs + 1);
	close_sync(fd);
	KUNIT_EXPECT_EQ(test, module_refcount(xe_mod), refs);
	KUNIT_EXPECT_EQ(test, fake_vm_destroy(ctx, id), 0);
}

static void seq_reset(struct seq_file *m)
{
	memset(m->buf, 0, m->size);
	m->count = 0;
}

static void debugfs_list(struct kunit *test)
{
	struct ve_ctx *ctx = test->priv;
	struct xe_device *other_xe;
	struct importer ti = {};
	struct seq_file m = {};
	char line[64];
	int fd;
	u32 id;

	vm_create_assert(test, 0, &id);
	KUNIT_ASSERT_EQ(test, do_export(ctx, id, &fd), 0);
	importer_start(test, &ti, fd);

	/* another device with its own, empty, export state */
	other_xe = kunit_kzalloc(test, sizeof(*other_xe), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, other_xe);
	mutex_init(&other_xe->vm_export.lock);
	INIT_LIST_HEAD(&other_xe->vm_export.exports);

	m.size = PAGE_SIZE;
	m.buf = kunit_kzalloc(test, m.size, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, m.buf);
	m.private = ctx->xe;
	KUNIT_EXPECT_EQ(test, T->exports_show(&m, NULL), 0);
	snprintf(line, sizeof(line), "\n%u %d 1 1\n", id, task_tgid_nr(current));
	KUNIT_EXPECT_NOT_NULL(test, strstr(m.buf, line));

	/* another device's file does not list this export */
	seq_reset(&m);
	m.private = other_xe;
	KUNIT_EXPECT_EQ(test, T->exports_show(&m, NULL), 0);
	KUNIT_EXPECT_STREQ(test, m.buf, "vm_id pid registered imports\n");
	m.private = ctx->xe;

	xe_vm_import_put(ti.imp);
	close_sync(fd);

	seq_reset(&m);
	KUNIT_EXPECT_EQ(test, T->exports_show(&m, NULL), 0);
	KUNIT_EXPECT_STREQ(test, m.buf, "vm_id pid registered imports\n");
	KUNIT_EXPECT_EQ(test, fake_vm_destroy(ctx, id), 0);
	mutex_destroy(&other_xe->vm_export.lock);
}

static void fdinfo(struct kunit *test)
{
	struct ve_ctx *ctx = test->priv;
	struct seq_file m = {};
	struct file *file;
	char want[160];
	int fd;
	u32 id;

	vm_create_assert(test, 0, &id);
	KUNIT_ASSERT_EQ(test, do_export(ctx, id, &fd), 0);
	file = fget(fd);
	KUNIT_ASSERT_NOT_NULL(test, file);

	m.size = PAGE_SIZE;
	m.buf = kunit_kzalloc(test, m.size, GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, m.buf);
	T->show_fdinfo(&m, file);
	snprintf(want, sizeof(want),
		 "xe_vm_id:\t%u\nxe_device:\t%s\nxe_exporter_pid:\t%d\nxe_vm_closed:\t0\n",
		 id, dev_name(ctx->xe->drm.dev), task_tgid_vnr(current));
	KUNIT_EXPECT_STREQ(test, m.buf, want);

	KUNIT_EXPECT_EQ(test, fake_vm_destroy(ctx, id), 0);
	seq_reset(&m);
	T->show_fdinfo(&m, file);
	KUNIT_EXPECT_NOT_NULL(test, strstr(m.buf, "xe_vm_closed:\t1\n"));

	fput(file);
	close_sync(fd);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 1);
}

#define STRESS_THREADS		4
#define STRESS_ITERATIONS	1000
#define STRESS_VMS		3

/*
 * Bookkeeping: s->ids[] holds the VM id of each slot, 0 while a thread owns
 * the slot. Only the thread that took a slot's id out with cmpxchg()
 * destroys that VM and puts a new one in: VM ids are reused by the xarray
 * allocator, so a thread holding a stale id may export or import another
 * slot's VM (a race the code under test must survive), but never destroys
 * it.
 */
struct stress {
	struct ve_ctx *ctx;
	u32 ids[STRESS_VMS];
	atomic_t created;
	atomic_t bad;
	atomic_t exports, eexist, destroys, imports, registers, revokes;
	struct completion done[STRESS_THREADS];
	int run;
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

/* Take @slot's VM out, destroy it, put a new one in; 0 if the slot was taken. */
static bool stress_replace(struct stress *s, unsigned int slot, u32 id)
{
	struct ve_ctx *ctx = s->ctx;

	if (!id || cmpxchg(&s->ids[slot], id, 0) != id)
		return false;
	if (fake_vm_destroy(ctx, id))
		atomic_inc(&s->bad);
	else
		atomic_inc(&s->destroys);
	if (!fake_vm_create(ctx, 0, &id)) {
		atomic_inc(&s->bad);
		return true;
	}
	atomic_inc(&s->created);
	WRITE_ONCE(s->ids[slot], id);
	return true;
}

static void stress_step(struct stress *s, u32 rnd)
{
	struct ve_ctx *ctx = s->ctx;
	unsigned int slot = rnd % STRESS_VMS;
	u32 id = READ_ONCE(s->ids[slot]);
	struct importer ti = { .ctx = ctx };
	struct xe_vm_import *imp;
	bool registered;
	int err, fd;

	switch ((rnd >> 8) % 3) {
	case 0:	/* export, maybe import and register, release */
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
				ti.asid = imp->vm->usm.asid;
				if (!xe_vm_import_register(imp, &importer_ops, &ti))
					atomic_inc(&s->registers);
				close_sync(fd);
				fd = -1;
				if (rnd & BIT(18))
					usleep_range(10, 50);
				xe_vm_import_put(imp);
				if (atomic_read(&ti.revokes) > 1 ||
				    (atomic_read(&ti.revokes) && !ti.asid_held))
					atomic_inc(&s->bad);
				atomic_add(atomic_read(&ti.revokes), &s->revokes);
			}
		}
		if (fd >= 0)
			close_sync(fd);
		break;
	case 1:	/* destroy and recreate */
		stress_replace(s, slot, id);
		break;
	case 2:	/* register, then destroy: told once, before the destroy returns */
		err = do_export(ctx, id, &fd);
		stress_count(&s->exports, &s->eexist, &s->bad, err, -EEXIST);
		if (err)
			return;
		imp = xe_vm_import_get(NULL, fd);
		close_sync(fd);
		if (IS_ERR(imp))
			return;
		atomic_inc(&s->imports);
		ti.asid = imp->vm->usm.asid;
		registered = !xe_vm_import_register(imp, &importer_ops, &ti);
		if (registered) {
			atomic_inc(&s->registers);
			if (rnd & BIT(17))
				usleep_range(10, 50);
			/* only this VM's own slot: a stale id may be another's */
			if (READ_ONCE(s->ids[slot]) == id && imp->vm_id == id &&
			    stress_replace(s, slot, id) &&
			    (atomic_read(&ti.revokes) != 1 || !ti.asid_held))
				atomic_inc(&s->bad);
		}
		xe_vm_import_put(imp);
		if (atomic_read(&ti.revokes) > 1)
			atomic_inc(&s->bad);
		atomic_add(atomic_read(&ti.revokes), &s->revokes);
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

	prandom_seed_state(&rnd, 0x5eed + t->n + t->s->run * STRESS_THREADS);
	for (i = 0; i < STRESS_ITERATIONS; i++) {
		stress_step(t->s, prandom_u32_state(&rnd));
		if (!(i % 32))
			cond_resched();
	}
	complete(&t->s->done[t->n]);
	return 0;
}

/*
 * How many times the stress case runs in a row (each run with its own VMs,
 * threads and seeds): xe_test.ko's parameter, e.g.
 * ``insmod xe_test.ko xe_vm_export_stress_runs=20``.
 */
static unsigned int xe_vm_export_stress_runs = 1;
module_param(xe_vm_export_stress_runs, uint, 0444);
MODULE_PARM_DESC(xe_vm_export_stress_runs, "runs of the xe_vm_export stress case");

/* One run; true if it passed. */
static bool stress_run(struct kunit *test, int run)
{
	struct ve_ctx *ctx = test->priv;
	struct stress_thread t[STRESS_THREADS];
	int i, started = 0, frees, bad = 0;
	struct task_struct *task;
	struct stress *s;

	s = kunit_kzalloc(test, sizeof(*s), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, s);
	s->ctx = ctx;
	s->run = run;
	frees = atomic_read(&ctx->frees);
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
		if (fake_vm_destroy(ctx, s->ids[i]))
			bad++;
	frees = atomic_read(&ctx->frees) - frees;

	kunit_info(test, "run %d: %d threads x %d steps: %d exports (%d EEXIST), %d imports, %d registers, %d revokes, %d destroys, %d VMs, %d freed\n",
		   run + 1, STRESS_THREADS, STRESS_ITERATIONS,
		   atomic_read(&s->exports), atomic_read(&s->eexist),
		   atomic_read(&s->imports), atomic_read(&s->registers),
		   atomic_read(&s->revokes), atomic_read(&s->destroys),
		   atomic_read(&s->created), frees);
	KUNIT_EXPECT_EQ(test, bad, 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&s->bad), 0);
	KUNIT_EXPECT_GT(test, atomic_read(&s->exports), 0);
	KUNIT_EXPECT_GT(test, atomic_read(&s->imports), 0);
	KUNIT_EXPECT_GT(test, atomic_read(&s->revokes), 0);
	KUNIT_EXPECT_EQ(test, frees, atomic_read(&s->created));

	return !bad && !atomic_read(&s->bad) && atomic_read(&s->exports) &&
	       atomic_read(&s->imports) && atomic_read(&s->revokes) &&
	       frees == atomic_read(&s->created);
}

static void stress(struct kunit *test)
{
	unsigned int runs = max(xe_vm_export_stress_runs, 1u), i, passed = 0;

	for (i = 0; i < runs; i++)
		passed += stress_run(test, i);
	kunit_info(test, "%u of %u runs in a row passed\n", passed, runs);
	KUNIT_EXPECT_EQ(test, passed, runs);
}

/*
 * The bench case runs BENCH_ROUNDS rounds of BENCH_CYCLES cycles of each
 * thing it times, interleaved, and keeps each thing's fastest round: a round
 * in which the (virtual) CPU was taken away or a cache was cold says
 * nothing about the code.
 */
#define BENCH_ROUNDS	20
#define BENCH_CYCLES	250

enum bench_step {
	BENCH_ANON,		/* anon inode created and released (goal's baseline) */
	BENCH_ANON_FD,		/* the same behind an fd, installed and closed */
	BENCH_EXPORT,		/* the export ioctl */
	BENCH_IMPORT,		/* import and put */
	BENCH_RELEASE,		/* close of the export fd, the file released */
	BENCH_TOTAL,		/* export + import + release, one cycle after the other */
	BENCH_STEPS
};

static s64 bench_since(ktime_t t)
{
	return ktime_to_ns(ktime_sub(ktime_get(), t));
}

/* One round of the baselines: what any ioctl returning a new file pays. */
static s64 bench_anon_inode(struct kunit *test, bool with_fd)
{
	struct file *file;
	ktime_t start;
	int i, fd = -1;

	start = ktime_get();
	for (i = 0; i < BENCH_CYCLES; i++) {
		if (with_fd) {
			fd = get_unused_fd_flags(O_CLOEXEC);
			KUNIT_ASSERT_GE(test, fd, 0);
		}
		file = anon_inode_getfile("[xe_vm_export_test]", &other_fops,
					  NULL, O_RDWR);
		KUNIT_ASSERT_FALSE(test, IS_ERR(file));
		if (with_fd) {
			fd_install(fd, file);
			close_sync(fd);
		} else {
			fput(file);
			flush_delayed_fput();
		}
	}

	return bench_since(start);
}

/* One round of the ioctl path; adds each step's time to @ns. */
static void bench_export(struct kunit *test, u32 id, s64 *ns)
{
	struct xe_vm_import *imp;
	ktime_t start, t;
	int i, fd;

	start = ktime_get();
	for (i = 0; i < BENCH_CYCLES; i++) {
		t = ktime_get();
		KUNIT_ASSERT_EQ(test, do_export(test->priv, id, &fd), 0);
		ns[BENCH_EXPORT] += bench_since(t);
		t = ktime_get();
		imp = xe_vm_import_get(NULL, fd);
		KUNIT_ASSERT_NOT_ERR_OR_NULL(test, imp);
		xe_vm_import_put(imp);
		ns[BENCH_IMPORT] += bench_since(t);
		t = ktime_get();
		close_sync(fd);
		ns[BENCH_RELEASE] += bench_since(t);
	}
	ns[BENCH_TOTAL] = bench_since(start);
}

static s64 bench_per_cycle(s64 ns)
{
	return div64_s64(ns, BENCH_CYCLES);
}

/*
 * The cost of the ioctl path: export (the ioctl), import and put, release,
 * against the baselines. The figures are the fastest round of each, per
 * cycle; tests/kunit/bench.sh (make bench) parses the two lines it prints.
 */
static void bench(struct kunit *test)
{
	struct ve_ctx *ctx = test->priv;
	s64 best[BENCH_STEPS], ns[BENCH_STEPS];
	int round, step;
	u32 id;

	vm_create_assert(test, 0, &id);
	for (step = 0; step < BENCH_STEPS; step++)
		best[step] = S64_MAX;

	/*
	 * Time the code as callers outside KUnit run it: while the thread is
	 * no test's, the static stub of ve_zalloc() is the no-op it is in
	 * production, not a search of the test's resources (which costs the
	 * path about 0.4x the baseline). The assertions name @test directly.
	 */
	current->kunit_test = NULL;
	for (round = 0; round < BENCH_ROUNDS; round++) {
		memset(ns, 0, sizeof(ns));
		ns[BENCH_ANON] = bench_anon_inode(test, false);
		ns[BENCH_ANON_FD] = bench_anon_inode(test, true);
		bench_export(test, id, ns);
		for (step = 0; step < BENCH_STEPS; step++)
			best[step] = min(best[step], max_t(s64, ns[step], 1));
	}
	current->kunit_test = test;

	kunit_info(test, "export+import+release: %lld cycles/s; anon inode create+release (baseline): %lld cycles/s; cost %lld.%02lldx the baseline\n",
		   div64_s64(BENCH_CYCLES * NSEC_PER_SEC, best[BENCH_TOTAL]),
		   div64_s64(BENCH_CYCLES * NSEC_PER_SEC, best[BENCH_ANON]),
		   div64_s64(best[BENCH_TOTAL], best[BENCH_ANON]),
		   div64_s64(best[BENCH_TOTAL] * 100, best[BENCH_ANON]) % 100);
	kunit_info(test, "per cycle: baseline %lld ns, with an fd %lld ns; export+import+release %lld ns: export %lld ns, import+put %lld ns, release %lld ns\n",
		   bench_per_cycle(best[BENCH_ANON]),
		   bench_per_cycle(best[BENCH_ANON_FD]),
		   bench_per_cycle(best[BENCH_TOTAL]),
		   bench_per_cycle(best[BENCH_EXPORT]),
		   bench_per_cycle(best[BENCH_IMPORT]),
		   bench_per_cycle(best[BENCH_RELEASE]));
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
	KUNIT_CASE(alloc_failures),
	KUNIT_CASE(destroy_exported),
	KUNIT_CASE(import_vm),
	KUNIT_CASE(import_errors),
	KUNIT_CASE(import_two_mms),
	KUNIT_CASE(fork_child_holds_fd),
	KUNIT_CASE(register_errors),
	KUNIT_CASE(register_banned),
	KUNIT_CASE(revoke_on_destroy),
	KUNIT_CASE(revoke_on_file_close),
	KUNIT_CASE(register_races_close),
	KUNIT_CASE(revoke_on_remove),
	KUNIT_CASE(revoke_on_wedge),
	KUNIT_CASE(revoke_waits),
	KUNIT_CASE(revoke_slow),
	KUNIT_CASE(put_unregisters),
	KUNIT_CASE_PARAM(release_orders_free_once, release_order_gen_params),
	KUNIT_CASE(module_ref),
	KUNIT_CASE(debugfs_list),
	KUNIT_CASE(fdinfo),
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
