/* SPDX-License-Identifier: GPL-2.0 */
/* rasync_lc_lib.c: a library that schedules its callers' functions. */
#ifndef _RASYNC_LC_LIB_H
#define _RASYNC_LC_LIB_H

#include <rasync.h>

rasync_cookie_t lc_lib_schedule(rasync_func_t func, void *data);

#endif
