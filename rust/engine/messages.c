// SPDX-License-Identifier: GPL-2.0
/*
 * Messages the engine prints with what only C has at hand (%pS, struct module,
 * object_is_on_stack()), and the module facts owner.rs relies on. Built into both
 * hosts: rasync.ko (module/) and vmlinux (builtin/).
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/mm.h>
#include <linux/module.h>
#include <linux/preempt.h>
#include <linux/printk.h>
#include <linux/sched/task_stack.h>
#include "rasync_internal.h"

/* owner.rs reads a module's state at offset 0, as an int. */
static_assert(offsetof(struct module, state) == 0);
static_assert(sizeof(((struct module *)0)->state) == sizeof(int));

bool rasync_helper_in_task(void)
{
	return in_task();
}

void rasync_warn_going(struct module *mod, rasync_func_t func)
{
	pr_warn_ratelimited("module %s has been removed: %pS runs synchronously instead of being queued\n",
			    mod->name, func);
}

/* What a pending entry is doing: owner.rs RUNNING, QUEUED, QUEUED_NO_RUNNER, HELD. */
static const char *const rasync_pending_states[] = {
	"running", "queued", "queued, no runner", "held by its domain's cap",
};

void rasync_warn_slow_drain(struct module *mod, bool going, unsigned int waited_s,
			    unsigned int pending, const struct rasync_pending_func *funcs,
			    unsigned int n)
{
	unsigned int i;

	if (going)
		pr_warn("removal of module %s has waited %u s for its %u pending entries (does its exit synchronize them?):\n",
			mod->name, waited_s, pending);
	else
		pr_warn("loading module %s: the end of its init has waited %u s for its %u pending entries:\n",
			mod->name, waited_s, pending);
	for (i = 0; i < n; i++)
		pr_warn("  pending: %pS (%s)\n", funcs[i].func,
			funcs[i].state < ARRAY_SIZE(rasync_pending_states) ?
			rasync_pending_states[funcs[i].state] : "?");
	if (pending > n)
		pr_warn("  ... and %u more (held, or between states)\n", pending - n);
}

/*
 * rasync_domain_destroy() of a domain rasync_domain_create() did not make (exports.rs):
 * a static one is named by its symbol, others by where they live (hashed address).
 */
void rasync_warn_not_created(const void *domain)
{
	static const char fmt_tail[] =
		"was not created by rasync_domain_create(): refused, not freed";

	if (object_is_on_stack(domain))
		pr_err_ratelimited("rasync_domain_destroy: domain %p on the stack %s\n",
				   domain, fmt_tail);
	else if (virt_addr_valid(domain))
		pr_err_ratelimited("rasync_domain_destroy: domain %p in allocated memory %s\n",
				   domain, fmt_tail);
	else
		pr_err_ratelimited("rasync_domain_destroy: domain %ps %s\n", domain, fmt_tail);
}
