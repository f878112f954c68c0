// SPDX-License-Identifier: GPL-2.0
/*
 * kbench_w8a - W8's module A: its init leaves entries sleeping and returns.
 *
 * make bench-kernel loads it with async_probe=1, so that its own insmod does not wait
 * for them (the loader skips its wait after init, as for a module probing
 * asynchronously), then times the insmod of kbench_w8b, a module that has nothing to
 * do with these entries. With kernel/async.c that insmod waits in
 * async_synchronize_full() for every pending entry, these included; with
 * CONFIG_ASYNC_RUST the loader waits for the loaded module's own entries only.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/async.h>
#include <linux/delay.h>
#include <linux/module.h>

static unsigned int entries = 4;
module_param(entries, uint, 0444);
MODULE_PARM_DESC(entries, "Entries scheduled by init (default 4)");

static unsigned int sleep_ms = 2000;
module_param(sleep_ms, uint, 0444);
MODULE_PARM_DESC(sleep_ms, "How long each entry sleeps, in ms (default 2000)");

static void kbench_w8a_sleep(void *data, async_cookie_t cookie)
{
	msleep(sleep_ms);
}

static int __init kbench_w8a_init(void)
{
	unsigned int i;

	for (i = 0; i < entries; i++)
		async_schedule(kbench_w8a_sleep, NULL);
	pr_info("%u entries sleeping %u ms\n", entries, sleep_ms);
	return 0;
}
module_init(kbench_w8a_init);

/* The loader waits for the entries after exit (async.c: all of them; rasync: ours). */
static void __exit kbench_w8a_exit(void)
{
}
module_exit(kbench_w8a_exit);

MODULE_DESCRIPTION("make bench-kernel W8: a module whose init leaves entries sleeping");
MODULE_LICENSE("GPL");
