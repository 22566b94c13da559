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
bool xe_vm_export_busy(struct xe_vm *vm);
void xe_vm_export_debugfs_register(struct xe_device *xe);

#endif /* _XE_VM_EXPORT_H_ */
