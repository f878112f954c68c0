// SPDX-License-Identifier: GPL-2.0

//! An entry's time stamp and state, in 32 bits: when it was queued (then when it
//! started), and whether it is queued, held by its domain's cap, or running.
//!
//! Bits 31..3 hold a time: jiffies normally (one load, nothing more on the hot path),
//! or, while rasync is observed ([`crate::observe`]), `ktime >> 10` (units of 1024 ns),
//! flagged by bit 0, so queue delays are measured finely. Differences wrap at 2^29
//! units: over six days in jiffies, nine minutes in fine units. Bit 1 is set when the
//! entry starts, bit 2 while its domain holds it. `observe.c` decodes stamps (age,
//! delay) and `debugfs.c` prints the state, with the same bit values.
//!
//! # Examples
//!
//! ```ignore
//! let stamp = Stamp::new(observe::observing());
//! let queued_at = stamp.start(false);
//! ```

use core::sync::atomic::{AtomicU32, Ordering};
use kernel::bindings;

extern "C" {
    fn rasync_stamp_fine() -> u32;
}

// Bit 0 (`STAMP_FINE` in `observe.c`): the time is in units of 1024 ns, not jiffies;
// set by `rasync_stamp_fine()`.
/// The entry has started (`RASYNC_STAMP_STARTED`).
const STARTED: u32 = 2;
/// The entry waits for its domain's cap (`RASYNC_STAMP_HELD`).
const HELD: u32 = 4;
const SHIFT: u32 = 3;

/// Returns the current time as a stamp, finely if `fine`.
#[inline]
fn now(fine: bool) -> u32 {
    if fine {
        // SAFETY: the helper only reads the clock.
        unsafe { rasync_stamp_fine() }
    } else {
        // SAFETY: `jiffies` is always valid to read; a volatile load of it is a single
        // access, as `READ_ONCE(jiffies)`.
        let jiffies = unsafe { core::ptr::read_volatile(&raw const bindings::jiffies) };
        (jiffies as u32) << SHIFT
    }
}

/// An entry's stamp. Read without locks (debugfs), hence atomic; only relaxed loads and
/// stores are needed: it is informative, and its readers hold the lock of the lists the
/// entry is on, which keeps the entry alive.
pub(crate) struct Stamp(AtomicU32);

impl Stamp {
    /// Returns a stamp of "queued now".
    #[inline]
    pub(crate) fn new(fine: bool) -> Self {
        Self(AtomicU32::new(now(fine)))
    }

    /// Marks the entry started now; returns the stamp it had (when it was queued).
    #[inline]
    pub(crate) fn start(&self, fine: bool) -> u32 {
        let queued = self.0.load(Ordering::Relaxed);
        self.0.store(now(fine) | STARTED, Ordering::Relaxed);
        queued
    }

    /// Marks the entry held by its domain (`true`) or released to a runner.
    pub(crate) fn set_held(&self, held: bool) {
        if held {
            self.0.fetch_or(HELD, Ordering::Relaxed);
        } else {
            self.0.fetch_and(!HELD, Ordering::Relaxed);
        }
    }

    /// Returns whether the entry is held by its domain's cap (read under the domain's
    /// lock, under which the flag changes).
    #[inline]
    pub(crate) fn is_held(&self) -> bool {
        self.0.load(Ordering::Relaxed) & HELD != 0
    }

    /// Returns the raw stamp, for `observe.c` and `debugfs.c`.
    #[inline]
    pub(crate) fn raw(&self) -> u32 {
        self.0.load(Ordering::Relaxed)
    }
}
