// SPDX-License-Identifier: GPL-2.0

//! Global counters for debugfs `rasync/stats`, without a lock or an atomic
//! read-modify-write on the hot path.
//!
//! What the hot path does is counted where it already is: cookies handed out are the
//! cookie counter, entries started are counted by the runners under their queue's
//! lock ([`crate::runner`]), pending entries are the engine's entry count, and each
//! domain counts under its own lock ([`crate::domain`]). The peak of pending entries
//! costs one relaxed load and a compare per entry. The rest (synchronous runs by
//! reason, refusals, cancellations, errors, waits) happens off the hot path and uses
//! plain atomics.
//!
//! # Examples
//!
//! ```ignore
//! engine.counters.note_sync(Why::MaxWork);
//! ```

use crate::observe::Why;
use core::sync::atomic::{AtomicU32, AtomicU64, Ordering};

/// `struct rasync_global_counts` (`rasync_internal.h`), filled for `debugfs.c`.
#[repr(C)]
#[derive(Default)]
pub(crate) struct GlobalCounts {
    pub(crate) scheduled: u64,
    pub(crate) started: u64,
    pub(crate) doublings: u64,
    pub(crate) sync: [u64; Why::SYNC_REASONS],
    pub(crate) nocall_refused: u64,
    pub(crate) cancelled: u64,
    pub(crate) failed: u64,
    pub(crate) waits: u64,
    pub(crate) woken: u64,
    pub(crate) pending: u32,
    pub(crate) peak: u32,
}

/// The engine's own counters.
#[derive(Default)]
pub(crate) struct Counters {
    sync: [AtomicU64; Why::SYNC_REASONS],
    nocall_refused: AtomicU64,
    cancelled: AtomicU64,
    failed: AtomicU64,
    waits: AtomicU64,
    woken: AtomicU64,
    peak: AtomicU32,
}

fn add(counter: &AtomicU64, n: u64) {
    counter.fetch_add(n, Ordering::Relaxed);
}

impl Counters {
    /// Counts a call run synchronously for `why`.
    pub(crate) fn note_sync(&self, why: Why) {
        if let Some(i) = why.sync_index() {
            add(&self.sync[i], 1);
        }
    }

    /// Notes that `pending` entries are now pending.
    #[inline]
    pub(crate) fn note_pending(&self, pending: u32) {
        if pending > self.peak.load(Ordering::Relaxed) {
            self.peak.fetch_max(pending, Ordering::Relaxed);
        }
    }

    /// Counts a `_nocall` schedule that was refused.
    pub(crate) fn note_refused(&self) {
        add(&self.nocall_refused, 1);
    }

    /// Counts `n` cancelled entries.
    pub(crate) fn note_cancelled(&self, n: u32) {
        add(&self.cancelled, n.into());
    }

    /// Counts a result function that returned an error.
    pub(crate) fn note_failed(&self) {
        add(&self.failed, 1);
    }

    /// Counts a synchronizer that had to sleep.
    pub(crate) fn note_wait(&self) {
        add(&self.waits, 1);
    }

    /// Counts `n` woken synchronizers.
    pub(crate) fn note_woken(&self, n: u64) {
        if n > 0 {
            add(&self.woken, n);
        }
    }

    /// Fills in the counters kept here.
    pub(crate) fn fill(&self, out: &mut GlobalCounts) {
        for (o, c) in out.sync.iter_mut().zip(self.sync.iter()) {
            *o = c.load(Ordering::Relaxed);
        }
        out.nocall_refused = self.nocall_refused.load(Ordering::Relaxed);
        out.cancelled = self.cancelled.load(Ordering::Relaxed);
        out.failed = self.failed.load(Ordering::Relaxed);
        out.waits = self.waits.load(Ordering::Relaxed);
        out.woken = self.woken.load(Ordering::Relaxed);
        out.peak = self.peak.load(Ordering::Relaxed);
    }
}
