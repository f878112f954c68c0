// SPDX-License-Identifier: GPL-2.0
/*
 * kbench_pacer - a periodic hrtimer that bounds QEMU icount's idle clock jumps.
 *
 * make bench-kernel (rasync) runs its guests under QEMU -icount shift=0,sleep=off: the
 * guest clock counts instructions, and when every vCPU is idle QEMU moves it on to the
 * earliest timer the guest has armed. An emulated disk completes its I/O from QEMU's
 * main loop, at a point in host time, so a guest that goes idle waiting for a
 * completion first sees its clock jump to its next timer: anything from nothing to
 * several milliseconds per I/O, whichever way the host's threads happened to run. The
 * disk scans of the boot (W6) and of W7 wait for dozens of such completions, and those
 * jumps made most of their boot-to-boot spread. With this timer armed the jump is at
 * most one period; the timer does nothing else.
 *
 * kbench_pacer.period_us= on the kernel command line arms it from early_initcall (the
 * boot's disk probes come later); /sys/module/kbench_pacer/parameters/period_us sets
 * another period, 0 disarms it.
 */

#include <linux/hrtimer.h>
#include <linux/init.h>
#include <linux/ktime.h>
#include <linux/moduleparam.h>
#include <linux/mutex.h>

static struct hrtimer kbench_pacer_timer;
static unsigned int period_us;
/* Serializes writes of period_us with (re)arming the timer, once it is set up. */
static DEFINE_MUTEX(kbench_pacer_lock);
static bool kbench_pacer_ready;

static enum hrtimer_restart kbench_pacer_fn(struct hrtimer *timer)
{
	unsigned int us = READ_ONCE(period_us);

	if (!us)
		return HRTIMER_NORESTART;
	hrtimer_forward_now(timer, us_to_ktime(us));
	return HRTIMER_RESTART;
}

/* Called with kbench_pacer_lock held. */
static void kbench_pacer_arm(void)
{
	hrtimer_cancel(&kbench_pacer_timer);
	if (period_us)
		hrtimer_start(&kbench_pacer_timer, us_to_ktime(period_us), HRTIMER_MODE_REL);
}

static int kbench_pacer_set(const char *val, const struct kernel_param *kp)
{
	int ret;

	/* The command line is parsed before early_initcall: only note the period then. */
	if (!READ_ONCE(kbench_pacer_ready))
		return param_set_uint(val, kp);
	mutex_lock(&kbench_pacer_lock);
	ret = param_set_uint(val, kp);
	if (!ret)
		kbench_pacer_arm();
	mutex_unlock(&kbench_pacer_lock);
	return ret;
}

static const struct kernel_param_ops kbench_pacer_ops = {
	.set = kbench_pacer_set,
	.get = param_get_uint,
};
module_param_cb(period_us, &kbench_pacer_ops, &period_us, 0644);
MODULE_PARM_DESC(period_us, "Period of the pacer timer in us (0: disarmed, the default)");

static int __init kbench_pacer_init(void)
{
	hrtimer_setup(&kbench_pacer_timer, kbench_pacer_fn, CLOCK_MONOTONIC, HRTIMER_MODE_REL);
	mutex_lock(&kbench_pacer_lock);
	WRITE_ONCE(kbench_pacer_ready, true);
	kbench_pacer_arm();
	mutex_unlock(&kbench_pacer_lock);
	return 0;
}
early_initcall(kbench_pacer_init);
