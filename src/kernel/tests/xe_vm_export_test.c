// SPDX-License-Identifier: GPL-2.0 AND MIT
/*
 * Copyright © 2026 The xe-vm-export authors
 */

/*
 * KUnit tests of VM export, run against xe's mock device. Included at the
 * end of xe_vm_export.c when CONFIG_DRM_XE_KUNIT_TEST is set, as xe's own
 * unit tests are (xe_guc_id_mgr.c...): the suite reaches the unit's static
 * functions and xe's, and nothing is exported for it.
 *
 * What is real: the xe_device (xe_kunit_helper_xe_device_test_init(), with
 * the first platform's info, e.g. va_bits) and its VM export state, its
 * ASID table (xe->usm.asid_to_vm and its lock), the DRM device and its
 * reference counting and release, the VM's drm_gpuvm (drm_gpuvm_init()
 * with a real resv object, so VM references are the real kref), the VM's
 * lock, size and flags, the xe_file VM table and its lock, file descriptors
 * in the test thread's fd table, the anonymous export files and their
 * release, address spaces (mm_alloc() + kthread_use_mm()), the ioctl
 * handlers, the exported import API and the hooks xe calls.
 *
 * The VMs are closed by xe itself, on every series: VM_DESTROY is
 * xe_vm_destroy_ioctl() and the DRM file's close runs xe_vm_close_and_put()
 * on each VM of its table, as xe_file_close() does, so the order of the
 * hook and of the ASID's release (xa_erase() of xe->usm.asid_to_vm) is the
 * patched xe's own: the importers' asid_held checks fail if the hook moves
 * after the release. From 7.x on, xe_vm_close_and_put() also takes the
 * device's rebind_resume_lock, empties the VM's fault list and, for an LR
 * VM, its pm_activate_link, and for a fault-mode VM takes its SVM's
 * notifier_lock: fake_vm_create() and ve_ctx_init() set them up as
 * xe_vm_create() (with xe_svm_init()) and xe_pm_init() do. In a test
 * kernel without DRM_XE_GPUSVM, xe_svm_init() and the SVM teardown of the
 * close are those of an SVM without mm, notifiers or ranges.
 * tests/kunit/hook-order.sh checks the order statically too.
 *
 * What is not: mock mode has no GT, no page tables and no TTM, so VMs are
 * not made by xe_vm_create() (it creates page-table BOs through TTM and
 * bind queues on the migrate engine, neither of which a mock device has).
 * fake_vm_create() builds the minimal state, with an ASID from xe's table as
 * xe allocates them, and fake_vm_free() replaces xe's VM destroy work: it
 * calls xe_vm_export_vm_free() last, as the hooked vm_destroy_work_func()
 * does, synchronously or, for the unbind cases, from a work item.
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
#include <drm/drm_kunit_helpers.h>

#include "tests/xe_kunit_helpers.h"
#include "xe_range_fence.h"
#include "xe_vm_export_compat.h"
#if XE_VM_EXPORT_KSERIES_GE(7, 0)
#include "xe_svm.h"
#endif

/*
 * mm_alloc() is exported to KUnit tests only, in the kernel's testing
 * namespace (a bare token before 6.13, a string since): the modinfo line
 * both forms of MODULE_IMPORT_NS() write, on every kernel. Test builds only.
 */
MODULE_INFO(import_ns, "EXPORTED_FOR_KUNIT_TESTING");

/* xe_vm_close_and_put() of 7.x uses state that 6.12's VMs lack. */
#define CLOSE_7X	XE_VM_EXPORT_KSERIES_GE(7, 0)

#define ASID_MAX	31

struct fake_vm {
	struct xe_vm vm;
	struct ve_ctx *ctx;
	struct work_struct free_work;
};

struct ve_ctx {
	struct kunit *test;
	struct xe_device *xe;
	struct xe_file *xef;
	struct drm_file *file;
	atomic_t frees;
	bool file_closed;
	/* when set, VMs are freed from a work item on it, as xe frees them */
	struct workqueue_struct *free_wq;
	/* set by the device's release (a drmm action) */
	atomic_t *released;
	/* the device was released before a VM's free had used it */
	atomic_t early_release;
};

static void fake_vm_free_now(struct fake_vm *fvm)
{
	struct ve_ctx *ctx = fvm->ctx;

	/* what xe's destroy work does with the device before the hook */
	if (ctx->released && atomic_read(ctx->released))
		atomic_inc(&ctx->early_release);
	(void)READ_ONCE(fvm->vm.xe->info.va_bits);

	xe_vm_export_vm_free(&fvm->vm);
	atomic_inc(&ctx->frees);
	kfree(fvm);
}

static void fake_vm_free_work(struct work_struct *work)
{
	fake_vm_free_now(container_of(work, struct fake_vm, free_work));
}

static void fake_vm_free(struct drm_gpuvm *gpuvm)
{
	struct fake_vm *fvm = container_of(gpuvm, struct fake_vm, vm.gpuvm);

	if (fvm->ctx->free_wq)
		queue_work(fvm->ctx->free_wq, &fvm->free_work);
	else
		fake_vm_free_now(fvm);
}

static const struct drm_gpuvm_ops fake_gpuvm_ops = {
	.vm_free = fake_vm_free,
};

static void fake_rebind_work(struct work_struct *work)
{
}

static struct xe_vm *fake_vm_create(struct ve_ctx *ctx, u32 flags, u32 *id)
{
	struct xe_device *xe = ctx->xe;
	struct drm_gem_object *r_obj;
	struct fake_vm *fvm;
	u32 vm_id, asid;
	int i, err;

	fvm = kzalloc(sizeof(*fvm), GFP_KERNEL);
	if (!fvm)
		return NULL;
	r_obj = drm_gpuvm_resv_object_alloc(&xe->drm);
	if (!r_obj) {
		kfree(fvm);
		return NULL;
	}

	fvm->ctx = ctx;
	INIT_WORK(&fvm->free_work, fake_vm_free_work);
	fvm->vm.xe = xe;
	fvm->vm.xef = ctx->xef;
	fvm->vm.flags = flags;
	fvm->vm.size = 1ull << xe->info.va_bits;
	init_rwsem(&fvm->vm.lock);
	INIT_WORK(&fvm->vm.preempt.rebind_work, fake_rebind_work);
#if CLOSE_7X
	INIT_LIST_HEAD(&fvm->vm.preempt.pm_activate_link);
	spin_lock_init(&fvm->vm.faults.lock);
	INIT_LIST_HEAD(&fvm->vm.faults.list);
	/*
	 * The VM's SVM, as xe_vm_create() sets it up: xe_vm_close() takes its
	 * notifier_lock (an rwsem of drm_gpusvm_init()) for a fault-mode VM.
	 */
	if (xe_svm_init(&fvm->vm)) {
		drm_gem_object_put(r_obj);
		kfree(fvm);
		return NULL;
	}
#endif
	for (i = 0; i < ARRAY_SIZE(fvm->vm.rftree); i++)
		xe_range_fence_tree_init(&fvm->vm.rftree[i]);
	drm_gpuvm_init(&fvm->vm.gpuvm, "xe-vm-export-test", 0, &xe->drm, r_obj,
		       0, fvm->vm.size, 0, 0, &fake_gpuvm_ops);
	drm_gem_object_put(r_obj);

	down_write(&xe->usm.lock);
	err = xa_alloc_cyclic(&xe->usm.asid_to_vm, &asid, &fvm->vm,
			      XA_LIMIT(1, ASID_MAX), &xe->usm.next_asid,
			      GFP_KERNEL);
	up_write(&xe->usm.lock);
	if (err < 0) {
		xe_vm_put(&fvm->vm);
		return NULL;
	}
	fvm->vm.usm.asid = asid;

	if (xa_alloc(&ctx->xef->vm.xa, &vm_id, &fvm->vm, xa_limit_32b,
		     GFP_KERNEL)) {
		down_write(&xe->usm.lock);
		xa_erase(&xe->usm.asid_to_vm, asid);
		up_write(&xe->usm.lock);
		xe_vm_put(&fvm->vm);
		return NULL;
	}

	*id = vm_id;
	return &fvm->vm;
}

/* Whether @asid still names @vm in the device's ASID table. */
static bool asid_is(struct xe_device *xe, u32 asid, struct xe_vm *vm)
{
	bool held;

	down_read(&xe->usm.lock);
	held = xa_load(&xe->usm.asid_to_vm, asid) == vm;
	up_read(&xe->usm.lock);

	return held;
}

static void vm_close_and_put(struct ve_ctx *ctx, struct xe_vm *vm)
{
	xe_vm_close_and_put(vm);
}

static int vm_destroy(struct ve_ctx *ctx, u32 id)
{
	struct drm_xe_vm_destroy args = { .vm_id = id };

	return xe_vm_destroy_ioctl(&ctx->xe->drm, &args, ctx->file);
}

/* The VM part of xe_file_close(): the VMs stay in the file's table. */
static void file_close(struct ve_ctx *ctx)
{
	unsigned long idx;
	struct xe_vm *vm;

	ctx->file_closed = true;
	xa_for_each(&ctx->xef->vm.xa, idx, vm)
		vm_close_and_put(ctx, vm);
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

	ti->asid_held = asid_is(ti->ctx->xe, ti->asid, imp->vm);
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

/* The state of @xe a VM's close and the tests need, and a DRM file. */
static void ve_ctx_init(struct kunit *test, struct ve_ctx *ctx,
			struct xe_device *xe)
{
	ctx->test = test;
	ctx->xe = xe;
	KUNIT_ASSERT_EQ(test, xe_vm_export_device_init(xe), 0);
	/* what xe_device_create() sets up for xe_vm_close_and_put() */
	init_rwsem(&xe->usm.lock);
	xa_init_flags(&xe->usm.asid_to_vm, XA_FLAGS_ALLOC);
	xe->info.has_asid = 1;
	/* no GT: xe_vm_close() invalidates no TLB (mock GTs have no GuC) */
	xe->info.gt_count = 0;
#if CLOSE_7X
	/* 7.x's for_each_gt() counts tile_count * max_gt_per_tile */
	xe->info.max_gt_per_tile = 0;
	/* set up by xe_pm_init(), which a mock device does not run */
	mutex_init(&xe->rebind_resume_lock);
#endif

	ctx->xef = kunit_kzalloc(test, sizeof(*ctx->xef), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctx->xef);
	ctx->xef->xe = xe;
	mutex_init(&ctx->xef->vm.lock);
	xa_init_flags(&ctx->xef->vm.xa, XA_FLAGS_ALLOC1);

	ctx->file = kunit_kzalloc(test, sizeof(*ctx->file), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctx->file);
	ctx->file->driver_priv = ctx->xef;
}

static void ve_ctx_fini(struct kunit *test, struct ve_ctx *ctx)
{
	flush_delayed_fput();
	if (ctx->free_wq)
		flush_workqueue(ctx->free_wq);
	/* a closed file keeps its (closed) VMs in the table, like xe's */
	if (!ctx->file_closed)
		KUNIT_EXPECT_TRUE(test, xa_empty(&ctx->xef->vm.xa));
	xa_destroy(&ctx->xef->vm.xa);
	mutex_destroy(&ctx->xef->vm.lock);
}

static int ve_test_init(struct kunit *test)
{
	struct ve_ctx *ctx;

	xe_kunit_helper_xe_device_test_init(test);

	ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, ctx);
	ve_ctx_init(test, ctx, test->priv);

	test->priv = ctx;
	return 0;
}

static void ve_test_exit(struct kunit *test)
{
	struct ve_ctx *ctx = test->priv;

	ve_ctx_fini(test, ctx);
	KUNIT_EXPECT_TRUE(test, xa_empty(&ctx->xe->usm.asid_to_vm));
	KUNIT_EXPECT_TRUE(test, list_empty(&ctx->xe->vm_export.exports));
	KUNIT_EXPECT_TRUE(test, list_empty(&ctx->xe->vm_export.importers));
	KUNIT_EXPECT_EQ(test, ctx->xe->vm_export.revoking, 0);
	xa_destroy(&ctx->xe->usm.asid_to_vm);
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
	KUNIT_EXPECT_EQ(test, vm_destroy(ctx, id), 0);
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

	KUNIT_EXPECT_EQ(test, vm_destroy(ctx, id), 0);
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
	KUNIT_EXPECT_EQ(test, xe_vm_export_ioctl(&ctx->xe->drm, &args, ctx->file), -EINVAL);
	KUNIT_EXPECT_NULL(test, vm->export.export);
	KUNIT_EXPECT_EQ(test, vm_destroy(ctx, id), 0);
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
	KUNIT_EXPECT_EQ(test, vm_destroy(ctx, id + 1), -ENOENT);
	KUNIT_EXPECT_EQ(test, vm_destroy(ctx, id), 0);
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
	KUNIT_EXPECT_EQ(test, vm_destroy(ctx, id), 0);
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
	KUNIT_EXPECT_EQ(test, vm_destroy(ctx, id), 0);
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

	KUNIT_EXPECT_EQ(test, vm_destroy(ctx, id), 0);
	KUNIT_EXPECT_EQ(test, export_publish(ctx->xe, ctx->xef, exp), -ENOENT);
	KUNIT_EXPECT_NULL(test, vm->export.export);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 0);
	xe_vm_put(export_claim_vm(exp));
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
	KUNIT_EXPECT_EQ(test, vm_destroy(ctx, id), 0);
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
	KUNIT_EXPECT_EQ(test, kref_read(&vm->gpuvm.kref), 2);
	KUNIT_EXPECT_EQ(test, vm_destroy(ctx, id), 0);
	/* the close detached the export: the fd keeps nothing of the VM */
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 1);
	KUNIT_EXPECT_PTR_EQ(test, xe_vm_import_get(NULL, fd), ERR_PTR(-ENOENT));
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

	dev_refs = kref_read(&ctx->xe->drm.ref);
	vm = vm_create_assert(test, XE_VM_FLAG_LR_MODE | XE_VM_FLAG_SCRATCH_PAGE |
			      XE_VM_FLAG_64K, &id);
	/* the VM's resv object holds the device, until the VM's free */
	KUNIT_EXPECT_EQ(test, kref_read(&ctx->xe->drm.ref), ++dev_refs);
	KUNIT_ASSERT_EQ(test, do_export(ctx, id, &fd), 0);
	/* an exported VM keeps its device until xe_vm_export_vm_free() */
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
	/* imports hold the VM, which holds the device: no reference of theirs */
	KUNIT_EXPECT_EQ(test, kref_read(&ctx->xe->drm.ref), dev_refs + 1);
	xe_vm_import_put(imp2);
	KUNIT_EXPECT_EQ(test, atomic_read(&vm->export.imports), 1);
	xe_vm_import_put(NULL);

	close_sync(fd);
	KUNIT_EXPECT_EQ(test, vm_destroy(ctx, id), 0);
	KUNIT_EXPECT_TRUE(test, xe_vm_import_is_closed(imp));
	KUNIT_EXPECT_EQ(test, xe_vm_import_asid(imp), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 0);
	/* the import keeps the VM, and the VM its device */
	KUNIT_EXPECT_EQ(test, kref_read(&ctx->xe->drm.ref), dev_refs + 1);
	xe_vm_import_put(imp);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 1);
	KUNIT_EXPECT_EQ(test, kref_read(&ctx->xe->drm.ref), dev_refs - 1);
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
	file_close(ctx);
	KUNIT_EXPECT_PTR_EQ(test, xe_vm_import_get(NULL, fd), ERR_PTR(-ENOENT));
	/* detached: the open fd kept nothing of the VM */
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 1);
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
	KUNIT_EXPECT_EQ(test, vm_destroy(ctx, id), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 1);
}

struct stray {
	struct file *file;
	struct mm_struct *mm;
	struct xe_vm_import *imp;
	struct completion imported, exit, done;
};

static int stray_fn(void *data)
{
	struct stray *c = data;
	int fd;

	/* an fd of its own, in another address space: importing is refused */
	kthread_use_mm(c->mm);
	fd = get_unused_fd_flags(O_CLOEXEC);
	if (fd >= 0) {
		fd_install(fd, get_file(c->file));
		c->imp = xe_vm_import_get(NULL, fd);
		close_sync(fd);
	} else {
		c->imp = ERR_PTR(fd);
	}
	kthread_unuse_mm(c->mm);
	complete(&c->imported);
	/* then only the file: what an SCM_RIGHTS message in flight holds */
	wait_for_completion(&c->exit);
	fput(c->file);
	flush_delayed_fput();
	complete(&c->done);
	return 0;
}

/*
 * Another task holds the export file, outside the owner's fd table (a fork
 * child's copy, an SCM_RIGHTS receiver or message in flight, pidfd_getfd()
 * all look like this to the owner; kthreads share one fd table, so the
 * holder keeps a file reference, not an fd). It cannot import (another
 * address space); once the owner closed its own fd, the owner re-exports
 * (no EEXIST: the stray export is replaced and detached), registers and
 * destroys as if alone, and the VM is freed while the stray file lives on.
 */
static void stray_file_holder(struct kunit *test)
{
	struct ve_ctx *ctx = test->priv;
	struct xe_vm_export *stray_exp;
	struct importer ti = {};
	struct task_struct *task;
	struct xe_vm *vm;
	struct stray *c;
	int fd, fd2;
	u32 id;

	c = kunit_kzalloc(test, sizeof(*c), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, c);
	init_completion(&c->imported);
	init_completion(&c->exit);
	init_completion(&c->done);
	c->mm = mm_alloc();
	KUNIT_ASSERT_NOT_NULL(test, c->mm);

	vm = vm_create_assert(test, 0, &id);
	KUNIT_ASSERT_EQ(test, do_export(ctx, id, &fd), 0);
	c->file = fget(fd);
	KUNIT_ASSERT_NOT_NULL(test, c->file);
	stray_exp = c->file->private_data;
	task = kthread_run(stray_fn, c, "xe_vm_export_stray");
	KUNIT_ASSERT_FALSE(test, IS_ERR(task));
	wait_for_completion(&c->imported);
	KUNIT_EXPECT_PTR_EQ(test, c->imp, ERR_PTR(-EPERM));

	/* the owner still holds its fd: one live export */
	KUNIT_EXPECT_EQ(test, do_export(ctx, id, &fd2), -EEXIST);
	flush_delayed_fput();
	close_sync(fd);
	/* the owner let go: its new export replaces the stray one */
	KUNIT_ASSERT_EQ(test, do_export(ctx, id, &fd2), 0);
	KUNIT_EXPECT_NULL(test, stray_exp->vm);
	KUNIT_EXPECT_PTR_NE(test, vm->export.export, stray_exp);
	KUNIT_EXPECT_EQ(test, kref_read(&vm->gpuvm.kref), 2);

	importer_start(test, &ti, fd2);
	close_sync(fd2);
	KUNIT_EXPECT_EQ(test, vm_destroy(ctx, id), 0);
	expect_revoked_once(test, &ti);
	xe_vm_import_put(ti.imp);
	/* freed, device reference included, while the stray file lives */
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 1);

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
	KUNIT_EXPECT_EQ(test, vm_destroy(ctx, iv.id), 0);
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
	KUNIT_EXPECT_EQ(test, vm_destroy(ctx, iv.id), 0);
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

	KUNIT_EXPECT_EQ(test, vm_destroy(ctx, id), 0);
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

	file_close(ctx);
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
	xe_vm_export_vm_close(iv.vm);
	KUNIT_EXPECT_PTR_EQ(test, xa_load(&ctx->xef->vm.xa, iv.id), iv.vm);
	KUNIT_EXPECT_NE(test, iv.vm->size, 0);
	KUNIT_EXPECT_EQ(test, xe_vm_import_register(iv.imp, &importer_ops, &ti), -ENOENT);
	KUNIT_EXPECT_TRUE(test, xe_vm_import_is_closed(iv.imp));
	/* nor can the VM be exported again */
	close_sync(iv.fd);
	KUNIT_EXPECT_EQ(test, do_export(ctx, iv.id, &iv.fd), -ENOENT);
	/* the refused export's file is released (deferred in a kthread) */
	flush_delayed_fput();
	file_close(ctx);
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

	xe_vm_export_device_remove(ctx->xe);
	for (i = 0; i < 2; i++)
		expect_revoked_once(test, &ti[i]);
	KUNIT_EXPECT_EQ(test, xe_vm_import_register(late, &importer_ops, &ti[1]),
			-ENOENT);
	KUNIT_EXPECT_TRUE(test, xe_vm_import_is_closed(late));

	/* the VMs' own close later calls nobody again */
	file_close(ctx);
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

	xe_vm_export_device_wedged(ctx->xe);
	flush_work(&ctx->xe->vm_export.wedge_work);
	/* each import's callback runs in a work item of its own */
	wait_for_completion(&ti.imp->revoked);
	expect_revoked_once(test, &ti);

	KUNIT_EXPECT_EQ(test, vm_destroy(ctx, id), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ti.revokes), 1);
	/* remove after wedge: nothing left to tell */
	xe_vm_export_device_remove(ctx->xe);
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

	op->err = vm_destroy(op->ctx, op->id);
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

	xe_vm_export_device_remove(op->ctx->xe);
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
	KUNIT_EXPECT_TRUE(test, asid_is(ctx->xe, ti.asid, vm));

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
	KUNIT_EXPECT_EQ(test, vm_destroy(ctx, id), 0);
	expect_revoked_once(test, &ti);
	xe_vm_import_put(ti.imp);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 1);
}

/* Wait for @c at most 10 s; false if it did not complete. */
static bool wait_done(struct completion *c)
{
	return wait_for_completion_timeout(c, 10 * HZ);
}

/*
 * A callback stuck on VM A (in a device revocation) delays neither the
 * destroy of VM B nor B's revocation; the removal waits for A's callback,
 * and so does A's own destroy.
 */
static void stuck_callback_other_vm(struct kunit *test)
{
	struct ve_ctx *ctx = test->priv;
	struct async_op remove = { .ctx = ctx }, destroy_a = { .ctx = ctx };
	struct async_op destroy_b = { .ctx = ctx };
	DECLARE_COMPLETION_ONSTACK(entered);
	DECLARE_COMPLETION_ONSTACK(go);
	struct importer ta = { .entered = &entered, .go = &go }, tb = {};
	struct imported_vm a, b;

	imported_vm_assert(test, &a);
	imported_vm_assert(test, &b);
	importer_start(test, &ta, a.fd);
	importer_start(test, &tb, b.fd);
	close_sync(a.fd);
	close_sync(b.fd);

	async_start(test, &remove, async_remove_fn, "remove");
	KUNIT_ASSERT_TRUE(test, wait_done(&entered));

	/* B: revoked by its own work item, destroyed while A is stuck */
	destroy_b.id = b.id;
	async_start(test, &destroy_b, async_destroy_fn, "destroy_b");
	KUNIT_EXPECT_TRUE(test, wait_done(&destroy_b.done));
	KUNIT_EXPECT_EQ(test, destroy_b.err, 0);
	expect_revoked_once(test, &tb);
	xe_vm_import_put(tb.imp);
	xe_vm_import_put(b.imp);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 1);

	/* A's destroy and the removal wait for A's callback */
	destroy_a.id = a.id;
	async_start(test, &destroy_a, async_destroy_fn, "destroy_a");
	msleep(100);
	KUNIT_EXPECT_FALSE(test, completion_done(&remove.done));
	KUNIT_EXPECT_FALSE(test, completion_done(&destroy_a.done));
	KUNIT_EXPECT_TRUE(test, asid_is(ctx->xe, ta.asid, a.vm));

	complete(&go);
	KUNIT_EXPECT_TRUE(test, wait_done(&remove.done));
	KUNIT_EXPECT_TRUE(test, wait_done(&destroy_a.done));
	KUNIT_EXPECT_EQ(test, destroy_a.err, 0);
	expect_revoked_once(test, &ta);
	xe_vm_import_put(ta.imp);
	xe_vm_import_put(a.imp);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 2);
}

/*
 * The removal racing a VM close: the callback the close runs is in flight
 * on the device, and the removal returns only after it returned.
 */
static void remove_races_close(struct kunit *test)
{
	struct ve_ctx *ctx = test->priv;
	struct async_op remove = { .ctx = ctx }, destroy = { .ctx = ctx };
	DECLARE_COMPLETION_ONSTACK(entered);
	DECLARE_COMPLETION_ONSTACK(go);
	struct importer ti = { .entered = &entered, .go = &go };
	struct imported_vm iv;

	imported_vm_assert(test, &iv);
	importer_start(test, &ti, iv.fd);
	close_sync(iv.fd);

	destroy.id = iv.id;
	async_start(test, &destroy, async_destroy_fn, "destroy");
	KUNIT_ASSERT_TRUE(test, wait_done(&entered));
	async_start(test, &remove, async_remove_fn, "remove");
	msleep(100);
	KUNIT_EXPECT_FALSE(test, completion_done(&remove.done));
	KUNIT_EXPECT_FALSE(test, completion_done(&destroy.done));

	complete(&go);
	KUNIT_EXPECT_TRUE(test, wait_done(&remove.done));
	KUNIT_EXPECT_TRUE(test, wait_done(&destroy.done));
	KUNIT_EXPECT_EQ(test, destroy.err, 0);
	expect_revoked_once(test, &ti);
	xe_vm_import_put(ti.imp);
	xe_vm_import_put(iv.imp);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 1);
}

/*
 * Put and unregister wait for their own import's callback only: with a
 * sibling import's callback stuck, an import whose callback returned is
 * put at once, and a registered one unregistered at once.
 */
static void put_waits_for_own(struct kunit *test)
{
	struct ve_ctx *ctx = test->priv;
	struct async_op remove = { .ctx = ctx }, put = { .ctx = ctx };
	DECLARE_COMPLETION_ONSTACK(entered);
	DECLARE_COMPLETION_ONSTACK(go);
	struct importer stuck = { .entered = &entered, .go = &go }, quick = {};
	struct imported_vm iv;

	imported_vm_assert(test, &iv);
	importer_start(test, &stuck, iv.fd);
	importer_start(test, &quick, iv.fd);
	close_sync(iv.fd);

	async_start(test, &remove, async_remove_fn, "remove");
	KUNIT_ASSERT_TRUE(test, wait_done(&entered));
	KUNIT_ASSERT_TRUE(test, wait_done(&quick.imp->revoked));
	/* the sibling's callback returned: its put does not wait for @stuck */
	put.imp = quick.imp;
	async_start(test, &put, async_put_fn, "put");
	KUNIT_EXPECT_TRUE(test, wait_done(&put.done));
	KUNIT_EXPECT_EQ(test, atomic_read(&quick.revokes), 1);
	/* the stuck import's own put waits */
	put.imp = stuck.imp;
	async_start(test, &put, async_put_fn, "put_stuck");
	msleep(100);
	KUNIT_EXPECT_FALSE(test, completion_done(&put.done));

	complete(&go);
	KUNIT_EXPECT_TRUE(test, wait_done(&put.done));
	KUNIT_EXPECT_TRUE(test, wait_done(&remove.done));
	KUNIT_EXPECT_EQ(test, atomic_read(&stuck.revokes), 1);
	KUNIT_EXPECT_EQ(test, vm_destroy(ctx, iv.id), 0);
	xe_vm_import_put(iv.imp);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 1);
}

static const struct xe_vm_import_ops owned_ops = {
	.owner = THIS_MODULE,
	.revoke = importer_revoke,
};

/* The registration holds the callbacks' module, until it ends. */
static void owner_ref(struct kunit *test)
{
	struct ve_ctx *ctx = test->priv;
	struct module *mod = owned_ops.owner;
	struct importer ti = { .ctx = ctx };
	struct imported_vm iv;
	unsigned int refs;

	if (!IS_ENABLED(CONFIG_MODULE_UNLOAD) || !mod)
		kunit_skip(test, "xe is built in or modules cannot unload");

	imported_vm_assert(test, &iv);
	close_sync(iv.fd);
	ti.imp = iv.imp;
	ti.asid = xe_vm_import_asid(iv.imp);
	refs = module_refcount(mod);

	KUNIT_ASSERT_EQ(test, xe_vm_import_register(iv.imp, &owned_ops, &ti), 0);
	KUNIT_EXPECT_EQ(test, module_refcount(mod), refs + 1);
	KUNIT_EXPECT_EQ(test, xe_vm_import_register(iv.imp, &owned_ops, &ti), -EALREADY);
	KUNIT_EXPECT_EQ(test, module_refcount(mod), refs + 1);
	xe_vm_import_unregister(iv.imp);
	KUNIT_EXPECT_EQ(test, module_refcount(mod), refs);

	/* ended by the revocation: dropped once the callback returned */
	KUNIT_ASSERT_EQ(test, xe_vm_import_register(iv.imp, &owned_ops, &ti), 0);
	KUNIT_EXPECT_EQ(test, vm_destroy(ctx, iv.id), 0);
	expect_revoked_once(test, &ti);
	KUNIT_EXPECT_EQ(test, module_refcount(mod), refs);
	xe_vm_import_put(iv.imp);
	KUNIT_EXPECT_EQ(test, module_refcount(mod), refs);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 1);
}

/* A test importer with an invalidate callback: records what it was told. */
struct inval_importer {
	struct importer ti;
	atomic_t calls;
	u64 start, end;
	struct xe_vm_import *seen_imp;
	/* set when the callback ran after its registration ended */
	bool after_end;
	bool ended;
	/* when set, the callback waits for @go after completing @entered */
	struct completion *entered, *go;
};

static void inval_revoke(struct xe_vm_import *imp, void *priv)
{
	struct inval_importer *ii = container_of(priv, struct inval_importer, ti);

	importer_revoke(imp, priv);
	WRITE_ONCE(ii->ended, true);
}

static void inval_range(struct xe_vm_import *imp, u64 start, u64 end,
			void *priv)
{
	struct inval_importer *ii = container_of(priv, struct inval_importer, ti);

	if (READ_ONCE(ii->ended))
		ii->after_end = true;
	ii->seen_imp = imp;
	ii->start = start;
	ii->end = end;
	if (ii->entered) {
		complete(ii->entered);
		wait_for_completion(ii->go);
	}
	atomic_inc(&ii->calls);
}

static const struct xe_vm_import_ops inval_ops = {
	.owner = THIS_MODULE,
	.revoke = inval_revoke,
	.invalidate_range = inval_range,
};

/* Import through @fd and register @ii with the invalidate callback. */
static void inval_start(struct kunit *test, struct inval_importer *ii, int fd)
{
	ii->ti.ctx = test->priv;
	ii->ti.imp = import_assert(test, fd);
	ii->ti.asid = xe_vm_import_asid(ii->ti.imp);
	KUNIT_ASSERT_NE(test, ii->ti.asid, 0);
	KUNIT_ASSERT_EQ(test, xe_vm_import_register(ii->ti.imp, &inval_ops,
						    &ii->ti), 0);
}

/*
 * The invalidate callback gets the range of its own VM, with its import
 * and its argument; the importers of other VMs and those without the
 * callback are not called; a VM never exported calls nothing.
 */
static void invalidate_range(struct kunit *test)
{
	struct ve_ctx *ctx = test->priv;
	struct inval_importer a = {}, b = {};
	struct importer plain = {};
	struct xe_vm *vm_a, *vm_b, *vm_c;
	int fd_a, fd_b;
	u32 id_a, id_b, id_c;

	vm_a = vm_create_assert(test, 0, &id_a);
	vm_b = vm_create_assert(test, 0, &id_b);
	vm_c = vm_create_assert(test, 0, &id_c);
	KUNIT_ASSERT_EQ(test, do_export(ctx, id_a, &fd_a), 0);
	KUNIT_ASSERT_EQ(test, do_export(ctx, id_b, &fd_b), 0);
	inval_start(test, &a, fd_a);
	inval_start(test, &b, fd_b);
	importer_start(test, &plain, fd_a);
	close_sync(fd_a);
	close_sync(fd_b);

	xe_vm_export_vm_invalidate(vm_a, 0x10000, 0x30000);
	KUNIT_EXPECT_EQ(test, atomic_read(&a.calls), 1);
	KUNIT_EXPECT_EQ(test, a.start, 0x10000);
	KUNIT_EXPECT_EQ(test, a.end, 0x30000);
	KUNIT_EXPECT_PTR_EQ(test, a.seen_imp, a.ti.imp);
	KUNIT_EXPECT_EQ(test, atomic_read(&b.calls), 0);

	xe_vm_export_vm_invalidate(vm_b, 0, 1ull << 40);
	KUNIT_EXPECT_EQ(test, atomic_read(&a.calls), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&b.calls), 1);
	KUNIT_EXPECT_EQ(test, b.start, 0);
	KUNIT_EXPECT_EQ(test, b.end, 1ull << 40);

	/* never exported: nothing to tell */
	xe_vm_export_vm_invalidate(vm_c, 0, 0x1000);
	KUNIT_EXPECT_EQ(test, atomic_read(&a.calls) + atomic_read(&b.calls), 2);
	KUNIT_EXPECT_EQ(test, atomic_read(&plain.revokes), 0);

	KUNIT_EXPECT_EQ(test, vm_destroy(ctx, id_a), 0);
	KUNIT_EXPECT_EQ(test, vm_destroy(ctx, id_b), 0);
	KUNIT_EXPECT_EQ(test, vm_destroy(ctx, id_c), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&a.ti.revokes), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&b.ti.revokes), 1);
	KUNIT_EXPECT_FALSE(test, a.after_end);
	KUNIT_EXPECT_FALSE(test, b.after_end);
	xe_vm_import_put(a.ti.imp);
	xe_vm_import_put(b.ti.imp);
	xe_vm_import_put(plain.imp);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 3);
}

/*
 * No invalidate callback once the registration ended: after unregister,
 * and after (or during) the revocation of the VM's close; a registration
 * again is told again. The registration holds the module of the ops.
 */
static void invalidate_after_end(struct kunit *test)
{
	struct ve_ctx *ctx = test->priv;
	struct module *mod = inval_ops.owner;
	struct inval_importer ii = {};
	struct imported_vm iv;
	unsigned int refs = 0;

	imported_vm_assert(test, &iv);
	close_sync(iv.fd);
	ii.ti.ctx = ctx;
	ii.ti.imp = iv.imp;
	ii.ti.asid = xe_vm_import_asid(iv.imp);
	if (mod)
		refs = module_refcount(mod);

	KUNIT_ASSERT_EQ(test, xe_vm_import_register(iv.imp, &inval_ops, &ii.ti), 0);
	if (mod)
		KUNIT_EXPECT_EQ(test, module_refcount(mod), refs + 1);
	xe_vm_export_vm_invalidate(iv.vm, 0, 0x1000);
	KUNIT_EXPECT_EQ(test, atomic_read(&ii.calls), 1);
	xe_vm_import_unregister(iv.imp);
	if (mod)
		KUNIT_EXPECT_EQ(test, module_refcount(mod), refs);
	xe_vm_export_vm_invalidate(iv.vm, 0, 0x1000);
	KUNIT_EXPECT_EQ(test, atomic_read(&ii.calls), 1);

	KUNIT_ASSERT_EQ(test, xe_vm_import_register(iv.imp, &inval_ops, &ii.ti), 0);
	xe_vm_export_vm_invalidate(iv.vm, 0x2000, 0x3000);
	KUNIT_EXPECT_EQ(test, atomic_read(&ii.calls), 2);
	KUNIT_EXPECT_EQ(test, ii.start, 0x2000);

	/* revoked by the VM's close: the import still holds the VM */
	KUNIT_EXPECT_EQ(test, vm_destroy(ctx, iv.id), 0);
	expect_revoked_once(test, &ii.ti);
	if (mod)
		KUNIT_EXPECT_EQ(test, module_refcount(mod), refs);
	xe_vm_export_vm_invalidate(iv.vm, 0, 0x1000);
	KUNIT_EXPECT_EQ(test, atomic_read(&ii.calls), 2);
	KUNIT_EXPECT_FALSE(test, ii.after_end);
	xe_vm_import_put(iv.imp);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 1);
}

struct async_inval {
	struct xe_vm *vm;
	struct completion done;
};

static int async_inval_fn(void *data)
{
	struct async_inval *op = data;

	xe_vm_export_vm_invalidate(op->vm, 0x4000, 0x5000);
	complete(&op->done);
	return 0;
}

/*
 * An invalidation in flight: unregister, and the revocation of the VM's
 * close, wait for it to return; neither revoke nor a later invalidate
 * callback overlaps it.
 */
static void invalidate_in_flight(struct kunit *test)
{
	struct ve_ctx *ctx = test->priv;
	DECLARE_COMPLETION_ONSTACK(entered);
	DECLARE_COMPLETION_ONSTACK(go);
	struct inval_importer ii = { .entered = &entered, .go = &go };
	struct async_op unreg = { .ctx = ctx }, destroy = { .ctx = ctx };
	struct async_inval inval;
	struct task_struct *task;
	struct imported_vm iv;
	u32 first_id;

	imported_vm_assert(test, &iv);
	first_id = iv.id;
	close_sync(iv.fd);
	ii.ti.ctx = ctx;
	ii.ti.imp = iv.imp;
	ii.ti.asid = xe_vm_import_asid(iv.imp);
	KUNIT_ASSERT_EQ(test, xe_vm_import_register(iv.imp, &inval_ops, &ii.ti), 0);

	/* unregister waits for the callback in flight */
	inval.vm = iv.vm;
	init_completion(&inval.done);
	task = kthread_run(async_inval_fn, &inval, "xe_vm_export_inval");
	KUNIT_ASSERT_FALSE(test, IS_ERR(task));
	KUNIT_ASSERT_TRUE(test, wait_done(&entered));
	unreg.imp = iv.imp;
	async_start(test, &unreg, async_put_fn, "put");
	msleep(100);
	KUNIT_EXPECT_FALSE(test, completion_done(&unreg.done));
	complete(&go);
	KUNIT_EXPECT_TRUE(test, wait_done(&unreg.done));
	KUNIT_EXPECT_TRUE(test, wait_done(&inval.done));
	KUNIT_EXPECT_EQ(test, atomic_read(&ii.calls), 1);

	/* the VM's close waits for it before the revoke callback */
	memset(&ii, 0, sizeof(ii));
	reinit_completion(&entered);
	reinit_completion(&go);
	ii.entered = &entered;
	ii.go = &go;
	imported_vm_assert(test, &iv);
	close_sync(iv.fd);
	ii.ti.ctx = ctx;
	ii.ti.imp = iv.imp;
	ii.ti.asid = xe_vm_import_asid(iv.imp);
	KUNIT_ASSERT_EQ(test, xe_vm_import_register(iv.imp, &inval_ops, &ii.ti), 0);
	inval.vm = iv.vm;
	reinit_completion(&inval.done);
	task = kthread_run(async_inval_fn, &inval, "xe_vm_export_inval");
	KUNIT_ASSERT_FALSE(test, IS_ERR(task));
	KUNIT_ASSERT_TRUE(test, wait_done(&entered));
	destroy.id = iv.id;
	async_start(test, &destroy, async_destroy_fn, "destroy");
	msleep(100);
	KUNIT_EXPECT_FALSE(test, completion_done(&destroy.done));
	KUNIT_EXPECT_EQ(test, atomic_read(&ii.ti.revokes), 0);
	complete(&go);
	KUNIT_EXPECT_TRUE(test, wait_done(&destroy.done));
	KUNIT_EXPECT_TRUE(test, wait_done(&inval.done));
	KUNIT_EXPECT_EQ(test, destroy.err, 0);
	expect_revoked_once(test, &ii.ti);
	KUNIT_EXPECT_EQ(test, atomic_read(&ii.calls), 1);
	KUNIT_EXPECT_FALSE(test, ii.after_end);
	xe_vm_import_put(iv.imp);
	KUNIT_EXPECT_EQ(test, vm_destroy(ctx, first_id), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 2);
}

/*
 * 6.12's bind path knows the VM by its ASID: the ASID's VM's importers are
 * told, those of other VMs not; an ASID without VM is ignored.
 */
static void invalidate_by_asid(struct kunit *test)
{
	struct ve_ctx *ctx = test->priv;
	struct inval_importer a = {}, b = {};
	struct imported_vm va, vb;
	u32 asid_a;

	imported_vm_assert(test, &va);
	imported_vm_assert(test, &vb);
	inval_start(test, &a, va.fd);
	inval_start(test, &b, vb.fd);
	close_sync(va.fd);
	close_sync(vb.fd);
	asid_a = a.ti.asid;

	xe_vm_export_asid_invalidate(ctx->xe, asid_a, 0x7000, 0x9000);
	KUNIT_EXPECT_EQ(test, atomic_read(&a.calls), 1);
	KUNIT_EXPECT_EQ(test, a.start, 0x7000);
	KUNIT_EXPECT_EQ(test, a.end, 0x9000);
	KUNIT_EXPECT_EQ(test, atomic_read(&b.calls), 0);
	/* a fresh device handed out two ASIDs: ASID_MAX names no VM */
	KUNIT_ASSERT_NE(test, asid_a, ASID_MAX);
	KUNIT_ASSERT_NE(test, b.ti.asid, ASID_MAX);
	xe_vm_export_asid_invalidate(ctx->xe, ASID_MAX, 0, 0x1000);
	KUNIT_EXPECT_EQ(test, atomic_read(&a.calls) + atomic_read(&b.calls), 1);

	/* once the VM is closed its ASID names no VM: nothing is told */
	KUNIT_EXPECT_EQ(test, vm_destroy(ctx, va.id), 0);
	xe_vm_export_asid_invalidate(ctx->xe, asid_a, 0, 0x1000);
	KUNIT_EXPECT_EQ(test, atomic_read(&a.calls), 1);
	KUNIT_EXPECT_FALSE(test, a.after_end);

	KUNIT_EXPECT_EQ(test, vm_destroy(ctx, vb.id), 0);
	xe_vm_import_put(a.ti.imp);
	xe_vm_import_put(b.ti.imp);
	xe_vm_import_put(va.imp);
	xe_vm_import_put(vb.imp);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 2);
}

static int async_unregister_fn(void *data)
{
	struct async_op *op = data;

	xe_vm_import_unregister(op->imp);
	complete(&op->done);
	return 0;
}

/*
 * Whether @op returned in time while an invalidate callback waits for @go;
 * if not, releases the callback and waits for @op, so that a failure
 * neither hangs the suite nor leaves @op running.
 */
static bool done_before_release(struct async_op *op, struct completion *go)
{
	if (wait_done(&op->done))
		return true;
	complete_all(go);
	wait_for_completion(&op->done);
	return false;
}

/*
 * The grace period is per VM: while an invalidate callback of VM A is
 * stuck, the unregistration and the put of an invalidating import of VM B
 * on the same device return, and so does B's close, which revokes one;
 * the put of A's import waits for A's callback.
 */
static void invalidate_stuck_other_vm(struct kunit *test)
{
	struct ve_ctx *ctx = test->priv;
	DECLARE_COMPLETION_ONSTACK(entered);
	DECLARE_COMPLETION_ONSTACK(go);
	struct inval_importer a = { .entered = &entered, .go = &go };
	struct inval_importer b = {}, b2 = {};
	struct async_op unreg = { .ctx = ctx }, put = { .ctx = ctx };
	struct async_op destroy = { .ctx = ctx }, put_a = { .ctx = ctx };
	struct async_inval inval;
	struct task_struct *task;
	struct imported_vm va, vb;

	imported_vm_assert(test, &va);
	imported_vm_assert(test, &vb);
	inval_start(test, &a, va.fd);
	inval_start(test, &b, vb.fd);
	inval_start(test, &b2, vb.fd);
	close_sync(va.fd);
	close_sync(vb.fd);

	inval.vm = va.vm;
	init_completion(&inval.done);
	task = kthread_run(async_inval_fn, &inval, "xe_vm_export_inval");
	KUNIT_ASSERT_FALSE(test, IS_ERR(task));
	KUNIT_ASSERT_TRUE(test, wait_done(&entered));

	/* A's callback is stuck: B's registrations end all the same */
	unreg.imp = b.ti.imp;
	async_start(test, &unreg, async_unregister_fn, "unregister");
	KUNIT_EXPECT_TRUE(test, done_before_release(&unreg, &go));
	KUNIT_EXPECT_EQ(test, xe_vm_import_register(b.ti.imp, &inval_ops,
						    &b.ti), 0);
	xe_vm_export_vm_invalidate(vb.vm, 0, 0x1000);
	KUNIT_EXPECT_EQ(test, atomic_read(&b.calls), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&b2.calls), 1);
	put.imp = b.ti.imp;
	async_start(test, &put, async_put_fn, "put");
	KUNIT_EXPECT_TRUE(test, done_before_release(&put, &go));
	destroy.id = vb.id;
	async_start(test, &destroy, async_destroy_fn, "destroy");
	KUNIT_EXPECT_TRUE(test, done_before_release(&destroy, &go));
	KUNIT_EXPECT_EQ(test, destroy.err, 0);
	expect_revoked_once(test, &b2.ti);

	/* A's own put waits for A's callback */
	put_a.imp = a.ti.imp;
	async_start(test, &put_a, async_put_fn, "put");
	msleep(100);
	KUNIT_EXPECT_FALSE(test, completion_done(&put_a.done));
	complete_all(&go);
	KUNIT_EXPECT_TRUE(test, wait_done(&put_a.done));
	KUNIT_EXPECT_TRUE(test, wait_done(&inval.done));
	KUNIT_EXPECT_EQ(test, atomic_read(&a.calls), 1);
	KUNIT_EXPECT_FALSE(test, a.after_end);
	KUNIT_EXPECT_FALSE(test, b.after_end);
	KUNIT_EXPECT_FALSE(test, b2.after_end);

	KUNIT_EXPECT_EQ(test, vm_destroy(ctx, va.id), 0);
	xe_vm_import_put(b2.ti.imp);
	xe_vm_import_put(va.imp);
	xe_vm_import_put(vb.imp);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 2);
}

/* Orders of the unbind and of the last references' drops. */
enum unbind_step { STEP_UNBIND, STEP_FILE, STEP_IMPORT, STEP_EXPORT };

struct unbind_order {
	const char *name;
	enum unbind_step step[4];
};

static const struct unbind_order unbind_orders[] = {
	{ "unbind-file-import-export",
	  { STEP_UNBIND, STEP_FILE, STEP_IMPORT, STEP_EXPORT } },
	{ "file-unbind-export-import",
	  { STEP_FILE, STEP_UNBIND, STEP_EXPORT, STEP_IMPORT } },
};

static void unbind_order_desc(const struct unbind_order *o, char *desc)
{
	strscpy(desc, o->name, KUNIT_PARAM_DESC_SIZE);
}

KUNIT_ARRAY_PARAM(unbind_order, unbind_orders, unbind_order_desc);

static const struct drm_driver unbind_driver = {
	.driver_features = DRIVER_GEM,
};

static void count_release(struct drm_device *drm, void *arg)
{
	atomic_inc(arg);
}

/*
 * Unbind with the last references held by the export and the import: a
 * device of its own, released by the unbind (its devres) and the VM's
 * free, which runs from a work item as xe's does and uses the device
 * before the hook drops the device's last reference. The device is
 * released exactly once, after the VM's free.
 */
static void unbind_last_references(struct kunit *test)
{
	const struct unbind_order *param = test->param_value;
	struct importer ti = {};
	struct xe_device *xe;
	struct ve_ctx *ctx;
	struct device *dev;
	atomic_t *released;
	int i, fd;
	u32 id;

	released = kunit_kzalloc(test, sizeof(*released), GFP_KERNEL);
	ctx = kunit_kzalloc(test, sizeof(*ctx), GFP_KERNEL);
	KUNIT_ASSERT_NOT_NULL(test, released);
	KUNIT_ASSERT_NOT_NULL(test, ctx);
	dev = kunit_device_register(test, "xe_vm_export_unbind");
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, dev);
	/* a driver that outlives the device, as xe's static one does */
	xe = drm_kunit_helper_alloc_drm_device_with_driver(test, dev, struct xe_device,
							   drm, &unbind_driver);
	KUNIT_ASSERT_NOT_ERR_OR_NULL(test, xe);
	xe->info.va_bits = 48;
	ve_ctx_init(test, ctx, xe);
	KUNIT_ASSERT_EQ(test, drmm_add_action(&xe->drm, count_release, released), 0);
	ctx->released = released;
	ctx->free_wq = alloc_ordered_workqueue("xe_vm_export_free", 0);
	KUNIT_ASSERT_NOT_NULL(test, ctx->free_wq);

	KUNIT_ASSERT_NOT_NULL(test, fake_vm_create(ctx, 0, &id));
	KUNIT_ASSERT_EQ(test, do_export(ctx, id, &fd), 0);
	ti.ctx = ctx;
	ti.imp = import_assert(test, fd);
	ti.asid = xe_vm_import_asid(ti.imp);
	KUNIT_ASSERT_EQ(test, xe_vm_import_register(ti.imp, &importer_ops, &ti), 0);

	for (i = 0; i < ARRAY_SIZE(param->step); i++) {
		switch (param->step[i]) {
		case STEP_UNBIND:
			xe_vm_export_device_remove(xe);
			/* the devres of the device: drops its first reference */
			kunit_device_unregister(test, dev);
			break;
		case STEP_FILE:
			file_close(ctx);
			break;
		case STEP_IMPORT:
			xe_vm_import_put(ti.imp);
			break;
		case STEP_EXPORT:
			close_sync(fd);
			break;
		}
		/* the VM holds the device (its last reference goes at step 3 or 4) */
		if (i < 2)
			KUNIT_EXPECT_EQ(test, atomic_read(released), 0);
	}
	flush_workqueue(ctx->free_wq);

	KUNIT_EXPECT_EQ(test, atomic_read(&ti.revokes), 1);
	KUNIT_EXPECT_TRUE(test, ti.asid_held);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 1);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->early_release), 0);
	KUNIT_EXPECT_EQ(test, atomic_read(released), 1);
	destroy_workqueue(ctx->free_wq);
	xa_destroy(&ctx->xef->vm.xa);
	mutex_destroy(&ctx->xef->vm.lock);
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
	KUNIT_EXPECT_EQ(test, vm_destroy(ctx, id), 0);
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
	bool file_closed = false, imp_put = false;
	struct ve_ctx *ctx = test->priv;
	struct importer ti = {};
	int i, fd;
	u32 id;

	vm_create_assert(test, 0, &id);
	KUNIT_ASSERT_EQ(test, do_export(ctx, id, &fd), 0);
	importer_start(test, &ti, fd);

	for (i = 0; i < ARRAY_SIZE(param->order); i++) {
		switch (param->order[i]) {
		case HOLDER_FILE:
			file_closed = true;
			file_close(ctx);
			break;
		case HOLDER_EXPORT:
			close_sync(fd);
			break;
		case HOLDER_IMPORT:
			imp_put = true;
			xe_vm_import_put(ti.imp);
			break;
		}
		/*
		 * Freed once the file's and the import's references are gone:
		 * the file's close detached the export.
		 */
		KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees),
				file_closed && imp_put ? 1 : 0);
	}

	/* told once if the file closed while the import was registered */
	KUNIT_EXPECT_EQ(test, atomic_read(&ti.revokes),
			param->order[0] == HOLDER_FILE ||
			(param->order[1] == HOLDER_FILE &&
			 param->order[0] != HOLDER_IMPORT) ? 1 : 0);
	KUNIT_EXPECT_EQ(test, atomic_read(&ctx->frees), 1);
}

static void module_ref(struct kunit *test)
{
	struct ve_ctx *ctx = test->priv;
	struct module *xe_mod = export_fops.owner;
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
	KUNIT_EXPECT_EQ(test, vm_destroy(ctx, id), 0);
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
	KUNIT_EXPECT_EQ(test, vm_exports_show(&m, NULL), 0);
	snprintf(line, sizeof(line), "\n%u %d 1 1\n", id, task_tgid_nr(current));
	KUNIT_EXPECT_NOT_NULL(test, strstr(m.buf, line));

	/* another device's file does not list this export */
	seq_reset(&m);
	m.private = other_xe;
	KUNIT_EXPECT_EQ(test, vm_exports_show(&m, NULL), 0);
	KUNIT_EXPECT_STREQ(test, m.buf, "vm_id pid registered imports\n");
	m.private = ctx->xe;

	xe_vm_import_put(ti.imp);
	close_sync(fd);

	seq_reset(&m);
	KUNIT_EXPECT_EQ(test, vm_exports_show(&m, NULL), 0);
	KUNIT_EXPECT_STREQ(test, m.buf, "vm_id pid registered imports\n");
	KUNIT_EXPECT_EQ(test, vm_destroy(ctx, id), 0);
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
	export_show_fdinfo(&m, file);
	snprintf(want, sizeof(want),
		 "xe_vm_id:\t%u\nxe_device:\t%s\nxe_exporter_pid:\t%d\nxe_vm_closed:\t0\n",
		 id, dev_name(ctx->xe->drm.dev), task_tgid_vnr(current));
	KUNIT_EXPECT_STREQ(test, m.buf, want);

	KUNIT_EXPECT_EQ(test, vm_destroy(ctx, id), 0);
	seq_reset(&m);
	export_show_fdinfo(&m, file);
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
	if (vm_destroy(ctx, id))
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
 * threads and seeds): xe.ko's parameter in KUnit builds, e.g.
 * ``insmod xe.ko xe_vm_export_stress_runs=20`` (the suite is part of xe.ko).
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
		if (vm_destroy(ctx, s->ids[i]))
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

	for (round = 0; round < BENCH_ROUNDS; round++) {
		memset(ns, 0, sizeof(ns));
		ns[BENCH_ANON] = bench_anon_inode(test, false);
		ns[BENCH_ANON_FD] = bench_anon_inode(test, true);
		bench_export(test, id, ns);
		for (step = 0; step < BENCH_STEPS; step++)
			best[step] = min(best[step], max_t(s64, ns[step], 1));
	}

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
	KUNIT_EXPECT_EQ(test, vm_destroy(ctx, id), 0);
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
	KUNIT_CASE(import_two_mms),
	KUNIT_CASE(stray_file_holder),
	KUNIT_CASE(register_errors),
	KUNIT_CASE(register_banned),
	KUNIT_CASE(revoke_on_destroy),
	KUNIT_CASE(revoke_on_file_close),
	KUNIT_CASE(register_races_close),
	KUNIT_CASE(revoke_on_remove),
	KUNIT_CASE(revoke_on_wedge),
	KUNIT_CASE(revoke_waits),
	KUNIT_CASE(revoke_slow),
	KUNIT_CASE(stuck_callback_other_vm),
	KUNIT_CASE(remove_races_close),
	KUNIT_CASE(put_waits_for_own),
	KUNIT_CASE(owner_ref),
	KUNIT_CASE(invalidate_range),
	KUNIT_CASE(invalidate_after_end),
	KUNIT_CASE(invalidate_in_flight),
	KUNIT_CASE(invalidate_by_asid),
	KUNIT_CASE(invalidate_stuck_other_vm),
	KUNIT_CASE_PARAM(unbind_last_references, unbind_order_gen_params),
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
