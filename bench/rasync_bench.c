// SPDX-License-Identifier: GPL-2.0
/*
 * rasync_bench: rasync against the kernel's own async_schedule(), in the same boot.
 *
 * Each scenario runs `rounds` times per implementation, alternating C and rasync
 * through one table of function pointers, and prints the median times and their
 * ratio (C / rasync: above 1 means rasync is faster). Loading the module runs
 * everything; it then stays loaded doing nothing.
 *
 *   schedule:  N no-op entries scheduled in the default domain, then a full sync.
 *   domains:   one thread per node, each scheduling N/2 no-op entries into its own
 *              exclusive domain and synchronizing it (global lock vs per-domain locks).
 *   waiters:   W threads each waiting for a different cookie of a run of N short
 *              entries (C wakes every waiter on every completion).
 */

#include <linux/async.h>
#include <linux/atomic.h>
#include <linux/completion.h>
#include <linux/delay.h>
#include <linux/kthread.h>
#include <linux/ktime.h>
#include <linux/module.h>
#include <linux/nodemask.h>
#include <linux/slab.h>
#include <linux/sort.h>
#include <rasync.h>

static unsigned int entries = 10000;
module_param(entries, uint, 0444);
MODULE_PARM_DESC(entries, "Entries per scenario (default 10000)");

static unsigned int rounds = 5;
module_param(rounds, uint, 0444);
MODULE_PARM_DESC(rounds, "Alternating rounds per scenario; medians are reported (default 5, max 15)");

#define MAX_ROUNDS 15

static unsigned int waiters = 32;
module_param(waiters, uint, 0444);
MODULE_PARM_DESC(waiters, "Waiting threads in the waiters scenario (default 32)");

/* One implementation: kernel/async.c or rasync, behind the same signatures. */
struct impl {
	const char *name;
	u64 (*schedule_domain)(void (*fn)(void *, u64), void *data, int node, void *domain);
	void (*sync_full)(void);
	void (*sync_full_domain)(void *domain);
	void (*sync_cookie)(u64 cookie);
	void *(*domain_create)(void);
	void (*domain_destroy)(void *domain);
};

/* kernel/async.c: exclusive domains are allocated here, as async has no create call. */
static u64 c_schedule_domain(void (*fn)(void *, u64), void *data, int node, void *domain)
{
	return domain ? async_schedule_node_domain(fn, data, node, domain)
		      : async_schedule_node(fn, data, node);
}

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

static u64 r_schedule_domain(void (*fn)(void *, u64), void *data, int node, void *domain)
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
	{ "async", c_schedule_domain, async_synchronize_full, c_sync_full_domain,
	  async_synchronize_cookie, c_domain_create, c_domain_destroy },
	{ "rasync", r_schedule_domain, rasync_synchronize_full, r_sync_full_domain,
	  rasync_synchronize_cookie, r_domain_create, r_domain_destroy },
};

static atomic_t calls;

static void noop_fn(void *data, u64 cookie)
{
	atomic_inc(&calls);
}

static void short_fn(void *data, u64 cookie)
{
	udelay(2);
	atomic_inc(&calls);
}

/* schedule: N entries in the default domain, then a full sync. */
static s64 bench_schedule(const struct impl *im)
{
	ktime_t t0 = ktime_get();
	unsigned int i;

	for (i = 0; i < entries; i++)
		im->schedule_domain(noop_fn, NULL, NUMA_NO_NODE, NULL);
	im->sync_full();
	return ktime_us_delta(ktime_get(), t0);
}

struct domain_job {
	const struct impl *im;
	int node;
	int err;
	struct completion done;
};

static int domain_thread(void *arg)
{
	struct domain_job *job = arg;
	void *domain = job->im->domain_create();
	unsigned int i;

	if (!domain) {
		job->err = -ENOMEM;
	} else {
		for (i = 0; i < entries / 2; i++)
			job->im->schedule_domain(noop_fn, NULL, job->node, domain);
		job->im->sync_full_domain(domain);
		job->im->domain_destroy(domain);
	}
	complete(&job->done);
	return 0;
}

/* domains: one scheduling thread per node (at most 2), each with its own domain. */
static s64 bench_domains(const struct impl *im)
{
	struct domain_job jobs[2];
	int n = 0, node, i, err = 0;
	ktime_t t0;

	for_each_online_node(node) {
		if (n == ARRAY_SIZE(jobs))
			break;
		jobs[n] = (struct domain_job){ .im = im, .node = node };
		init_completion(&jobs[n].done);
		n++;
	}
	t0 = ktime_get();
	for (i = 0; i < n; i++) {
		struct task_struct *t = kthread_create_on_node(domain_thread, &jobs[i],
							       jobs[i].node, "rasync_bench/%d", i);
		if (IS_ERR(t)) {
			jobs[i].err = PTR_ERR(t);
			complete(&jobs[i].done);
			continue;
		}
		wake_up_process(t);
	}
	for (i = 0; i < n; i++) {
		wait_for_completion(&jobs[i].done);
		err = err ?: jobs[i].err;
	}
	return err ?: ktime_us_delta(ktime_get(), t0);
}

struct waiter_job {
	const struct impl *im;
	u64 cookie;
	struct completion done;
};

static int waiter_thread(void *arg)
{
	struct waiter_job *job = arg;

	job->im->sync_cookie(job->cookie);
	complete(&job->done);
	return 0;
}

/* waiters: W threads waiting for evenly spread cookies of a run of N short entries. */
static s64 bench_waiters(const struct impl *im)
{
	struct waiter_job *jobs = kcalloc(waiters, sizeof(*jobs), GFP_KERNEL);
	u64 first = 0, c;
	unsigned int i, n = entries / 4;
	ktime_t t0;
	s64 ret;

	if (!jobs)
		return -ENOMEM;
	t0 = ktime_get();
	for (i = 0; i < n; i++) {
		c = im->schedule_domain(short_fn, NULL, NUMA_NO_NODE, NULL);
		if (!i)
			first = c;
	}
	for (i = 0; i < waiters; i++) {
		struct task_struct *t;

		jobs[i].im = im;
		jobs[i].cookie = first + (u64)(i + 1) * n / waiters;
		init_completion(&jobs[i].done);
		t = kthread_run(waiter_thread, &jobs[i], "rasync_bench_w/%u", i);
		if (IS_ERR(t))
			complete(&jobs[i].done);
	}
	for (i = 0; i < waiters; i++)
		wait_for_completion(&jobs[i].done);
	im->sync_full();
	ret = ktime_us_delta(ktime_get(), t0);
	kfree(jobs);
	return ret;
}

static const struct {
	const char *name;
	s64 (*run)(const struct impl *im);
} scenarios[] = {
	{ "schedule", bench_schedule },
	{ "domains", bench_domains },
	{ "waiters", bench_waiters },
};

static int cmp_s64(const void *a, const void *b)
{
	s64 x = *(const s64 *)a, y = *(const s64 *)b;

	return x < y ? -1 : x > y;
}

static int __init rasync_bench_init(void)
{
	s64 us[ARRAY_SIZE(impls)][MAX_ROUNDS], med[ARRAY_SIZE(impls)];
	unsigned int s, i, r;

	if (!rounds || rounds > MAX_ROUNDS) {
		pr_err("rasync_bench: rounds=%u: must be 1..%d\n", rounds, MAX_ROUNDS);
		return -EINVAL;
	}
	pr_info("rasync_bench: %u entries, %u waiters, %u rounds, %u online nodes\n", entries,
		waiters, rounds, num_online_nodes());
	for (s = 0; s < ARRAY_SIZE(scenarios); s++) {
		for (r = 0; r < rounds; r++) {
			for (i = 0; i < ARRAY_SIZE(impls); i++) {
				atomic_set(&calls, 0);
				us[i][r] = scenarios[s].run(&impls[i]);
				if (us[i][r] < 0) {
					pr_err("rasync_bench: %s with %s failed: %lld\n",
					       scenarios[s].name, impls[i].name, us[i][r]);
					return (int)us[i][r];
				}
			}
		}
		for (i = 0; i < ARRAY_SIZE(impls); i++) {
			sort(us[i], rounds, sizeof(s64), cmp_s64, NULL);
			med[i] = us[i][rounds / 2];
		}
		pr_info("rasync_bench: %-8s median async %8lld us  rasync %8lld us  ratio async/rasync %lld.%02lld (min %lld / %lld us)\n",
			scenarios[s].name, med[0], med[1], med[0] / max(med[1], 1LL),
			(med[0] * 100 / max(med[1], 1LL)) % 100, us[0][0], us[1][0]);
	}
	return 0;
}

static void __exit rasync_bench_exit(void)
{
}

module_init(rasync_bench_init);
module_exit(rasync_bench_exit);
MODULE_DESCRIPTION("rasync against kernel/async.c, side by side");
MODULE_LICENSE("GPL");
