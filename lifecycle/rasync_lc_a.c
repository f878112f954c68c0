// SPDX-License-Identifier: GPL-2.0
/*
 * A consumer of rasync ported from <linux/async.h> by renaming, which relies on the
 * module loader's guarantees instead of synchronizing (scripts/guest-lifecycle):
 *
 *   mode=init    init schedules 8 __init functions (4 in the default domain, 4 in an
 *                exclusive one) and returns: they must all run before .init.text is
 *                freed, i.e. before insmod returns.
 *   mode=remove  init schedules 8 functions (4 default, 4 exclusive) that wait until
 *                exit has been called, then sleep sleep_ms; loaded with async_probe=1
 *                they are pending at rmmod, whose exit does not synchronize: rmmod
 *                must wait for them.
 *   mode=slow    one such function in the default domain: it cannot finish before
 *                this module is removed, so a module that waits for it would stall
 *                (for a module whose entries must not delay another module).
 *   mode=interdep  32 entries on node 1 that each wait for an entry queued after all
 *                of them (run with node 1's CPUs offline: more than min_active there).
 *   mode=trace   4 calls of lc_trace_entry, then a synchronize: the trace lines that
 *                scripts/check-traces compares with kernel/async.c's.
 *   mode=initslow  init caps its exclusive domain at 1 and schedules there one entry
 *                that sleeps sleep_ms and one held behind it: the end of init waits
 *                over 10 s and warns, naming one running and one held function.
 *
 * Every finished function prints "<module>: <mode> entry <cookie> done". In mode=remove,
 * exit schedules 4 more functions while it holds a mutex that they take, as a driver's
 * exit may: as with kernel/async.c they are queued, run in a worker once exit has
 * released the mutex, and rmmod waits for them. rasync_lc_b.c builds the same code as
 * a second module.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/init.h>
#include <linux/module.h>
#include <linux/mutex.h>
#include <linux/sched.h>
#include <linux/cpumask.h>
#include <linux/nodemask.h>
#include <linux/topology.h>
#include <linux/string.h>
#include <rasync.h>

static char *mode = "init";
module_param(mode, charp, 0444);
MODULE_PARM_DESC(mode, "init, remove, slow, interdep, trace or initslow (see the file's comment)");

static unsigned int sleep_ms = 1500;
module_param(sleep_ms, uint, 0444);
MODULE_PARM_DESC(sleep_ms, "how long each entry of mode=remove and mode=slow sleeps after exit");

static unsigned int max_active;
module_param(max_active, uint, 0444);
MODULE_PARM_DESC(max_active, "cap on lc_exclusive's entries running at once (0: none; scripts/guest-observe)");

/* Completed by exit: the remove and slow entries cannot finish before removal starts. */
static DECLARE_COMPLETION(exiting);
#define EXIT_WAIT_CAP_MS 60000

static RASYNC_DOMAIN_EXCLUSIVE(lc_exclusive);

static void __init lc_init_entry(void *data, rasync_cookie_t cookie)
{
	msleep(100);
	pr_info("init entry %llu done\n", cookie);
}

static void lc_sleep_entry(void *data, rasync_cookie_t cookie)
{
	wait_for_completion_timeout(&exiting, msecs_to_jiffies(EXIT_WAIT_CAP_MS));
	msleep(sleep_ms);
	pr_info("%s entry %llu done\n", (const char *)data, cookie);
}

static void lc_initslow_entry(void *data, rasync_cookie_t cookie)
{
	/*
	 * Over the guest's hung-task timeout (10 s), on purpose: interruptible, so that the
	 * hung-task detector does not report this worker (an msleep() of 10.5 s was reported
	 * whenever its first check fell within 0.5 s of the sleep's start).
	 */
	if (data)
		msleep_interruptible(sleep_ms);
	pr_info("initslow entry %llu done\n", cookie);
}

static void lc_trace_entry(void *data, rasync_cookie_t cookie)
{
	msleep(20);
}

/* mode=interdep: 32 entries on node 1, each opened by an entry queued after all 32. */
#define INTERDEP 32
static struct completion interdep_gate[INTERDEP];
static atomic_t interdep_timeouts = ATOMIC_INIT(0);

static void lc_interdep_wait(void *data, rasync_cookie_t cookie)
{
	if (!wait_for_completion_timeout(data, msecs_to_jiffies(10000)))
		atomic_inc(&interdep_timeouts);
}

static void lc_interdep_open(void *data, rasync_cookie_t cookie)
{
	complete(data);
}

static void lc_interdep(void)
{
	int i, node = num_possible_nodes() > 1 ? 1 : 0;

	for (i = 0; i < INTERDEP; i++) {
		init_completion(&interdep_gate[i]);
		rasync_schedule_node(lc_interdep_wait, &interdep_gate[i], node);
	}
	for (i = 0; i < INTERDEP; i++)
		rasync_schedule_node(lc_interdep_open, &interdep_gate[i], node);
	rasync_synchronize_full();
	pr_info("interdep: %d of %d entries timed out on node %d (%u online CPUs there)\n",
		atomic_read(&interdep_timeouts), INTERDEP, node,
		cpumask_weight_and(cpumask_of_node(node), cpu_online_mask));
}

static int __init lc_init(void)
{
	int i;

	if (max_active && rasync_domain_set_max_active(&lc_exclusive, max_active))
		return -EINVAL;
	if (!strcmp(mode, "init")) {
		for (i = 0; i < 4; i++) {
			rasync_schedule(lc_init_entry, NULL);
			rasync_schedule_domain(lc_init_entry, NULL, &lc_exclusive);
		}
	} else if (!strcmp(mode, "remove")) {
		for (i = 0; i < 4; i++) {
			rasync_schedule(lc_sleep_entry, "remove");
			rasync_schedule_domain(lc_sleep_entry, "remove", &lc_exclusive);
		}
	} else if (!strcmp(mode, "interdep")) {
		lc_interdep();
	} else if (!strcmp(mode, "trace")) {
		for (i = 0; i < 4; i++)
			rasync_schedule(lc_trace_entry, NULL);
		rasync_synchronize_full();
	} else if (!strcmp(mode, "initslow")) {
		rasync_domain_set_max_active(&lc_exclusive, 1);
		rasync_schedule_domain(lc_initslow_entry, &sleep_ms, &lc_exclusive);
		rasync_schedule_domain(lc_initslow_entry, NULL, &lc_exclusive);
	} else if (!strcmp(mode, "slow")) {
		rasync_schedule(lc_sleep_entry, "slow");
	} else {
		pr_err("unknown mode '%s' (init, remove, slow, interdep, trace or initslow)\n", mode);
		return -EINVAL;
	}
	pr_info("init returns (mode %s)\n", mode);
	return 0;
}
module_init(lc_init);

/* Held by exit while it schedules the exit entries, which take it. */
static DEFINE_MUTEX(lc_exit_lock);
#define EXIT_ENTRIES 4
#define EXIT_LOCK_WAIT_MS 5000

static void lc_exit_entry(void *data, rasync_cookie_t cookie)
{
	bool async = rasync_current_is_async();
	unsigned int waited = 0;
	bool locked;

	/* Bounded: run inside exit (with the lock held), a mutex_lock() would deadlock. */
	while (!(locked = mutex_trylock(&lc_exit_lock)) && waited < EXIT_LOCK_WAIT_MS) {
		msleep(10);
		waited += 10;
	}
	if (locked) {
		msleep(200);
		mutex_unlock(&lc_exit_lock);
	}
	pr_info("exit entry %llu ran %s, %s\n", cookie,
		async ? "asynchronously" : "synchronously",
		locked ? "took the lock" : "lock still held after 5 s");
}

/*
 * Deliberately no rasync_synchronize_*(): rasync must keep the module alive for its
 * entries, as the loader's async_synchronize_full() after exit does for async.c.
 */
static void __exit lc_exit(void)
{
	int i;

	pr_info("exit (mode %s)\n", mode);
	complete_all(&exiting);
	if (!strcmp(mode, "remove")) {
		mutex_lock(&lc_exit_lock);
		for (i = 0; i < EXIT_ENTRIES; i++)
			rasync_schedule(lc_exit_entry, NULL);
		mutex_unlock(&lc_exit_lock);
	}
}
module_exit(lc_exit);

MODULE_DESCRIPTION("rasync lifecycle test: a consumer that never synchronizes");
MODULE_LICENSE("GPL");
