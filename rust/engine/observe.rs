// SPDX-License-Identifier: GPL-2.0

//! The hot path's hooks for tracepoints and timing (`observe.c`, `rasync_trace.h`).
//!
//! Every hook is behind [`observing`], a static key that is off unless a `rasync:*`
//! tracepoint is enabled or timing is on (debugfs `rasync/timing`). Off, a hook is a
//! jump the kernel has patched out: nothing else runs, no C call is made.
//!
//! # Examples
//!
//! ```ignore
//! if observe::observing() {
//!     observe::schedule(cookie, func, node, domain, Why::Queued);
//! }
//! ```

use crate::{domain::Domain, entry::Func};
use kernel::{bindings, ffi::c_void};

/// `struct rasync_observe_key` (`rasync_internal.h`): the key, in a struct so that
/// `static_branch_unlikely!` can name its field.
#[repr(C)]
pub(crate) struct ObserveKey {
    key: bindings::static_key_false,
}

extern "C" {
    static rasync_observe: ObserveKey;
    fn rasync_observe_schedule(cookie: u64, func: Func, node: i32, domain: *const c_void, why: u32);
    fn rasync_observe_start(cookie: u64, func: Func, node: i32, stamp: u32) -> u64;
    fn rasync_observe_end(cookie: u64, func: Func, start_ns: u64, result: i32);
    fn rasync_observe_wait_begin(cookie: u64, domain: *const c_void) -> u64;
    fn rasync_observe_wait_end(cookie: u64, domain: *const c_void, start_ns: u64);
}

/// How a call was scheduled: `enum rasync_why` of `rasync_trace.h`.
#[derive(Clone, Copy, PartialEq, Eq)]
#[repr(u32)]
pub(crate) enum Why {
    /// Queued for a runner.
    Queued = 0,
    /// Queued, but held by its domain's cap until an active entry finishes.
    Held = 1,
    /// Run synchronously: the entry could not be allocated.
    NoMemory = 2,
    /// Run synchronously: more than `max_work` entries were pending.
    MaxWork = 3,
    /// Run synchronously: the scheduling module is being removed.
    Going = 4,
    /// Run synchronously: a NULL or uninitialised domain.
    BadDomain = 5,
    /// Run synchronously (in the scheduler, after queueing): no runner could be had.
    NoRunner = 6,
}

impl Why {
    /// The number of reasons to run synchronously (from [`Why::NoMemory`] on).
    pub(crate) const SYNC_REASONS: usize = 5;

    /// Returns the index of a synchronous reason in the counters.
    pub(crate) fn sync_index(self) -> Option<usize> {
        (self as usize).checked_sub(Why::NoMemory as usize)
    }
}

/// Returns whether anything observes rasync: a patched jump, off by default.
#[inline(always)]
pub(crate) fn observing() -> bool {
    // SAFETY: `rasync_observe` is a static key defined by `observe.c`, as the macro
    // requires.
    unsafe { kernel::jump_label::static_branch_unlikely!(rasync_observe, ObserveKey, key) }
}

/// Traces a schedule (`rasync:rasync_schedule`).
pub(crate) fn schedule(cookie: u64, func: Func, node: i32, domain: *const Domain, why: Why) {
    // SAFETY: the helper only traces; `func` and `domain` are printed, not used.
    unsafe { rasync_observe_schedule(cookie, func, node, domain.cast(), why as u32) }
}

/// Traces an entry's start (and its queue delay, from `stamp`); returns the start time
/// to hand to [`end`].
pub(crate) fn start(cookie: u64, func: Func, node: i32, stamp: u32) -> u64 {
    // SAFETY: as above.
    unsafe { rasync_observe_start(cookie, func, node, stamp) }
}

/// Traces an entry's end, `result` 0 for a void function.
pub(crate) fn end(cookie: u64, func: Func, start_ns: u64, result: i32) {
    // SAFETY: as above.
    unsafe { rasync_observe_end(cookie, func, start_ns, result) }
}

/// Traces the start of a synchronize; returns the time to hand to [`wait_end`].
pub(crate) fn wait_begin(cookie: u64, domain: *const Domain) -> u64 {
    // SAFETY: as above.
    unsafe { rasync_observe_wait_begin(cookie, domain.cast()) }
}

/// Traces the return of a synchronize.
pub(crate) fn wait_end(cookie: u64, domain: *const Domain, start_ns: u64) {
    // SAFETY: as above.
    unsafe { rasync_observe_wait_end(cookie, domain.cast(), start_ns) }
}
