/* SPDX-License-Identifier: GPL-2.0 */
/*
 * <rasync.h> for kunit/rasync_c_test.c built against <linux/async.h> on the intree
 * kernel (rasync_async_h_test.c): include/rasync.h's names for the kernel's own API,
 * which CONFIG_ASYNC_RUST has rasync serve. Created domains are allocated ones
 * initialised at run time. rasync's extensions (limits, cancellation, results, ...)
 * are not in <linux/async.h>: the cases that need them are not in the suite, and the
 * stubs below only let the file compile.
 */
#ifndef _RASYNC_ASYNC_H_COMPAT_H
#define _RASYNC_ASYNC_H_COMPAT_H

#include <linux/async.h>
#include <linux/bug.h>
#include <linux/slab.h>

#ifndef CONFIG_ASYNC_RUST
#error "build against a kernel with CONFIG_ASYNC_RUST=y (make check-intree)"
#endif

typedef async_cookie_t rasync_cookie_t;
typedef async_func_t rasync_func_t;
typedef int (*rasync_result_func_t)(void *data, async_cookie_t cookie);

#define rasync_domain			async_domain
#define rasync_domain_counts		async_domain_counts
#define RASYNC_DOMAIN			ASYNC_DOMAIN
#define RASYNC_DOMAIN_EXCLUSIVE		ASYNC_DOMAIN_EXCLUSIVE
#define __RASYNC_DOMAIN_INIT		__ASYNC_DOMAIN_INIT

#define rasync_schedule			async_schedule
#define rasync_schedule_domain		async_schedule_domain
#define rasync_schedule_node		async_schedule_node
#define rasync_schedule_node_domain	async_schedule_node_domain
#define rasync_schedule_dev		async_schedule_dev
#define rasync_schedule_dev_domain	async_schedule_dev_domain
#define rasync_schedule_dev_nocall	async_schedule_dev_nocall
#define rasync_synchronize_full		async_synchronize_full
#define rasync_synchronize_full_domain	async_synchronize_full_domain
#define rasync_synchronize_cookie	async_synchronize_cookie
#define rasync_synchronize_cookie_domain async_synchronize_cookie_domain
#define rasync_current_is_async		current_is_async

static inline void rasync_domain_init(struct async_domain *domain, bool registered)
{
	*domain = (struct async_domain)__ASYNC_DOMAIN_INIT((*domain), registered);
}

static inline struct async_domain *rasync_domain_create(bool registered)
{
	struct async_domain *domain = kmalloc(sizeof(*domain), GFP_KERNEL);

	if (domain)
		rasync_domain_init(domain, registered);
	return domain;
}

static inline int rasync_domain_destroy(struct async_domain *domain)
{
	if (domain) {
		async_synchronize_full_domain(domain);
		kfree(domain);
	}
	return 0;
}

/* rasync's extensions: never called by the cases of rasync_c_api_async_h. */
#define RASYNC_NOT_IN_ASYNC_H(ret) ({ WARN_ONCE(1, "not in <linux/async.h>\n"); ret; })

static inline rasync_cookie_t
rasync_schedule_node_domain_cancelable(rasync_func_t func, rasync_func_t cancel, void *data,
				       int node, struct async_domain *domain)
{
	return RASYNC_NOT_IN_ASYNC_H(0);
}

static inline rasync_cookie_t
rasync_schedule_result_node_domain(rasync_result_func_t func, void *data, int node,
				   struct async_domain *domain)
{
	return RASYNC_NOT_IN_ASYNC_H(0);
}

static inline rasync_cookie_t
rasync_schedule_result_domain(rasync_result_func_t func, void *data,
			      struct async_domain *domain)
{
	return RASYNC_NOT_IN_ASYNC_H(0);
}

static inline rasync_cookie_t
rasync_schedule_result_dev_domain(rasync_result_func_t func, struct device *dev,
				  struct async_domain *domain)
{
	return RASYNC_NOT_IN_ASYNC_H(0);
}

static inline rasync_cookie_t
rasync_schedule_result_node_domain_cancelable(rasync_result_func_t func,
					      rasync_func_t cancel, void *data, int node,
					      struct async_domain *domain)
{
	return RASYNC_NOT_IN_ASYNC_H(0);
}

static inline bool rasync_schedule_node_nocall(rasync_func_t func, void *data, int node)
{
	return RASYNC_NOT_IN_ASYNC_H(false);
}

static inline int rasync_dev_to_node(struct device *dev)
{
	return dev_to_node(dev);
}

static inline size_t rasync_entry_bytes(void)
{
	return RASYNC_NOT_IN_ASYNC_H(0);
}

static inline int rasync_domain_set_max_active(struct async_domain *domain,
					       unsigned int max_active)
{
	return RASYNC_NOT_IN_ASYNC_H(-EOPNOTSUPP);
}

static inline unsigned int rasync_domain_cancel(struct async_domain *domain)
{
	return RASYNC_NOT_IN_ASYNC_H(0);
}

static inline int rasync_synchronize_full_domain_result(struct async_domain *domain,
							rasync_cookie_t *cookie)
{
	return RASYNC_NOT_IN_ASYNC_H(-EOPNOTSUPP);
}

static inline int rasync_synchronize_cookie_domain_result(rasync_cookie_t cookie,
							  struct async_domain *domain,
							  rasync_cookie_t *err_cookie)
{
	return RASYNC_NOT_IN_ASYNC_H(-EOPNOTSUPP);
}

static inline int rasync_domain_error(struct async_domain *domain, rasync_cookie_t *cookie)
{
	return RASYNC_NOT_IN_ASYNC_H(-EOPNOTSUPP);
}

static inline int rasync_domain_reset_error(struct async_domain *domain,
					    rasync_cookie_t *cookie)
{
	return RASYNC_NOT_IN_ASYNC_H(-EOPNOTSUPP);
}

static inline void rasync_domain_set_error(struct async_domain *domain, int error,
					   rasync_cookie_t cookie)
{
	RASYNC_NOT_IN_ASYNC_H(0);
}

#endif /* _RASYNC_ASYNC_H_COMPAT_H */
