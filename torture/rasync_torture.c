// SPDX-License-Identifier: GPL-2.0
/*
 * rasync_torture - torture test of rasync, in the manner of kernel/locking/locktorture.c.
 *
 * For `duration` seconds (and until at least `min_entries` entries were scheduled), at
 * once:
 *  - one kthread per online CPU schedules into a random mix of the default domain,
 *    static RASYNC_DOMAIN()/RASYNC_DOMAIN_EXCLUSIVE() domains and heap domains that
 *    thread 0 destroys and recreates while the others are busy, on random nodes (valid,
 *    offline, invalid), and now and then synchronizes (every variant);
 *  - an hrtimer (hard IRQ on this non-RT kernel; not HRTIMER_MODE_HARD, whose raw
 *    context may not take spinlock_t, as async.c's schedule does too) and a timer
 *    (softirq, interrupts off) schedule too;
 *  - some entries synchronize from inside, bounded by their own cookie (including one
 *    to their own cookie + 1 on their own list, which would wait for itself);
 *  - for the middle third of the run, failslab fails about 10 % of the scheduling
 *    threads' allocations (rasync's entries and records among them), when the guest
 *    configured failslab with task-filter (scripts/guest-reliability does).
 *
 * Every entry carries a sequence number. The checker proves: each function ran exactly
 * once (asynchronously or by the fallback); every synchronize returned only after every
 * entry of its domain (or of all registered domains) with a lower cookie, scheduled
 * before it began, had finished; the cookies handed to one thread strictly increase;
 * nothing is pending at the end. A stats line is printed every stat_interval seconds,
 * and one closing line: "rasync_torture: PASS ..." or "rasync_torture: FAIL ...".
 * Nothing is asserted inside an entry: entries count, the loading thread judges.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/delay.h>
#include <linux/hrtimer.h>
#include <linux/jiffies.h>
#include <linux/kthread.h>
#include <linux/module.h>
#include <linux/nodemask.h>
#include <linux/random.h>
#include <linux/rwsem.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/timer.h>
#include <linux/vmalloc.h>
#include <rasync.h>

static int duration = 20;
module_param(duration, int, 0444);
MODULE_PARM_DESC(duration, "seconds to run (default 20)");

static int nthreads;
module_param(nthreads, int, 0444);
MODULE_PARM_DESC(nthreads, "scheduling threads (default: one per online CPU)");

static ulong min_entries = 200000;
module_param(min_entries, ulong, 0444);
MODULE_PARM_DESC(min_entries, "keep going past duration until this many were scheduled (at most 3x duration, or 120 s)");

static int sync_pct = 2;
module_param(sync_pct, int, 0444);
MODULE_PARM_DESC(sync_pct, "percentage of a thread's operations that synchronize");

static int inside_sync_permille = 4;
module_param(inside_sync_permille, int, 0444);
MODULE_PARM_DESC(inside_sync_permille, "per mille of entries that synchronize from inside");

static bool irq = true;
module_param(irq, bool, 0444);
MODULE_PARM_DESC(irq, "also schedule from hard-IRQ (hrtimer) and softirq (timer) context");

static bool faults = true;
module_param(faults, bool, 0444);
MODULE_PARM_DESC(faults, "fail allocations (failslab task-filter) during the middle third");

static int stat_interval = 5;
module_param(stat_interval, int, 0444);
MODULE_PARM_DESC(stat_interval, "seconds between stats lines");

/* Per-entry records live in a ring indexed by sequence number. */
#define RING_ORDER 19
#define RING (1UL << RING_ORDER)
#define SLOT(seq) ((seq) & (RING - 1))
/* How far back a synchronize check looks (entries older than this finished long ago). */
#define CHECK_WINDOW 4096
#define MAX_PENDING 8192

enum { D_DFL, D_REG, D_EXCL, D_HEAP0, NR_HEAP = 4, NR_DOMAINS = D_HEAP0 + NR_HEAP };
#define D_ALL_REGISTERED NR_DOMAINS

static RASYNC_DOMAIN(t_reg);
static RASYNC_DOMAIN_EXCLUSIVE(t_excl);

struct heap_slot {
	struct rw_semaphore lock;	/* write: destroy and recreate */
	struct rasync_domain *dom;
	bool registered;
};
static struct heap_slot heap[NR_HEAP];

struct ring {
	u64 seq[RING];		/* whose record the slot holds */
	u64 cookie[RING];	/* cookie returned by schedule (0 until then) */
	u64 returned[RING];	/* clock when schedule returned */
	u64 finished[RING];	/* seq, once its function has returned */
	atomic_t scheduled[RING];
	atomic_t ran[RING];
	u8 dom[RING];
	u8 registered[RING];
};
static struct ring *ring;

static atomic64_t next_seq = ATOMIC64_INIT(0);
static atomic64_t clock = ATOMIC64_INIT(1);

/* Counts, judged at the end. */
static atomic64_t n_scheduled, n_ran, n_fallback, n_irq, n_sync, n_inside_sync;
static atomic64_t n_duplicate, n_order, n_sync_early, n_churn, n_fault_phase_entries;
static bool stop;
static bool fault_phase;

static struct rasync_domain *static_domain(int d)
{
	return d == D_REG ? &t_reg : &t_excl;
}

/* A node for random value @r: valid, offline or invalid. */
static int random_node(u32 r)
{
	static const int odd[] = { NUMA_NO_NODE, -7, 4096, MAX_NUMNODES };

	r %= 8;
	if (r < 4)
		return r % nr_node_ids;	/* valid */
	if (r == 4)
		return nr_node_ids;	/* possible range, offline */
	return odd[r - 4];
}

/* check_sync: were all entries of @d with cookie < @c, scheduled before @start, done? */
static void check_sync(int d, u64 c, u64 start)
{
	u64 hi = atomic64_read(&next_seq), s, lo = hi > CHECK_WINDOW ? hi - CHECK_WINDOW : 1;

	for (s = lo; s <= hi; s++) {
		unsigned long i = SLOT(s);
		u64 cookie;

		if (READ_ONCE(ring->seq[i]) != s)
			continue;
		smp_rmb();
		if (READ_ONCE(ring->finished[i]) == s)
			continue;
		cookie = READ_ONCE(ring->cookie[i]);
		if (!cookie || cookie >= c)
			continue;
		/* Scheduled (returned) before the synchronize began, and not finished. */
		if (READ_ONCE(ring->returned[i]) > start)
			continue;
		if (READ_ONCE(ring->finished[i]) == s)
			continue;
		if (d == D_ALL_REGISTERED ? READ_ONCE(ring->registered[i])
					  : READ_ONCE(ring->dom[i]) == d) {
			if (atomic64_inc_return(&n_sync_early) <= 3)
				pr_err("synchronize (domain %d, cookie %llu) returned before entry %llu (cookie %llu) finished\n",
				       d, c, s, cookie);
		}
	}
}

static void torture_fn(void *data, rasync_cookie_t cookie);

/* In the fault phase, failslab (task-filter) fails this thread's allocations. */
static void set_make_it_fail(bool on)
{
#ifdef CONFIG_FAULT_INJECTION
	current->make_it_fail = on;
#endif
}

/* Schedules one entry into domain @d (a heap slot must be read-locked by the caller). */
static rasync_cookie_t schedule_one(int d, int node)
{
	u64 seq = atomic64_inc_return(&next_seq);
	unsigned long i = SLOT(seq);
	void *data = (void *)(unsigned long)seq;
	struct rasync_domain *dom = NULL;
	bool registered = true;
	rasync_cookie_t c;

	if (d >= D_HEAP0) {
		dom = heap[d - D_HEAP0].dom;
		registered = heap[d - D_HEAP0].registered;
	} else if (d != D_DFL) {
		dom = static_domain(d);
		registered = d == D_REG;
	}
	WRITE_ONCE(ring->cookie[i], 0);
	WRITE_ONCE(ring->finished[i], 0);
	WRITE_ONCE(ring->returned[i], U64_MAX);
	WRITE_ONCE(ring->dom[i], d);
	WRITE_ONCE(ring->registered[i], registered);
	atomic_inc(&ring->scheduled[i]);
	smp_wmb();
	WRITE_ONCE(ring->seq[i], seq);
	smp_mb();
	c = dom ? rasync_schedule_node_domain(torture_fn, data, node, dom)
		: rasync_schedule_node(torture_fn, data, node);
	WRITE_ONCE(ring->cookie[i], c);
	WRITE_ONCE(ring->returned[i], atomic64_inc_return(&clock));
	atomic64_inc(&n_scheduled);
	if (fault_phase)
		atomic64_inc(&n_fault_phase_entries);
	return c;
}

static void torture_fn(void *data, rasync_cookie_t cookie)
{
	u64 seq = (unsigned long)data;
	unsigned long i = SLOT(seq);
	int d = READ_ONCE(ring->dom[i]);

	if (!rasync_current_is_async())
		atomic64_inc(&n_fallback);
	/* From inside: wait only for lower cookies (never for itself, or a cycle). */
	if (in_task() && rasync_current_is_async() && d < D_HEAP0 &&
	    get_random_u32_below(1000) < inside_sync_permille) {
		u64 start = atomic64_read(&clock);
		int which = get_random_u32_below(3);

		atomic64_inc(&n_inside_sync);
		if (which == 0) {
			/*
			 * Past its own cookie on its own list: would wait for itself (async.c
			 * deadlocks); rasync skips the caller and waits for the rest below
			 * cookie + 1, which are all lower. Not a full synchronize: that also
			 * waits for later entries, and entries doing so through different
			 * lists can wait for each other in a cycle, as in async.c.
			 */
			rasync_synchronize_cookie_domain(cookie + 1, d == D_DFL ? NULL :
							 static_domain(d));
			check_sync(d == D_DFL ? D_ALL_REGISTERED : d, cookie, start);
		} else if (which == 1) {
			rasync_synchronize_cookie(cookie);
			check_sync(D_DFL, cookie, start);
		} else {
			int other = get_random_u32_below(2) ? D_REG : D_EXCL;

			rasync_synchronize_cookie_domain(cookie, static_domain(other));
			check_sync(other, cookie, start);
		}
	}
	if (atomic_inc_return(&ring->ran[i]) > atomic_read(&ring->scheduled[i]))
		atomic64_inc(&n_duplicate);
	smp_wmb();
	WRITE_ONCE(ring->finished[i], seq);
	atomic64_inc(&n_ran);
}

static void thread_sync(int d, u64 last_cookie)
{
	u64 start = atomic64_read(&clock);
	struct heap_slot *h = d >= D_HEAP0 ? &heap[d - D_HEAP0] : NULL;

	if (h && !down_read_trylock(&h->lock))
		return;
	if (h && !h->dom) {
		up_read(&h->lock);
		return;
	}
	atomic64_inc(&n_sync);
	switch (get_random_u32_below(4)) {
	case 0:
		rasync_synchronize_full();
		check_sync(D_ALL_REGISTERED, U64_MAX, start);
		break;
	case 1:
		rasync_synchronize_cookie(last_cookie + 1);
		check_sync(D_DFL, last_cookie + 1, start);
		break;
	case 2:
		if (d == D_DFL) {
			rasync_synchronize_full_domain(NULL);
			check_sync(D_ALL_REGISTERED, U64_MAX, start);
		} else {
			rasync_synchronize_full_domain(h ? h->dom : static_domain(d));
			check_sync(d, U64_MAX, start);
		}
		break;
	default:
		if (d == D_DFL) {
			rasync_synchronize_cookie_domain(last_cookie + 1, NULL);
			check_sync(D_ALL_REGISTERED, last_cookie + 1, start);
		} else {
			rasync_synchronize_cookie_domain(last_cookie + 1,
							 h ? h->dom : static_domain(d));
			check_sync(d, last_cookie + 1, start);
		}
		break;
	}
	if (h)
		up_read(&h->lock);
}

static void churn_heap_domain(void)
{
	struct heap_slot *h = &heap[get_random_u32_below(NR_HEAP)];
	struct rasync_domain *fresh;

	down_write(&h->lock);
	rasync_domain_destroy(h->dom);	/* waits for its entries */
	fresh = rasync_domain_create(!h->registered);
	if (fresh) {
		h->dom = fresh;
		h->registered = !h->registered;
	} else {
		h->dom = rasync_domain_create(h->registered);
	}
	up_write(&h->lock);
	atomic64_inc(&n_churn);
}

static int torture_thread(void *arg)
{
	long id = (long)arg;
	u64 last = 0, ops = 0;
	unsigned long next_churn = jiffies + HZ / 5;

	while (!READ_ONCE(stop)) {
		int d = get_random_u32_below(NR_DOMAINS);
		struct heap_slot *h = d >= D_HEAP0 ? &heap[d - D_HEAP0] : NULL;
		rasync_cookie_t c;

		if (atomic64_read(&n_scheduled) - atomic64_read(&n_ran) > MAX_PENDING) {
			usleep_range(100, 200);
			continue;
		}
		if (get_random_u32_below(100) < sync_pct) {
			thread_sync(d, last);
			continue;
		}
		if (h && !down_read_trylock(&h->lock)) {
			d = D_DFL;
			h = NULL;
		} else if (h && !h->dom) {
			up_read(&h->lock);
			d = D_DFL;
			h = NULL;
		}
		set_make_it_fail(READ_ONCE(fault_phase));
		c = schedule_one(d, random_node(get_random_u32()));
		set_make_it_fail(false);
		if (h)
			up_read(&h->lock);
		if (c <= last) {
			if (atomic64_inc_return(&n_order) <= 3)
				pr_err("thread %ld: cookie %llu after %llu\n", id, c, last);
		}
		last = c;
		if (id == 0 && time_after(jiffies, next_churn)) {
			churn_heap_domain();
			next_churn = jiffies + HZ / 5;
		}
		if (!(++ops & 63))
			cond_resched();
	}
	while (!kthread_should_stop())
		schedule_timeout_interruptible(1);
	return 0;
}

/* Hard-IRQ and softirq schedulers: their cookies must increase too. */
static struct hrtimer irq_timer;
static struct timer_list soft_timer;
static u64 irq_last, soft_last;
static u32 irq_rnd = 2463534242u, soft_rnd = 88675123u;

/*
 * get_random_*() takes a local lock that hard-IRQ context must not (lockdep: invalid
 * wait context): the timers draw from their own xorshift state.
 */
static u32 xorshift(u32 *state)
{
	u32 x = *state;

	x ^= x << 13;
	x ^= x >> 17;
	x ^= x << 5;
	return *state = x;
}

static void irq_schedule(u64 *last, u32 *rnd)
{
	int d = xorshift(rnd) % 3;	/* static domains only: no locks here */
	rasync_cookie_t c = schedule_one(d, random_node(xorshift(rnd)));

	if (c <= *last)
		atomic64_inc(&n_order);
	*last = c;
	atomic64_inc(&n_irq);
}

static enum hrtimer_restart irq_timer_fn(struct hrtimer *t)
{
	if (READ_ONCE(stop))
		return HRTIMER_NORESTART;
	if (atomic64_read(&n_scheduled) - atomic64_read(&n_ran) <= MAX_PENDING)
		irq_schedule(&irq_last, &irq_rnd);
	hrtimer_forward_now(t, ns_to_ktime(500 * NSEC_PER_USEC));
	return HRTIMER_RESTART;
}

static void soft_timer_fn(struct timer_list *t)
{
	unsigned long flags;

	if (READ_ONCE(stop))
		return;
	local_irq_save(flags);
	irq_schedule(&soft_last, &soft_rnd);
	local_irq_restore(flags);
	mod_timer(t, jiffies + 1);
}

static void stats(const char *when)
{
	pr_info("%s: scheduled %lld ran %lld fallbacks %lld irq %lld syncs %lld (inside entries %lld) churned %lld fault-phase %lld | duplicates %lld order %lld early-syncs %lld\n",
		when, atomic64_read(&n_scheduled), atomic64_read(&n_ran),
		atomic64_read(&n_fallback), atomic64_read(&n_irq), atomic64_read(&n_sync),
		atomic64_read(&n_inside_sync), atomic64_read(&n_churn),
		atomic64_read(&n_fault_phase_entries), atomic64_read(&n_duplicate),
		atomic64_read(&n_order), atomic64_read(&n_sync_early));
}

static int __init rasync_torture_init(void)
{
	struct task_struct **tasks;
	unsigned long start = jiffies, end, hard_end, next_stat;
	u64 lost = 0, dup = 0, s;
	int i, n, cpu;
	char when[32];

	n = nthreads > 0 ? nthreads : num_online_cpus();
	ring = vzalloc(sizeof(*ring));
	tasks = kcalloc(n, sizeof(*tasks), GFP_KERNEL);
	if (!ring || !tasks) {
		vfree(ring);
		kfree(tasks);
		return -ENOMEM;
	}
	for (i = 0; i < NR_HEAP; i++) {
		init_rwsem(&heap[i].lock);
		heap[i].registered = i & 1;
		heap[i].dom = rasync_domain_create(heap[i].registered);
	}
	pr_info("start: %d s, %d threads, at least %lu entries, irq %d, faults %d\n",
		duration, n, min_entries, irq, faults);

	i = 0;
	for_each_online_cpu(cpu) {
		if (i >= n)
			break;
		tasks[i] = kthread_create_on_cpu(torture_thread, (void *)(long)i, cpu,
						 "rasync_torture/%u");
		if (!IS_ERR(tasks[i]))
			wake_up_process(tasks[i]);
		else
			tasks[i] = NULL;
		i++;
	}
	for (; i < n; i++) {
		tasks[i] = kthread_run(torture_thread, (void *)(long)i, "rasync_torture%d", i);
		if (IS_ERR(tasks[i]))
			tasks[i] = NULL;
	}
	if (irq) {
		hrtimer_setup(&irq_timer, irq_timer_fn, CLOCK_MONOTONIC, HRTIMER_MODE_REL);
		hrtimer_start(&irq_timer, ns_to_ktime(NSEC_PER_MSEC), HRTIMER_MODE_REL);
		timer_setup(&soft_timer, soft_timer_fn, 0);
		mod_timer(&soft_timer, jiffies + 1);
	}

	end = start + duration * HZ;
	hard_end = start + max(3 * duration, 120) * HZ;
	next_stat = start + stat_interval * HZ;
	while (time_before(jiffies, end) ||
	       (atomic64_read(&n_scheduled) < min_entries && time_before(jiffies, hard_end))) {
		unsigned long t = jiffies - start;

		WRITE_ONCE(fault_phase, faults && t >= duration * HZ / 3 &&
					t < 2 * duration * HZ / 3);
		msleep(100);
		if (time_after(jiffies, next_stat)) {
			snprintf(when, sizeof(when), "t=%lus", (jiffies - start) / HZ);
			stats(when);
			next_stat += stat_interval * HZ;
		}
	}
	WRITE_ONCE(fault_phase, false);
	WRITE_ONCE(stop, true);
	if (irq) {
		hrtimer_cancel(&irq_timer);
		timer_delete_sync(&soft_timer);
	}
	for (i = 0; i < n; i++)
		if (tasks[i])
			kthread_stop(tasks[i]);
	kfree(tasks);

	/* Everything must finish: then every record ran exactly as often as scheduled. */
	rasync_synchronize_full();
	rasync_synchronize_full_domain(&t_excl);
	for (i = 0; i < NR_HEAP; i++)
		rasync_domain_destroy(heap[i].dom);
	for (s = 0; s < RING; s++) {
		int sch = atomic_read(&ring->scheduled[s]), ran = atomic_read(&ring->ran[s]);

		if (ran < sch)
			lost += sch - ran;
		else if (ran > sch)
			dup += ran - sch;
	}
	stats("end");
	if (lost || dup || atomic64_read(&n_duplicate) || atomic64_read(&n_order) ||
	    atomic64_read(&n_sync_early) || atomic64_read(&n_scheduled) != atomic64_read(&n_ran) ||
	    atomic64_read(&n_scheduled) < min_entries)
		pr_err("rasync_torture: FAIL entries %lld ran %lld lost %llu duplicated %llu order %lld early-syncs %lld (min %lu entries) in %lu s\n",
		       atomic64_read(&n_scheduled), atomic64_read(&n_ran), lost, dup,
		       atomic64_read(&n_order), atomic64_read(&n_sync_early), min_entries,
		       (jiffies - start) / HZ);
	else
		pr_info("rasync_torture: PASS entries %lld each ran once (fallbacks %lld, irq %lld, fault-phase %lld), syncs %lld (inside entries %lld), domains churned %lld, in %lu s\n",
			atomic64_read(&n_scheduled), atomic64_read(&n_fallback),
			atomic64_read(&n_irq), atomic64_read(&n_fault_phase_entries),
			atomic64_read(&n_sync), atomic64_read(&n_inside_sync),
			atomic64_read(&n_churn), (jiffies - start) / HZ);
	vfree(ring);
	ring = NULL;
	/* The result is in the log; stay unloadable either way. */
	return 0;
}
module_init(rasync_torture_init);

static void __exit rasync_torture_exit(void)
{
}
module_exit(rasync_torture_exit);

MODULE_DESCRIPTION("Torture test of rasync: every entry exactly once, syncs never early");
MODULE_LICENSE("GPL");
