// SPDX-License-Identifier: GPL-2.0
/*
 * Export table for the functions rasync implements in Rust (engine/exports.rs).
 * The prototypes come from include/rasync.h, so the compiler checks them.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/export.h>
#include <linux/printk.h>
#include "rasync_internal.h"

EXPORT_SYMBOL_GPL(__rasync_schedule_node);
EXPORT_SYMBOL_GPL(__rasync_schedule_node_domain);
EXPORT_SYMBOL_GPL(__rasync_schedule_node_domain_cancelable);
EXPORT_SYMBOL_GPL(__rasync_schedule_dev_nocall);
EXPORT_SYMBOL_GPL(__rasync_schedule_node_nocall);
EXPORT_SYMBOL_GPL(rasync_synchronize_full);
EXPORT_SYMBOL_GPL(rasync_synchronize_full_domain);
EXPORT_SYMBOL_GPL(rasync_synchronize_cookie);
EXPORT_SYMBOL_GPL(rasync_synchronize_cookie_domain);
EXPORT_SYMBOL_GPL(rasync_current_is_async);
EXPORT_SYMBOL_GPL(rasync_domain_create);
EXPORT_SYMBOL_GPL(rasync_domain_destroy);
EXPORT_SYMBOL_GPL(rasync_dev_to_node);
EXPORT_SYMBOL_GPL(rasync_entry_bytes);
EXPORT_SYMBOL_GPL(rasync_domain_set_max_active);
EXPORT_SYMBOL_GPL(rasync_domain_cancel);
EXPORT_SYMBOL_GPL(__rasync_schedule_result_node_domain);
EXPORT_SYMBOL_GPL(rasync_synchronize_full_domain_result);
EXPORT_SYMBOL_GPL(rasync_synchronize_cookie_domain_result);
EXPORT_SYMBOL_GPL(rasync_domain_error);
EXPORT_SYMBOL_GPL(rasync_domain_reset_error);
EXPORT_SYMBOL_GPL(rasync_domain_set_error);

/*
 * The lockdep class of the locks of domains defined with RASYNC_DOMAIN() and
 * RASYNC_DOMAIN_EXCLUSIVE() (include/rasync.h): one static key and one name for all of
 * them, wherever they live, as lockdep needs a static key and, for one key, one name.
 */
#ifdef CONFIG_DEBUG_LOCK_ALLOC
struct lock_class_key rasync_domain_lock_key;
EXPORT_SYMBOL_GPL(rasync_domain_lock_key);
const char rasync_domain_lock_name[] = "rasync_domain.lock";
EXPORT_SYMBOL_GPL(rasync_domain_lock_name);
#endif
