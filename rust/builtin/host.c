// SPDX-License-Identifier: GPL-2.0
/*
 * The built-in host's services to the engine (rasync_internal.h), in place of
 * rasync.ko's module/:
 *
 *  - the parameters are engine/params.c's, as in rasync.ko; rasync.initcall_debug=
 *    is also on with the kernel's own initcall_debug;
 *  - the workqueues' attributes, with apply_workqueue_attrs() (there is no sysfs yet
 *    at async_init() time) and a min_active raised to WQ_DFL_ACTIVE, as async.c does;
 *    "rasync" keeps the default affinity scope, as "async"; they appear in sysfs at
 *    late_initcall;
 *  - a module notifier for what the loader's own waits (async_synchronize_module())
 *    do not cover: a module's owner record when it comes, its init-memory domains
 *    leaving debugfs's list when it was loaded with async_probe (no wait then), and
 *    the record of a module that goes away with nothing pending;
 *  - debugfs rasync/, at late_initcall.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/cpumask.h>
#include <linux/init.h>
#include <linux/module.h>
#include <linux/notifier.h>
#include <linux/numa.h>
#include <linux/workqueue.h>
#include "rasync_internal.h"
#include "builtin.h"

/* The engine's workqueues, made visible in sysfs once sysfs is up. */
static struct workqueue_struct *rasync_wqs[1 + MAX_NUMNODES];
static unsigned int rasync_nr_wqs;

unsigned int rasync_host_wq_flags(void)
{
	return 0;
}

/* Raises @wq's min_active and lists it for sysfs. */
static void rasync_wq_finish(struct workqueue_struct *wq)
{
	/* As async_init() does for "async": interdependent entries must not stall. */
	workqueue_set_min_active(wq, WQ_DFL_ACTIVE);
	if (rasync_nr_wqs < ARRAY_SIZE(rasync_wqs))
		rasync_wqs[rasync_nr_wqs++] = wq;
}

/*
 * "rasync", for entries with no node: shaped as async.c's "async", the system's default
 * affinity scope and min_active raised to WQ_DFL_ACTIVE. Its pools are then the
 * per-pod pools that "async" and system_unbound_wq share, so a runner starts on an idle
 * worker of the scheduling CPU's pod, as async.c's work items do (with one pod for all
 * CPUs, a pool of rasync's own, W9's third suspend callback started 0.2-0.4 ms late in
 * 5 boots of 7), and min_active gives every node 1024 entries at once, whatever its
 * share of the CPUs. rasync.ko cannot raise min_active and takes one pod for all CPUs
 * instead (module/wq_sysfs.c).
 */
int rasync_host_wq_system_wide(struct workqueue_struct *wq, const char *name)
{
	rasync_wq_finish(wq);
	return 0;
}

/* "rasync_node<N>": restricted to @node's possible CPUs. */
int rasync_host_wq_node(struct workqueue_struct *wq, const char *name, int node)
{
	struct workqueue_attrs *attrs = alloc_workqueue_attrs();
	int ret = -ENODEV;

	if (!attrs)
		return -ENOMEM;
	if (!rasync_helper_node_possible_cpus(node, attrs->cpumask))
		goto out;
	ret = apply_workqueue_attrs(wq, attrs);
	if (!ret)
		rasync_wq_finish(wq);
out:
	free_workqueue_attrs(attrs);
	return ret;
}

static int rasync_module_notify(struct notifier_block *nb, unsigned long action, void *data)
{
	struct module *mod = data;

	switch (action) {
	case MODULE_STATE_COMING:
		rasync_module_coming(mod);
		break;
	case MODULE_STATE_LIVE:
		/* do_init_module() waits, and forgets them, unless async_probe. */
		if (mod->async_probe_requested)
			rasync_module_init_done(mod);
		break;
	case MODULE_STATE_GOING:
		/*
		 * With entries pending, the loader waits for them next (after exit(), or
		 * after a failed init); a load that failed before init has none.
		 */
		if (!rasync_module_busy(mod))
			rasync_module_drain(mod, true);
		break;
	}
	return NOTIFY_DONE;
}

static struct notifier_block rasync_module_nb = {
	.notifier_call = rasync_module_notify,
};

void __init rasync_builtin_host_init(void)
{
	if (initcall_debug)
		rasync_initcall_debug = true;
	WARN_ON(register_module_notifier(&rasync_module_nb));
}

static int __init rasync_late_init(void)
{
	unsigned int i;

	for (i = 0; i < rasync_nr_wqs; i++)
		if (workqueue_sysfs_register(rasync_wqs[i]))
			pr_warn("workqueue %u of %u not in sysfs\n", i + 1, rasync_nr_wqs);
	rasync_debugfs_init();
	return 0;
}
late_initcall(rasync_late_init);
