// SPDX-License-Identifier: GPL-2.0

//! Domains: cookie-ordered lists of unfinished entries, and the waiters on them.
//!
//! A domain is the C `struct rasync_domain` of `include/rasync.h`, so that C users can
//! define one statically with `RASYNC_DOMAIN()`. rasync's own default domain and the
//! global list of registered entries are domains too; the global one links entries
//! through their `global_link` instead of their `domain_link` ([`Link`]).
//!
//! An exclusive domain has its own lock: scheduling in it takes no global lock at all.
//! Registered domains use the global list's lock instead of their own (as every list
//! of `kernel/async.c` uses `async_lock`): an entry of a registered domain joins two
//! lists, its domain's and the global one, under one lock round trip. The engine names
//! the global list at start-up ([`set_global`]); [`Domain::lock`] picks the lock.
//!
//! # Invariants (of every domain, under its lock)
//!
//! - `pending` holds the unfinished queued entries of the domain in strictly ascending
//!   cookie order, so its first entry has the lowest cookie in progress. An entry is on
//!   its domain's `pending` list from scheduling until its function has returned; an
//!   entry of a registered domain is on the global list for the same span.
//! - `active` counts the domain's entries handed to a submission queue while the domain
//!   had a cap (`Entry::counted`) and not yet retired; `held` ([`EntryFifo`]) holds, in
//!   cookie order, the pending entries that wait for `active` to drop below
//!   `max_active` (0: no limit).
//! - `waiters` holds sleeping synchronizers in ascending cookie order; a waiter with
//!   cookie `c` is on it only while the domain's lowest cookie in progress is below `c`.
//!   Whenever the first pending entry goes, the waiters whose cookie has now been
//!   reached are taken off and completed, and no others: a finishing entry wakes only
//!   waiters whose condition now holds.
//! - A synchronize from inside an entry of the list, for a cookie above that entry's
//!   own, is on `waiters` too, in the same order, marked with the entry's cookie
//!   ([`Waiter::new_in_entry`]). Its entry is pending below its cookie for as long as it
//!   waits, so the lowest cookie in progress never reaches it and the loop above never
//!   takes it off: it takes itself off, once [`Domain::in_entry_reached`] holds. Each
//!   failed check names an entry of the list that must finish first (its `blocker`);
//!   while in-entry waiters exist, a retiring entry completes those it blocked
//!   ([`Domain::wake_in_entry_locked`]), under the lock, while they are still listed.
//!
//! # Examples
//!
//! ```ignore
//! let guard = domain.lock();
//! let lowest = domain.lowest_locked(&guard, Link::Domain);
//! ```
//!
//! C header: [`include/rasync.h`](../include/rasync.h)

use crate::{
    entry::{Entry, EntryBox},
    fifo::EntryFifo,
    list,
    lock::{IrqGuard, IrqSpinLock},
    wait::Completion,
};
use core::{
    mem::offset_of,
    ptr::null_mut,
    sync::atomic::{AtomicPtr, AtomicU64, Ordering},
};
use kernel::{
    bindings,
    bindings::list_head,
    ffi::c_int,
    prelude::*,
    sync::LockClassKey,
    types::Opaque, //
};

/// The global list, whose lock the registered domains use; null while rasync is not
/// running (then a registered domain falls back to its own lock: nothing is queued).
static GLOBAL: AtomicPtr<Domain> = AtomicPtr::new(null_mut());

/// Names the global list (at start-up, before any entry is queued) or withdraws it
/// (`None`, after the last entry).
pub(crate) fn set_global(global: Option<&Domain>) {
    let ptr = global.map_or(null_mut(), |g| core::ptr::from_ref(g).cast_mut());
    GLOBAL.store(ptr, Ordering::Release);
}

/// The "infinity" cookie that `synchronize_full*()` waits for.
pub(crate) const COOKIE_MAX: u64 = u64::MAX;

/// `struct rasync_domain`, field for field.
#[repr(C)]
pub(crate) struct RawDomain {
    lock: bindings::spinlock_t,
    pending: list_head,
    waiters: list_head,
    registered: bool,
    dying: bool,
    max_active: u32,
    active: u32,
    /// `held_first`, `held_last` in C.
    held: EntryFifo,
    error: c_int,
    error_cookie: u64,
    counts: DomainCounts,
    /// The link on the engine's list of domains ([`crate::registry`]), under its lock.
    registry: list_head,
    /// [`crate::registry`]'s verdict: 0 not yet seen, 1 listed, 2 not listable.
    listed: u8,
    /// Created by `rasync_domain_create()`.
    heap: bool,
}

/// `struct rasync_domain_counts`: a domain's counters, kept under its lock.
#[repr(C)]
#[derive(Default)]
pub(crate) struct DomainCounts {
    queued: u64,
    sync: u64,
    finished: u64,
    cancelled: u64,
    failed: u64,
    woken: u64,
    peak: u32,
}

impl DomainCounts {
    /// Returns the number of queued entries not yet finished or cancelled.
    fn pending(&self) -> u64 {
        self.queued
            .wrapping_sub(self.finished)
            .wrapping_sub(self.cancelled)
    }
}

/// Which of an entry's two links a list is made of.
#[derive(Clone, Copy)]
pub(crate) enum Link {
    /// The entry's own domain's `pending` list.
    Domain,
    /// The global list of entries of registered domains.
    Global,
}

/// A domain (`struct rasync_domain`).
///
/// # Invariants
///
/// The lock and both lists are initialised; the lists obey the module-level invariants.
#[repr(transparent)]
pub(crate) struct Domain(Opaque<RawDomain>);

// SAFETY: all state is behind the domain's spinlock.
unsafe impl Send for Domain {}
// SAFETY: all state is behind the domain's spinlock.
unsafe impl Sync for Domain {}

/// Checks that C and Rust agree on the layout of `struct rasync_domain`.
pub(crate) fn check_layout() -> Result {
    extern "C" {
        fn rasync_helper_domain_layout(
            size: *mut usize,
            pending: *mut usize,
            waiters: *mut usize,
            registered: *mut usize,
            dying: *mut usize,
        );
    }
    let (mut size, mut pending, mut waiters, mut registered, mut dying) = (0, 0, 0, 0, 0);
    // SAFETY: the helper writes five `size_t`s through valid pointers.
    unsafe {
        rasync_helper_domain_layout(
            &mut size,
            &mut pending,
            &mut waiters,
            &mut registered,
            &mut dying,
        )
    };
    let rust = (
        size_of::<RawDomain>(),
        offset_of!(RawDomain, pending),
        offset_of!(RawDomain, waiters),
        offset_of!(RawDomain, registered),
        offset_of!(RawDomain, dying),
    );
    if rust != (size, pending, waiters, registered, dying) {
        pr_err!("struct rasync_domain layout differs between C and Rust\n");
        return Err(EINVAL);
    }
    Ok(())
}

impl Domain {
    /// Borrows the C domain at `ptr`.
    ///
    /// # Safety
    ///
    /// `ptr` must point to an initialised `struct rasync_domain` that outlives `'a`.
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut RawDomain) -> &'a Self {
        // SAFETY: `Domain` is `repr(transparent)` over `RawDomain`; the caller guarantees
        // the rest of the type invariant for `'a`.
        unsafe { &*ptr.cast::<Self>() }
    }

    /// Returns whether the domain looks initialised (its lists are linked), to refuse a
    /// zeroed `struct rasync_domain` defined without `RASYNC_DOMAIN()`.
    ///
    /// Other CPUs may be linking entries on the domain meanwhile, so the pointers are read
    /// once each, without the lock, as `READ_ONCE()` does: only null matters here.
    pub(crate) fn is_initialised(&self) -> bool {
        // SAFETY: the fields are valid for reads; a volatile read of a pointer-sized,
        // aligned field is a single load (`READ_ONCE()`), so racing writers are harmless,
        // and a valid domain never sets them to null.
        unsafe {
            !core::ptr::read_volatile(&raw const (*self.pending()).next).is_null()
                && !core::ptr::read_volatile(&raw const (*self.waiters()).next).is_null()
        }
    }

    /// Returns the C pointer to this domain.
    pub(crate) fn as_raw(&self) -> *mut RawDomain {
        self.0.get()
    }

    /// Returns an initialiser for an empty domain, like `RASYNC_DOMAIN()` at run time,
    /// whose lock has lockdep class `key`.
    pub(crate) fn new(
        registered: bool,
        name: &'static CStr,
        key: Pin<&'static LockClassKey>,
    ) -> impl PinInit<Self> {
        let init = move |slot: *mut Self| {
            let raw = slot.cast::<RawDomain>();
            // SAFETY: `slot` is valid for writes and not yet in use; every field is
            // written before the domain is used.
            // INVARIANT: the lock and both lists are initialised, and the lists are empty.
            unsafe {
                IrqSpinLock::init(&raw mut (*raw).lock, name, key.get_ref());
                list::init(&raw mut (*raw).pending);
                list::init(&raw mut (*raw).waiters);
                (&raw mut (*raw).registered).write(registered);
                (&raw mut (*raw).dying).write(false);
                (&raw mut (*raw).max_active).write(0);
                (&raw mut (*raw).active).write(0);
                (&raw mut (*raw).held).write(EntryFifo::new());
                (&raw mut (*raw).error).write(0);
                (&raw mut (*raw).error_cookie).write(0);
                (&raw mut (*raw).counts).write(DomainCounts::default());
                list::init(&raw mut (*raw).registry);
                (&raw mut (*raw).listed).write(0);
                (&raw mut (*raw).heap).write(false);
            }
            Ok(())
        };
        // SAFETY: the closure initialises every field and never fails.
        unsafe { pin_init::pin_init_from_closure(init) }
    }

    /// Returns an initialiser for a heap domain (`rasync_domain_create()`); all of them
    /// share one lockdep class, as no two domain locks are ever held together.
    pub(crate) fn new_heap(registered: bool) -> impl PinInit<Self> {
        Self::new(registered, c"rasync_domain", kernel::static_lock_class!()).pin_chain(
            |d: Pin<&mut Self>| {
                // SAFETY: the domain is not shared yet.
                unsafe { (*d.as_raw()).heap = true };
                Ok(())
            },
        )
    }

    /// Returns whether the domain comes from `rasync_domain_create()` ([`Domain::new_heap`]),
    /// the only kind `rasync_domain_destroy()` may free.
    pub(crate) fn is_created(&self) -> bool {
        // SAFETY: `heap` is written only at initialisation.
        unsafe { (*self.as_raw()).heap }
    }

    fn raw_lock(&self) -> &IrqSpinLock {
        // SAFETY: the lock is initialised (type invariant) and lives as long as `self`.
        unsafe { IrqSpinLock::from_raw(&raw mut (*self.as_raw()).lock) }
    }

    fn pending(&self) -> *mut list_head {
        // SAFETY: only a field address is computed.
        unsafe { &raw mut (*self.as_raw()).pending }
    }

    fn waiters(&self) -> *mut list_head {
        // SAFETY: only a field address is computed.
        unsafe { &raw mut (*self.as_raw()).waiters }
    }

    /// Returns whether `synchronize_full()` waits for this domain.
    pub(crate) fn is_registered(&self) -> bool {
        // SAFETY: `registered` is written only at initialisation.
        unsafe { (*self.as_raw()).registered }
    }

    /// For `rasync_domain_destroy()`: returns `true` if the domain is idle and may be
    /// freed now; otherwise marks it dying, to be freed by its last finishing entry (see
    /// [`Domain::dying_and_idle_locked`]). Only a destroy from inside one of the domain's
    /// own entries finds it busy: that entry, at least, is still running.
    pub(crate) fn idle_or_mark_dying(&self) -> bool {
        let _guard = self.lock();
        // SAFETY: the lists are initialised (type invariant) and locked; `dying` is
        // written under the lock.
        unsafe {
            if list::is_empty(self.pending()) && list::is_empty(self.waiters()) {
                return true;
            }
            (*self.as_raw()).dying = true;
        }
        false
    }

    /// Returns whether the domain was destroyed while busy and is now idle: the caller,
    /// the entry that just left it, frees it once the lock is dropped.
    pub(crate) fn dying_and_idle_locked(&self, _guard: &IrqGuard<'_>) -> bool {
        // SAFETY: the lists are initialised and locked (the guard); `dying` is written
        // under the lock.
        unsafe {
            (*self.as_raw()).dying
                && list::is_empty(self.pending())
                && list::is_empty(self.waiters())
        }
    }

    /// Takes the lock of the domain's lists with interrupts off: the global list's for a
    /// registered domain, else its own.
    pub(crate) fn lock(&self) -> IrqGuard<'_> {
        if self.is_registered() {
            let global = GLOBAL.load(Ordering::Acquire);
            if !global.is_null() {
                // SAFETY: a non-null `GLOBAL` is the engine's global list, pinned in the
                // module and withdrawn only after the last entry (`set_global`), so it
                // outlives this guard's use by any entry or waiter.
                return unsafe { &*global }.raw_lock().lock_irqsave();
            }
        }
        self.raw_lock().lock_irqsave()
    }

    /// Returns whether nothing is pending and nobody waits.
    pub(crate) fn is_idle(&self) -> bool {
        let _guard = self.lock();
        // SAFETY: the lists are initialised (type invariant) and locked.
        unsafe { list::is_empty(self.pending()) && list::is_empty(self.waiters()) }
    }

    /// Returns the lowest cookie in progress (`lowest_in_progress()`), or [`COOKIE_MAX`].
    pub(crate) fn lowest_locked(&self, _guard: &IrqGuard<'_>, link: Link) -> u64 {
        // SAFETY: the list is initialised and locked (the guard); its nodes are `link`
        // links of live entries (module invariant).
        unsafe { list::first(self.pending()).map_or(COOKIE_MAX, |n| Entry::cookie_of(n, link)) }
    }

    /// Appends an entry's link; its cookie must exceed every pending one.
    ///
    /// # Safety
    ///
    /// `node` is the unlinked `link` of a live entry that stays live until it is removed
    /// with [`Domain::remove_locked`], and whose cookie is above all pending cookies.
    pub(crate) unsafe fn add_locked(&self, _guard: &IrqGuard<'_>, node: *mut list_head) {
        // SAFETY: the list is locked; the caller guarantees the rest.
        // INVARIANT: appending the highest cookie keeps the list ascending.
        unsafe { list::add_tail(node, self.pending()) };
    }

    /// Unlinks an entry's link; if it was the lowest, moves the waiters whose cookie has
    /// been reached to `woken` (a [`Woken`]'s list, completed once the lock is dropped).
    ///
    /// # Safety
    ///
    /// `node` is the `link` of a live entry on this domain's list; `woken` is a valid,
    /// initialised list owned by the caller.
    #[inline]
    pub(crate) unsafe fn remove_locked(
        &self,
        guard: &IrqGuard<'_>,
        node: *mut list_head,
        link: Link,
        woken: *mut list_head,
    ) {
        // SAFETY: the list is locked and `node` is on it (caller).
        let was_lowest = unsafe { list::first(self.pending()) } == Some(node);
        // SAFETY: as above.
        unsafe { list::del_init(node) };
        if !was_lowest {
            return;
        }
        let lowest = self.lowest_locked(guard, link);
        // SAFETY: the waiter list is locked; its nodes are links of live `Waiter`s, which
        // stay live until completed. The counters are under the lock too.
        unsafe {
            while let Some(w) = list::first(self.waiters()) {
                if Waiter::cookie_of(w) > lowest {
                    break;
                }
                // INVARIANT: only waiters whose cookie has been reached leave the list.
                list::del_init(w);
                list::add_tail(w, woken);
                let c = &mut (*self.as_raw()).counts;
                c.woken = c.woken.wrapping_add(1);
            }
        }
    }

    /// Counts a newly queued entry (and the peak of pending ones).
    #[inline]
    pub(crate) fn note_queued_locked(&self, _guard: &IrqGuard<'_>) {
        // SAFETY: the counters are protected by the lock (the guard).
        let c = unsafe { &mut (*self.as_raw()).counts };
        // Counters wrap (no overflow check on the hot path); a u64 never does in practice.
        c.queued = c.queued.wrapping_add(1);
        let pending = c.pending();
        if pending > u64::from(c.peak) {
            c.peak = pending.try_into().unwrap_or(u32::MAX);
        }
    }

    /// Counts a call of this domain run synchronously in its caller.
    pub(crate) fn note_sync(&self) {
        let _guard = self.lock();
        // SAFETY: the counters are protected by the lock.
        unsafe { (*self.as_raw()).counts.sync += 1 };
    }

    /// Counts a queued entry that finished, or was cancelled.
    #[inline]
    pub(crate) fn note_retired_locked(&self, _guard: &IrqGuard<'_>, cancelled: bool) {
        // SAFETY: the counters are protected by the lock (the guard).
        let c = unsafe { &mut (*self.as_raw()).counts };
        if cancelled {
            c.cancelled = c.cancelled.wrapping_add(1);
        } else {
            c.finished = c.finished.wrapping_add(1);
        }
    }

    /// Records the result of the function of entry `cookie`: an error is kept if it is
    /// the first, or has a lower cookie than the one kept (the first in cookie order).
    #[inline]
    pub(crate) fn record_result_locked(&self, _guard: &IrqGuard<'_>, result: c_int, cookie: u64) {
        if result == 0 {
            return;
        }
        // SAFETY: the error and the counters are protected by the lock (the guard).
        let d = unsafe { &mut *self.as_raw() };
        d.counts.failed += 1;
        if d.error == 0 || cookie < d.error_cookie {
            d.error = result;
            d.error_cookie = cookie;
        }
    }

    /// Records a result outside the hot path (the synchronous fallback).
    pub(crate) fn record_result(&self, result: c_int, cookie: u64) {
        let guard = self.lock();
        self.record_result_locked(&guard, result, cookie);
    }

    /// Returns the error kept (with its cookie) if its cookie is below `below`; with
    /// `reset`, forgets it.
    pub(crate) fn error(&self, below: u64, reset: bool) -> Option<(c_int, u64)> {
        let _guard = self.lock();
        // SAFETY: the error is protected by the lock.
        let d = unsafe { &mut *self.as_raw() };
        if d.error == 0 || d.error_cookie >= below {
            return None;
        }
        let kept = (d.error, d.error_cookie);
        if reset {
            d.error = 0;
            d.error_cookie = 0;
        }
        Some(kept)
    }

    /// Returns the number of entries queued on the domain and not yet retired.
    pub(crate) fn pending_locked(&self, _guard: &IrqGuard<'_>) -> u64 {
        // SAFETY: the counters are protected by the lock (the guard).
        unsafe { (*self.as_raw()).counts.pending() }
    }

    /// Calls `f` on each pending entry, in cookie order, while it returns `true`.
    pub(crate) fn for_each_pending_locked(
        &self,
        _guard: &IrqGuard<'_>,
        link: Link,
        mut f: impl FnMut(&Entry) -> bool,
    ) {
        let head = self.pending();
        // SAFETY: the list is locked (the guard); its nodes are `link` links of live
        // entries (module invariant), which stay live while it is held.
        unsafe {
            let mut node = (*head).next;
            while node != head {
                if !f(&*Entry::from_link(node, link)) {
                    break;
                }
                node = (*node).next;
            }
        }
    }

    /// Returns the domain's link on the engine's list of domains.
    pub(crate) fn registry_link(&self) -> *mut list_head {
        // SAFETY: only a field address is computed.
        unsafe { &raw mut (*self.as_raw()).registry }
    }

    /// Returns the domain whose registry link is `node`.
    ///
    /// # Safety
    ///
    /// `node` must be the `registry` link of a live domain.
    pub(crate) unsafe fn from_registry_link<'a>(node: *mut list_head) -> &'a Self {
        // SAFETY: the caller guarantees `node` is the `registry` field of a live domain.
        unsafe { Self::from_raw(kernel::container_of!(node, RawDomain, registry)) }
    }

    /// Returns [`crate::registry`]'s verdict on the domain (read without its lock: a
    /// stale 0 only makes the registry look again, under its lock).
    pub(crate) fn listed(&self) -> u8 {
        // SAFETY: a byte-sized volatile load is a single access (`READ_ONCE()`).
        unsafe { core::ptr::read_volatile(&raw const (*self.as_raw()).listed) }
    }

    /// Sets the registry's verdict; the caller holds the registry's lock.
    pub(crate) fn set_listed(&self, listed: u8) {
        // SAFETY: written only under the registry's lock; readers use `listed`.
        unsafe { core::ptr::write_volatile(&raw mut (*self.as_raw()).listed, listed) }
    }

    /// Decides, for a newly linked entry, whether it may go to a runner now (returned;
    /// counted active if the domain has a cap) or must wait for an active one to finish
    /// (`None`: the domain holds it, behind any entries held before it).
    #[inline]
    pub(crate) fn admit_locked(&self, _guard: &IrqGuard<'_>, entry: EntryBox) -> Option<EntryBox> {
        // SAFETY: the counters and the held FIFO are protected by the lock (the guard).
        let d = unsafe { &mut *self.as_raw() };
        if d.max_active != 0 && (d.active >= d.max_active || !d.held.is_empty()) {
            // INVARIANT: appended last, in cookie order (the cookie was taken under this
            // lock, so it is the highest).
            entry.stamp.set_held(true);
            d.held.push(entry);
            return None;
        }
        Some(Self::count_in(d, entry))
    }

    /// Calls `f` on each held entry, in cookie order, while it returns `true`.
    pub(crate) fn for_each_held_locked(
        &self,
        _guard: &IrqGuard<'_>,
        f: impl FnMut(&Entry) -> bool,
    ) {
        // SAFETY: the held FIFO is protected by the lock (the guard).
        unsafe { (*self.as_raw()).held.for_each_while(f) }
    }

    /// Takes the whole held FIFO; the caller owns its entries.
    pub(crate) fn take_all_held_locked(&self, _guard: &IrqGuard<'_>) -> EntryFifo {
        // SAFETY: the held FIFO is protected by the lock (the guard).
        unsafe { (*self.as_raw()).held.take_all() }
    }

    /// Counts a retired entry out of `active` (if it was counted) and returns the held
    /// entry that may start in its place, counted active if the domain has a cap.
    #[inline]
    pub(crate) fn release_locked(
        &self,
        _guard: &IrqGuard<'_>,
        was_counted: bool,
    ) -> Option<EntryBox> {
        // SAFETY: the counters and the held FIFO are protected by the lock (the guard).
        let d = unsafe { &mut *self.as_raw() };
        if was_counted {
            d.active = d.active.saturating_sub(1);
        }
        if d.max_active != 0 && d.active >= d.max_active {
            return None;
        }
        let entry = d.held.pop()?;
        entry.stamp.set_held(false);
        Some(Self::count_in(d, entry))
    }

    /// Lets `entry` go to a runner: counted in `active` if the domain has a cap.
    #[inline]
    fn count_in(d: &mut RawDomain, mut entry: EntryBox) -> EntryBox {
        if d.max_active != 0 {
            d.active += 1;
            // SAFETY: `counted` is not structurally pinned; the entry is not queued yet.
            unsafe { entry.as_mut().get_unchecked_mut().counted = true };
        }
        entry
    }

    /// Sets the cap on entries running at once (0: none). Held entries that may start
    /// under the new cap are then taken with [`Domain::release_locked`].
    pub(crate) fn set_max_active_locked(&self, _guard: &IrqGuard<'_>, max_active: u32) {
        // SAFETY: the counter is protected by the lock (the guard).
        unsafe { (*self.as_raw()).max_active = max_active };
    }

    /// Lists an in-entry waiter ([`Waiter::new_in_entry`]) of an entry of `home` on this
    /// list's waiters, in cookie order, whatever the lowest cookie in progress; it stays
    /// there until [`Domain::unpark_in_entry`]. Completes the in-entry waiters blocked on
    /// its entry: they may skip it now.
    pub(crate) fn park_in_entry(&self, waiter: &Waiter, home: &Domain) {
        let guard = self.lock();
        home.wake_in_entry_locked(&guard, Some(waiter.me));
        // SAFETY: the list is locked; waiters are live and ascending (module invariant).
        unsafe {
            let head = self.waiters();
            let mut next = (*head).next;
            while next != head && Waiter::cookie_of(next) <= waiter.cookie {
                next = (*next).next;
            }
            // INVARIANT: inserted before the first higher cookie, keeping the order. Its
            // entry is pending below its cookie while it is listed, so no finishing
            // entry takes it off.
            list::add_before(waiter.link.get(), next);
        }
    }

    /// Completes the in-entry waiters blocked on entry `blocker` of this domain (`None`:
    /// all of them, for a change of the domain's cap). They are on this domain's waiters
    /// or the global list's, whose locks the caller holds (the guard: this domain's lock,
    /// the global list's for a registered domain); they stay listed, and unlist
    /// themselves under that lock, so none is freed while it is completed here.
    pub(crate) fn wake_in_entry_locked(&self, _guard: &IrqGuard<'_>, blocker: Option<u64>) {
        let global = GLOBAL.load(Ordering::Acquire);
        let lists = [
            Some(self),
            // SAFETY: a non-null `GLOBAL` is the engine's global list (see `lock`).
            (self.is_registered() && !global.is_null()).then(|| unsafe { &*global }),
        ];
        for list in lists.into_iter().flatten() {
            let head = list.waiters();
            // SAFETY: the list is locked (the guard, as above); its nodes are links of
            // live `Waiter`s, which stay live while listed.
            unsafe {
                let mut node = (*head).next;
                while node != head {
                    let w = &*Waiter::from_link(node);
                    if w.me != 0 && blocker.is_none_or(|b| w.blocker.load(Ordering::Relaxed) == b) {
                        w.done.complete();
                    }
                    node = (*node).next;
                }
            }
        }
    }

    /// Takes an in-entry waiter listed by [`Domain::park_in_entry`] off the list.
    pub(crate) fn unpark_in_entry(&self, waiter: &Waiter) {
        let _guard = self.lock();
        // SAFETY: the list is locked and the waiter is on it.
        unsafe { list::del_init(waiter.link.get()) };
    }

    /// For an in-entry waiter on this list (`link` its entries' link), listed by
    /// [`Domain::park_in_entry`], whose entry belongs to `home`: returns whether every
    /// entry of the list below its cookie has finished, except those that can finish
    /// only after its entry:
    ///
    /// - its entry itself;
    /// - entries that wait, from inside, in the same way for its entry, if their cookie
    ///   is higher: of two entries that wait for each other, the lower goes first;
    /// - entries of `home` held by its cap, once nothing else blocks: a held entry starts
    ///   only when a slot frees, and every slot of `home` is then taken by its entry or
    ///   by entries that wait for it (slots go in cookie order, so every slot holder is
    ///   below the held entries, and below the target). While another slot holder can
    ///   still finish, it is the blocker; once it has, the entry it released is no longer
    ///   held, and is waited for.
    ///
    /// If not, records in the waiter an entry that must finish first (its blocker).
    pub(crate) fn in_entry_reached(&self, waiter: &Waiter, link: Link, home: &Domain) -> bool {
        let guard = self.lock();
        let (me, target) = (waiter.me, waiter.cookie);
        let mut blocker = None;
        self.for_each_pending_locked(&guard, link, |e| {
            if e.cookie >= target {
                return false;
            }
            let skipped = e.cookie == me
                || (core::ptr::eq(e.domain, home) && e.stamp.is_held())
                || Self::waits_for_locked(&guard, e, me, home);
            if !skipped {
                blocker = Some(e.cookie);
            }
            skipped
        });
        match blocker {
            Some(b) => {
                waiter.blocker.store(b, Ordering::Relaxed);
                false
            }
            None => true,
        }
    }

    /// Returns whether entry `e`, with a cookie above `me`, waits from inside for the
    /// lists that hold entry `me` of `home` (see [`Domain::in_entry_reached`]). The
    /// caller holds the lock of `e`'s lists (the list it walks holds `e`).
    fn waits_for_locked(_guard: &IrqGuard<'_>, e: &Entry, me: u64, home: &Domain) -> bool {
        if e.cookie < me {
            return false;
        }
        let global = GLOBAL.load(Ordering::Acquire);
        let own = e.domain();
        // `e`'s in-entry waiter, if any, is on its domain's waiters or the global list's.
        let lists = [
            Some(own),
            // SAFETY: a non-null `GLOBAL` is the engine's global list (see `lock`).
            (own.is_registered() && !global.is_null()).then(|| unsafe { &*global }),
        ];
        lists.into_iter().flatten().any(|list| {
            let holds_me =
                core::ptr::eq(list, home) || (core::ptr::eq(list, global) && home.is_registered());
            // SAFETY: `list` is `e`'s domain or the global list, whose lock the caller
            // holds: the same lock for every registered domain, `e`'s own otherwise.
            holds_me && unsafe { list.waits_locked(e.cookie, me) }
        })
    }

    /// Returns whether an in-entry waiter of entry `entry` for a cookie above `me` is on
    /// this list's waiters.
    ///
    /// # Safety
    ///
    /// The caller holds this list's lock.
    unsafe fn waits_locked(&self, entry: u64, me: u64) -> bool {
        let head = self.waiters();
        // SAFETY: the list is locked (caller); its nodes are links of live `Waiter`s.
        unsafe {
            let mut node = (*head).next;
            while node != head {
                let w = Waiter::from_link(node);
                if (*w).me == entry && (*w).cookie > me {
                    return true;
                }
                node = (*node).next;
            }
        }
        false
    }

    /// Parks `waiter` unless the domain's lowest cookie in progress has reached its
    /// cookie; returns whether it was parked (and must sleep until completed).
    pub(crate) fn park_waiter(&self, waiter: &Waiter, link: Link) -> bool {
        let guard = self.lock();
        if self.lowest_locked(&guard, link) >= waiter.cookie {
            return false;
        }
        // SAFETY: the list is locked; waiters are live and ascending (module invariant).
        unsafe {
            let head = self.waiters();
            let mut next = (*head).next;
            while next != head && Waiter::cookie_of(next) <= waiter.cookie {
                next = (*next).next;
            }
            // INVARIANT: inserted before the first higher cookie, keeping the order; the
            // waiter's cookie is above the lowest in progress.
            list::add_before(waiter.link.get(), next);
        }
        true
    }
}

/// A synchronizer sleeping until a domain's lowest cookie in progress reaches `cookie`.
///
/// # Invariants
///
/// `link` is initialised; while linked, the waiter is on exactly one domain's `waiters`.
/// `me` is 0, or the cookie of the entry that waits from inside (module invariants);
/// `blocker`, written and read under the lock of the list it is on, is then the entry
/// it last found it must wait for.
#[pin_data]
pub(crate) struct Waiter {
    #[pin]
    link: Opaque<list_head>,
    cookie: u64,
    me: u64,
    blocker: AtomicU64,
    #[pin]
    done: Completion,
}

impl Waiter {
    /// Returns an initialiser for an unparked waiter for `cookie`.
    pub(crate) fn new(cookie: u64) -> impl PinInit<Self> {
        pin_init!(Self {
            link <- list::new_link(),
            cookie,
            me: 0,
            blocker: AtomicU64::new(0),
            done <- Completion::new(),
        })
    }

    /// Returns an initialiser for the waiter of a synchronize for `cookie` from inside
    /// entry `me`, which is on the waited-for list below `cookie`.
    pub(crate) fn new_in_entry(cookie: u64, me: u64) -> impl PinInit<Self> {
        pin_init!(Self {
            link <- list::new_link(),
            cookie,
            me,
            blocker: AtomicU64::new(0),
            done <- Completion::new(),
        })
    }

    /// Returns the waiter whose `link` is `node`.
    ///
    /// # Safety
    ///
    /// `node` must be the `link` of a live `Waiter`.
    unsafe fn from_link(node: *mut list_head) -> *const Self {
        // SAFETY: the caller guarantees `node` is the `link` field of a live `Waiter`.
        unsafe { kernel::container_of!(node.cast::<Opaque<list_head>>(), Self, link) }
    }

    /// Sleeps until a finishing entry completes this (parked) waiter; an in-entry waiter
    /// may be completed more than once, and re-checks each time.
    pub(crate) fn wait(&self) {
        self.done.wait();
    }

    /// Returns the cookie of the waiter whose `link` is `node`.
    ///
    /// # Safety
    ///
    /// `node` must be the `link` of a live `Waiter`.
    unsafe fn cookie_of(node: *mut list_head) -> u64 {
        // SAFETY: the caller guarantees `node` is the `link` field of a live `Waiter`.
        unsafe { (*kernel::container_of!(node.cast::<Opaque<list_head>>(), Self, link)).cookie }
    }
}

/// The waiters a finishing entry unblocked: taken off their domain's list under its lock
/// ([`Domain::remove_locked`]), completed once no lock is held ([`Woken::complete`]).
///
/// # Invariants
///
/// `head` is an initialised list; its nodes are the links of live `Waiter`s that are on
/// no domain list and not yet completed. Each leaves it only to be completed, at the
/// latest when the `Woken` is dropped.
#[pin_data(PinnedDrop)]
pub(crate) struct Woken {
    #[pin]
    head: Opaque<list_head>,
}

impl Woken {
    /// Returns an initialiser for an empty list.
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            head <- list::new_link(),
        })
    }

    /// Returns the list head, for [`Domain::remove_locked`].
    pub(crate) fn as_ptr(&self) -> *mut list_head {
        self.head.get()
    }

    /// Completes the waiters, in cookie order; call with no domain lock held. With
    /// `here` (the caller is about to stop), the first is placed on this CPU
    /// ([`Completion::complete_on_current_cpu`]), the others wherever the scheduler
    /// likes. Returns how many were completed.
    ///
    /// Inline, as almost every entry unblocks nobody: then this is one load and compare.
    #[inline]
    pub(crate) fn complete(&self, here: bool) -> u64 {
        let head = self.as_ptr();
        // SAFETY: the list is initialised and ours (type invariant).
        if unsafe { list::is_empty(head) } {
            return 0;
        }
        self.complete_all(here)
    }

    /// [`Woken::complete`] for a list that is not empty.
    fn complete_all(&self, here: bool) -> u64 {
        let head = self.as_ptr();
        let mut n = 0;
        // SAFETY: the list is ours (type invariant); each node is the link of a live
        // `Waiter` that may be freed as soon as it is completed, so `next` is read
        // first. The head is emptied before the first completion.
        unsafe {
            let mut node = (*head).next;
            list::init(head);
            while node != head {
                let next = (*node).next;
                let waiter = kernel::container_of!(node.cast::<Opaque<list_head>>(), Waiter, link);
                if here && n == 0 {
                    (*waiter).done.complete_on_current_cpu();
                } else {
                    (*waiter).done.complete();
                }
                n += 1;
                node = next;
            }
        }
        n
    }
}

#[pinned_drop]
impl PinnedDrop for Woken {
    fn drop(self: Pin<&mut Self>) {
        // Nobody is left asleep: a waiter taken off its domain is always completed.
        self.complete(false);
    }
}
