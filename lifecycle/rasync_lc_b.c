// SPDX-License-Identifier: GPL-2.0
/* The consumer of rasync_lc_a.c, built as a second module (module B of the tests). */
#include "rasync_lc_a.c"
