// SPDX-License-Identifier: GPL-2.0-only
/*
 * Copyright © 2026 The xe-vm-export authors
 *
 * Provenance of this xe build, for `modinfo xe`: which xe-vm-export
 * version, which hook series and project files, and exactly which kernel
 * source the xe base came from. The values are generated per kernel by
 * xe-vm-export-source into xe_vm_export_provenance.h.
 */

#include <linux/module.h>

#include "xe_vm_export_provenance.h"

MODULE_VERSION(XE_VM_EXPORT_VERSION);
MODULE_INFO(xe_vm_export_series, XE_VM_EXPORT_SERIES);
MODULE_INFO(xe_vm_export_base, XE_VM_EXPORT_BASE);
MODULE_INFO(xe_vm_export_base_sha256, XE_VM_EXPORT_BASE_SHA256);
MODULE_INFO(xe_vm_export_provider, XE_VM_EXPORT_PROVIDER);
