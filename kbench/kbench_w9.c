// SPDX-License-Identifier: GPL-2.0
/*
 * kbench_w9 - W9: 64 devices with asynchronous suspend and resume callbacks.
 *
 * The devices form a tree four levels deep: one root, 3 children, 12 grandchildren and
 * 48 leaves, platform devices kbench_w9.<n> (n = 0..63, parents first). Each device's
 * suspend and resume callbacks sleep for a time drawn from min_us..max_us (1..20 ms)
 * with a seeded generator (seed=), and every device suspends and resumes
 * asynchronously (device_enable_async_suspend()): the PM core hands each device to
 * async_schedule_dev_nocall() in each phase, children before parents on suspend and
 * parents before children on resume. make bench-kernel sets /sys/power/pm_test to
 * "devices", writes "freeze" to /sys/power/state and reads the PM core's "PM: suspend
 * of devices complete after" and "PM: resume of devices complete after".
 *
 * The longest chain of callbacks from a leaf to the root (suspend) or from the root to
 * a leaf (resume) is the least either phase can take: the module prints it at load.
 * At unload it prints how many callbacks ran (64 of each, or the run does not count),
 * and, for the last suspend, when each callback of the longest chain started and
 * returned, from the first callback's start (local_clock() at each callback's start and
 * return, the kernel log's clock: nothing is printed during a phase), and when the first
 * callback started and the last returned on that clock: where a phase's time above the
 * chain goes.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/delay.h>
#include <linux/err.h>
#include <linux/minmax.h>
#include <linux/module.h>
#include <linux/platform_device.h>
#include <linux/pm.h>
#include <linux/prandom.h>
#include <linux/sched/clock.h>

#define KBENCH_W9_DEVICES	64
/* Levels of 1, 3, 12 and 48 devices: the leaves are 16..63. */
#define KBENCH_W9_LEVELS	4
#define KBENCH_W9_FIRST_LEAF	16

static unsigned int seed = 1;
module_param(seed, uint, 0444);
MODULE_PARM_DESC(seed, "Seed of the callbacks' durations (default 1)");

static unsigned int min_us = 1000;
module_param(min_us, uint, 0444);
MODULE_PARM_DESC(min_us, "Shortest callback, in us (default 1000)");

static unsigned int max_us = 20000;
module_param(max_us, uint, 0444);
MODULE_PARM_DESC(max_us, "Longest callback, in us (default 20000)");

struct kbench_w9_delays {
	unsigned int id;
	unsigned int suspend_us;
	unsigned int resume_us;
};

static struct platform_device *devs[KBENCH_W9_DEVICES];
static atomic_t suspended = ATOMIC_INIT(0);
static atomic_t resumed = ATOMIC_INIT(0);
/* The last suspend: each callback's start and return (ns), and its rank among starts. */
static u64 suspend_start[KBENCH_W9_DEVICES], suspend_end[KBENCH_W9_DEVICES];
static int suspend_rank[KBENCH_W9_DEVICES];
static atomic_t suspend_started = ATOMIC_INIT(0);
/* The longest suspend chain, leaf first (kbench_w9_init()). */
static int chain[KBENCH_W9_LEVELS], chain_len;

/*
 * kbench_w9_sleep - sleep exactly @us on an hrtimer. Not fsleep(): it sleeps up to 25 %
 * longer (usleep_range()'s slack, so that timers coalesce) and, from 16 ms on (HZ=250),
 * msleep()s to the next tick, so every phase ended on a tick: 65.9 or 69.9 ms, whichever
 * tick the chain's last callback crossed, a 4 ms step of nothing the async engines do.
 * min == max on purpose (checkpatch warns): no slack, no coalescing with other timers.
 */
static void kbench_w9_sleep(unsigned int us)
{
	usleep_range(us, us);
}

static int kbench_w9_suspend(struct device *dev)
{
	const struct kbench_w9_delays *d = dev_get_platdata(dev);

	suspend_start[d->id] = local_clock();
	suspend_rank[d->id] = atomic_inc_return(&suspend_started) % KBENCH_W9_DEVICES;
	kbench_w9_sleep(d->suspend_us);
	suspend_end[d->id] = local_clock();
	atomic_inc(&suspended);
	return 0;
}

static int kbench_w9_resume(struct device *dev)
{
	const struct kbench_w9_delays *d = dev_get_platdata(dev);

	kbench_w9_sleep(d->resume_us);
	atomic_inc(&resumed);
	return 0;
}

static DEFINE_SIMPLE_DEV_PM_OPS(kbench_w9_pm, kbench_w9_suspend, kbench_w9_resume);

static int kbench_w9_probe(struct platform_device *pdev)
{
	device_enable_async_suspend(&pdev->dev);
	return 0;
}

static struct platform_driver kbench_w9_driver = {
	.probe = kbench_w9_probe,
	.driver = {
		.name = "kbench_w9",
		.pm = pm_sleep_ptr(&kbench_w9_pm),
		/* Bound when insmod returns, whatever driver_async_probe= says. */
		.probe_type = PROBE_FORCE_SYNCHRONOUS,
	},
};

/* Levels of 1, 3, 12 and 48 devices: the parent of device @i, or -1 for the root. */
static int kbench_w9_parent(int i)
{
	if (i == 0)
		return -1;
	if (i <= 3)
		return 0;
	if (i <= 15)
		return 1 + (i - 4) / 4;
	return 4 + (i - KBENCH_W9_FIRST_LEAF) / 4;
}

static void kbench_w9_remove_devices(void)
{
	int i;

	for (i = KBENCH_W9_DEVICES - 1; i >= 0; i--) {
		if (!IS_ERR_OR_NULL(devs[i]))
			platform_device_unregister(devs[i]);
		devs[i] = NULL;
	}
}

static int __init kbench_w9_init(void)
{
	unsigned int path_suspend[KBENCH_W9_DEVICES], path_resume[KBENCH_W9_DEVICES];
	unsigned int chain_suspend = 0, chain_resume = 0;
	struct kbench_w9_delays delays;
	struct rnd_state rnd;
	int i, p, ret;

	if (!min_us || max_us < min_us)
		return -EINVAL;
	ret = platform_driver_register(&kbench_w9_driver);
	if (ret)
		return ret;
	prandom_seed_state(&rnd, seed);
	for (i = 0; i < KBENCH_W9_DEVICES; i++) {
		struct platform_device_info info = {
			.name = "kbench_w9",
			.id = i,
			.data = &delays,
			.size_data = sizeof(delays),
		};

		delays.id = i;
		delays.suspend_us = min_us + prandom_u32_state(&rnd) % (max_us - min_us + 1);
		delays.resume_us = min_us + prandom_u32_state(&rnd) % (max_us - min_us + 1);
		p = kbench_w9_parent(i);
		if (p >= 0)
			info.parent = &devs[p]->dev;
		/* A chain runs from a leaf to the root on suspend, the other way on resume. */
		path_suspend[i] = delays.suspend_us + (p >= 0 ? path_suspend[p] : 0);
		path_resume[i] = delays.resume_us + (p >= 0 ? path_resume[p] : 0);
		if (path_suspend[i] > chain_suspend)
			chain[0] = i;
		chain_suspend = max(chain_suspend, path_suspend[i]);
		chain_resume = max(chain_resume, path_resume[i]);
		devs[i] = platform_device_register_full(&info);
		if (IS_ERR(devs[i])) {
			ret = PTR_ERR(devs[i]);
			kbench_w9_remove_devices();
			platform_driver_unregister(&kbench_w9_driver);
			return ret;
		}
	}
	for (chain_len = 1; (p = kbench_w9_parent(chain[chain_len - 1])) >= 0; chain_len++)
		chain[chain_len] = p;
	pr_info("%d devices, levels 1/3/12/48, callbacks %u..%u us (seed %u), longest chain: suspend %u us, resume %u us\n",
		KBENCH_W9_DEVICES, min_us, max_us, seed, chain_suspend, chain_resume);
	return 0;
}
module_init(kbench_w9_init);

/*
 * The last suspend's longest chain, from its first callback's start: "<device>#<rank>
 * <start>-<return> us" per callback, leaf first (rank 1: the first callback to start),
 * then when the last leaf started.
 */
static void kbench_w9_print_chain(void)
{
	u64 first = U64_MAX, last = 0, last_leaf = 0;
	char buf[160];
	int i, len = 0;

	for (i = 0; i < KBENCH_W9_DEVICES; i++) {
		first = min(first, suspend_start[i]);
		last = max(last, suspend_end[i]);
		if (i >= KBENCH_W9_FIRST_LEAF)
			last_leaf = max(last_leaf, suspend_start[i]);
	}
	for (i = 0; i < chain_len; i++) {
		int d = chain[i];

		len += scnprintf(buf + len, sizeof(buf) - len, " %d#%d %llu-%llu", d,
				 suspend_rank[d] ? suspend_rank[d] : KBENCH_W9_DEVICES,
				 div_u64(suspend_start[d] - first, NSEC_PER_USEC),
				 div_u64(suspend_end[d] - first, NSEC_PER_USEC));
	}
	pr_info("last suspend, longest chain (device#start rank start-return us):%s; last leaf started at %llu us; first callback started at %llu ns, last returned at %llu ns (local_clock)\n",
		buf, div_u64(last_leaf - first, NSEC_PER_USEC), first, last);
}

static void __exit kbench_w9_exit(void)
{
	kbench_w9_remove_devices();
	platform_driver_unregister(&kbench_w9_driver);
	pr_info("callbacks run: %d suspend, %d resume\n",
		atomic_read(&suspended), atomic_read(&resumed));
	kbench_w9_print_chain();
}
module_exit(kbench_w9_exit);

MODULE_DESCRIPTION("make bench-kernel W9: a tree of devices with async suspend and resume");
MODULE_LICENSE("GPL");
