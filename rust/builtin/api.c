// SPDX-License-Identifier: GPL-2.0
/*
 * <linux/async.h> served by the Rust engine (CONFIG_ASYNC_RUST).
 *
 * The engine's C ABI is include/rasync.h's (engine/exports.rs); struct async_domain is
 * struct rasync_domain under its kernel name, field for field (checked below), so each
 * call here is a tail call into the engine. The scheduling calls take the caller's
 * module (THIS_MODULE, passed by async.h's inlines; NULL for built-in code), and the
 * module loader waits for a module's own entries only (async_synchronize_module()).
 * Every other synchronize keeps async.c's meaning: async_synchronize_full() waits for
 * every entry of every registered domain.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/async.h>
#include <linux/export.h>
#include <linux/init.h>
#include <linux/module.h>
#include <linux/stddef.h>
#include "rasync_internal.h"
#include "builtin.h"

#define ASYNC_DOMAIN_SAME(field)						\
	static_assert(offsetof(struct async_domain, field) ==			\
		      offsetof(struct rasync_domain, field))
ASYNC_DOMAIN_SAME(lock);
ASYNC_DOMAIN_SAME(pending);
ASYNC_DOMAIN_SAME(waiters);
ASYNC_DOMAIN_SAME(registered);
ASYNC_DOMAIN_SAME(dying);
ASYNC_DOMAIN_SAME(max_active);
ASYNC_DOMAIN_SAME(active);
ASYNC_DOMAIN_SAME(held_first);
ASYNC_DOMAIN_SAME(held_last);
ASYNC_DOMAIN_SAME(error);
ASYNC_DOMAIN_SAME(error_cookie);
ASYNC_DOMAIN_SAME(counts);
ASYNC_DOMAIN_SAME(registry);
ASYNC_DOMAIN_SAME(listed);
ASYNC_DOMAIN_SAME(heap);
static_assert(sizeof(struct async_domain) == sizeof(struct rasync_domain));
static_assert(sizeof(struct async_domain_counts) == sizeof(struct rasync_domain_counts));
static_assert(__alignof__(struct async_domain) == __alignof__(struct rasync_domain));

static struct rasync_domain *to_rasync(struct async_domain *domain)
{
	return (struct rasync_domain *)domain;
}

#ifdef CONFIG_DEBUG_LOCK_ALLOC
struct lock_class_key async_domain_lock_key;
EXPORT_SYMBOL_GPL(async_domain_lock_key);
/* Exported: every domain's lock must name the key with this very string. */
const char async_domain_lock_name[] =
	"async_domain.lock";
EXPORT_SYMBOL_GPL(async_domain_lock_name);
#endif

async_cookie_t __async_schedule_node_domain(async_func_t func, void *data, int node,
					    struct async_domain *domain,
					    struct module *owner)
{
	return __rasync_schedule_node_domain(func, data, node, to_rasync(domain), owner);
}
EXPORT_SYMBOL_GPL(__async_schedule_node_domain);

async_cookie_t __async_schedule_node(async_func_t func, void *data, int node,
				     struct module *owner)
{
	return __rasync_schedule_node(func, data, node, owner);
}
EXPORT_SYMBOL_GPL(__async_schedule_node);

bool __async_schedule_dev_nocall(async_func_t func, struct device *dev, struct module *owner)
{
	return __rasync_schedule_dev_nocall(func, dev, owner);
}
EXPORT_SYMBOL_GPL(__async_schedule_dev_nocall);

void async_synchronize_full(void)
{
	rasync_synchronize_full();
}
EXPORT_SYMBOL_GPL(async_synchronize_full);

void async_synchronize_full_domain(struct async_domain *domain)
{
	rasync_synchronize_full_domain(to_rasync(domain));
}
EXPORT_SYMBOL_GPL(async_synchronize_full_domain);

void async_synchronize_cookie_domain(async_cookie_t cookie, struct async_domain *domain)
{
	rasync_synchronize_cookie_domain(cookie, to_rasync(domain));
}
EXPORT_SYMBOL_GPL(async_synchronize_cookie_domain);

void async_synchronize_cookie(async_cookie_t cookie)
{
	rasync_synchronize_cookie(cookie);
}
EXPORT_SYMBOL_GPL(async_synchronize_cookie);

bool current_is_async(void)
{
	return rasync_current_is_async();
}
EXPORT_SYMBOL_GPL(current_is_async);

/*
 * The module loader's waits (kernel/module/main.c): after @mod's init, before its init
 * memory is freed (@mod is MODULE_STATE_LIVE), and after its exit or a failed init,
 * before it is freed (MODULE_STATE_GOING). Only @mod's entries are waited for: those it
 * scheduled, and those running its code that another module scheduled (see
 * engine/owner.rs). Entries of built-in code, async probes of the driver core among
 * them, are not @mod's: wait_for_device_probe() and driver detach still wait for all.
 */
void async_synchronize_module(struct module *mod)
{
	bool going = READ_ONCE(mod->state) == MODULE_STATE_GOING;

	rasync_module_drain(mod, going);
	if (!going)
		rasync_module_init_done(mod);
}

void __init async_init(void)
{
	int err = rasync_builtin_init();

	if (err)
		panic("async: the Rust engine did not start: %d\n", err);
	rasync_builtin_host_init();
}
