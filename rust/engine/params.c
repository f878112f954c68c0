// SPDX-License-Identifier: GPL-2.0
/*
 * rasync's parameters, the same in rasync.ko and in vmlinux (both hosts build this
 * file). They are C module_param()s, not Rust `params:`, because Rust parameters are
 * read-only at load time; these are writable in /sys/module/rasync/parameters/ and
 * accepted on the kernel command line as rasync.max_work= and rasync.initcall_debug=.
 */

#include <linux/moduleparam.h>
#include "rasync_internal.h"

/* Read by engine/params.rs directly (READ_ONCE()), without a call per entry. */
unsigned int rasync_max_work = 32768;
module_param_named(max_work, rasync_max_work, uint, 0644);
MODULE_PARM_DESC(max_work,
		 "Run synchronously once more than this many entries are pending (default 32768, as MAX_WORK in kernel/async.c)");

bool rasync_initcall_debug;
module_param_named(initcall_debug, rasync_initcall_debug, bool, 0644);
#ifdef MODULE
MODULE_PARM_DESC(initcall_debug,
		 "Print kernel/async.c's initcall_debug trace lines (for scripts/bootgraph.pl)");
#else
MODULE_PARM_DESC(initcall_debug,
		 "Print kernel/async.c's initcall_debug trace lines (for scripts/bootgraph.pl); on with initcall_debug");
#endif

static bool numa_strict = true;
module_param(numa_strict, bool, 0444);
MODULE_PARM_DESC(numa_strict,
		 "Run entries scheduled on a node strictly on that node's CPUs (default 1; 0: best effort, as kernel/async.c)");

bool rasync_param_numa_strict(void)
{
	return READ_ONCE(numa_strict);
}

void rasync_param_set_max_work(unsigned int value)
{
	WRITE_ONCE(rasync_max_work, value);
}

bool rasync_param_initcall_debug(void)
{
	return READ_ONCE(rasync_initcall_debug);
}
