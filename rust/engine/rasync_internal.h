/* SPDX-License-Identifier: GPL-2.0 */
/*
 * Functions the C side of the engine and its host provide to the Rust side (declared
 * again, with Rust types, in the `extern "C"` blocks of numa.rs, lock.rs, domain.rs,
 * engine.rs, wq.rs and wait.rs), and the engine's Rust functions C calls.
 * None of them is exported.
 */
#ifndef _RASYNC_INTERNAL_H
#define _RASYNC_INTERNAL_H

#include <linux/completion.h>
#include <linux/cpumask.h>
#include <linux/jump_label.h>
#include <linux/ktime.h>
#include <linux/spinlock.h>
#include "../include/rasync.h"

/* helpers.c: bodies for static inlines the bindings cannot call */
int rasync_helper_cpu_to_node(int cpu);
int rasync_helper_numa_node_id(void);
bool rasync_helper_node_online(int node);
bool rasync_helper_node_has_cpus(int node);
int rasync_helper_nr_node_ids(void);
unsigned long rasync_helper_spin_lock_irqsave(spinlock_t *lock);
void rasync_helper_spin_unlock_irqrestore(spinlock_t *lock, unsigned long flags);
void rasync_helper_domain_layout(size_t *size, size_t *pending, size_t *waiters,
				 size_t *registered, size_t *dying);
void rasync_helper_set_fail_nth(unsigned int n);
bool rasync_helper_node_possible_cpus(int node, struct cpumask *mask);
bool rasync_helper_node_has_possible_cpus(int node);
void *rasync_helper_kthread_run(int (*fn)(void *), void *data);
void rasync_helper_task_put(void *task, bool show_stack);
int rasync_helper_call_in_hardirq(void (*fn)(void *data), void *data);
int rasync_helper_stop_machine(int (*fn)(void *), void *data);
unsigned long rasync_helper_local_irq_save(void);
void rasync_helper_local_irq_restore(unsigned long flags);
bool rasync_helper_irqs_disabled(void);
void rasync_helper_complete_on_current_cpu(struct completion *x);
void rasync_helper_yield_to_wakee(void);

/* entry_cache.c */
int rasync_entry_cache_create(size_t size, size_t align);
void rasync_entry_cache_destroy(void);
void *rasync_entry_alloc(gfp_t flags);
extern struct kmem_cache *rasync_entry_cache;
size_t rasync_entry_cache_object_size(void);

/* messages.c */
bool rasync_helper_in_task(void);
void rasync_warn_going(struct module *mod, rasync_func_t func);
/* One pending function named by a slow drain's warning (owner.rs Pending). */
struct rasync_pending_func {
	rasync_func_t func;
	unsigned int state;
};
void rasync_warn_slow_drain(struct module *mod, bool going, unsigned int waited_s,
			    unsigned int pending, const struct rasync_pending_func *funcs,
			    unsigned int n);

void rasync_warn_not_created(const void *domain);

/* loader.rs: the module loader's fixed points, called by the host */
void rasync_module_drain(struct module *mod, bool going);
void rasync_module_coming(struct module *mod);
bool rasync_module_busy(struct module *mod);
void rasync_module_init_done(struct module *mod);

/*
 * Provided by the host (module/ for rasync.ko, builtin/ for vmlinux).
 *
 * Parameters; the two variables are read by params.rs.
 */
extern unsigned int rasync_max_work;
extern bool rasync_initcall_debug;
void rasync_param_set_max_work(unsigned int value);
bool rasync_param_initcall_debug(void);
bool rasync_param_numa_strict(void);

/* Workqueue attributes (wq.rs): the flags, one pod for all CPUs, one node's CPUs. */
struct workqueue_struct;
unsigned int rasync_host_wq_flags(void);
int rasync_host_wq_system_wide(struct workqueue_struct *wq, const char *name);
int rasync_host_wq_node(struct workqueue_struct *wq, const char *name, int node);

/* module/lifecycle.c */
int rasync_lifecycle_register(void);
void rasync_lifecycle_unregister(void);

/* demangle.rs */
bool rasync_demangle(const char *sym, char *buf, size_t size);

/* trace.c */
ktime_t rasync_trace_calling(rasync_cookie_t cookie, rasync_func_t func);
void rasync_trace_returned(rasync_cookie_t cookie, rasync_func_t func, ktime_t start);
ktime_t rasync_trace_waiting(void);
void rasync_trace_continuing(ktime_t start);
const char *rasync_func_name(rasync_func_t func, char *sym, char **alloc, bool offset);

/* observe.c (tracepoints, histograms, stamps); observe.rs and stamp.rs */
struct rasync_observe_key {
	struct static_key_false key;
};
extern struct rasync_observe_key rasync_observe;
#define RASYNC_HIST_BUCKETS	24
#define RASYNC_STAMP_STARTED	2u
#define RASYNC_STAMP_HELD	4u
struct seq_file;
void rasync_observe_set_timing(bool on);
bool rasync_observe_timing(void);
u32 rasync_stamp_fine(void);
u64 rasync_stamp_age_ns(u32 stamp);
void rasync_observe_schedule(u64 cookie, rasync_func_t func, int node, const void *domain,
			     unsigned int why);
u64 rasync_observe_start(u64 cookie, rasync_func_t func, int node, u32 stamp);
void rasync_observe_end(u64 cookie, rasync_func_t func, u64 start_ns, int result);
u64 rasync_observe_wait_begin(u64 cookie, const void *domain);
void rasync_observe_wait_end(u64 cookie, const void *domain, u64 start_ns);
void rasync_observe_show_hist(struct seq_file *m);

/* debugfs.c; debugfs.rs fills and walks */
#define RASYNC_SYNC_REASONS	5	/* enum rasync_why from RASYNC_SYNC_NOMEM on */
struct rasync_global_counts {
	u64 scheduled;		/* cookies handed out */
	u64 started;		/* entries started by the runners */
	u64 doublings;		/* helpers that found their queue stalled and started two */
	u64 sync[RASYNC_SYNC_REASONS];
	u64 nocall_refused;
	u64 cancelled;
	u64 failed;
	u64 waits;		/* synchronizers that had to sleep */
	u64 woken;
	u32 pending;
	u32 peak;
};
void rasync_debugfs_init(void);
void rasync_debugfs_exit(void);
void rasync_global_counts(struct rasync_global_counts *out);
void rasync_show_domains(struct seq_file *m, bool entries);
void rasync_seq_domain(struct seq_file *m, const struct rasync_domain *d, const char *name,
		       u64 pending);
void rasync_seq_entry(struct seq_file *m, u64 cookie, rasync_func_t func, int node, u32 stamp);
void rasync_seq_more(struct seq_file *m, u64 more);
bool rasync_helper_within_module(const void *addr, struct module *mod);
bool rasync_helper_within_module_listable(const void *addr, struct module *mod);
bool rasync_helper_within_module_init(const void *addr, struct module *mod);

#endif /* _RASYNC_INTERNAL_H */
