// SPDX-License-Identifier: GPL-2.0
/*
 * Observation: rasync's tracepoints (rasync_trace.h), queue-delay and run-time
 * histograms, and the entries' time stamps. All of it sits behind one static key,
 * rasync_observe, which observe.rs tests on the hot path: a patched-out jump
 * while nothing observes. The key is on while any rasync tracepoint is enabled or
 * timing is switched on (debugfs rasync/timing); the histograms fill while it is on.
 */

#include <linux/jiffies.h>
#include <linux/kallsyms.h>
#include <linux/slab.h>
#include <linux/jump_label.h>
#include <linux/ktime.h>
#include <linux/log2.h>
#include <linux/mutex.h>
#include <linux/percpu.h>
#include <linux/seq_file.h>
#include "rasync_internal.h"

#define CREATE_TRACE_POINTS
#include "rasync_trace.h"

/* A struct around the key, so that Rust's static_branch_unlikely! can name its field. */
struct rasync_observe_key rasync_observe = { .key = STATIC_KEY_FALSE_INIT };

int rasync_observe_reg(void)
{
	static_branch_inc(&rasync_observe.key);
	return 0;
}

void rasync_observe_unreg(void)
{
	static_branch_dec(&rasync_observe.key);
}

static DEFINE_MUTEX(timing_lock);
static bool timing;

void rasync_observe_set_timing(bool on)
{
	mutex_lock(&timing_lock);
	if (on != timing) {
		timing = on;
		if (on)
			static_branch_inc(&rasync_observe.key);
		else
			static_branch_dec(&rasync_observe.key);
	}
	mutex_unlock(&timing_lock);
}

bool rasync_observe_timing(void)
{
	return READ_ONCE(timing);
}

/*
 * Histograms, per CPU: bucket i counts durations of [2^i, 2^(i+1)) microseconds
 * (bucket 0: below 2 us; the last: everything longer).
 */
struct rasync_hist {
	u64 delay[RASYNC_HIST_BUCKETS];
	u64 run[RASYNC_HIST_BUCKETS];
};
static DEFINE_PER_CPU(struct rasync_hist, rasync_hist);

static unsigned int bucket(u64 ns)
{
	u64 us = ns / NSEC_PER_USEC;

	return us < 2 ? 0 : min_t(unsigned int, ilog2(us), RASYNC_HIST_BUCKETS - 1);
}

/*
 * Entry stamps (stamp.rs): bits 31..3 a time, bit 0 set if it is in units of
 * 1024 ns (ktime), clear if in jiffies; bits 1 and 2 are the entry's state.
 */
#define STAMP_FINE	1u
#define STAMP_SHIFT	3
#define STAMP_MASK	(U32_MAX >> STAMP_SHIFT)

u32 rasync_stamp_fine(void)
{
	return ((u32)(ktime_get_ns() >> 10) << STAMP_SHIFT) | STAMP_FINE;
}

u64 rasync_stamp_age_ns(u32 stamp)
{
	u32 then = stamp >> STAMP_SHIFT;

	if (stamp & STAMP_FINE)
		return (u64)(((u32)(ktime_get_ns() >> 10) - then) & STAMP_MASK) << 10;
	return jiffies_to_nsecs(((u32)jiffies - then) & STAMP_MASK);
}

/*
 * The events carry the function's name as %ps prints it, Rust names demangled (trace.c),
 * so that trace-cmd and perf show legible names even after the module is gone. The
 * lookup is only made while the event is enabled.
 */
#define WITH_NAME(func, call)						\
	do {								\
		char *sym = kmalloc(KSYM_SYMBOL_LEN, GFP_ATOMIC | __GFP_NOWARN); \
		char *alloc = NULL;					\
		const char *name = sym ? rasync_func_name(func, sym, &alloc, false) : "?"; \
									\
		call;							\
		kfree(alloc);						\
		kfree(sym);						\
	} while (0)

void rasync_observe_schedule(u64 cookie, rasync_func_t func, int node, const void *domain,
			     unsigned int why)
{
	if (trace_rasync_schedule_enabled())
		WITH_NAME(func, trace_rasync_schedule(cookie, name, node, domain, why));
}

u64 rasync_observe_start(u64 cookie, rasync_func_t func, int node, u32 stamp)
{
	u64 delay = rasync_stamp_age_ns(stamp);

	/* A coarse (jiffies) stamp: scheduled before observation began. */
	if (stamp & STAMP_FINE)
		this_cpu_inc(rasync_hist.delay[bucket(delay)]);
	if (trace_rasync_start_enabled())
		WITH_NAME(func, trace_rasync_start(cookie, name, node, delay));
	return ktime_get_ns();
}

void rasync_observe_end(u64 cookie, rasync_func_t func, u64 start_ns, int result)
{
	u64 run = ktime_get_ns() - start_ns;

	this_cpu_inc(rasync_hist.run[bucket(run)]);
	if (trace_rasync_end_enabled())
		WITH_NAME(func, trace_rasync_end(cookie, name, run, result));
}

u64 rasync_observe_wait_begin(u64 cookie, const void *domain)
{
	trace_rasync_wait_begin(cookie, domain);
	return ktime_get_ns();
}

void rasync_observe_wait_end(u64 cookie, const void *domain, u64 start_ns)
{
	trace_rasync_wait_end(cookie, domain, ktime_get_ns() - start_ns);
}

static void show_hist(struct seq_file *m, const char *what, size_t offset)
{
	u64 sum[RASYNC_HIST_BUCKETS] = {};
	unsigned int i, last = 0;
	int cpu;

	for_each_possible_cpu(cpu) {
		const u64 *h = (const void *)per_cpu_ptr(&rasync_hist, cpu) + offset;

		for (i = 0; i < RASYNC_HIST_BUCKETS; i++)
			sum[i] += READ_ONCE(h[i]);
	}
	for (i = 0; i < RASYNC_HIST_BUCKETS; i++)
		if (sum[i])
			last = i + 1;
	seq_printf(m, "%s (us):%s\n", what, last ? "" : " (none)");
	for (i = 0; i < last; i++) {
		if (i + 1 == RASYNC_HIST_BUCKETS)
			seq_printf(m, "  %8u..     %12llu\n", i ? 1u << i : 0, sum[i]);
		else
			seq_printf(m, "  %8u..%-8u %8llu\n", i ? 1u << i : 0, (2u << i) - 1,
				   sum[i]);
	}
}

void rasync_observe_show_hist(struct seq_file *m)
{
	seq_printf(m, "timing: %s (echo 1 > timing to fill the histograms)\n",
		   rasync_observe_timing() ? "on" : "off");
	show_hist(m, "queue delay", offsetof(struct rasync_hist, delay));
	show_hist(m, "run time", offsetof(struct rasync_hist, run));
}
