// SPDX-License-Identifier: GPL-2.0
/*
 * kbench_w8b - W8's module B: unrelated to module A, and schedules nothing.
 *
 * make bench-kernel times its insmod right after kbench_w8a's: whatever that takes
 * beyond loading is the loader's wait after init, for entries that are not B's.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>

static int __init kbench_w8b_init(void)
{
	pr_info("loaded\n");
	return 0;
}
module_init(kbench_w8b_init);

static void __exit kbench_w8b_exit(void)
{
}
module_exit(kbench_w8b_exit);

MODULE_DESCRIPTION("make bench-kernel W8: a module loaded while another's entries sleep");
MODULE_LICENSE("GPL");
