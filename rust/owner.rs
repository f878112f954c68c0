// SPDX-License-Identifier: GPL-2.0

//! Owners: which module each queued entry belongs to, so that a module's init memory and
//! its code outlive its entries.
//!
//! `kernel/async.c` relies on the module loader: `do_init_module()` calls
//! `async_synchronize_full()` before it frees `.init.text`, and `delete_module()` calls
//! it after the module's `exit()` and before `free_module()`. Those calls never reach
//! rasync, so rasync gives the same guarantees itself, from a module notifier
//! (`lifecycle.c`): at `MODULE_STATE_LIVE` (unless the module was loaded with
//! `async_probe`) and at `MODULE_STATE_GOING` it waits for the module's own entries, in
//! every domain, exclusive ones included. Unlike async.c, no module waits for another
//! module's entries.
//!
//! The caller says who it is: `include/rasync.h`'s inline wrappers pass `THIS_MODULE`,
//! and `include/rasync.rs` passes the consumer crate's module. Each module that has
//! queued entries has an [`Owner`] record that counts them. The records hang off
//! [`BUCKETS`] singly linked chains by a hash of the module pointer; the hot path finds
//! its record and counts an entry in or out with atomics, without a lock:
//!
//! - records are only ever added to a chain (at its head, under `lock`, published with
//!   a release store) and are freed only with the [`Owners`], when rasync unloads, so a
//!   lock-free walk never meets freed memory;
//! - a record whose module is gone (`MODULE_STATE_GOING` drained) is recycled: its
//!   `module` is cleared, and the next module without a record takes it over;
//! - `attach` counts the entry in, *then* reads the module's state; the notifier runs
//!   after the loader set `MODULE_STATE_GOING`, and reads the count after a full
//!   barrier. Either the attacher sees `GOING` (and counts itself out again, refusing
//!   the entry) or the notifier sees its count: no entry is queued unseen past the
//!   notification (Dekker's pattern, both sides `SeqCst`).
//!
//! # Invariants
//!
//! - An entry with a non-null `owner` is counted in that record's `pending` from
//!   `attach` until `detach`, which comes after its function has returned and it has left
//!   its domain's lists; that is the last time rasync touches anything of the owning
//!   module for it.
//! - A record is on exactly one chain for the lifetime of the [`Owners`]; `module` is
//!   written only under `lock`; a record with a null `module` has `pending == 0` except
//!   for the moment a late attacher counts itself in and out.
//! - `drained` is non-null only while a notifier waits for the record's entries; it is
//!   taken (swapped to null) exactly once, by the `detach` that empties the record or by
//!   the notifier itself, and whoever takes it completes it or stops waiting for it.
//!
//! # Examples
//!
//! ```ignore
//! owners.attach(module, &entry)?;  // in Engine::queue, before taking a cookie
//! owners.detach(&entry);           // in Engine::retire, after the entry left its domain
//! owners.drain(module, true, names); // MODULE_STATE_GOING notifier
//! ```
//!
//! C header: [`include/linux/module.h`](srctree/include/linux/module.h)

use crate::{
    entry::{Entry, Func},
    lock::IrqSpinLock,
    wait::Completion,
};
use core::{
    ptr::null_mut,
    sync::atomic::{fence, AtomicPtr, AtomicU32, Ordering},
};
use kernel::{bindings, ffi::c_void, prelude::*};

/// Returns whether `module` is being removed: `READ_ONCE(mod->state) ==
/// MODULE_STATE_GOING`, read here rather than through a C call on every entry.
/// `state` is the first member of `struct module` (`lifecycle.c` asserts it at build
/// time), an `enum module_state` (a C `int`).
///
/// # Safety
///
/// `module` must be a live `struct module`.
#[inline(always)]
unsafe fn module_going(module: *mut c_void) -> bool {
    // SAFETY: the caller guarantees `module` is live; `state` is an aligned `int` at
    // offset 0, and a volatile load of it is a single access, as `READ_ONCE()`.
    let state = unsafe { core::ptr::read_volatile(module.cast::<bindings::module_state>()) };
    state == bindings::module_state_MODULE_STATE_GOING
}

extern "C" {
    fn rasync_warn_slow_removal(module: *mut c_void, pending: u32, funcs: *const Func, n: u32);
}

/// Number of chains of owner records.
const BUCKETS: usize = 16;

/// How many pending functions the slow-removal warning names.
pub(crate) const WARN_FUNCS: usize = 8;

/// How long a removal waits before it warns that the module left entries pending.
const WARN_AFTER_MS: u32 = 1000;

/// The record of one module that has (or had) queued entries.
pub(crate) struct Owner {
    next: AtomicPtr<Owner>,
    module: AtomicPtr<c_void>,
    pending: AtomicU32,
    drained: AtomicPtr<Completion>,
}

/// Why an entry could not be attached to its module; the caller runs it synchronously.
pub(crate) enum Refused {
    /// The module is being removed (`MODULE_STATE_GOING`).
    Going,
    /// No memory for the module's record.
    NoMemory,
}

/// The chains and the lock that serialises their writers.
struct Table {
    lock: bindings::spinlock_t,
    heads: [AtomicPtr<Owner>; BUCKETS],
}

/// The owner records of all modules that queued entries.
///
/// # Invariants
///
/// `table.lock` is initialised; the module-level invariants hold.
pub(crate) struct Owners {
    table: KBox<Table>,
}

// SAFETY: the chains are atomics, written under the lock; records are only read through
// atomics and are never freed before the `Owners`.
unsafe impl Sync for Owners {}
// SAFETY: as above.
unsafe impl Send for Owners {}

fn bucket_of(module: *mut c_void) -> usize {
    // Modules are at least cache-line aligned: drop the low bits first.
    ((module as usize) >> 6).wrapping_mul(0x9E37_79B9) % BUCKETS
}

impl Owners {
    /// Allocates the (empty) chains.
    pub(crate) fn new() -> Result<Self> {
        let mut table = KBox::<Table>::new_uninit(GFP_KERNEL)?;
        let raw = table.as_mut_ptr();
        // SAFETY: `raw` is valid for writes; every field is written once, in place.
        unsafe {
            for i in 0..BUCKETS {
                (&raw mut (*raw).heads[i]).write(AtomicPtr::new(null_mut()));
            }
            IrqSpinLock::init(
                &raw mut (*raw).lock,
                c"rasync_owners",
                kernel::static_lock_class!().get_ref(),
            );
        }
        // SAFETY: every field was initialised above.
        let table = unsafe { table.assume_init() };
        // INVARIANT: the lock is initialised; no records yet.
        Ok(Self { table })
    }

    fn lock(&self) -> &IrqSpinLock {
        let lock = core::ptr::from_ref(&self.table.lock).cast_mut();
        // SAFETY: the lock is initialised (type invariant) and lives as long as `self`.
        unsafe { IrqSpinLock::from_raw(lock) }
    }

    /// Returns the record of `module`, or null, walking its chain without a lock.
    fn find(&self, module: *mut c_void) -> *const Owner {
        let mut owner = self.table.heads[bucket_of(module)].load(Ordering::Acquire);
        while !owner.is_null() {
            // SAFETY: records are never freed while `self` lives (module invariant).
            let o = unsafe { &*owner };
            if o.module.load(Ordering::Relaxed) == module {
                return owner;
            }
            owner = o.next.load(Ordering::Acquire);
        }
        core::ptr::null()
    }

    /// Returns the record of `module`, taking over a recycled one or adding a new one.
    fn find_or_add(&self, module: *mut c_void) -> Result<*const Owner, Refused> {
        let _guard = self.lock().lock_irqsave();
        let owner = self.find(module);
        if !owner.is_null() {
            return Ok(owner);
        }
        let head = &self.table.heads[bucket_of(module)];
        let mut free = head.load(Ordering::Relaxed);
        while !free.is_null() {
            // SAFETY: as in `find`.
            let o = unsafe { &*free };
            if o.module.load(Ordering::Relaxed).is_null() {
                // INVARIANT: written under the lock; a recycled record has no entries.
                o.module.store(module, Ordering::Relaxed);
                return Ok(free);
            }
            free = o.next.load(Ordering::Relaxed);
        }
        let owner = KBox::new(
            Owner {
                next: AtomicPtr::new(head.load(Ordering::Relaxed)),
                module: AtomicPtr::new(module),
                pending: AtomicU32::new(0),
                drained: AtomicPtr::new(null_mut()),
            },
            GFP_ATOMIC,
        )
        .map_err(|_| Refused::NoMemory)?;
        let owner = KBox::into_raw(owner);
        // INVARIANT: published fully initialised, under the lock; freed only in `drop`.
        head.store(owner, Ordering::Release);
        Ok(owner)
    }

    /// Counts `entry` in for `module` (its record created if needed), unless the module
    /// is going away. A null `module` (built-in caller) is never unloaded: nothing to do.
    pub(crate) fn attach(
        &self,
        module: *mut c_void,
        entry: Pin<&mut Entry>,
    ) -> Result<(), Refused> {
        if module.is_null() {
            return Ok(());
        }
        let mut owner = self.find(module);
        if owner.is_null() {
            owner = self.find_or_add(module)?;
        }
        // SAFETY: records live as long as `self`.
        let o = unsafe { &*owner };
        o.pending.fetch_add(1, Ordering::SeqCst);
        // SAFETY: the module is live, as its code is calling us.
        if unsafe { module_going(module) } {
            Self::count_out(o);
            return Err(Refused::Going);
        }
        // SAFETY: `owner` is not structurally pinned; the entry is not queued yet.
        // INVARIANT: counted in from now until `detach`.
        unsafe { entry.get_unchecked_mut().owner = owner.cast_mut().cast() };
        Ok(())
    }

    /// Counts one entry of `o` out, completing a notifier waiting for the last one.
    fn count_out(o: &Owner) {
        if o.pending.fetch_sub(1, Ordering::SeqCst) == 1 {
            let done = o.drained.swap(null_mut(), Ordering::SeqCst);
            if !done.is_null() {
                // SAFETY: the notifier keeps its completion alive until it is taken and
                // completed (module invariant).
                unsafe { (*done).complete() };
            }
        }
    }

    /// Counts a finished entry out of its owner. After this, rasync touches nothing of the
    /// owning module for this entry.
    pub(crate) fn detach(&self, entry: &Entry) {
        let owner = entry.owner.cast::<Owner>();
        if !owner.is_null() {
            // SAFETY: records live as long as `self`.
            Self::count_out(unsafe { &*owner });
        }
    }

    /// Waits until `module` has no queued entry. For a `going` module, also recycles its
    /// record, and warns if that took over a second, naming up to [`WARN_FUNCS`] pending
    /// functions that `names` finds for the record (it returns how many it wrote).
    pub(crate) fn drain(
        &self,
        module: *mut c_void,
        going: bool,
        names: impl Fn(*const c_void, &mut [Option<Func>; WARN_FUNCS]) -> usize,
    ) {
        let owner = self.find(module);
        if owner.is_null() {
            return;
        }
        // SAFETY: records live as long as `self`.
        let o = unsafe { &*owner };
        let mut waited_ms = 0u32;
        let mut warned = false;
        loop {
            // Pairs with the attacher's count-then-check (module documentation).
            fence(Ordering::SeqCst);
            if o.pending.load(Ordering::SeqCst) == 0 {
                break;
            }
            if going && !warned && waited_ms >= WARN_AFTER_MS {
                warned = true;
                let mut funcs: [Option<Func>; WARN_FUNCS] = [None; WARN_FUNCS];
                let named = names(owner.cast(), &mut funcs).min(WARN_FUNCS);
                let pending = o.pending.load(Ordering::Relaxed);
                // SAFETY: `Option<Func>` has the layout of a nullable function pointer;
                // the first `named` slots were written by `names`.
                unsafe {
                    rasync_warn_slow_removal(module, pending, funcs.as_ptr().cast(), named as u32)
                };
            }
            pin_init::stack_pin_init!(let done = Completion::new());
            let ptr = core::ptr::from_ref(done.as_ref().get_ref()).cast_mut();
            // INVARIANT: published before the count is read again; taken back below.
            o.drained.store(ptr, Ordering::SeqCst);
            let mut completed = false;
            if o.pending.load(Ordering::SeqCst) != 0 {
                completed = done.wait_timeout_ms(WARN_AFTER_MS);
                if !completed {
                    waited_ms = waited_ms.saturating_add(WARN_AFTER_MS);
                }
            }
            if o.drained.swap(null_mut(), Ordering::SeqCst).is_null() && !completed {
                // A detach took it and completes it: wait before `done` goes away.
                done.wait();
            }
        }
        if going {
            let _guard = self.lock().lock_irqsave();
            // INVARIANT: the module is GOING and has no entries; a late attacher of it
            // counts itself out again. The record is free for another module.
            o.module.store(null_mut(), Ordering::Relaxed);
        }
    }

    /// Returns whether no module has a queued entry.
    pub(crate) fn is_empty(&self) -> bool {
        self.table.heads.iter().all(|head| {
            let mut owner = head.load(Ordering::Acquire);
            while !owner.is_null() {
                // SAFETY: records live as long as `self`.
                let o = unsafe { &*owner };
                if o.pending.load(Ordering::Relaxed) != 0 {
                    return false;
                }
                owner = o.next.load(Ordering::Acquire);
            }
            true
        })
    }
}

impl Drop for Owners {
    fn drop(&mut self) {
        for head in &self.table.heads {
            let mut owner = head.swap(null_mut(), Ordering::Relaxed);
            while !owner.is_null() {
                // SAFETY: each record came from `KBox::into_raw`, is on one chain only and
                // is freed once; nobody else walks the chains at drop.
                let boxed = unsafe { KBox::from_raw(owner) };
                owner = boxed.next.load(Ordering::Relaxed);
            }
        }
    }
}
