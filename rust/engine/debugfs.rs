// SPDX-License-Identifier: GPL-2.0

//! The walks behind debugfs `rasync/` (`debugfs.c` creates the files and prints).
//!
//! `stats` takes the global counters ([`crate::counters`]); `domains` and `pending`
//! walk the listed domains ([`crate::registry`]), each under its own lock, and for
//! `pending` its unfinished entries in cookie order, at most [`ENTRIES_SHOWN`] per
//! domain (interrupts are off meanwhile).
//!
//! # Examples
//!
//! ```text
//! # cat /sys/kernel/debug/rasync/pending
//! domain probe_domain [rasync_lc_a] (exclusive): pending 4, ...
//!   17 lc_sleep_entry+0x0/0x50 [rasync_lc_a] node -1 running for 812 ms
//! ```

use crate::{counters::GlobalCounts, domain::Link, engine, entry::Func};
use kernel::{
    ffi::{c_char, c_void},
    prelude::*,
};

/// `struct seq_file`, only ever handled by pointer.
type SeqFile = c_void;

extern "C" {
    fn rasync_seq_domain(m: *mut SeqFile, d: *const c_void, name: *const c_char, pending: u64);
    fn rasync_seq_entry(m: *mut SeqFile, cookie: u64, func: Func, node: i32, stamp: u32);
    fn rasync_seq_more(m: *mut SeqFile, more: u64);
}

/// The most entries `pending` shows per domain.
const ENTRIES_SHOWN: u64 = 64;

/// Fills in `*out` with the global counters (all zero while rasync is not running).
///
/// # Safety
///
/// `out` must be valid for writes.
#[no_mangle]
pub(crate) unsafe extern "C" fn rasync_global_counts(out: *mut GlobalCounts) {
    let mut counts = GlobalCounts::default();
    if let Some(engine) = engine::get() {
        engine.global_counts(&mut counts);
    }
    // SAFETY: the caller guarantees `out` is writable.
    unsafe { out.write(counts) };
}

/// Prints each listed domain's counters; with `entries`, only the domains with pending
/// entries, and those entries.
///
/// # Safety
///
/// `m` must be the seq_file of a `show` callback.
#[no_mangle]
pub(crate) unsafe extern "C" fn rasync_show_domains(m: *mut SeqFile, entries: bool) {
    let Some(engine) = engine::get() else {
        return;
    };
    engine.registry().for_each(|domain| {
        let guard = domain.lock();
        let pending = domain.pending_locked(&guard);
        if entries && pending == 0 {
            return;
        }
        // rasync's own domain lives inside its module object: %ps cannot name it.
        let name = if core::ptr::eq(domain, engine.dfl_domain()) {
            c"rasync_dfl_domain".as_char_ptr().cast()
        } else {
            core::ptr::null()
        };
        // SAFETY: `m` is valid (the caller); the domain is locked, as the helper needs.
        unsafe { rasync_seq_domain(m, domain.as_raw().cast(), name, pending) };
        if !entries {
            return;
        }
        let mut shown = 0;
        domain.for_each_pending_locked(&guard, Link::Domain, |e| {
            if shown == ENTRIES_SHOWN {
                return false;
            }
            // SAFETY: `m` is valid; the entry is live while the domain is locked.
            unsafe { rasync_seq_entry(m, e.cookie, e.func, e.node(), e.stamp.raw()) };
            shown += 1;
            true
        });
        if pending > shown {
            // SAFETY: `m` is valid.
            unsafe { rasync_seq_more(m, pending - shown) };
        }
    });
}
