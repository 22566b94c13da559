/* SPDX-License-Identifier: MIT */
/*
 * Copyright © 2026 The xe-vm-export authors
 */

#ifndef _XE_VM_EXPORT_H_
#define _XE_VM_EXPORT_H_

#include <linux/types.h>

struct drm_device;
struct drm_file;
struct xe_device;
struct xe_vm;

int xe_vm_export_ioctl(struct drm_device *dev, void *data,
		       struct drm_file *file);
void xe_vm_export_debugfs_register(struct xe_device *xe);

/* Hooks called by xe; see their kernel-doc in xe_vm_export.c. */
void xe_vm_export_vm_close(struct xe_vm *vm);
void xe_vm_export_vm_free(struct xe_vm *vm);
void xe_vm_export_vm_invalidate(struct xe_vm *vm, u64 start, u64 end);
void xe_vm_export_asid_invalidate(struct xe_device *xe, u32 asid, u64 start,
				  u64 end);
int xe_vm_export_device_init(struct xe_device *xe);
void xe_vm_export_device_remove(struct xe_device *xe);
void xe_vm_export_device_wedged(struct xe_device *xe);

#endif /* _XE_VM_EXPORT_H_ */
