// SPDX-License-Identifier: GPL-2.0
/*
 * rasync_c_api through the kernel's own header: kunit/rasync_c_test.c compiled against
 * <linux/async.h> on the intree kernel, where CONFIG_ASYNC_RUST has rasync serve it
 * (<rasync.h> is kunit/intree/rasync.h here, which maps the names). Suite
 * rasync_c_api_async_h runs the cases that use nothing beyond <linux/async.h> (created
 * domains aside, which are allocated ones here); those of rasync's extensions are left
 * out.
 */

#include <kunit/test.h>

/* rasync_c_test.c's own suite is not registered; this file's is. */
#undef kunit_test_suite
#define kunit_test_suite(suite) \
	static struct kunit_suite *const suite##_not_registered __maybe_unused = &(suite)

#include "../rasync_c_test.c"

static struct kunit_case rasync_async_h_cases[] = {
	KUNIT_CASE(rasync_c_schedule_and_cookie_order),
	KUNIT_CASE(rasync_c_synchronize_cookie_domain_waits_for_lower_only),
	KUNIT_CASE(rasync_c_full_skips_exclusive_domains),
	KUNIT_CASE(rasync_c_full_domain_null_is_global),
	KUNIT_CASE(rasync_c_node_placement),
	KUNIT_CASE(rasync_c_dev_variants_use_the_device_node),
	KUNIT_CASE(rasync_c_current_is_async),
	KUNIT_CASE(rasync_c_current_is_async_false_in_interrupt),
	KUNIT_CASE(rasync_c_schedule_under_spinlock_irqs_off),
	KUNIT_CASE(rasync_c_schedule_from_timer_callback),
#ifdef CONFIG_FAILSLAB
	KUNIT_CASE(rasync_c_out_of_memory_runs_sync_and_nocall_refuses),
#endif
	KUNIT_CASE(rasync_c_uninitialised_domain_is_refused),
	KUNIT_CASE(rasync_c_synchronize_cookie_ignores_other_registered_domains),
	KUNIT_CASE(rasync_c_synchronize_cookie_domain_ignores_other_domains),
	KUNIT_CASE(rasync_c_synchronize_full_ignores_exclusive_domains),
	KUNIT_CASE(rasync_c_cookies_unique_across_fallbacks),
	KUNIT_CASE(rasync_c_bad_nodes_mean_any_cpu),
	KUNIT_CASE(rasync_c_future_cookie_waits_for_the_whole_domain),
	KUNIT_CASE(rasync_c_function_local_and_heap_domains_keep_lockdep_on),
	KUNIT_CASE(rasync_c_full_inside_exclusive_entry_waits_for_registered),
	{}
};

static struct kunit_suite rasync_async_h_suite = {
	.name = "rasync_c_api_async_h",
	.init = rasync_c_test_init,
	.test_cases = rasync_async_h_cases,
};
kunit_test_suites(&rasync_async_h_suite);
