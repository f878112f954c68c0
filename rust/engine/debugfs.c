// SPDX-License-Identifier: GPL-2.0
/*
 * debugfs rasync/: what rasync is doing, for a boot that hangs or a driver that is slow.
 *
 *   stats    global counters, queue-delay and run-time histograms
 *   domains  per-domain counters of the domains rasync lists
 *   pending  every listed domain's unfinished entries: cookie, function, node,
 *            state (queued, held, running) and age - the file to read when boot hangs
 *   timing   write 1 to time every entry (fills the histograms), 0 to stop
 *
 * The walks are in Rust (debugfs.rs); this file prints what they hand over.
 */

#include <linux/debugfs.h>
#include <linux/fs.h>
#include <linux/kallsyms.h>
#include <linux/seq_file.h>
#include <linux/slab.h>
#include <linux/uaccess.h>
#include "rasync_internal.h"

static const char *const sync_reasons[RASYNC_SYNC_REASONS] = {
	"nomem", "max_work", "module_going", "bad_domain", "no_runner",
};

static struct dentry *rasync_dir;

static int stats_show(struct seq_file *m, void *v)
{
	struct rasync_global_counts c = {};
	unsigned int i;
	u64 sync = 0;

	rasync_global_counts(&c);
	for (i = 0; i < RASYNC_SYNC_REASONS; i++)
		sync += c.sync[i];
	seq_printf(m, "scheduled: %llu\n", c.scheduled);
	seq_printf(m, "ran async: %llu\n", c.started);
	seq_printf(m, "runner doublings: %llu\n", c.doublings);
	seq_printf(m, "ran synchronously: %llu\n", sync);
	for (i = 0; i < RASYNC_SYNC_REASONS; i++)
		seq_printf(m, "  %s: %llu\n", sync_reasons[i], c.sync[i]);
	seq_printf(m, "nocall refused: %llu\n", c.nocall_refused);
	seq_printf(m, "cancelled: %llu\n", c.cancelled);
	seq_printf(m, "failed: %llu\n", c.failed);
	seq_printf(m, "pending: %u\n", c.pending);
	seq_printf(m, "peak pending: %u\n", c.peak);
	seq_printf(m, "waits: %llu\n", c.waits);
	seq_printf(m, "waiters woken: %llu\n", c.woken);
	rasync_observe_show_hist(m);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(stats);

/* One domain's header line; called by debugfs.rs with the domain's lock held. */
void rasync_seq_domain(struct seq_file *m, const struct rasync_domain *d, const char *name,
		       u64 pending)
{
	const struct rasync_domain_counts *c = &d->counts;

	if (name)
		seq_printf(m, "domain %s", name);
	else if (d->heap)
		seq_printf(m, "domain created@%p", d);
	else
		seq_printf(m, "domain %ps", d);
	seq_printf(m, " (%s): pending %llu, peak %u, queued %llu, sync %llu, finished %llu, cancelled %llu, failed %llu, woken %llu",
		   d->registered ? "registered" : "exclusive", pending, c->peak, c->queued,
		   c->sync, c->finished, c->cancelled, c->failed, c->woken);
	if (d->max_active)
		seq_printf(m, ", max_active %u (active %u)", d->max_active, d->active);
	if (d->error)
		seq_printf(m, ", error %d at cookie %llu", d->error, d->error_cookie);
	seq_putc(m, '\n');
}

static const char *stamp_state(u32 stamp)
{
	if (stamp & RASYNC_STAMP_STARTED)
		return "running";
	return stamp & RASYNC_STAMP_HELD ? "held" : "queued";
}

/*
 * One pending entry of the domain printed last; its function as %pS prints it, a Rust
 * name demangled (trace.c), as in the initcall_debug lines.
 */
void rasync_seq_entry(struct seq_file *m, u64 cookie, rasync_func_t func, int node, u32 stamp)
{
	char *sym = kmalloc(KSYM_SYMBOL_LEN, GFP_ATOMIC | __GFP_NOWARN), *alloc = NULL;
	u64 ms = div_u64(rasync_stamp_age_ns(stamp), NSEC_PER_MSEC);

	if (sym)
		seq_printf(m, "  %llu %s node %d %s for %llu ms\n", cookie,
			   rasync_func_name(func, sym, &alloc, true), node, stamp_state(stamp), ms);
	else
		seq_printf(m, "  %llu %pS node %d %s for %llu ms\n", cookie, func, node,
			   stamp_state(stamp), ms);
	kfree(alloc);
	kfree(sym);
}

void rasync_seq_more(struct seq_file *m, u64 more)
{
	seq_printf(m, "  ... and %llu more\n", more);
}

static int domains_show(struct seq_file *m, void *v)
{
	rasync_show_domains(m, false);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(domains);

static int pending_show(struct seq_file *m, void *v)
{
	rasync_show_domains(m, true);
	return 0;
}
DEFINE_SHOW_ATTRIBUTE(pending);

static ssize_t timing_read(struct file *file, char __user *buf, size_t count, loff_t *ppos)
{
	char val[3] = { rasync_observe_timing() ? '1' : '0', '\n', 0 };

	return simple_read_from_buffer(buf, count, ppos, val, 2);
}

static ssize_t timing_write(struct file *file, const char __user *buf, size_t count,
			    loff_t *ppos)
{
	bool on;
	int err = kstrtobool_from_user(buf, count, &on);

	if (err)
		return err;
	rasync_observe_set_timing(on);
	return count;
}

static const struct file_operations timing_fops = {
	.owner = THIS_MODULE,
	.read = timing_read,
	.write = timing_write,
	.llseek = default_llseek,
};

void rasync_debugfs_init(void)
{
	/* debugfs failures are not fatal: rasync works without its files. */
	rasync_dir = debugfs_create_dir("rasync", NULL);
	debugfs_create_file("stats", 0444, rasync_dir, NULL, &stats_fops);
	debugfs_create_file("domains", 0444, rasync_dir, NULL, &domains_fops);
	debugfs_create_file("pending", 0444, rasync_dir, NULL, &pending_fops);
	debugfs_create_file("timing", 0644, rasync_dir, NULL, &timing_fops);
}

void rasync_debugfs_exit(void)
{
	debugfs_remove(rasync_dir);
	rasync_observe_set_timing(false);
}
