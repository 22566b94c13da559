// SPDX-License-Identifier: GPL-2.0-only
/*
 * Copyright © 2026 The xe-vm-export authors
 *
 * Sample auxiliary driver: imports an xe VM through the in-kernel API of
 * <drm/xe_vm_export.h>, exactly as a third-party driver built against the
 * installed xe-vm-export package would.
 */

#include <linux/atomic.h>
#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include <linux/workqueue.h>

#include <drm/xe_vm_export.h>

#include "xe_vm_export_aux.h"

/*
 * One open file is one "queue pair" of a NIC that translates through the
 * GPU VM's ASID. A real driver would program @asid into its hardware
 * context; this one only records it.
 */
struct aux_file {
	struct mutex lock;		/* protects the members below */
	struct xe_vm_import *imp;	/* registered import, or NULL */
	u32 asid;			/* the ASID the "hardware" uses, or 0 */
	bool closing;			/* release runs: no new put_work */
	bool revoked;			/* xe revoked the last import */
	struct work_struct put_work;	/* releases a revoked import */
	atomic64_t invalidations;	/* ranges xe told us to invalidate */
};

/* The import was revoked: drop it, outside the revoke callback. */
static void aux_put_work(struct work_struct *work)
{
	struct aux_file *af = container_of(work, struct aux_file, put_work);
	struct xe_vm_import *imp;

	mutex_lock(&af->lock);
	imp = af->imp;
	af->imp = NULL;
	mutex_unlock(&af->lock);

	xe_vm_import_put(imp);
}

/*
 * xe takes the VM's address space away (the owner destroyed the VM or
 * exited, the GPU is unbound or wedged). Before returning, make sure the
 * hardware no longer translates through the ASID: xe releases the ASID, and
 * may hand it to another process's VM, as soon as we return. A real driver
 * stops the queue pair, invalidates its translation caches for the ASID and
 * waits for that to complete here. The import itself (a reference to the VM
 * structure) is dropped later, from a work item: xe_vm_import_put() must not
 * be called from the callback.
 */
static void aux_revoke(struct xe_vm_import *imp, void *priv)
{
	struct aux_file *af = priv;

	mutex_lock(&af->lock);
	dev_info(xe_vm_import_device(imp), "xe_vm_export_aux: VM revoked, stopped using asid %u\n",
		 af->asid);
	af->asid = 0;
	af->revoked = true;
	if (!af->closing)
		schedule_work(&af->put_work);
	mutex_unlock(&af->lock);
}

/*
 * The VM's page tables changed for [start, end): a real driver invalidates
 * its own translation cache (its IOTLB) for that range of the ASID and
 * waits for the invalidation to complete before returning; the memory the
 * range mapped may be reused right after. xe calls this from its page-table
 * updates and from the core mm's MMU notifier: no allocation, and no lock
 * that is held while allocating (such as @af->lock, held across
 * xe_vm_import_get()). The sample counts the ranges, without a lock.
 */
static void aux_invalidate_range(struct xe_vm_import *imp, u64 start, u64 end,
				 void *priv)
{
	struct aux_file *af = priv;

	atomic64_inc(&af->invalidations);
}

static const struct xe_vm_import_ops aux_import_ops = {
	.owner = THIS_MODULE,
	.revoke = aux_revoke,
	.invalidate_range = aux_invalidate_range,
};

static int aux_open(struct inode *inode, struct file *file)
{
	struct aux_file *af;

	af = kzalloc(sizeof(*af), GFP_KERNEL);
	if (!af)
		return -ENOMEM;

	mutex_init(&af->lock);
	INIT_WORK(&af->put_work, aux_put_work);
	file->private_data = af;
	return 0;
}

static int aux_release(struct inode *inode, struct file *file)
{
	struct aux_file *af = file->private_data;

	struct xe_vm_import *imp;

	/*
	 * No ioctl runs any more. Once @closing is set no callback queues the
	 * work; one queued before runs to its end in flush_work(). What is
	 * left is ours to put, which unregisters the import and waits for a
	 * revoke callback in progress.
	 */
	mutex_lock(&af->lock);
	af->closing = true;
	mutex_unlock(&af->lock);
	flush_work(&af->put_work);

	mutex_lock(&af->lock);
	imp = af->imp;
	af->imp = NULL;
	mutex_unlock(&af->lock);
	xe_vm_import_put(imp);

	mutex_destroy(&af->lock);
	kfree(af);
	return 0;
}

static int aux_import(struct aux_file *af, struct xe_vm_export_aux_import *args)
{
	struct xe_vm_import *imp;
	int err;

	if (args->reserved[0] || args->reserved[1])
		return -EINVAL;
	if (af->imp)
		return -EBUSY;

	/* Not bound to a GPU: accept a VM of any xe device. */
	imp = xe_vm_import_get(NULL, args->fd);
	if (IS_ERR(imp))
		return PTR_ERR(imp);

	/* Registered before the ASID is read: from here on xe tells us. */
	err = xe_vm_import_register(imp, &aux_import_ops, af);
	if (err) {
		xe_vm_import_put(imp);
		return err;
	}

	args->flags = xe_vm_import_flags(imp);
	args->asid = xe_vm_import_asid(imp);
	args->va_bits = xe_vm_import_va_bits(imp);
	af->imp = imp;
	af->asid = args->asid;
	af->revoked = false;

	dev_dbg(xe_vm_import_device(imp), "xe_vm_export_aux: imported asid %u, %u VA bits, flags %#x\n",
		args->asid, args->va_bits, args->flags);
	return 0;
}

/* What a test sees of the file's import: live, revoked, or none yet. */
static long aux_state(struct aux_file *af, void __user *uargs)
{
	struct xe_vm_export_aux_state st = {};

	mutex_lock(&af->lock);
	if (af->revoked || (af->imp && xe_vm_import_is_closed(af->imp)))
		st.state = XE_VM_EXPORT_AUX_STATE_REVOKED;
	else if (af->imp)
		st.state = XE_VM_EXPORT_AUX_STATE_LIVE;
	st.asid = af->asid;
	mutex_unlock(&af->lock);
	st.invalidations = atomic64_read(&af->invalidations);

	return copy_to_user(uargs, &st, sizeof(st)) ? -EFAULT : 0;
}

static long aux_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct xe_vm_export_aux_import __user *uargs = (void __user *)arg;
	struct aux_file *af = file->private_data;
	struct xe_vm_export_aux_import args;
	int err;

	if (cmd == XE_VM_EXPORT_AUX_IOCTL_STATE)
		return aux_state(af, uargs);
	if (cmd != XE_VM_EXPORT_AUX_IOCTL_IMPORT)
		return -ENOTTY;
	if (copy_from_user(&args, uargs, sizeof(args)))
		return -EFAULT;

	mutex_lock(&af->lock);
	err = aux_import(af, &args);
	mutex_unlock(&af->lock);
	if (err)
		return err;

	/* The import stays with the file; release on close undoes it. */
	if (copy_to_user(uargs, &args, sizeof(args)))
		return -EFAULT;

	return 0;
}

static const struct file_operations aux_fops = {
	.owner = THIS_MODULE,
	.open = aux_open,
	.release = aux_release,
	.unlocked_ioctl = aux_ioctl,
	.compat_ioctl = compat_ptr_ioctl,
	.llseek = noop_llseek,
};

static struct miscdevice aux_misc = {
	.minor = MISC_DYNAMIC_MINOR,
	.name = "xe_vm_export_aux",
	.fops = &aux_fops,
	.mode = 0600,
};

module_misc_device(aux_misc);

MODULE_DESCRIPTION("Sample auxiliary driver importing xe VMs");
MODULE_LICENSE("GPL");
MODULE_IMPORT_NS(XE_VM_EXPORT_NS);
