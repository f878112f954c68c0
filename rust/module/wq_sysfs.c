// SPDX-License-Identifier: GPL-2.0
/*
 * How rasync.ko shapes its workqueues (rust/engine/wq.rs asks the host): through their
 * sysfs files, since a module can call neither apply_workqueue_attrs() nor
 * workqueue_set_min_active().
 */

#include <linux/cpumask.h>
#include <linux/fs.h>
#include <linux/slab.h>
#include <linux/workqueue.h>
#include "rasync_internal.h"

/*
 * Writes @val to /sys/devices/virtual/workqueue/@wq/@attr. apply_workqueue_attrs() is
 * not exported to modules, so sysfs (WQ_SYSFS) is the only way a module can make its
 * unbound workqueue strictly NUMA-affine.
 */
static int wq_sysfs_write(const char *wq, const char *attr, const char *val)
{
	char path[96];
	struct file *file;
	loff_t pos = 0;
	ssize_t ret;

	snprintf(path, sizeof(path), "/sys/devices/virtual/workqueue/%s/%s", wq, attr);
	file = filp_open(path, O_WRONLY, 0);
	if (IS_ERR(file))
		return PTR_ERR(file);
	ret = kernel_write(file, val, strlen(val), &pos);
	filp_close(file, NULL);
	return ret < 0 ? ret : 0;
}

/*
 * Restricts the workqueue @wq (WQ_SYSFS) to the possible CPUs of @node through its
 * sysfs "cpumask": the workqueue then counts only that node's CPUs, so the node's share
 * of max_active is all of it (wq_update_node_max_active()).
 */
static int wq_sysfs_node_cpumask(const char *wq, int node)
{
	cpumask_var_t mask;
	char *val = NULL;
	int ret = -ENOMEM;

	if (!zalloc_cpumask_var(&mask, GFP_KERNEL))
		return -ENOMEM;
	if (!rasync_helper_node_possible_cpus(node, mask))
		ret = -ENODEV;
	else if ((val = kasprintf(GFP_KERNEL, "%*pb\n", cpumask_pr_args(mask))))
		ret = wq_sysfs_write(wq, "cpumask", val);
	kfree(val);
	free_cpumask_var(mask);
	return ret;
}

unsigned int rasync_host_wq_flags(void)
{
	return WQ_SYSFS;
}

/* One pod for all CPUs: "affinity_scope" is "system". */
int rasync_host_wq_system_wide(struct workqueue_struct *wq, const char *name)
{
	return wq_sysfs_write(name, "affinity_scope", "system");
}

int rasync_host_wq_node(struct workqueue_struct *wq, const char *name, int node)
{
	return wq_sysfs_node_cpumask(name, node);
}
