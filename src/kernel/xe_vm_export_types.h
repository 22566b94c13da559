/* SPDX-License-Identifier: MIT */
/*
 * Copyright © 2026 The xe-vm-export authors
 */

#ifndef _XE_VM_EXPORT_TYPES_H_
#define _XE_VM_EXPORT_TYPES_H_

#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/list.h>
#include <linux/mutex.h>
#include <linux/spinlock.h>
#include <linux/srcu.h>
#include <linux/types.h>
#include <linux/wait.h>
#include <linux/workqueue.h>

struct file;
struct mm_struct;
struct module;
struct pid;
struct xe_vm;
struct xe_vm_import_ops;

/**
 * struct xe_vm_export_device - VM export state of one xe device
 *
 * Embedded in &xe_device, set up by xe_vm_export_device_init(). Every VM
 * export lock of the driver is per device: nothing of the feature is global.
 */
struct xe_vm_export_device {
	/**
	 * @lock: protects the lists below, @revoking, @revoked and, in every
	 * VM of the device, &xe_vm_export_state. Never held while an
	 * importer's callback runs or while waiting for one. Nests inside
	 * &xe_file.vm.lock.
	 */
	struct mutex lock;
	/** @exports: the device's live exports (&xe_vm_export.link) */
	struct list_head exports;
	/** @importers: the device's registered imports (&xe_vm_import.dev_link) */
	struct list_head importers;
	/**
	 * @revoke_wq: woken each time an importer's revoke callback returns
	 */
	wait_queue_head_t revoke_wq;
	/**
	 * @revoking: number of the device's imports whose revocation is
	 * queued or running, whoever runs it; @lock, read without it by
	 * xe_vm_export_device_remove()
	 */
	unsigned int revoking;
	/** @wedge_work: revokes every importer after the device was wedged */
	struct work_struct wedge_work;
	/**
	 * @revoked: the device was wedged or is being removed: no new
	 * registration; @lock
	 */
	bool revoked;
};

/**
 * struct xe_vm_export_state - export state of one VM, embedded in &xe_vm
 *
 * All zero is the valid initial state, so a freshly allocated VM needs no
 * initialisation: @importers is initialised by the first export, which
 * also sets @exported. Every member is protected by the device's
 * &xe_vm_export_device.lock.
 */
struct xe_vm_export_state {
	/** @export: the live export of the VM, or NULL */
	struct xe_vm_export *export;
	/** @importers: registered imports of the VM (&xe_vm_import.vm_link) */
	struct list_head importers;
	/**
	 * @invalidators: the registered imports of @importers that have an
	 * invalidate callback (&xe_vm_import.inval_link); an RCU list, written
	 * under the device lock, walked under @srcu
	 */
	struct list_head invalidators;
	/**
	 * @srcu: read side held while the VM's invalidate callbacks run; the
	 * end of a registration of the VM waits for a grace period of it
	 * before the revoke callback or the return of unregister and put.
	 * One per VM, so that a stuck invalidate callback delays only the
	 * end of its own VM's registrations. Set up with @importers by the
	 * first export, cleaned up by xe_vm_export_vm_free().
	 */
	struct srcu_struct srcu;
	/**
	 * @imports: number of live imports of the VM, for debugfs and the
	 * trace events only; atomic, so that import and put of an import do
	 * not take the device lock for it
	 */
	atomic_t imports;
	/** @registered: number of imports on @importers */
	unsigned int registered;
	/**
	 * @revoking: number of the VM's imports whose revocation is queued or
	 * running; read without the lock by xe_vm_export_vm_close()
	 */
	unsigned int revoking;
	/**
	 * @exported: the VM was exported at least once; never cleared. While
	 * set, the VM holds a reference to its DRM device, dropped by
	 * xe_vm_export_vm_free(). Read without the lock by the close, free
	 * and invalidate paths (see xe_vm_export_vm_close() and
	 * xe_vm_export_vm_invalidate()).
	 */
	bool exported;
	/** @revoked: the VM was closed: its importers were told or are told */
	bool revoked;
};

/**
 * struct xe_vm_export - a VM exported as a file
 *
 * The export is the private data of its file and lives exactly as long as
 * that file. It is identified by the file, never by a file descriptor number.
 * It holds its VM only while attached (see the DOC of xe_vm_export.c).
 */
struct xe_vm_export {
	/** @lock: protects @vm; nests inside &xe_vm_export_device.lock */
	spinlock_t lock;
	/**
	 * @vm: the exported VM, whose reference the export owns while
	 * attached; NULL once detached (@lock)
	 */
	struct xe_vm *vm;
	/** @file: the export's file, its identity; no reference. Constant. */
	struct file *file;
	/** @mm: address space of the exporting process (grabbed). Constant. */
	struct mm_struct *mm;
	/** @pid: thread group of the exporting process. Constant. */
	struct pid *pid;
	/** @vm_id: ID of @vm in the exporting DRM file. Constant. */
	u32 vm_id;
	/** @dev_name: name of the VM's device, for fdinfo. Constant. */
	char dev_name[32];
	/** @link: entry in &xe_vm_export_device.exports; device lock */
	struct list_head link;
};

/**
 * enum xe_vm_import_state - where an import is in its registration
 * @XE_VM_IMPORT_IDLE: not registered
 * @XE_VM_IMPORT_REGISTERED: registered, on the VM's and the device's lists
 * @XE_VM_IMPORT_REVOKING: its revoke callback is queued or running
 * @XE_VM_IMPORT_REVOKED: its revoke callback returned; final
 */
enum xe_vm_import_state {
	XE_VM_IMPORT_IDLE,
	XE_VM_IMPORT_REGISTERED,
	XE_VM_IMPORT_REVOKING,
	XE_VM_IMPORT_REVOKED,
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
	/** @state: registration state; device lock */
	enum xe_vm_import_state state;
	/** @ops: the importer's callbacks, set by registration */
	const struct xe_vm_import_ops *ops;
	/** @priv: the importer's argument to @ops, set by registration */
	void *priv;
	/**
	 * @owner: the module of @ops, referenced while registered or
	 * revoking; device lock
	 */
	struct module *owner;
	/** @revoke_work: runs the callback for a device revocation */
	struct work_struct revoke_work;
	/**
	 * @revoked: completed once the revoke callback returned and the
	 * revoking thread is done with the import
	 */
	struct completion revoked;
	/** @vm_link: entry in &xe_vm_export_state.importers; device lock */
	struct list_head vm_link;
	/** @dev_link: entry in &xe_vm_export_device.importers; device lock */
	struct list_head dev_link;
	/**
	 * @inval_link: entry in &xe_vm_export_state.invalidators while
	 * registered with an invalidate callback; device lock, RCU
	 */
	struct list_head inval_link;
};

#endif /* _XE_VM_EXPORT_TYPES_H_ */
