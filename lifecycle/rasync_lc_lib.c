// SPDX-License-Identifier: GPL-2.0
/*
 * A library that schedules its callers' functions, as drivers/scsi/scsi_scan.c and the
 * driver core do with async.c (scripts/guest-lifecycle): THIS_MODULE in rasync.h's
 * wrappers names this library, but the code that runs belongs to the caller
 * (rasync_lc_user.c), so the caller's init end and removal must wait for it.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/export.h>
#include <linux/module.h>
#include "rasync_lc_lib.h"

rasync_cookie_t lc_lib_schedule(rasync_func_t func, void *data)
{
	return rasync_schedule(func, data);
}
EXPORT_SYMBOL_GPL(lc_lib_schedule);

MODULE_DESCRIPTION("rasync lifecycle test: a library scheduling its callers' functions");
MODULE_LICENSE("GPL");
