/* SPDX-License-Identifier: MIT */
/*
 * Copyright © 2026 The xe-vm-export authors
 */

#ifndef _XE_VM_EXPORT_TYPES_H_
#define _XE_VM_EXPORT_TYPES_H_

#include <linux/list.h>
#include <linux/types.h>

struct mm_struct;
struct pid;
struct xe_vm;

/**
 * struct xe_vm_export_state - export state of one VM, embedded in &xe_vm
 *
 * All zero is the valid initial state, so a freshly allocated VM needs no
 * initialisation. Every member is protected by the VM export lock (a mutex
 * private to xe_vm_export.c), which nests inside &xe_file.vm.lock.
 */
struct xe_vm_export_state {
	/** @export: the live export of the VM, or NULL */
	struct xe_vm_export *export;
	/** @registered: number of imports that registered the VM */
	unsigned int registered;
	/** @imports: number of live imports of the VM */
	unsigned int imports;
};

/**
 * struct xe_vm_export - a VM exported as a file
 *
 * The export is the private data of its file and lives exactly as long as
 * that file. It is identified by the file, never by a file descriptor number.
 */
struct xe_vm_export {
	/** @vm: the exported VM; the export owns this reference. Constant. */
	struct xe_vm *vm;
	/** @mm: address space of the exporting process (grabbed). Constant. */
	struct mm_struct *mm;
	/** @pid: thread group of the exporting process. Constant. */
	struct pid *pid;
	/** @vm_id: ID of @vm in the exporting DRM file. Constant. */
	u32 vm_id;
	/** @link: entry in the list of live exports; VM export lock */
	struct list_head link;
};

/**
 * struct xe_vm_import - a VM imported by an auxiliary driver
 *
 * Opaque to the auxiliary drivers, which only see the declaration in
 * <drm/xe_vm_export.h>.
 */
struct xe_vm_import {
	/** @vm: the imported VM; the import owns this reference. Constant. */
	struct xe_vm *vm;
	/** @vm_id: ID of @vm in the exporting DRM file. Constant. */
	u32 vm_id;
	/** @registered: the import registered @vm; VM export lock */
	bool registered;
};

#endif /* _XE_VM_EXPORT_TYPES_H_ */
