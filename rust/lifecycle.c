// SPDX-License-Identifier: GPL-2.0
/*
 * The module loader's async guarantees, for rasync (see rust/owner.rs).
 *
 * kernel/module/main.c calls async_synchronize_full() after a module's init (unless
 * it was loaded with async_probe) and after its exit, before freeing its init memory
 * and the module itself. Those calls reach only kernel/async.c. rasync registers a
 * module notifier instead: MODULE_STATE_LIVE and MODULE_STATE_GOING are notified just
 * before those two points, and rasync waits there for that module's entries only.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/module.h>
#include <linux/notifier.h>
#include <linux/preempt.h>
#include <linux/printk.h>
#include "rasync_internal.h"

static int rasync_module_notify(struct notifier_block *nb, unsigned long action, void *data)
{
	struct module *mod = data;

	switch (action) {
	case MODULE_STATE_LIVE:
		/* do_init_module() skips its async_synchronize_full() for async_probe. */
		if (!mod->async_probe_requested)
			rasync_module_drain(mod, false);
		break;
	case MODULE_STATE_GOING:
		rasync_module_drain(mod, true);
		break;
	}
	return NOTIFY_DONE;
}

static struct notifier_block rasync_module_nb = {
	.notifier_call = rasync_module_notify,
};

int rasync_lifecycle_register(void)
{
	return register_module_notifier(&rasync_module_nb);
}

void rasync_lifecycle_unregister(void)
{
	unregister_module_notifier(&rasync_module_nb);
}

/* rust/owner.rs reads a module's state at offset 0, as an int. */
static_assert(offsetof(struct module, state) == 0);
static_assert(sizeof(((struct module *)0)->state) == sizeof(int));

bool rasync_helper_in_task(void)
{
	return in_task();
}

void rasync_warn_going(struct module *mod, rasync_func_t func)
{
	pr_warn_ratelimited("module %s is being removed: %pS runs synchronously instead of being queued\n",
			    mod->name, func);
}

void rasync_warn_slow_removal(struct module *mod, unsigned int pending,
			      const rasync_func_t *funcs, unsigned int n)
{
	unsigned int i;

	pr_warn("removal of module %s has waited over a second for its %u pending entries (does its exit synchronize them?):\n",
		mod->name, pending);
	for (i = 0; i < n; i++)
		pr_warn("  pending: %pS\n", funcs[i]);
	if (pending > n)
		pr_warn("  ... and %u more\n", pending - n);
}
