/* SPDX-License-Identifier: MIT */
/*
 * Compile-time checks of the VM export UAPI header, built as C and as C++
 * by header-test.sh: it must compile on its own, next to the system's
 * xe_drm.h when that exists, and keep the PRELIM-compatible layout and
 * ioctl number.
 */

#include <stddef.h>

#if defined(__has_include)
#if __has_include(<xe_drm.h>)
#include <xe_drm.h>
#endif
#endif

#include <drm/xe_vm_export_drm.h>

#ifdef __cplusplus
#define ASSERT(cond, msg) static_assert(cond, msg)
#else
#define ASSERT(cond, msg) _Static_assert(cond, msg)
#endif

ASSERT(DRM_XE_VM_EXPORT == 0x5e, "ioctl nr");
ASSERT(DRM_IOCTL_XE_VM_EXPORT == 0xC020649EUL, "ioctl value");
ASSERT(sizeof(struct drm_xe_vm_export) == 32, "size");
ASSERT(offsetof(struct drm_xe_vm_export, vm_id) == 0, "vm_id");
ASSERT(offsetof(struct drm_xe_vm_export, pad) == 4, "pad");
ASSERT(offsetof(struct drm_xe_vm_export, fd) == 8, "fd");
ASSERT(offsetof(struct drm_xe_vm_export, pad2) == 12, "pad2");
ASSERT(offsetof(struct drm_xe_vm_export, reserved) == 16, "reserved");
ASSERT(sizeof(((struct drm_xe_vm_export *)0)->reserved) == 16, "reserved size");

int main(void)
{
	struct drm_xe_vm_export args = { 0, 0, 0, 0, { 0, 0 } };

	return (int)(args.vm_id + args.pad + (unsigned int)args.fd + args.pad2 +
		     args.reserved[0] + args.reserved[1]);
}
