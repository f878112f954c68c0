// SPDX-License-Identifier: GPL-2.0
/*
 * Trace lines in the exact format of kernel/async.c, so that scripts/bootgraph.pl
 * draws rasync's entries. They are printed (at KERN_DEBUG, like initcall_debug)
 * while the initcall_debug parameter is set. %pS has no Rust equivalent, hence C.
 */

#include <linux/ktime.h>
#include <linux/printk.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include "rasync_internal.h"


static long long microseconds_since(ktime_t start)
{
	return ktime_to_ns(ktime_sub(ktime_get(), start)) >> 10;
}

ktime_t rasync_trace_calling(rasync_cookie_t cookie, rasync_func_t func)
{
	if (!rasync_param_initcall_debug())
		return 0;
	printk(KERN_DEBUG "calling  %lli_%pS @ %i\n", (long long)cookie, func,
	       task_pid_nr(current));
	return ktime_get();
}

void rasync_trace_returned(rasync_cookie_t cookie, rasync_func_t func, ktime_t start)
{
	if (!rasync_param_initcall_debug())
		return;
	printk(KERN_DEBUG "initcall %lli_%pS returned after %lld usecs\n",
	       (long long)cookie, func, microseconds_since(start));
}

ktime_t rasync_trace_waiting(void)
{
	if (!rasync_param_initcall_debug())
		return 0;
	printk(KERN_DEBUG "async_waiting @ %i\n", task_pid_nr(current));
	return ktime_get();
}

void rasync_trace_continuing(ktime_t start)
{
	if (!rasync_param_initcall_debug())
		return;
	printk(KERN_DEBUG "async_continuing @ %i after %lli usec\n", task_pid_nr(current),
	       microseconds_since(start));
}
