// SPDX-License-Identifier: GPL-2.0
/*
 * A consumer of rasync that keeps its domains where rasync can neither free nor list
 * them for long (scripts/guest-domains):
 *
 *   mode=initdata  init schedules 4 entries in an __initdata RASYNC_DOMAIN and 4 in an
 *                  __initdata RASYNC_DOMAIN_EXCLUSIVE and returns without synchronizing:
 *                  the loader frees init memory once they are done, and debugfs must
 *                  have forgotten both domains by then. Exit creates a domain,
 *                  schedules on it and destroys it (rasync's list of domains changes
 *                  after init memory is gone).
 *   mode=destroy   init calls rasync_domain_destroy() on its static domain and on a
 *                  function-local one, as a user who mistakes it for a "finish" call
 *                  would: each is refused with -EINVAL and an error message, and still
 *                  runs 4 entries afterwards.
 *
 * Every finished entry prints "<module>: <mode> entry <cookie> done"; each step of
 * mode=destroy prints one result line.
 */

#define pr_fmt(fmt) KBUILD_MODNAME ": " fmt

#include <linux/atomic.h>
#include <linux/delay.h>
#include <linux/init.h>
#include <linux/module.h>
#include <linux/string.h>
#include <rasync.h>

static char *mode = "initdata";
module_param(mode, charp, 0444);
MODULE_PARM_DESC(mode, "initdata or destroy (see the file's comment)");

#define LCD_ENTRIES 4

static __initdata RASYNC_DOMAIN(lcd_init_registered);
static __initdata RASYNC_DOMAIN_EXCLUSIVE(lcd_init_exclusive);
static RASYNC_DOMAIN(lcd_static);
static atomic_t lcd_ran = ATOMIC_INIT(0);

static void lcd_initdata_entry(void *data, rasync_cookie_t cookie)
{
	msleep(50);
	pr_info("initdata entry %llu done\n", cookie);
}

static void lcd_entry(void *data, rasync_cookie_t cookie)
{
	atomic_inc(&lcd_ran);
	pr_info("%s entry %llu done\n", (const char *)data, cookie);
}

static int __init lcd_initdata(void)
{
	int i;

	for (i = 0; i < LCD_ENTRIES; i++) {
		rasync_schedule_domain(lcd_initdata_entry, NULL, &lcd_init_registered);
		rasync_schedule_domain(lcd_initdata_entry, NULL, &lcd_init_exclusive);
	}
	return 0;
}

/* Destroys @domain, which rasync_domain_create() did not make, then uses it. */
static void lcd_destroy_then_use(struct rasync_domain *domain, const char *what)
{
	int ret = rasync_domain_destroy(domain);
	int i;

	atomic_set(&lcd_ran, 0);
	for (i = 0; i < LCD_ENTRIES; i++)
		rasync_schedule_domain(lcd_entry, (void *)what, domain);
	rasync_synchronize_full_domain(domain);
	pr_info("destroy of the %s domain returned %d; %d of %d entries ran after it\n",
		what, ret, atomic_read(&lcd_ran), LCD_ENTRIES);
}

static noinline void lcd_destroy_local(void)
{
	RASYNC_DOMAIN_EXCLUSIVE(local);

	lcd_destroy_then_use(&local, "function-local");
}

static int __init lcd_init(void)
{
	if (!strcmp(mode, "initdata"))
		return lcd_initdata();
	if (!strcmp(mode, "destroy")) {
		lcd_destroy_then_use(&lcd_static, "static");
		lcd_destroy_local();
		return 0;
	}
	pr_err("unknown mode %s\n", mode);
	return -EINVAL;
}

static void __exit lcd_exit(void)
{
	struct rasync_domain *domain;

	if (strcmp(mode, "initdata"))
		return;
	domain = rasync_domain_create(true);
	if (!domain) {
		pr_err("exit: rasync_domain_create failed\n");
		return;
	}
	rasync_schedule_domain(lcd_entry, "exit", domain);
	pr_info("exit: destroy of a created domain returned %d\n", rasync_domain_destroy(domain));
}

module_init(lcd_init);
module_exit(lcd_exit);
MODULE_DESCRIPTION("rasync consumer with __initdata, static and function-local domains");
MODULE_LICENSE("GPL");
