// SPDX-License-Identifier: GPL-2.0

//! A FIFO of entries linked through `Entry::next`, owning them.
//!
//! Entries wait in one in two places before a runner takes them: a node's submission
//! queue ([`crate::runner`]) and, over a domain's `max_active`, the domain's held list
//! ([`crate::domain`]). Both are this FIFO, behind their owner's lock (the methods take
//! `&mut self`). It is `repr(C)`, two pointers, as `struct rasync_domain` lays it out
//! (`held_first`, `held_last`).
//!
//! # Invariants
//!
//! `first`..`last` is a singly linked list, through `Entry::next`, of entries owned by the
//! FIFO (from `EntryBox::into_raw`); `first` is null exactly when `last` is. A FIFO is
//! never dropped with entries on it: its owner hands them back first.
//!
//! # Examples
//!
//! ```ignore
//! fifo.push(entry);
//! let cancelled = fifo.take_if(|e| e.domain == domain);
//! while let Some(entry) = fifo.pop() { run(entry) }
//! ```

use crate::entry::{Entry, EntryBox};
use core::ptr::null_mut;

/// Entries in arrival order.
#[repr(C)]
pub(crate) struct EntryFifo {
    first: *mut Entry,
    last: *mut Entry,
}

impl EntryFifo {
    /// Returns an empty FIFO.
    #[inline]
    pub(crate) const fn new() -> Self {
        // INVARIANT: empty.
        Self {
            first: null_mut(),
            last: null_mut(),
        }
    }

    /// Returns whether no entry waits.
    pub(crate) fn is_empty(&self) -> bool {
        self.first.is_null()
    }

    /// Appends `entry`; the FIFO owns it (in place) until it is popped.
    pub(crate) fn push(&mut self, entry: EntryBox) {
        let entry = entry.into_raw();
        // SAFETY: `entry` is valid and now ours; `last`, if any, is an entry we own.
        unsafe {
            (*entry).next = null_mut();
            if self.last.is_null() {
                self.first = entry;
            } else {
                (*self.last).next = entry;
            }
        }
        // INVARIANT: linked last.
        self.last = entry;
    }

    /// Takes the first entry off, or returns `None` if empty.
    pub(crate) fn pop(&mut self) -> Option<EntryBox> {
        let entry = self.first;
        if entry.is_null() {
            return None;
        }
        // SAFETY: `first` is an entry we own (type invariant), from `EntryBox::into_raw`;
        // ownership passes to the caller once it is unlinked.
        unsafe {
            self.first = (*entry).next;
            if self.first.is_null() {
                self.last = null_mut();
            }
            Some(EntryBox::from_raw(entry))
        }
    }

    /// Takes every entry off: returns them as a FIFO of their own, in order.
    pub(crate) fn take_all(&mut self) -> Self {
        core::mem::replace(self, Self::new())
    }

    /// Moves every entry of `other` to the end of this FIFO, in order.
    pub(crate) fn append(&mut self, mut other: Self) {
        while let Some(entry) = other.pop() {
            self.push(entry);
        }
    }

    /// Takes off the entries for which `pred` holds, keeping the others in order;
    /// returns the taken ones, in order.
    pub(crate) fn take_if(&mut self, mut pred: impl FnMut(&Entry) -> bool) -> Self {
        let mut kept = Self::new();
        let mut taken = Self::new();
        while let Some(entry) = self.pop() {
            if pred(&entry) {
                taken.push(entry);
            } else {
                kept.push(entry);
            }
        }
        *self = kept;
        taken
    }

    /// Returns how many entries wait, counting no further than `limit` (walks at most
    /// `limit` of them).
    pub(crate) fn count_up_to(&self, limit: u32) -> u32 {
        let mut seen = 0;
        if limit > 0 {
            self.for_each_while(|_| {
                seen += 1;
                seen < limit
            });
        }
        seen
    }

    /// Calls `f` on each entry, in order, until it returns `false`.
    pub(crate) fn for_each_while(&self, mut f: impl FnMut(&Entry) -> bool) {
        let mut entry = self.first;
        while !entry.is_null() {
            // SAFETY: the list holds entries we own (type invariant); `&self` keeps them
            // linked and alive for the walk.
            let e = unsafe { &*entry };
            if !f(e) {
                return;
            }
            entry = e.next;
        }
    }
}
