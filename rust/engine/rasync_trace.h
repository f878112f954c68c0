/* SPDX-License-Identifier: GPL-2.0 */
/*
 * rasync's tracepoints (TRACE_SYSTEM rasync): trace-cmd record -e rasync, perf.
 * Defined in observe.c. Each one's registration turns on rasync_observe, the static
 * key behind which rasync's hot path calls them (observe.rs).
 */
#undef TRACE_SYSTEM
#define TRACE_SYSTEM rasync

#if !defined(_RASYNC_TRACE_H) || defined(TRACE_HEADER_MULTI_READ)
#define _RASYNC_TRACE_H

#include <linux/tracepoint.h>

int rasync_observe_reg(void);
void rasync_observe_unreg(void);

/* How a call was scheduled; observe.rs `Why` mirrors it. */
#define RASYNC_WHY						\
	EM(RASYNC_QUEUED, "queued")				\
	EM(RASYNC_HELD, "held")					\
	EM(RASYNC_SYNC_NOMEM, "sync:nomem")			\
	EM(RASYNC_SYNC_MAX_WORK, "sync:max_work")		\
	EM(RASYNC_SYNC_GOING, "sync:module_going")		\
	EM(RASYNC_SYNC_BAD_DOMAIN, "sync:bad_domain")		\
	EMe(RASYNC_SYNC_NO_RUNNER, "sync:no_runner")

#ifndef RASYNC_WHY_ENUM
#define RASYNC_WHY_ENUM
#undef EM
#undef EMe
#define EM(a, b) a,
#define EMe(a, b) a
enum rasync_why { RASYNC_WHY };
#endif

#undef EM
#undef EMe
#define EM(a, b) TRACE_DEFINE_ENUM(a);
#define EMe(a, b) TRACE_DEFINE_ENUM(a);
RASYNC_WHY
#undef EM
#undef EMe
#define EM(a, b) { a, b },
#define EMe(a, b) { a, b }

TRACE_EVENT_FN(rasync_schedule,
	TP_PROTO(u64 cookie, const char *func, int node, const void *domain, unsigned int why),
	TP_ARGS(cookie, func, node, domain, why),
	TP_STRUCT__entry(
		__field(u64, cookie)
		__string(func, func)
		__field(int, node)
		__field(const void *, domain)
		__field(unsigned int, why)
	),
	TP_fast_assign(
		__entry->cookie = cookie;
		__assign_str(func);
		__entry->node = node;
		__entry->domain = domain;
		__entry->why = why;
	),
	TP_printk("cookie=%llu func=%s node=%d domain=%p %s", __entry->cookie,
		  __get_str(func), __entry->node, __entry->domain,
		  __print_symbolic(__entry->why, RASYNC_WHY)),
	rasync_observe_reg, rasync_observe_unreg);

TRACE_EVENT_FN(rasync_start,
	TP_PROTO(u64 cookie, const char *func, int node, u64 delay_ns),
	TP_ARGS(cookie, func, node, delay_ns),
	TP_STRUCT__entry(
		__field(u64, cookie)
		__string(func, func)
		__field(int, cpu)
		__field(int, node)
		__field(u64, delay_ns)
	),
	TP_fast_assign(
		__entry->cookie = cookie;
		__assign_str(func);
		__entry->cpu = raw_smp_processor_id();
		__entry->node = node;
		__entry->delay_ns = delay_ns;
	),
	TP_printk("cookie=%llu func=%s cpu=%d node=%d queue_delay_ns=%llu", __entry->cookie,
		  __get_str(func), __entry->cpu, __entry->node, __entry->delay_ns),
	rasync_observe_reg, rasync_observe_unreg);

TRACE_EVENT_FN(rasync_end,
	TP_PROTO(u64 cookie, const char *func, u64 run_ns, int result),
	TP_ARGS(cookie, func, run_ns, result),
	TP_STRUCT__entry(
		__field(u64, cookie)
		__string(func, func)
		__field(u64, run_ns)
		__field(int, result)
	),
	TP_fast_assign(
		__entry->cookie = cookie;
		__assign_str(func);
		__entry->run_ns = run_ns;
		__entry->result = result;
	),
	TP_printk("cookie=%llu func=%s run_ns=%llu result=%d", __entry->cookie,
		  __get_str(func), __entry->run_ns, __entry->result),
	rasync_observe_reg, rasync_observe_unreg);

TRACE_EVENT_FN(rasync_wait_begin,
	TP_PROTO(u64 cookie, const void *domain),
	TP_ARGS(cookie, domain),
	TP_STRUCT__entry(
		__field(u64, cookie)
		__field(const void *, domain)
	),
	TP_fast_assign(
		__entry->cookie = cookie;
		__entry->domain = domain;
	),
	TP_printk("cookie=%llu domain=%p", __entry->cookie, __entry->domain),
	rasync_observe_reg, rasync_observe_unreg);

TRACE_EVENT_FN(rasync_wait_end,
	TP_PROTO(u64 cookie, const void *domain, u64 waited_ns),
	TP_ARGS(cookie, domain, waited_ns),
	TP_STRUCT__entry(
		__field(u64, cookie)
		__field(const void *, domain)
		__field(u64, waited_ns)
	),
	TP_fast_assign(
		__entry->cookie = cookie;
		__entry->domain = domain;
		__entry->waited_ns = waited_ns;
	),
	TP_printk("cookie=%llu domain=%p waited_ns=%llu", __entry->cookie, __entry->domain,
		  __entry->waited_ns),
	rasync_observe_reg, rasync_observe_unreg);

#endif /* _RASYNC_TRACE_H */

#undef TRACE_INCLUDE_PATH
#define TRACE_INCLUDE_PATH .
#define TRACE_INCLUDE_FILE rasync_trace
#include <trace/define_trace.h>
