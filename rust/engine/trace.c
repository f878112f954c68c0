// SPDX-License-Identifier: GPL-2.0
/*
 * Trace lines in the exact format of kernel/async.c, so that scripts/bootgraph.pl
 * draws rasync's entries. They are printed (at KERN_DEBUG, like initcall_debug)
 * while the initcall_debug parameter is set. %pS has no Rust equivalent, hence C.
 *
 * The function is printed as %pS prints it (sprint_symbol()), except that a Rust v0
 * name (_R...) is demangled by demangle.rs into characters scripts/bootgraph.pl
 * accepts, e.g. "rasync_sample_main.probe.Probes.probe.closure0+0x27/0x40 [rasync_sample]":
 * for closures scheduled through include/rasync.rs, the user's closure, not rasync's
 * trampoline.
 */

#include <linux/kallsyms.h>
#include <linux/ktime.h>
#include <linux/printk.h>
#include <linux/pid.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/string.h>
#include "rasync_internal.h"


static long long microseconds_since(ktime_t start)
{
	return ktime_to_ns(ktime_sub(ktime_get(), start)) >> 10;
}

/*
 * func_name - @func as %pS prints it, into @sym (KSYM_SYMBOL_LEN bytes), or its
 * demangled form in a buffer allocated into @alloc (kfree() it). Atomic context is
 * fine; if the allocation fails, the name stays mangled. Two KSYM_SYMBOL_LEN buffers
 * on the stack would exceed the frame size limit.
 */
static const char *func_name(rasync_func_t func, char *sym, char **alloc)
{
	return rasync_func_name(func, sym, alloc, true);
}

/* func_name(), optionally without the +offset/size (as %ps), for the tracepoints. */
const char *rasync_func_name(rasync_func_t func, char *sym, char **alloc, bool offset)
{
	if (offset)
		sprint_symbol(sym, (unsigned long)func);
	else
		sprint_symbol_no_offset(sym, (unsigned long)func);
	*alloc = NULL;
	if (strncmp(sym, "_R", 2))
		return sym;
	*alloc = kmalloc(KSYM_SYMBOL_LEN, GFP_ATOMIC | __GFP_NOWARN);
	if (*alloc && rasync_demangle(sym, *alloc, KSYM_SYMBOL_LEN))
		return *alloc;
	return sym;
}

ktime_t rasync_trace_calling(rasync_cookie_t cookie, rasync_func_t func)
{
	char sym[KSYM_SYMBOL_LEN], *alloc;

	if (!rasync_param_initcall_debug())
		return 0;
	printk(KERN_DEBUG "calling  %lli_%s @ %i\n", (long long)cookie,
	       func_name(func, sym, &alloc), task_pid_nr(current));
	kfree(alloc);
	return ktime_get();
}

void rasync_trace_returned(rasync_cookie_t cookie, rasync_func_t func, ktime_t start)
{
	char sym[KSYM_SYMBOL_LEN], *alloc;
	long long usecs;

	if (!rasync_param_initcall_debug())
		return;
	usecs = microseconds_since(start);
	printk(KERN_DEBUG "initcall %lli_%s returned after %lld usecs\n",
	       (long long)cookie, func_name(func, sym, &alloc), usecs);
	kfree(alloc);
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
