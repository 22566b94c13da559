/* SPDX-License-Identifier: MIT */
/*
 * Copyright © 2026 The xe-vm-export authors
 */

#undef TRACE_SYSTEM
#define TRACE_SYSTEM xe_vm_export

#if !defined(_XE_VM_EXPORT_TRACE_H_) || defined(TRACE_HEADER_MULTI_READ)
#define _XE_VM_EXPORT_TRACE_H_

#include <linux/tracepoint.h>
#include <linux/types.h>

#include "xe_device_types.h"
#include "xe_vm_types.h"

DECLARE_EVENT_CLASS(xe_vm_export_event,
		    TP_PROTO(struct xe_vm *vm, u32 vm_id),
		    TP_ARGS(vm, vm_id),

		    TP_STRUCT__entry(__string(dev, dev_name(vm->xe->drm.dev))
				     __field(struct xe_vm *, vm)
				     __field(u32, vm_id)
				     __field(u32, asid)
				     __field(unsigned int, registered)
				     __field(unsigned int, imports)),

		    TP_fast_assign(__assign_str(dev);
				   __entry->vm = vm;
				   __entry->vm_id = vm_id;
				   __entry->asid = vm->usm.asid;
				   __entry->registered = READ_ONCE(vm->export.registered);
				   __entry->imports = atomic_read(&vm->export.imports);),

		    TP_printk("dev=%s, vm=%p, vm_id=%u, asid=%u, registered=%u, imports=%u",
			      __get_str(dev), __entry->vm, __entry->vm_id,
			      __entry->asid, __entry->registered, __entry->imports)
);

DEFINE_EVENT(xe_vm_export_event, xe_vm_export_create,
	     TP_PROTO(struct xe_vm *vm, u32 vm_id),
	     TP_ARGS(vm, vm_id)
);

DEFINE_EVENT(xe_vm_export_event, xe_vm_export_release,
	     TP_PROTO(struct xe_vm *vm, u32 vm_id),
	     TP_ARGS(vm, vm_id)
);

DEFINE_EVENT(xe_vm_export_event, xe_vm_export_import,
	     TP_PROTO(struct xe_vm *vm, u32 vm_id),
	     TP_ARGS(vm, vm_id)
);

DEFINE_EVENT(xe_vm_export_event, xe_vm_export_unimport,
	     TP_PROTO(struct xe_vm *vm, u32 vm_id),
	     TP_ARGS(vm, vm_id)
);

DEFINE_EVENT(xe_vm_export_event, xe_vm_export_revoke,
	     TP_PROTO(struct xe_vm *vm, u32 vm_id),
	     TP_ARGS(vm, vm_id)
);

TRACE_EVENT(xe_vm_export_invalidate,
	    TP_PROTO(struct xe_vm *vm, u32 vm_id, u64 start, u64 end),
	    TP_ARGS(vm, vm_id, start, end),

	    TP_STRUCT__entry(__string(dev, dev_name(vm->xe->drm.dev))
			     __field(struct xe_vm *, vm)
			     __field(u32, vm_id)
			     __field(u32, asid)
			     __field(u64, start)
			     __field(u64, end)),

	    TP_fast_assign(__assign_str(dev);
			   __entry->vm = vm;
			   __entry->vm_id = vm_id;
			   __entry->asid = vm->usm.asid;
			   __entry->start = start;
			   __entry->end = end;),

	    TP_printk("dev=%s, vm=%p, vm_id=%u, asid=%u, start=0x%016llx, end=0x%016llx",
		      __get_str(dev), __entry->vm, __entry->vm_id,
		      __entry->asid, __entry->start, __entry->end)
);

#endif

/*
 * This part must be outside protection. xe's Makefile puts its own directory
 * on the include path (-I$(src)), in tree and out of tree alike.
 */
#undef TRACE_INCLUDE_PATH
#undef TRACE_INCLUDE_FILE
#define TRACE_INCLUDE_PATH .
#define TRACE_INCLUDE_FILE xe_vm_export_trace
#include <trace/define_trace.h>
