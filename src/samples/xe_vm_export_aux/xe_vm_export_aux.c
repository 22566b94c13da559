// SPDX-License-Identifier: GPL-2.0-only
/*
 * Copyright © 2026 The xe-vm-export authors
 *
 * Sample auxiliary driver: imports an xe VM through the in-kernel API of
 * <drm/xe_vm_export.h>, exactly as a third-party driver built against the
 * installed xe-vm-export package would.
 */

#include <linux/fs.h>
#include <linux/miscdevice.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/slab.h>
#include <linux/uaccess.h>

#include <drm/xe_vm_export.h>

#include "xe_vm_export_aux.h"

struct aux_file {
	struct mutex lock;		/* protects @imp */
	struct xe_vm_import *imp;	/* registered import, or NULL */
};

static int aux_open(struct inode *inode, struct file *file)
{
	struct aux_file *af;

	af = kzalloc(sizeof(*af), GFP_KERNEL);
	if (!af)
		return -ENOMEM;

	mutex_init(&af->lock);
	file->private_data = af;
	return 0;
}

static int aux_release(struct inode *inode, struct file *file)
{
	struct aux_file *af = file->private_data;

	if (af->imp) {
		xe_vm_import_unregister(af->imp);
		xe_vm_import_put(af->imp);
	}
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

	err = xe_vm_import_register(imp);
	if (err) {
		xe_vm_import_put(imp);
		return err;
	}

	args->flags = xe_vm_import_flags(imp);
	args->asid = xe_vm_import_asid(imp);
	args->va_bits = xe_vm_import_va_bits(imp);
	af->imp = imp;

	dev_dbg(xe_vm_import_device(imp), "xe_vm_export_aux: imported asid %u, %u VA bits, flags %#x\n",
		args->asid, args->va_bits, args->flags);
	return 0;
}

static long aux_ioctl(struct file *file, unsigned int cmd, unsigned long arg)
{
	struct xe_vm_export_aux_import __user *uargs = (void __user *)arg;
	struct aux_file *af = file->private_data;
	struct xe_vm_export_aux_import args;
	int err;

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
MODULE_IMPORT_NS(XE_VM_EXPORT);
