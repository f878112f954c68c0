// SPDX-License-Identifier: GPL-2.0
/*
 * rasync_bench: rasync against the kernel's own kernel/async.c, in the same boot.
 *
 * Every scenario runs `rounds` times per implementation, alternating async and rasync
 * round by round through one table of function pointers. Each figure is printed as one
 * line that scripts/bench-report turns into BENCHMARKS.md and the chart:
 *
 *   rasync_bench: fig <id> <impl> <unit> med=<median> min=<min> max=<max> n=<samples>
 *
 * Times are guest nanoseconds: under QEMU -icount shift=0 that is one per instruction
 * executed, so they measure cost, not the host's noise.
 *
 *   W1 throughput: N no-op entries, then a full synchronize (default domain) or a
 *      synchronize of the domain (exclusive domain): ns per entry, N = 1k, 10k, 100k.
 *   W1-floor: N work items queued on an unbound workqueue, nothing else: the least any
 *      design pays that queues one work item per entry, as kernel/async.c does (impl
 *      "workqueue"); and rasync scheduling as built-in code does, without a module to
 *      track (the owner's cost).
 *   W2 waiters: W threads, each waiting for its own cookie while 10k short entries
 *      complete one at a time, as probes do at boot: all are scheduled (pending)
 *      first, then entry i sleeps until its slot, i x 100 us after the last schedule,
 *      runs its 2 us and finishes. Measured: the waiters' context switches (nvcsw +
 *      nivcsw) during the wait, and the latency from the finish of the last entry a
 *      waiter needed to its return. W2-burst: the same with no slots, each entry
 *      finishing as soon as a worker has run it.
 *   W3 contention: one thread per online CPU scheduling at once, into the default
 *      domain or each into its own exclusive domain: ns per entry.
 *   W4 boot-like probing: 256 probes sleeping 1..50 ms (seeded) on their devices'
 *      nodes: wall time over the longest probe's own duration (the physical limit).
 *   W5 memory: slab bytes per pending entry (the object size of what one entry
 *      allocates) and for 10k pending entries.
 *
 * Loading the module runs everything; it then stays loaded doing nothing.
 */

#include <linux/async.h>
#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/hrtimer.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/nodemask.h>
#include <linux/prandom.h>
#include <linux/sched.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <linux/workqueue.h>
#include <rasync.h>

static unsigned int rounds = 7;
module_param(rounds, uint, 0444);
MODULE_PARM_DESC(rounds, "Alternating rounds per scenario, 1..31 (default 7)");

static unsigned int seed = 42;
module_param(seed, uint, 0444);
MODULE_PARM_DESC(seed, "Seed of W4's probe durations (default 42)");

static char *only = "";
module_param(only, charp, 0444);
MODULE_PARM_DESC(only, "Run only the scenarios whose id starts with this (default: all)");

#define MAX_ROUNDS 31
#define W2_ENTRIES 10000
#define W2_MAX_WAITERS 64
#define W2_GAP_NS (100 * NSEC_PER_USEC)	/* W2: one entry's finish to the next's */
#define W3_ENTRIES 20000
#define W4_PROBES 256
#define W5_PENDING 10000

/* One implementation: kernel/async.c or rasync, behind the same signatures. */
struct impl {
	const char *name;
	u64 (*schedule)(void (*fn)(void *, u64), void *data, int node, void *domain);
	void (*sync_full)(void);
	void (*sync_full_domain)(void *domain);
	void (*sync_cookie)(u64 cookie);
	void *(*domain_create)(void);
	void (*domain_destroy)(void *domain);
	size_t (*entry_bytes)(void);
};

/*
 * kernel/async.c's private struct async_entry, field for field (kernel/async.c, 7.3),
 * to read the slab object size of a live entry from inside its function.
 */
struct bench_async_entry {
	struct list_head domain_list;
	struct list_head global_list;
	struct work_struct work;
	async_cookie_t cookie;
	async_func_t func;
	void *data;
	struct async_domain *domain;
};

static u64 c_schedule(void (*fn)(void *, u64), void *data, int node, void *domain)
{
	return domain ? async_schedule_node_domain(fn, data, node, domain)
		      : async_schedule_node(fn, data, node);
}

/* async has no create call: an exclusive domain is a zeroed one with its list set up. */
static void *c_domain_create(void)
{
	struct async_domain *d = kzalloc(sizeof(*d), GFP_KERNEL);

	if (d)
		INIT_LIST_HEAD(&d->pending);	/* registered = 0: exclusive */
	return d;
}

static void c_domain_destroy(void *domain)
{
	async_synchronize_full_domain(domain);
	kfree(domain);
}

static void c_sync_full_domain(void *domain)
{
	async_synchronize_full_domain(domain);
}

static size_t c_seen_bytes;

static void c_measure_fn(void *data, u64 cookie)
{
	struct bench_async_entry *e =
		container_of(current_work(), struct bench_async_entry, work);

	/* Only trust the copied layout if it finds this very call. */
	if (e->func == c_measure_fn && e->data == data && e->cookie == cookie)
		c_seen_bytes = ksize(e);
}

static size_t c_entry_bytes(void)
{
	c_seen_bytes = 0;
	async_synchronize_cookie(async_schedule(c_measure_fn, &c_seen_bytes) + 1);
	return c_seen_bytes;
}

static u64 r_schedule(void (*fn)(void *, u64), void *data, int node, void *domain)
{
	return domain ? rasync_schedule_node_domain(fn, data, node, domain)
		      : rasync_schedule_node(fn, data, node);
}

static void *r_domain_create(void)
{
	return rasync_domain_create(false);
}

static void r_domain_destroy(void *domain)
{
	rasync_domain_destroy(domain);
}

static void r_sync_full_domain(void *domain)
{
	rasync_synchronize_full_domain(domain);
}

static const struct impl impls[] = {
	{ "async", c_schedule, async_synchronize_full, c_sync_full_domain,
	  async_synchronize_cookie, c_domain_create, c_domain_destroy, c_entry_bytes },
	{ "rasync", r_schedule, rasync_synchronize_full, r_sync_full_domain,
	  rasync_synchronize_cookie, r_domain_create, r_domain_destroy, rasync_entry_bytes },
};

#define NR_IMPLS ARRAY_SIZE(impls)

static u64 r_schedule_builtin(void (*fn)(void *, u64), void *data, int node, void *domain)
{
	return __rasync_schedule_node(fn, data, node, NULL);
}

/* rasync called as built-in code would call it: no module to track (W1-floor). */
static const struct impl builtin = {
	"rasync-without-owner", r_schedule_builtin, rasync_synchronize_full, r_sync_full_domain,
	rasync_synchronize_cookie, r_domain_create, r_domain_destroy, rasync_entry_bytes,
};

static atomic_t calls;

static void noop_fn(void *data, u64 cookie)
{
	atomic_inc(&calls);
}

/* ---- figures ---- */

static int cmp_s64(const void *a, const void *b)
{
	s64 x = *(const s64 *)a, y = *(const s64 *)b;

	return x < y ? -1 : x > y;
}

/* Prints one figure: median, min and max of @n samples (sorted in place). */
static void report(const char *id, const char *impl, const char *unit, s64 *v, unsigned int n)
{
	if (!n)
		return;
	sort(v, n, sizeof(*v), cmp_s64, NULL);
	pr_info("rasync_bench: fig %s %s %s med=%lld min=%lld max=%lld n=%u\n", id, impl, unit,
		v[n / 2], v[0], v[n - 1], n);
}

/* Prints the @pct percentile of @n samples (sorted in place) as a one-sample figure. */
static void report_pct(const char *id, const char *impl, const char *unit, s64 *v,
		       unsigned int n, unsigned int pct)
{
	s64 p;

	if (!n)
		return;
	sort(v, n, sizeof(*v), cmp_s64, NULL);
	p = v[min_t(unsigned int, n - 1, (n * pct + 99) / 100 - 1)];
	pr_info("rasync_bench: fig %s %s %s med=%lld min=%lld max=%lld n=%u\n", id, impl, unit,
		p, v[0], v[n - 1], n);
}

static bool wanted(const char *id)
{
	return !strncmp(id, only, strlen(only));
}

/*
 * Runs @once(impl, @n, @excl) for each implementation in turn, @rounds times, and
 * prints the figure @id in ns per entry.
 */
static int alternate_ns_per_entry(const char *id,
				  s64 (*once)(const struct impl *, unsigned int, bool),
				  unsigned int n, bool excl)
{
	s64 v[NR_IMPLS][MAX_ROUNDS];
	unsigned int r, i;

	for (r = 0; r < rounds; r++) {
		for (i = 0; i < NR_IMPLS; i++) {
			v[i][r] = once(&impls[i], n, excl);
			if (v[i][r] < 0)
				return v[i][r];
		}
	}
	for (i = 0; i < NR_IMPLS; i++)
		report(id, impls[i].name, "ns/entry", v[i], rounds);
	return 0;
}

/* ---- W1: throughput ---- */

/*
 * N no-op entries, then a full synchronize (or of the domain): ns per entry. A small N is
 * repeated until 10k entries are timed, so one sample is never a few hundred µs of
 * guest time (a timer tick in it would be a 5 % swing).
 */
static s64 w1_once(const struct impl *im, unsigned int n, bool exclusive)
{
	unsigned int reps = max(1U, 10000 / n), rep, i;
	void *domain = NULL;
	s64 ns = 0;
	ktime_t t0;

	if (exclusive) {
		domain = im->domain_create();
		if (!domain)
			return -ENOMEM;
	}
	for (rep = 0; rep < reps; rep++) {
		atomic_set(&calls, 0);
		t0 = ktime_get();
		for (i = 0; i < n; i++)
			im->schedule(noop_fn, NULL, NUMA_NO_NODE, domain);
		if (exclusive)
			im->sync_full_domain(domain);
		else
			im->sync_full();
		ns += ktime_to_ns(ktime_sub(ktime_get(), t0));
		if (atomic_read(&calls) != n)
			break;
	}
	if (exclusive)
		im->domain_destroy(domain);
	if (atomic_read(&calls) != n) {
		pr_err("rasync_bench: W1 %s: %d of %u entries ran before the synchronize returned\n",
		       im->name, atomic_read(&calls), n);
		return -EIO;
	}
	return div_u64(ns, n * reps);
}

static int w1(void)
{
	static const unsigned int sizes[] = { 1000, 10000, 100000 };
	unsigned int s, excl;
	char id[32];
	int ret;

	for (excl = 0; excl < 2; excl++) {
		for (s = 0; s < ARRAY_SIZE(sizes); s++) {
			snprintf(id, sizeof(id), "W1-%s-%u", excl ? "excl" : "dfl", sizes[s]);
			if (!wanted(id))
				continue;
			ret = alternate_ns_per_entry(id, w1_once, sizes[s], excl);
			if (ret)
				return ret;
		}
	}
	return 0;
}

/* ---- W1-floor: what one work item per entry costs at least ---- */

/*
 * Both implementations queue one work item per entry on an unbound workqueue. This is
 * that and nothing else: N kmalloc'ed work items queued with queue_work_node() on an
 * unbound queue, each freeing itself, then a flush: the floor under any design that
 * hands each entry to the workqueue on its own. Printed as impl "workqueue".
 */
struct floor_item {
	struct work_struct work;
};

static void floor_fn(struct work_struct *work)
{
	atomic_inc(&calls);
	kfree(container_of(work, struct floor_item, work));
}

static s64 floor_once(struct workqueue_struct *wq, unsigned int n)
{
	struct floor_item *it;
	unsigned int i;
	ktime_t t0;
	s64 ns;

	atomic_set(&calls, 0);
	t0 = ktime_get();
	for (i = 0; i < n; i++) {
		it = kmalloc(sizeof(*it), GFP_ATOMIC);
		if (!it)
			return -ENOMEM;
		INIT_WORK(&it->work, floor_fn);
		queue_work_node(NUMA_NO_NODE, wq, &it->work);
	}
	flush_workqueue(wq);
	ns = ktime_to_ns(ktime_sub(ktime_get(), t0));
	if (atomic_read(&calls) != n)
		return -EIO;
	return div_u64(ns, n);
}

static int w1_floor(void)
{
	struct workqueue_struct *wq;
	s64 v[MAX_ROUNDS];
	unsigned int r;

	if (!wanted("W1-floor-10000"))
		return 0;
	wq = alloc_workqueue("rasync_bench_floor", WQ_UNBOUND, 0);
	if (!wq)
		return -ENOMEM;
	for (r = 0; r < rounds; r++) {
		v[r] = floor_once(wq, 10000);
		if (v[r] < 0) {
			destroy_workqueue(wq);
			return v[r];
		}
	}
	destroy_workqueue(wq);
	report("W1-floor-10000", "workqueue", "ns/entry", v, rounds);

	/* rasync without its module tracking: as built-in code schedules (owner NULL). */
	for (r = 0; r < rounds; r++) {
		v[r] = w1_once(&builtin, 10000, false);
		if (v[r] < 0)
			return v[r];
	}
	report("W1-floor-10000", "rasync-without-owner", "ns/entry", v, rounds);
	return 0;
}

/* ---- W2: waiters ---- */

struct w2_run {
	const struct impl *im;
	u64 first;			/* cookie of the first short entry */
	s64 finish[W2_ENTRIES];		/* ktime_get() when entry i's function ended */
	struct completion gate;		/* holds the gate entry until the waiters sleep */
	struct completion go;		/* starts the waiters */
	struct completion slots;	/* all short entries are scheduled: t0 is set */
	ktime_t t0;			/* entry i finishes at t0 + (i + 1) x W2_GAP_NS */
	bool paced;
	atomic_t parked;
	unsigned int nr_waiters;
	struct w2_waiter {
		struct w2_run *run;
		u64 cookie;
		s64 returned;
		unsigned long switches;
		struct completion done;
	} waiters[W2_MAX_WAITERS];
};

static void w2_gate_fn(void *data, u64 cookie)
{
	struct w2_run *run = data;

	wait_for_completion(&run->gate);
}

static void w2_short_fn(void *data, u64 cookie)
{
	struct w2_run *run = data;
	u64 i = cookie - run->first;
	ktime_t slot;

	if (i >= W2_ENTRIES)
		return;
	if (run->paced) {
		wait_for_completion(&run->slots);
		slot = ktime_add_ns(run->t0, (i + 1) * W2_GAP_NS);
		if (ktime_before(ktime_get(), slot)) {
			set_current_state(TASK_UNINTERRUPTIBLE);
			schedule_hrtimeout_range(&slot, NSEC_PER_USEC, HRTIMER_MODE_ABS);
		}
	}
	udelay(2);
	run->finish[i] = ktime_get();
}

static int w2_waiter_thread(void *arg)
{
	struct w2_waiter *w = arg;
	unsigned long before;

	wait_for_completion(&w->run->go);
	before = current->nvcsw + current->nivcsw;
	atomic_inc(&w->run->parked);
	w->run->im->sync_cookie(w->cookie);
	w->returned = ktime_get();
	w->switches = current->nvcsw + current->nivcsw - before;
	complete(&w->done);
	return 0;
}

/*
 * One round: a gate entry holds the lowest cookie while W waiters start waiting for
 * cookies spread over the 10k short entries scheduled after it; the gate opens and
 * the entries are scheduled while the waiters wait, then finish W2_GAP_NS apart or
 * (@burst) as fast as they run. Fills @lat (ns, one per waiter) and returns the
 * waiters' total context switches.
 */
static s64 w2_once(const struct impl *im, unsigned int nr_waiters, bool burst, s64 *lat)
{
	struct w2_run *run = kvzalloc(sizeof(*run), GFP_KERNEL);
	unsigned int i;
	u64 gate_cookie;
	s64 switches = 0, last;

	if (!run)
		return -ENOMEM;
	run->im = im;
	run->nr_waiters = nr_waiters;
	run->paced = !burst;
	init_completion(&run->slots);
	init_completion(&run->gate);
	init_completion(&run->go);
	gate_cookie = im->schedule(w2_gate_fn, run, NUMA_NO_NODE, NULL);
	/* The short entries take the cookies after the gate's (nothing else schedules). */
	run->first = gate_cookie + 1;
	for (i = 0; i < nr_waiters; i++) {
		struct w2_waiter *w = &run->waiters[i];
		struct task_struct *t;

		w->run = run;
		w->cookie = run->first + (u64)(i + 1) * W2_ENTRIES / nr_waiters;
		init_completion(&w->done);
		t = kthread_run(w2_waiter_thread, w, "rasync_bench_w/%u", i);
		if (IS_ERR(t)) {
			complete(&run->gate);
			complete_all(&run->go);
			im->sync_full();
			kvfree(run);
			return PTR_ERR(t);
		}
	}
	complete_all(&run->go);
	/* Let every waiter reach its synchronize and sleep behind the gate. */
	while (atomic_read(&run->parked) < nr_waiters)
		msleep(1);
	msleep(5);
	complete(&run->gate);
	for (i = 0; i < W2_ENTRIES; i++)
		im->schedule(w2_short_fn, run, NUMA_NO_NODE, NULL);
	/*
	 * Paced, every entry is pending until its slot and each completion is an event of
	 * its own that the waiters see; under -icount sleep=off the idle gaps cost no host
	 * time.
	 */
	run->t0 = ktime_get();
	complete_all(&run->slots);
	for (i = 0; i < nr_waiters; i++)
		wait_for_completion(&run->waiters[i].done);
	im->sync_full();

	/* Latency: from the last finish among the entries below the waiter's cookie. */
	last = 0;
	for (i = 0; i < W2_ENTRIES; i++) {
		last = max(last, run->finish[i]);
		run->finish[i] = last;	/* prefix maximum */
	}
	for (i = 0; i < nr_waiters; i++) {
		struct w2_waiter *w = &run->waiters[i];
		u64 below = w->cookie - run->first;	/* entries 0..below-1 */

		lat[i] = below ? max_t(s64, 0, w->returned - run->finish[below - 1]) : 0;
		switches += w->switches;
	}
	kvfree(run);
	return switches;
}

static int w2(void)
{
	static const unsigned int counts[] = { 1, 8, 64 };
	static const struct {
		const char *name;
		bool burst;
	} modes[] = { { "W2", false }, { "W2-burst", true } };
	s64 sw[NR_IMPLS][MAX_ROUNDS];
	s64 *lat[NR_IMPLS];
	unsigned int m, c, r, i, n;
	char id[32];
	int ret = 0;

	for (i = 0; i < NR_IMPLS; i++) {
		lat[i] = kvcalloc(MAX_ROUNDS * W2_MAX_WAITERS, sizeof(s64), GFP_KERNEL);
		if (!lat[i])
			ret = -ENOMEM;
	}
	for (m = 0; m < ARRAY_SIZE(modes) && !ret; m++) {
		for (c = 0; c < ARRAY_SIZE(counts) && !ret; c++) {
			n = counts[c];
			snprintf(id, sizeof(id), "%s-%u", modes[m].name, n);
			if (!wanted(id))
				continue;
			for (r = 0; r < rounds && !ret; r++) {
				for (i = 0; i < NR_IMPLS && !ret; i++) {
					sw[i][r] = w2_once(&impls[i], n, modes[m].burst, lat[i] + r * n);
					if (sw[i][r] < 0)
						ret = sw[i][r];
				}
			}
			for (i = 0; i < NR_IMPLS && !ret; i++) {
				snprintf(id, sizeof(id), "%s-%u-wakeups", modes[m].name, n);
				report(id, impls[i].name, "switches", sw[i], rounds);
				snprintf(id, sizeof(id), "%s-%u-p50", modes[m].name, n);
				report_pct(id, impls[i].name, "ns", lat[i], rounds * n, 50);
				snprintf(id, sizeof(id), "%s-%u-p99", modes[m].name, n);
				report_pct(id, impls[i].name, "ns", lat[i], rounds * n, 99);
			}
		}
	}
	for (i = 0; i < NR_IMPLS; i++)
		kvfree(lat[i]);
	return ret;
}

/* ---- W3: contention ---- */

struct w3_job {
	const struct impl *im;
	unsigned int n;
	bool exclusive;
	int err;
	struct completion *go;
	struct completion done;
};

static int w3_thread(void *arg)
{
	struct w3_job *job = arg;
	void *domain = NULL;
	unsigned int i;

	if (job->exclusive) {
		domain = job->im->domain_create();
		if (!domain)
			job->err = -ENOMEM;
	}
	wait_for_completion(job->go);
	if (!job->err) {
		for (i = 0; i < job->n; i++)
			job->im->schedule(noop_fn, NULL, NUMA_NO_NODE, domain);
		if (domain)
			job->im->domain_destroy(domain);	/* synchronizes it first */
	}
	complete(&job->done);
	return 0;
}

/* @total entries in all, shared by one thread per online CPU. */
static s64 w3_once(const struct impl *im, unsigned int total, bool exclusive)
{
	unsigned int nr = num_online_cpus(), i, cpu, n = 0;
	struct w3_job *jobs = kcalloc(nr, sizeof(*jobs), GFP_KERNEL);
	DECLARE_COMPLETION_ONSTACK(go);
	ktime_t t0;
	s64 ns;
	int err = 0;

	if (!jobs)
		return -ENOMEM;
	atomic_set(&calls, 0);
	for_each_online_cpu(cpu) {
		struct w3_job *job = &jobs[n];
		struct task_struct *t;

		if (n == nr)
			break;
		*job = (struct w3_job){ .im = im, .n = total / nr, .exclusive = exclusive,
					.go = &go };
		init_completion(&job->done);
		t = kthread_create_on_cpu(w3_thread, job, cpu, "rasync_bench_c/%u");
		if (IS_ERR(t)) {
			err = PTR_ERR(t);
			break;
		}
		wake_up_process(t);
		n++;
	}
	t0 = ktime_get();
	complete_all(&go);
	for (i = 0; i < n; i++) {
		wait_for_completion(&jobs[i].done);
		err = err ?: jobs[i].err;
	}
	if (!exclusive)
		im->sync_full();
	ns = ktime_to_ns(ktime_sub(ktime_get(), t0));
	kfree(jobs);
	if (err)
		return err;
	if (atomic_read(&calls) != n * (total / nr))
		return -EIO;
	return div_u64(ns, n * (total / nr));
}

static int w3(void)
{
	unsigned int excl;
	char id[32];
	int ret;

	for (excl = 0; excl < 2; excl++) {
		snprintf(id, sizeof(id), "W3-%s", excl ? "excl" : "dfl");
		if (!wanted(id))
			continue;
		ret = alternate_ns_per_entry(id, w3_once, W3_ENTRIES, excl);
		if (ret)
			return ret;
	}
	return 0;
}

/* ---- W4: boot-like probing ---- */

struct w4_probe {
	unsigned int sleep_ms;
	int node;
	s64 own_ns;		/* measured inside the probe */
};

static void w4_probe_fn(void *data, u64 cookie)
{
	struct w4_probe *p = data;
	ktime_t t0 = ktime_get();

	msleep(p->sleep_ms);
	p->own_ns = ktime_to_ns(ktime_sub(ktime_get(), t0));
}

/* Returns the wall time in permille of the longest probe's own duration. */
static s64 w4_once(const struct impl *im, struct w4_probe *probes, s64 *limit)
{
	ktime_t t0;
	s64 wall, longest = 1;
	unsigned int i;

	t0 = ktime_get();
	for (i = 0; i < W4_PROBES; i++)
		im->schedule(w4_probe_fn, &probes[i], probes[i].node, NULL);
	im->sync_full();
	wall = ktime_to_ns(ktime_sub(ktime_get(), t0));
	for (i = 0; i < W4_PROBES; i++)
		longest = max(longest, probes[i].own_ns);
	*limit = longest;
	return div64_s64(wall * 1000, longest);
}

static int w4(void)
{
	/* Static: off the stack (KASAN's frames are large); module init runs it once. */
	static s64 v[NR_IMPLS][MAX_ROUNDS], lim[NR_IMPLS][MAX_ROUNDS];
	struct w4_probe *probes;
	struct rnd_state rnd;
	int nodes[MAX_NUMNODES], nr_nodes = 0, node;
	unsigned int r, i;

	if (!wanted("W4"))
		return 0;
	probes = kcalloc(W4_PROBES, sizeof(*probes), GFP_KERNEL);
	if (!probes)
		return -ENOMEM;
	for_each_online_node(node)
		nodes[nr_nodes++] = node;
	prandom_seed_state(&rnd, seed);
	for (i = 0; i < W4_PROBES; i++) {
		probes[i].sleep_ms = 1 + prandom_u32_state(&rnd) % 50;
		probes[i].node = nodes[i % nr_nodes];
	}
	for (r = 0; r < rounds; r++)
		for (i = 0; i < NR_IMPLS; i++)
			v[i][r] = w4_once(&impls[i], probes, &lim[i][r]);
	for (i = 0; i < NR_IMPLS; i++) {
		report("W4-wall", impls[i].name, "permille-of-limit", v[i], rounds);
		report("W4-limit", impls[i].name, "ns", lim[i], rounds);
	}
	kfree(probes);
	return 0;
}

/* ---- W5: memory ---- */

static int w5(void)
{
	unsigned int i;
	s64 bytes;

	if (!wanted("W5"))
		return 0;
	for (i = 0; i < NR_IMPLS; i++) {
		bytes = impls[i].entry_bytes();
		if (bytes <= 0) {
			pr_err("rasync_bench: W5: could not measure %s's entry\n", impls[i].name);
			return -EIO;
		}
		report("W5-entry", impls[i].name, "bytes", &bytes, 1);
		bytes *= W5_PENDING;
		report("W5-10k", impls[i].name, "bytes", &bytes, 1);
	}
	return 0;
}

static int __init rasync_bench_init(void)
{
	static int (*const scenarios[])(void) = { w1, w1_floor, w2, w3, w4, w5 };
	unsigned int s;
	int ret;

	if (!rounds || rounds > MAX_ROUNDS) {
		pr_err("rasync_bench: rounds=%u: must be 1..%d\n", rounds, MAX_ROUNDS);
		return -EINVAL;
	}
	pr_info("rasync_bench: start: %u rounds, %u online CPUs, %u online nodes, seed %u\n",
		rounds, num_online_cpus(), num_online_nodes(), seed);
	for (s = 0; s < ARRAY_SIZE(scenarios); s++) {
		ret = scenarios[s]();
		if (ret) {
			pr_err("rasync_bench: scenario %u failed: %d\n", s + 1, ret);
			return ret;
		}
	}
	pr_info("rasync_bench: done\n");
	return 0;
}

static void __exit rasync_bench_exit(void)
{
}

module_init(rasync_bench_init);
module_exit(rasync_bench_exit);
MODULE_DESCRIPTION("rasync against kernel/async.c, side by side");
MODULE_LICENSE("GPL");
