/* SPDX-License-Identifier: MIT */
/*
 * Copyright © 2026 The xe-vm-export authors
 */

#ifndef _XE_VM_EXPORT_TEST_H_
#define _XE_VM_EXPORT_TEST_H_

#include <linux/fs.h>
#include <linux/types.h>

struct drm_device;
struct drm_file;
struct seq_file;
struct xe_device;
struct xe_file;
struct xe_vm;
struct xe_vm_export;

/**
 * struct xe_vm_export_test_ops - what the KUnit suite in xe_test.ko drives
 *
 * The VM export unit's internals and the xe functions its suite calls,
 * exported to the KUnit module only (EXPORT_SYMBOL_IF_KUNIT, in kernels with
 * CONFIG_DRM_XE_KUNIT_TEST): the suite itself is never part of xe.ko.
 */
struct xe_vm_export_test_ops {
	/** @fops: the export files' file operations */
	const struct file_operations *fops;
	/** @zalloc: allocator of exports and imports, a KUnit static stub */
	void *(*zalloc)(size_t size);
	/** @alloc: allocates an export */
	struct xe_vm_export *(*alloc)(struct xe_vm *vm, u32 vm_id);
	/** @free: frees an export */
	void (*free)(struct xe_vm_export *exp);
	/** @publish: publishes an export */
	int (*publish)(struct xe_device *xe, struct xe_file *xef,
		       struct xe_vm_export *exp);
	/** @exports_show: shows the vm_exports debugfs file */
	int (*exports_show)(struct seq_file *m, void *data);
	/** @show_fdinfo: shows an export file's fdinfo */
	void (*show_fdinfo)(struct seq_file *m, struct file *file);
	/** @ioctl: xe_vm_export_ioctl() */
	int (*ioctl)(struct drm_device *dev, void *data, struct drm_file *file);
	/** @vm_lookup: xe_vm_lookup() */
	struct xe_vm *(*vm_lookup)(struct xe_file *xef, u32 id);
	/** @vm_destroy_ioctl: xe_vm_destroy_ioctl() */
	int (*vm_destroy_ioctl)(struct drm_device *dev, void *data,
				struct drm_file *file);
	/** @vm_close: xe_vm_export_vm_close() */
	void (*vm_close)(struct xe_vm *vm);
	/** @device_init: xe_vm_export_device_init() */
	int (*device_init)(struct xe_device *xe);
	/** @device_remove: xe_vm_export_device_remove() */
	void (*device_remove)(struct xe_device *xe);
	/** @device_wedged: xe_vm_export_device_wedged() */
	void (*device_wedged)(struct xe_device *xe);
};

extern const struct xe_vm_export_test_ops xe_vm_export_test_ops;

#endif /* _XE_VM_EXPORT_TEST_H_ */
