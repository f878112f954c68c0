// SPDX-License-Identifier: GPL-2.0
/*
 * The module loader's async guarantees, for rasync (see engine/owner.rs).
 *
 * kernel/module/main.c calls async_synchronize_full() after a module's init (unless
 * it was loaded with async_probe) and after its exit, before freeing its init memory
 * and the module itself. Those calls reach only kernel/async.c. rasync registers a
 * module notifier instead, and waits for that module's entries only:
 *
 *  - MODULE_STATE_COMING (before init): the module gets its owner record.
 *  - MODULE_STATE_LIVE (after init, before .init.text is freed): the notifier waits for
 *    the module's entries, as async_synchronize_full() there does. This wait runs
 *    inside the notifier chain, which holds module_notify_list's rwsem for reading: the
 *    loader offers no later hook before it frees the init memory. While it waits, an
 *    entry of that module must not register or unregister a module notifier, nor load
 *    or remove (synchronously) a module, since a writer of the rwsem waits for this
 *    reader and every later module load and removal waits behind that writer.
 *  - MODULE_STATE_GOING (after exit): the notifier does not wait. If the module has
 *    entries pending, it takes a reference on the module's kobject and hands the wait
 *    to a work item; free_module() begins with mod_sysfs_teardown(), whose
 *    mod_kobject_put() waits until the last reference is gone, so the module is freed
 *    only once its entries have finished, and no lock of the loader or of the notifier
 *    chain is held while they run. What exit() scheduled is queued and waited for.
 *    A module whose kobject is already gone (a load that failed after sysfs setup) is
 *    waited for in the notifier, as at MODULE_STATE_LIVE.
 *
 * A slow wait warns, naming the module and its pending functions with their states,
 * and again every 10 s while it lasts.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/kobject.h>
#include <linux/module.h>
#include <linux/notifier.h>
#include <linux/preempt.h>
#include <linux/printk.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include "rasync_internal.h"

/* Removal drains handed to a work item; destroyed (flushed) at unregister. */
static struct workqueue_struct *rasync_drain_wq;

struct rasync_going {
	struct work_struct work;
	struct module *mod;
};

static void rasync_going_work(struct work_struct *work)
{
	struct rasync_going *going = container_of(work, struct rasync_going, work);
	struct module *mod = going->mod;

	rasync_module_drain(mod, true);
	kfree(going);
	/* May be the last reference: free_module() then goes on. */
	kobject_put(&mod->mkobj.kobj);
}

static void rasync_module_going(struct module *mod)
{
	struct rasync_going *going;

	if (!rasync_module_busy(mod)) {
		/* Nothing pending: close the record now. */
		rasync_module_drain(mod, true);
		return;
	}
	going = kmalloc(sizeof(*going), GFP_KERNEL);
	if (going && kobject_get_unless_zero(&mod->mkobj.kobj)) {
		going->mod = mod;
		INIT_WORK(&going->work, rasync_going_work);
		queue_work(rasync_drain_wq, &going->work);
		return;
	}
	kfree(going);
	rasync_module_drain(mod, true);
}

static int rasync_module_notify(struct notifier_block *nb, unsigned long action, void *data)
{
	struct module *mod = data;

	switch (action) {
	case MODULE_STATE_COMING:
		rasync_module_coming(mod);
		break;
	case MODULE_STATE_LIVE:
		/* do_init_module() skips its async_synchronize_full() for async_probe. */
		if (!mod->async_probe_requested)
			rasync_module_drain(mod, false);
		/* It frees the module's init memory next, in both cases. */
		rasync_module_init_done(mod);
		break;
	case MODULE_STATE_GOING:
		rasync_module_going(mod);
		break;
	}
	return NOTIFY_DONE;
}

static struct notifier_block rasync_module_nb = {
	.notifier_call = rasync_module_notify,
};

int rasync_lifecycle_register(void)
{
	int err;

	rasync_drain_wq = alloc_workqueue("rasync_drain", WQ_UNBOUND, 0);
	if (!rasync_drain_wq)
		return -ENOMEM;
	err = register_module_notifier(&rasync_module_nb);
	if (err)
		destroy_workqueue(rasync_drain_wq);
	return err;
}

void rasync_lifecycle_unregister(void)
{
	unregister_module_notifier(&rasync_module_nb);
	/* Waits for the removal drains still running. */
	destroy_workqueue(rasync_drain_wq);
}
