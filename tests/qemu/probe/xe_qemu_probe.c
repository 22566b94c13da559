// SPDX-License-Identifier: GPL-2.0-only
/*
 * Copyright © 2026 The xe-vm-export authors
 *
 * A module that does nothing, for the negative load case of
 * `make check-qemu`: built against another kernel's headers, the guest
 * kernel must refuse it; built against the guest kernel's own headers, it
 * must load (the control that shows the refusal is about the kernel it was
 * built for, not about the module).
 */

#include <linux/init.h>
#include <linux/module.h>
#include <linux/printk.h>

static int __init xe_qemu_probe_init(void)
{
	pr_info("xe_qemu_probe: loaded\n");
	return 0;
}

static void __exit xe_qemu_probe_exit(void)
{
}

module_init(xe_qemu_probe_init);
module_exit(xe_qemu_probe_exit);

MODULE_DESCRIPTION("xe-vm-export test: kernel version probe");
MODULE_LICENSE("GPL");
