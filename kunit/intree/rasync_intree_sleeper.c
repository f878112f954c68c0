// SPDX-License-Identifier: GPL-2.0
/*
 * A module whose init schedules entries that sleep (<linux/async.h>, default domain):
 * loaded with async_probe=1 its insmod returns at once, and the entries keep sleeping
 * while scripts/guest-intree loads another module, whose insmod must not wait for them
 * (CONFIG_ASYNC_RUST: the loader waits for a module's own entries). Its removal waits
 * for them. Each entry logs "rasync_intree_sleeper: entry done" when it wakes.
 */

#include <linux/async.h>
#include <linux/atomic.h>
#include <linux/delay.h>
#include <linux/module.h>

static unsigned int entries = 4;
module_param(entries, uint, 0444);
MODULE_PARM_DESC(entries, "entries scheduled by init");

static unsigned int sleep_ms = 4000;
module_param(sleep_ms, uint, 0444);
MODULE_PARM_DESC(sleep_ms, "how long each entry sleeps");

static atomic_t done = ATOMIC_INIT(0);
module_param_cb(done, &param_ops_int, &done.counter, 0444);
MODULE_PARM_DESC(done, "entries that have finished");

static void sleeper_fn(void *data, async_cookie_t cookie)
{
	msleep(sleep_ms);
	atomic_inc(&done);
	pr_info("rasync_intree_sleeper: entry done (cookie %llu)\n", cookie);
}

static int __init sleeper_init(void)
{
	unsigned int i;

	for (i = 0; i < entries; i++)
		async_schedule(sleeper_fn, NULL);
	return 0;
}
module_init(sleeper_init);

static void __exit sleeper_exit(void)
{
}
module_exit(sleeper_exit);

MODULE_DESCRIPTION("Sleeping <linux/async.h> entries, for the intree loader test");
MODULE_LICENSE("GPL");
