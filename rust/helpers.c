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

int rasync_helper_cpu_to_node(int cpu)
{
	return cpu_to_node(cpu);
}

int rasync_helper_numa_node_id(void)
{
	return numa_node_id();
}

bool rasync_helper_node_online(int node)
{
	return node >= 0 && node < MAX_NUMNODES && node_online(node);
}

int rasync_helper_nr_node_ids(void)
{
	return nr_node_ids;
}

int rasync_helper_dev_to_node(struct device *dev)
{
	return dev_to_node(dev);
}
