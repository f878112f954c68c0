// SPDX-License-Identifier: GPL-2.0

//! The module parameters the hot path reads, without a function call per entry.
//!
//! The parameters are C `module_param`s (`params.c`: writable at run time through
//! `/sys/module/rasync/parameters/`); their variables are read here once per use with
//! a volatile load, as `READ_ONCE()` does, so a write from sysfs is seen by the next
//! entry and never torn.
//!
//! # Examples
//!
//! ```ignore
//! if crate::params::initcall_debug() { /* print the trace line */ }
//! ```

extern "C" {
    static rasync_max_work: u32;
    static rasync_initcall_debug: bool;
}

/// `max_work`: entries beyond this many pending run synchronously.
#[inline]
pub(crate) fn max_work() -> u32 {
    // SAFETY: the variable lives as long as the module; an aligned 32-bit volatile
    // load is a single access (`READ_ONCE()`), so a concurrent sysfs write is harmless.
    unsafe { core::ptr::read_volatile(&raw const rasync_max_work) }
}

/// `initcall_debug`: whether the `kernel/async.c` trace lines are printed.
#[inline]
pub(crate) fn initcall_debug() -> bool {
    // SAFETY: as in `max_work`; `param_set_bool()` only ever stores `false` or `true`,
    // so the byte is always a valid `bool`.
    unsafe { core::ptr::read_volatile(&raw const rasync_initcall_debug) }
}
