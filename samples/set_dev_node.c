// SPDX-License-Identifier: GPL-2.0
/*
 * set_dev_node() is static inline, so the sample's Rust side calls it through here to
 * place each of its faux devices on a NUMA node (real devices get theirs from firmware).
 */

#include <linux/device.h>

void rasync_sample_set_dev_node(struct device *dev, int node);

void rasync_sample_set_dev_node(struct device *dev, int node)
{
	set_dev_node(dev, node);
}
