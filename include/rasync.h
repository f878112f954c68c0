/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rasync.h - asynchronous function calls with sequence cookies (rasync.ko).
 *
 * The API of <linux/async.h> with a rasync_ prefix: a user of kernel/async.c
 * ports by renaming. Build your module against this header and rasync's
 * Module.symvers (KBUILD_EXTRA_SYMBOLS); rasync.ko must be loaded first.
 *
 * Differences from <linux/async.h> (see rust/engine/engine.rs for the design):
 *  - rasync_schedule_dev_nocall() is exported (async_schedule_dev_nocall() is not);
 *  - rasync_domain_create()/rasync_domain_destroy() add heap-allocated domains,
 *    and rasync_schedule_node_nocall() is _dev_nocall() for any data and node;
 *  - a synchronize from inside an async function never waits for that function
 *    itself (in async.c it deadlocks): it waits only for the earlier cookies;
 *  - the scheduling functions are inline wrappers that pass THIS_MODULE to rasync:
 *    rasync finishes a module's entries (every domain, exclusive ones included)
 *    before the loader frees its init memory (end of init, unless loaded with
 *    async_probe) and before it frees the module (rmmod waits, then succeeds), as
 *    the loader's async_synchronize_full() calls do for async.c. Scheduling from a
 *    module that is being removed runs the function synchronously, with a warning.
 *
 * Beyond <linux/async.h>: a domain can cap its entries running at once
 * (rasync_domain_set_max_active()) and cancel the entries that have not started
 * (rasync_domain_cancel(), with rasync_schedule_node_domain_cancelable() for a
 * callback that releases the data); functions may return a result, and a domain
 * remembers its first error (rasync_schedule_result*(), *_result() synchronizes).
 * Observability: tracepoints rasync:* (trace-cmd record -e rasync) and debugfs
 * rasync/ (counters, histograms, the pending entries) - see README.md.
 */
#ifndef _RASYNC_H
#define _RASYNC_H

#include <linux/types.h>
#include <linux/list.h>
#include <linux/numa.h>
#include <linux/device.h>
#include <linux/spinlock.h>
#include <linux/module.h>

typedef u64 rasync_cookie_t;
typedef void (*rasync_func_t) (void *data, rasync_cookie_t cookie);
/* An async function with a result: 0, or a negative errno its domain remembers. */
typedef int (*rasync_result_func_t) (void *data, rasync_cookie_t cookie);

/* A domain's counters (debugfs rasync/domains), kept under its lock. */
struct rasync_domain_counts {
	u64 queued;		/* entries queued to run asynchronously */
	u64 sync;		/* calls run synchronously in the caller (fallback) */
	u64 finished;		/* queued entries whose function has returned */
	u64 cancelled;		/* queued entries cancelled before they started */
	u64 failed;		/* result functions that returned an error */
	u64 woken;		/* synchronizers of this domain woken */
	unsigned int peak;	/* most entries pending at once */
};

/*
 * A domain: entries scheduled on it are ordered by cookie and can be waited for
 * together. Fields are private to rasync.ko; define domains with the macros below.
 */
struct rasync_domain {
	spinlock_t lock;		/* protects pending and waiters */
	struct list_head pending;	/* unfinished entries, ascending cookies */
	struct list_head waiters;	/* sleeping synchronizers, ascending cookies */
	bool registered;		/* waited for by rasync_synchronize_full() */
	bool dying;			/* destroyed while busy: freed by its last entry */
	unsigned int max_active;	/* entries running at once at most; 0: no limit */
	unsigned int active;		/* entries handed to the runners, unfinished */
	void *held_first;		/* entries waiting for max_active, in cookie order */
	void *held_last;
	int error;			/* first error (lowest cookie) of a result function */
	rasync_cookie_t error_cookie;	/* its cookie */
	struct rasync_domain_counts counts;
	struct list_head registry;	/* on rasync's list of domains (debugfs) */
	u8 listed;			/* 0: not yet seen, 1: on the list, 2: not listable */
	bool heap;			/* from rasync_domain_create() */
};

/*
 * A domain's lock. Every domain defined with the macros below - static, function-local,
 * or embedded in a structure, static or allocated - shares one lockdep class, whose key
 * and name live in rasync.ko: lockdep accepts only static keys, and a function-local
 * lock initialised with __SPIN_LOCK_UNLOCKED() would have none (lockdep would report
 * "trying to register non-static key" and turn itself off). No two domain locks are
 * ever held together. Without lockdep this is __SPIN_LOCK_UNLOCKED(): nothing is added
 * to the lock or to its hot path.
 */
#ifdef CONFIG_DEBUG_LOCK_ALLOC
extern struct lock_class_key rasync_domain_lock_key;
extern const char rasync_domain_lock_name[];
#define __RASYNC_DOMAIN_DEP_MAP {					\
		.key = &rasync_domain_lock_key,				\
		.name = rasync_domain_lock_name,			\
		.wait_type_inner = LD_WAIT_CONFIG,			\
	}
#ifdef CONFIG_PREEMPT_RT
#define __RASYNC_DOMAIN_LOCK_INIT(_lock) {				\
		.lock = __RT_MUTEX_BASE_INITIALIZER(_lock.lock),	\
		.dep_map = __RASYNC_DOMAIN_DEP_MAP,			\
	}
#else
#define __RASYNC_DOMAIN_LOCK_INIT(_lock) { { .rlock = {		\
		.raw_lock = __ARCH_SPIN_LOCK_UNLOCKED,			\
		SPIN_DEBUG_INIT(_lock)					\
		.dep_map = __RASYNC_DOMAIN_DEP_MAP,			\
	} } }
#endif
#else
#define __RASYNC_DOMAIN_LOCK_INIT(_lock) __SPIN_LOCK_UNLOCKED(_lock)
#endif

/*
 * The initialiser of a domain @_name (an lvalue: a variable, or a member such as
 * obj->domain); @_registered: whether rasync_synchronize_full() waits for it.
 */
#define __RASYNC_DOMAIN_INIT(_name, _registered) {			\
	.lock = __RASYNC_DOMAIN_LOCK_INIT(_name.lock),			\
	.pending = LIST_HEAD_INIT(_name.pending),			\
	.waiters = LIST_HEAD_INIT(_name.waiters),			\
	.registered = _registered,					\
	.dying = false,							\
	.max_active = 0,						\
	.active = 0,							\
	.held_first = NULL,						\
	.held_last = NULL,						\
	.registry = LIST_HEAD_INIT(_name.registry) }

/* A domain that rasync_synchronize_full() waits for. */
#define RASYNC_DOMAIN(_name) \
	struct rasync_domain _name = __RASYNC_DOMAIN_INIT(_name, true)

/* A domain that only a synchronize on that domain waits for. */
#define RASYNC_DOMAIN_EXCLUSIVE(_name) \
	struct rasync_domain _name = __RASYNC_DOMAIN_INIT(_name, false)

/*
 * Initialises the domain at @domain, for one embedded in allocated memory: the
 * run-time form of RASYNC_DOMAIN() (@registered true) or RASYNC_DOMAIN_EXCLUSIVE().
 * Its memory may be freed once nothing is pending on it and nobody synchronizes it.
 */
static inline void rasync_domain_init(struct rasync_domain *domain, bool registered)
{
	*domain = (struct rasync_domain)__RASYNC_DOMAIN_INIT((*domain), registered);
}

/* Exported entry points; call them through the wrappers below, which pass THIS_MODULE. */
rasync_cookie_t __rasync_schedule_node(rasync_func_t func, void *data, int node,
				       struct module *owner);
rasync_cookie_t __rasync_schedule_node_domain(rasync_func_t func, void *data, int node,
					      struct rasync_domain *domain,
					      struct module *owner);
rasync_cookie_t __rasync_schedule_node_domain_cancelable(rasync_func_t func,
							rasync_func_t cancel, void *data,
							int node,
							struct rasync_domain *domain,
							struct module *owner);
rasync_cookie_t __rasync_schedule_result_node_domain(rasync_result_func_t func,
						     rasync_func_t cancel, void *data,
						     int node,
						     struct rasync_domain *domain,
						     struct module *owner);
bool __rasync_schedule_dev_nocall(rasync_func_t func, struct device *dev,
				  struct module *owner);
bool __rasync_schedule_node_nocall(rasync_func_t func, void *data, int node,
				   struct module *owner);

/* Schedule @func(@data, cookie) on a CPU of @node (any CPU if invalid or offline). */
static inline rasync_cookie_t rasync_schedule_node(rasync_func_t func, void *data, int node)
{
	return __rasync_schedule_node(func, data, node, THIS_MODULE);
}

static inline rasync_cookie_t
rasync_schedule_node_domain(rasync_func_t func, void *data, int node,
			    struct rasync_domain *domain)
{
	return __rasync_schedule_node_domain(func, data, node, domain, THIS_MODULE);
}

/* Like rasync_schedule_dev(), but returns false instead of ever calling @func now. */
static inline bool rasync_schedule_dev_nocall(rasync_func_t func, struct device *dev)
{
	return __rasync_schedule_dev_nocall(func, dev, THIS_MODULE);
}

/* Schedule @func(@data, cookie) on any CPU, in the default (registered) domain. */
static inline rasync_cookie_t rasync_schedule(rasync_func_t func, void *data)
{
	return rasync_schedule_node(func, data, NUMA_NO_NODE);
}

static inline rasync_cookie_t
rasync_schedule_domain(rasync_func_t func, void *data, struct rasync_domain *domain)
{
	return rasync_schedule_node_domain(func, data, NUMA_NO_NODE, domain);
}

/* Schedule @func(@dev, cookie) on @dev's NUMA node. */
static inline rasync_cookie_t rasync_schedule_dev(rasync_func_t func, struct device *dev)
{
	return rasync_schedule_node(func, dev, dev_to_node(dev));
}

static inline rasync_cookie_t
rasync_schedule_dev_domain(rasync_func_t func, struct device *dev,
			   struct rasync_domain *domain)
{
	return rasync_schedule_node_domain(func, dev, dev_to_node(dev), domain);
}

/*
 * Like rasync_schedule_node_domain(), but rasync_domain_cancel() may cancel the entry
 * before it starts: then @cancel(@data, cookie) is called instead of @func (in the
 * canceller's context), to release @data. @cancel may be NULL.
 */
static inline rasync_cookie_t
rasync_schedule_node_domain_cancelable(rasync_func_t func, rasync_func_t cancel, void *data,
				       int node, struct rasync_domain *domain)
{
	return __rasync_schedule_node_domain_cancelable(func, cancel, data, node, domain,
							THIS_MODULE);
}

void rasync_synchronize_full(void);
void rasync_synchronize_full_domain(struct rasync_domain *domain);
void rasync_synchronize_cookie(rasync_cookie_t cookie);
void rasync_synchronize_cookie_domain(rasync_cookie_t cookie, struct rasync_domain *domain);
bool rasync_current_is_async(void);

/*
 * rasync extensions: heap-allocated domains (destroy synchronizes first), and the
 * never-synchronous schedule with any data (rasync_schedule_dev_nocall() uses it).
 */
static inline bool rasync_schedule_node_nocall(rasync_func_t func, void *data, int node)
{
	return __rasync_schedule_node_nocall(func, data, node, THIS_MODULE);
}

int rasync_dev_to_node(struct device *dev);	/* dev_to_node(), for Rust callers */
struct rasync_domain *rasync_domain_create(bool registered);
/*
 * Waits for @domain's entries, then frees it; 0 (also for NULL). A domain that
 * rasync_domain_create() did not make (RASYNC_DOMAIN() and friends) is refused with an
 * error message and -EINVAL: it is neither synchronized nor freed.
 */
int rasync_domain_destroy(struct rasync_domain *domain);
size_t rasync_entry_bytes(void);	/* slab bytes of one pending entry */

/*
 * Caps @domain's entries running at once at @max_active (0: no limit, the default);
 * the others start in cookie order as running ones finish. Synchronize semantics are
 * unchanged. Set it before scheduling: entries already running when a domain first
 * gets a cap are not counted against it. Returns 0, or -EINVAL for a NULL or
 * uninitialised domain.
 */
int rasync_domain_set_max_active(struct rasync_domain *domain, unsigned int max_active);

/*
 * Cancels @domain's entries that have not started: each one's cancel callback (if
 * any) is called, @func never; its cookie counts as finished, so waiters proceed.
 * Entries scheduled without rasync_schedule_node_domain_cancelable() are cancelled
 * too (nothing is called for them). Returns how many were cancelled. May be called
 * from any context that may call the cancel callbacks (with interrupts off or in a
 * hard IRQ, which stay off); not from an atomic one if they sleep.
 */
unsigned int rasync_domain_cancel(struct rasync_domain *domain);

/*
 * Results. A result function returns 0 or a negative errno; @domain remembers the
 * error with the lowest cookie (the first in cookie order) until it is reset, so an
 * -EIO from an async probe reaches the code that waits. The void API above is
 * unchanged. In the synchronous fallback the result is recorded just the same. A
 * positive return value is recorded too, with a one-time warning (not an errno).
 */
static inline rasync_cookie_t
rasync_schedule_result_node_domain(rasync_result_func_t func, void *data, int node,
				   struct rasync_domain *domain)
{
	return __rasync_schedule_result_node_domain(func, NULL, data, node, domain,
						    THIS_MODULE);
}

static inline rasync_cookie_t
rasync_schedule_result_domain(rasync_result_func_t func, void *data,
			      struct rasync_domain *domain)
{
	return rasync_schedule_result_node_domain(func, data, NUMA_NO_NODE, domain);
}

static inline rasync_cookie_t
rasync_schedule_result_dev_domain(rasync_result_func_t func, struct device *dev,
				  struct rasync_domain *domain)
{
	return rasync_schedule_result_node_domain(func, dev, dev_to_node(dev), domain);
}

/* Both: a result, and @cancel(@data, cookie) if rasync_domain_cancel() cancels it. */
static inline rasync_cookie_t
rasync_schedule_result_node_domain_cancelable(rasync_result_func_t func,
					      rasync_func_t cancel, void *data, int node,
					      struct rasync_domain *domain)
{
	return __rasync_schedule_result_node_domain(func, cancel, data, node, domain,
						    THIS_MODULE);
}

/*
 * rasync_synchronize_full_domain(), then returns @domain's first error (0 if none),
 * storing its cookie in @cookie if non-NULL. -EINVAL for a NULL or uninitialised
 * domain.
 */
int rasync_synchronize_full_domain_result(struct rasync_domain *domain,
					  rasync_cookie_t *cookie);

/*
 * rasync_synchronize_cookie_domain(), then returns the first error among the entries
 * of @domain below @cookie (0 if none), its cookie in @err_cookie if non-NULL.
 */
int rasync_synchronize_cookie_domain_result(rasync_cookie_t cookie,
					    struct rasync_domain *domain,
					    rasync_cookie_t *err_cookie);

/* @domain's first error so far (0 if none), without waiting; its cookie in @cookie. */
int rasync_domain_error(struct rasync_domain *domain, rasync_cookie_t *cookie);

/* Forgets @domain's error; returns it (0 if none), its cookie in @cookie. */
int rasync_domain_reset_error(struct rasync_domain *domain, rasync_cookie_t *cookie);

/*
 * Records @error for @cookie in @domain as if a result function with that cookie had
 * returned it (for work a caller did itself, e.g. when it could not schedule).
 */
void rasync_domain_set_error(struct rasync_domain *domain, int error, rasync_cookie_t cookie);

#endif /* _RASYNC_H */
