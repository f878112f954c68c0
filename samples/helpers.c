// SPDX-License-Identifier: GPL-2.0
/*
 * The few static inline functions of the driver core and topology headers that the
 * sample's Rust side needs: where a device is (set_dev_node()), where the caller runs
 * (cpu_to_node(raw_smp_processor_id())), which nodes the online CPUs are on, and the
 * per-device driver data of the sample's node "buses" (dev_{get,set}_drvdata()).
 */

#include <linux/cpumask.h>
#include <linux/device.h>
#include <linux/numa.h>
#include <linux/smp.h>
#include <linux/topology.h>

void rasync_sample_set_dev_node(struct device *dev, int node);
unsigned int rasync_sample_num_online_cpus(void);
int rasync_sample_online_cpu_node(unsigned int nth);
void rasync_sample_where(int *cpu, int *node);
void rasync_sample_set_drvdata(struct device *dev, void *data);
void *rasync_sample_parent_drvdata(struct device *dev);

void rasync_sample_set_dev_node(struct device *dev, int node)
{
	set_dev_node(dev, node);
}

unsigned int rasync_sample_num_online_cpus(void)
{
	return num_online_cpus();
}

/* The node of the nth online CPU (NUMA_NO_NODE if there are fewer). */
int rasync_sample_online_cpu_node(unsigned int nth)
{
	unsigned int cpu;

	for_each_online_cpu(cpu)
		if (nth-- == 0)
			return cpu_to_node(cpu);
	return NUMA_NO_NODE;
}

/* The CPU the caller runs on and its node, read together. */
void rasync_sample_where(int *cpu, int *node)
{
	*cpu = raw_smp_processor_id();
	*node = cpu_to_node(*cpu);
}

void rasync_sample_set_drvdata(struct device *dev, void *data)
{
	dev_set_drvdata(dev, data);
}

void *rasync_sample_parent_drvdata(struct device *dev)
{
	return dev->parent ? dev_get_drvdata(dev->parent) : NULL;
}
