// SPDX-License-Identifier: GPL-2.0
/*
 * A module whose init schedules one short entry (<linux/async.h>, default domain) and
 * returns: the loader waits for it before insmod returns (done is 1 then), and for
 * nothing else (scripts/guest-intree loads it while rasync_intree_sleeper's entries
 * sleep).
 */

#include <linux/async.h>
#include <linux/atomic.h>
#include <linux/delay.h>
#include <linux/module.h>

static atomic_t done = ATOMIC_INIT(0);
module_param_cb(done, &param_ops_int, &done.counter, 0444);
MODULE_PARM_DESC(done, "1 once the entry has finished");

static void quick_fn(void *data, async_cookie_t cookie)
{
	msleep(200);
	atomic_set(&done, 1);
}

static int __init quick_init(void)
{
	async_schedule(quick_fn, NULL);
	return 0;
}
module_init(quick_init);

static void __exit quick_exit(void)
{
}
module_exit(quick_exit);

MODULE_DESCRIPTION("One short <linux/async.h> entry, for the intree loader test");
MODULE_LICENSE("GPL");
