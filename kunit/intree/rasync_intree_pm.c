// SPDX-License-Identifier: GPL-2.0
/*
 * For the intree guest's suspend/resume round trip: while loaded, the virtio PCI
 * devices (vendor 0x1af4) are left out of system sleep, as syscore devices are.
 * virtme-ng's root file system is 9p over virtio, whose driver has no freeze/restore:
 * a suspend resets the device under it and the guest loses its files. Every other
 * device (AHCI, its ports and disks, NVMe, ...) suspends and resumes, with its async
 * callbacks scheduled through async_schedule_dev_nocall().
 */

#include <linux/device.h>
#include <linux/module.h>
#include <linux/pci.h>

#define VIRTIO_PCI_VENDOR 0x1af4

static unsigned int held;
module_param(held, uint, 0444);
MODULE_PARM_DESC(held, "virtio PCI devices left out of system sleep");

static void hold_virtio(bool hold)
{
	struct pci_dev *pdev = NULL;

	held = 0;
	while ((pdev = pci_get_device(VIRTIO_PCI_VENDOR, PCI_ANY_ID, pdev))) {
		device_lock(&pdev->dev);
		dev_pm_syscore_device(&pdev->dev, hold);
		device_unlock(&pdev->dev);
		held++;
	}
}

static int __init pm_hold_init(void)
{
	hold_virtio(true);
	return 0;
}
module_init(pm_hold_init);

static void __exit pm_hold_exit(void)
{
	hold_virtio(false);
}
module_exit(pm_hold_exit);

MODULE_DESCRIPTION("Leaves virtio PCI devices out of system sleep (intree guest)");
MODULE_LICENSE("GPL");
