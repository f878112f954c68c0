// SPDX-License-Identifier: GPL-2.0
/*
 * A caller of rasync_lc_lib.c (scripts/guest-lifecycle): its init has the library
 * schedule one of its own functions, which sleeps sleep_ms, and never synchronizes.
 * Loaded normally, insmod must return only once the function has run (the loader's
 * wait after init); loaded with async_probe=1 and removed at once, rmmod must wait for
 * it before the module's code is freed.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/delay.h>
#include <linux/module.h>
#include "rasync_lc_lib.h"

static unsigned int sleep_ms = 2000;
module_param(sleep_ms, uint, 0444);
MODULE_PARM_DESC(sleep_ms, "how long the function the library schedules sleeps");

static void lc_user_entry(void *data, rasync_cookie_t cookie)
{
	msleep(sleep_ms);
	pr_info("user entry %llu done\n", cookie);
}

static int __init lc_user_init(void)
{
	lc_lib_schedule(lc_user_entry, NULL);
	pr_info("init returns\n");
	return 0;
}
module_init(lc_user_init);

static void __exit lc_user_exit(void)
{
	pr_info("exit\n");
}
module_exit(lc_user_exit);

MODULE_DESCRIPTION("rasync lifecycle test: a module whose function a library schedules");
MODULE_LICENSE("GPL");
