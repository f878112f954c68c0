// SPDX-License-Identifier: GPL-2.0
/*
 * Non-inline entry points for the static inline NUMA and CPU helpers that the
 * generated Rust bindings cannot call, in the manner of rust/helpers/ in the
 * kernel tree. Used only by rasync itself (not exported).
 */

#include <linux/cpumask.h>
#include <linux/device.h>
#include <linux/nodemask.h>
#include <linux/topology.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/hrtimer.h>
#include <linux/irqflags.h>
#include <linux/kthread.h>
#include <linux/sched/debug.h>
#include <linux/sched/task.h>
#include <linux/stop_machine.h>
#include <linux/completion.h>
#include <linux/swait.h>
#include <linux/version.h>
#include "rasync_internal.h"

/*
 * WF_CURRENT_CPU of kernel/sched/sched.h ("prefer to move the wakee to the current
 * CPU"), private to the scheduler: 0x40 from 6.4, where it appeared, to 7.3. Elsewhere
 * rasync passes no flag, and its waiters are placed as complete() places them.
 */
#if LINUX_VERSION_CODE >= KERNEL_VERSION(6, 4, 0) && LINUX_VERSION_CODE < KERNEL_VERSION(7, 4, 0)
#define RASYNC_WF_CURRENT_CPU 0x40
#else
#define RASYNC_WF_CURRENT_CPU 0
#endif

int rasync_helper_cpu_to_node(int cpu)
{
	return cpu_to_node(cpu);
}

/* The node of the CPU the caller runs on (may be stale once it returns, if preemptible). */
int rasync_helper_numa_node_id(void)
{
	return numa_node_id();
}

bool rasync_helper_node_online(int node)
{
	return node >= 0 && node < MAX_NUMNODES && node_online(node);
}

/* An online node with at least one online CPU: one that can run work itself. */
bool rasync_helper_node_has_cpus(int node)
{
	return rasync_helper_node_online(node) &&
	       cpumask_intersects(cpumask_of_node(node), cpu_online_mask);
}

int rasync_helper_nr_node_ids(void)
{
	return nr_node_ids;
}

int rasync_dev_to_node(struct device *dev)
{
	return dev ? dev_to_node(dev) : NUMA_NO_NODE;
}

unsigned long rasync_helper_spin_lock_irqsave(spinlock_t *lock)
{
	unsigned long flags;

	spin_lock_irqsave(lock, flags);
	return flags;
}

void rasync_helper_spin_unlock_irqrestore(spinlock_t *lock, unsigned long flags)
{
	spin_unlock_irqrestore(lock, flags);
}

/* Layout of struct rasync_domain as C sees it, checked against Rust's at load. */
void rasync_helper_domain_layout(size_t *size, size_t *pending, size_t *waiters,
				 size_t *registered, size_t *dying)
{
	*size = sizeof(struct rasync_domain);
	*pending = offsetof(struct rasync_domain, pending);
	*waiters = offsetof(struct rasync_domain, waiters);
	*registered = offsetof(struct rasync_domain, registered);
	*dying = offsetof(struct rasync_domain, dying);
}

#ifdef CONFIG_FAULT_INJECTION
/* For the allocation-failure test: make this task's n-th next allocation fail. */
void rasync_helper_set_fail_nth(unsigned int n)
{
	WRITE_ONCE(current->fail_nth, n);
}
#endif

/* The possible CPUs of @node (those it will hold once online); false if none. */
bool rasync_helper_node_possible_cpus(int node, struct cpumask *mask)
{
	int cpu;

	cpumask_clear(mask);
	for_each_possible_cpu(cpu)
		if (cpu_to_node(cpu) == node)
			__cpumask_set_cpu(cpu, mask);
	return !cpumask_empty(mask);
}

/* Whether @node has a possible CPU: one that is, or may come, online. */
bool rasync_helper_node_has_possible_cpus(int node)
{
	cpumask_var_t mask;
	bool ret;

	if (!rasync_helper_node_online(node) || !zalloc_cpumask_var(&mask, GFP_KERNEL))
		return false;
	ret = rasync_helper_node_possible_cpus(node, mask);
	free_cpumask_var(mask);
	return ret;
}

#ifdef CONFIG_KUNIT
/*
 * For the engine tests' bounded synchronize: start @fn(@data) in a kthread and keep a
 * reference on it, so that its stack can be shown if it never returns.
 */
void *rasync_helper_kthread_run(int (*fn)(void *), void *data)
{
	struct task_struct *task = kthread_create(fn, data, "rasync_test_sync");

	if (IS_ERR(task))
		return NULL;
	get_task_struct(task);
	wake_up_process(task);
	return task;
}

void rasync_helper_task_put(void *task, bool show_stack)
{
	if (show_stack)
		sched_show_task(task);
	put_task_struct(task);
}

/* For the engine's interrupts-off tests: @fn(@data) from an hrtimer callback. */
struct rasync_irq_call {
	struct hrtimer timer;
	void (*fn)(void *data);
	void *data;
	bool hardirq;
	struct completion done;
};

static enum hrtimer_restart rasync_irq_call_fn(struct hrtimer *t)
{
	struct rasync_irq_call *c = container_of(t, struct rasync_irq_call, timer);

	c->hardirq = in_hardirq();
	c->fn(c->data);
	complete(&c->done);
	return HRTIMER_NORESTART;
}

/*
 * Calls @fn(@data) from an HRTIMER_MODE_REL hrtimer (hard IRQ on a non-RT kernel) and
 * waits for it, at most 5 s. Returns 1 if it ran in hard IRQ, 0 if not, -ETIMEDOUT.
 */
int rasync_helper_call_in_hardirq(void (*fn)(void *data), void *data)
{
	struct rasync_irq_call c = { .fn = fn, .data = data };
	int ret;

	init_completion(&c.done);
	hrtimer_setup_on_stack(&c.timer, rasync_irq_call_fn, CLOCK_MONOTONIC, HRTIMER_MODE_REL);
	hrtimer_start(&c.timer, ns_to_ktime(50 * NSEC_PER_USEC), HRTIMER_MODE_REL);
	if (wait_for_completion_timeout(&c.done, 5 * HZ)) {
		ret = c.hardirq;
	} else {
		hrtimer_cancel(&c.timer);
		ret = -ETIMEDOUT;
	}
	destroy_hrtimer_on_stack(&c.timer);
	return ret;
}

unsigned long rasync_helper_local_irq_save(void)
{
	unsigned long flags;

	local_irq_save(flags);
	return flags;
}

void rasync_helper_local_irq_restore(unsigned long flags)
{
	local_irq_restore(flags);
}

bool rasync_helper_irqs_disabled(void)
{
	return irqs_disabled();
}

/*
 * For the engine's runner tests: @fn(@data) on one CPU while every other online CPU
 * spins with interrupts off (stop_machine()), so no runner can start before @fn returns.
 */
int rasync_helper_stop_machine(int (*fn)(void *), void *data)
{
	return stop_machine(fn, data, NULL);
}
#endif

/* Whether @addr lies in @mod's memory (a domain defined statically in @mod). */
bool rasync_helper_within_module(const void *addr, struct module *mod)
{
	return mod && within_module((unsigned long)addr, mod);
}

/*
 * Whether @addr lies in memory of @mod that lasts until @mod goes (a domain the registry
 * may list until then): its core memory, or its init memory while its init runs. The
 * loader sets MODULE_STATE_LIVE before the notifier that unlists init-memory domains
 * (registry.rs), and frees init memory after it.
 */
bool rasync_helper_within_module_listable(const void *addr, struct module *mod)
{
	if (!mod)
		return false;
	if (within_module_init((unsigned long)addr, mod))
		return READ_ONCE(mod->state) == MODULE_STATE_COMING;
	return within_module_core((unsigned long)addr, mod);
}

/* Whether @addr lies in @mod's init memory (freed once its init has returned). */
bool rasync_helper_within_module_init(const void *addr, struct module *mod)
{
	return mod && within_module_init((unsigned long)addr, mod);
}

/*
 * complete_on_current_cpu() of kernel/sched/completion.c, which is not exported: what
 * complete() does, but the woken task is placed on this CPU if it may run here. For a
 * waker that is about to stop (a runner whose queue is empty): the waiter takes over
 * the CPU and the cache the finished entry warmed, with no IPI to wake an idle CPU.
 */
void rasync_helper_complete_on_current_cpu(struct completion *x)
{
	unsigned long flags;

	raw_spin_lock_irqsave(&x->wait.lock, flags);
	if (x->done != UINT_MAX)
		x->done++;
	swake_up_locked(&x->wait, RASYNC_WF_CURRENT_CPU);
	raw_spin_unlock_irqrestore(&x->wait.lock, flags);
}

/*
 * For a runner that stops after waking a waiter onto its CPU: the waiter runs now, not
 * after the rest of the worker's way to idle. The wake-up alone rarely preempts the
 * worker (EEVDF lets it run to parity, and PREEMPT_LAZY defers even that to the next
 * tick), so the worker offers the CPU itself; it has nothing left to do, holds no
 * rasync state (its runner is idle already) and runs again when the scheduler says.
 * This costs a context switch back to the worker, later, for a shorter wake-up.
 */
void rasync_helper_yield_to_wakee(void)
{
	might_sleep();
	schedule();
}
