// SPDX-License-Identifier: GPL-2.0

//! Owners: which module each queued entry belongs to, so that a module's init memory and
//! its code outlive its entries.
//!
//! `kernel/async.c` relies on the module loader: `do_init_module()` calls
//! `async_synchronize_full()` before it frees `.init.text`, and `delete_module()` calls
//! it after the module's `exit()` and before `free_module()`. Those calls never reach
//! rasync, so rasync gives the same guarantees itself, from a module notifier
//! (`lifecycle.c`): at `MODULE_STATE_LIVE` (unless the module was loaded with
//! `async_probe`) it waits for the module's entries, in every domain, exclusive ones
//! included; at `MODULE_STATE_GOING`, which comes after `exit()`, it holds the module's
//! sysfs object until they have finished, so `free_module()` waits for them (see
//! `lifecycle.c`). Unlike async.c, no module waits for another module's entries.
//!
//! An entry belongs to the module whose code it runs: the module of its function, or of
//! its cancel callback, if that is a module rasync knows other than the scheduler's (a
//! library scheduling its caller's function), else the scheduling module, which the
//! caller names: `include/rasync.h`'s inline wrappers pass `THIS_MODULE`, and
//! `include/rasync.rs` passes the consumer crate's module. Each module has an [`Owner`]
//! record, made when it comes (`MODULE_STATE_COMING`), that counts its entries. The
//! records hang off [`BUCKETS`] singly linked chains by a hash of the module pointer; the
//! hot path finds the scheduler's record and counts an entry in or out with atomics,
//! without a lock:
//!
//! - records are only ever added to a chain (at its head, under `lock`, published with
//!   a release store) and are freed only with the [`Owners`], when rasync unloads, so a
//!   lock-free walk never meets freed memory;
//! - a module's entries are accepted from its init to the end of its removal drain, its
//!   `exit()` included: what `exit()` schedules is queued and waited for, as with
//!   async.c. Once the removal drain has found no entry left, the record is `closed`:
//!   an entry scheduled after that (by a timer the module forgot, say) runs
//!   synchronously, since nothing would wait for it before the module is freed;
//! - `attach` counts the entry in, *then* reads `closed`; the drain sets `closed`, then
//!   reads the count after a full barrier, and waits again if it is not zero. Either
//!   the attacher sees `closed` (and counts itself out again, refusing the entry) or
//!   the drain sees its count (Dekker's pattern, both sides `SeqCst`);
//! - a closed record is reopened when a module comes at the same address, or taken over
//!   by another module. A module without a record (loaded before rasync) gets one at its
//!   first entry, unless it is already `GOING`.
//!
//! # Invariants
//!
//! - An entry with a non-null `owner` is counted in that record's `pending` from
//!   `attach` until `detach`, which comes after its function has returned and it has left
//!   its domain's lists; that is the last time rasync touches anything of the owning
//!   module for it.
//! - A record is on exactly one chain for the lifetime of the [`Owners`]; `module` and
//!   `closed` are written only under `lock`; the module of an open record with a
//!   non-null `module` is live (it is closed before it is freed).
//! - `drained` is non-null only while a drain waits for the record's entries; it is
//!   taken (swapped to null) exactly once, by the `detach` that empties the record or by
//!   the drain itself, and whoever takes it completes it or stops waiting for it.
//!
//! # Examples
//!
//! ```ignore
//! owners.open(module);               // MODULE_STATE_COMING notifier
//! owners.attach(module, &entry)?;    // in Engine::queue, before taking a cookie
//! owners.detach(&entry);             // in Engine::retire, after the entry left its domain
//! owners.drain(module, true, names); // MODULE_STATE_GOING
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
    sync::atomic::{fence, AtomicBool, AtomicPtr, AtomicU32, Ordering},
};
use kernel::{bindings, ffi::c_void, prelude::*};

/// Returns whether `module` is being removed: `READ_ONCE(mod->state) ==
/// MODULE_STATE_GOING`, read here rather than through a C call. `state` is the first
/// member of `struct module` (`lifecycle.c` asserts it at build time), an `enum
/// module_state` (a C `int`).
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

/// Returns whether `addr` lies in `module`'s text, core or init: `within_module()` for
/// code, read inline on the hot path.
///
/// # Safety
///
/// `module` must be a live `struct module`.
#[inline(always)]
unsafe fn module_text_contains(module: *mut c_void, addr: usize) -> bool {
    let module = module.cast::<bindings::module>();
    [
        bindings::mod_mem_type_MOD_TEXT,
        bindings::mod_mem_type_MOD_INIT_TEXT,
    ]
    .iter()
    .any(|&kind| {
        // SAFETY: the caller guarantees `module` is live; the loader clears the init
        // text's range (two aligned words) when it frees it, and a racing read sees
        // either range, both of which tell the truth about live code.
        let (base, size) = unsafe {
            let mem = &raw const (*module).mem[kind as usize];
            (
                core::ptr::read_volatile(&raw const (*mem).base) as usize,
                core::ptr::read_volatile(&raw const (*mem).size) as usize,
            )
        };
        addr.wrapping_sub(base) < size
    })
}

extern "C" {
    fn rasync_warn_slow_drain(
        module: *mut c_void,
        going: bool,
        waited_s: u32,
        pending: u32,
        funcs: *const Pending,
        n: u32,
    );
}

/// Number of chains of owner records.
const BUCKETS: usize = 16;

/// How many pending functions a slow drain's warning names.
pub(crate) const WARN_FUNCS: usize = 8;

/// How long a removal waits before it first warns that the module left entries pending
/// (its `exit()` did not synchronize them); the end of an init, which may wait for
/// probes, first warns after [`WARN_EVERY_MS`].
const WARN_REMOVAL_AFTER_MS: u32 = 1000;

/// How often a drain repeats its warning while it waits.
const WARN_EVERY_MS: u32 = 10_000;

/// What a pending entry named in a slow drain's warning is doing (`struct
/// rasync_pending_func` in `lifecycle.c`).
#[repr(C)]
#[derive(Clone, Copy)]
pub(crate) struct Pending {
    /// The entry's function.
    pub(crate) func: Option<Func>,
    /// [`RUNNING`], [`QUEUED`], [`QUEUED_NO_RUNNER`] or [`HELD`].
    pub(crate) state: u32,
}

/// The entry's function is running.
pub(crate) const RUNNING: u32 = 0;
/// The entry is on a submission queue that a runner will look at.
pub(crate) const QUEUED: u32 = 1;
/// The entry is on a submission queue with no runner searching it.
pub(crate) const QUEUED_NO_RUNNER: u32 = 2;
/// The entry waits behind its domain's cap (`max_active`).
pub(crate) const HELD: u32 = 3;

impl Pending {
    const NONE: Self = Self {
        func: None,
        state: RUNNING,
    };
}

/// The pending functions a slow drain names.
pub(crate) type PendingFuncs = [Pending; WARN_FUNCS];

/// The record of one module that has (or had) queued entries.
pub(crate) struct Owner {
    next: AtomicPtr<Owner>,
    module: AtomicPtr<c_void>,
    pending: AtomicU32,
    closed: AtomicBool,
    drained: AtomicPtr<Completion>,
}

/// Why an entry could not be attached to its module; the caller runs it synchronously.
pub(crate) enum Refused {
    /// The module's removal drain has finished (or it is `GOING` and has no record).
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

    /// Returns the record of `module` (open or closed), or null, walking its chain
    /// without a lock.
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

    /// Calls `f` on every record, with the lock held, until it returns `true`; returns
    /// that record.
    fn find_locked(&self, mut f: impl FnMut(&Owner) -> bool) -> Option<&Owner> {
        for head in &self.table.heads {
            let mut owner = head.load(Ordering::Relaxed);
            while !owner.is_null() {
                // SAFETY: as in `find`.
                let o = unsafe { &*owner };
                if f(o) {
                    return Some(o);
                }
                owner = o.next.load(Ordering::Relaxed);
            }
        }
        None
    }

    /// Makes `module` the module of a record: a free one (no module, or closed with no
    /// entries) of its chain, or a new one. Call with the lock held.
    fn add_locked(&self, module: *mut c_void, gfp: kernel::alloc::Flags) -> Option<&Owner> {
        let head = &self.table.heads[bucket_of(module)];
        let mut free = head.load(Ordering::Relaxed);
        while !free.is_null() {
            // SAFETY: as in `find`.
            let o = unsafe { &*free };
            let unused = o.module.load(Ordering::Relaxed).is_null()
                || (o.closed.load(Ordering::Relaxed) && o.pending.load(Ordering::SeqCst) == 0);
            if unused {
                // INVARIANT: written under the lock; the record has no entries, and a
                // late attacher of its previous module sees the module change.
                o.module.store(module, Ordering::SeqCst);
                o.closed.store(false, Ordering::SeqCst);
                return Some(o);
            }
            free = o.next.load(Ordering::Relaxed);
        }
        let owner = KBox::new(
            Owner {
                next: AtomicPtr::new(head.load(Ordering::Relaxed)),
                module: AtomicPtr::new(module),
                pending: AtomicU32::new(0),
                closed: AtomicBool::new(false),
                drained: AtomicPtr::new(null_mut()),
            },
            gfp,
        )
        .ok()?;
        let owner = KBox::into_raw(owner);
        // INVARIANT: published fully initialised, under the lock; freed only in `drop`.
        head.store(owner, Ordering::Release);
        // SAFETY: just published; records live as long as `self`.
        Some(unsafe { &*owner })
    }

    /// A module comes (`MODULE_STATE_COMING`): gives it an open record, reopening the
    /// one a removed module left at the same address.
    pub(crate) fn open(&self, module: *mut c_void) {
        let _guard = self.lock().lock_irqsave();
        let owner = self.find(module);
        if owner.is_null() {
            // Without a record (no memory), its entries get one when they come.
            let _ = self.add_locked(module, GFP_ATOMIC);
        } else {
            // SAFETY: records live as long as `self`.
            // INVARIANT: written under the lock; a closed record has no entries.
            unsafe { (*owner).closed.store(false, Ordering::SeqCst) };
        }
    }

    /// Returns the record of a module without one (loaded before rasync), made now,
    /// unless the module is already going.
    fn find_or_add(&self, module: *mut c_void) -> Result<&Owner, Refused> {
        let _guard = self.lock().lock_irqsave();
        let owner = self.find(module);
        if !owner.is_null() {
            // SAFETY: records live as long as `self`.
            return Ok(unsafe { &*owner });
        }
        // SAFETY: the module is live, as its code is calling us.
        if unsafe { module_going(module) } {
            // Its removal drain may be over: nothing would wait for the entry.
            return Err(Refused::Going);
        }
        self.add_locked(module, GFP_ATOMIC).ok_or(Refused::NoMemory)
    }

    /// Counts `entry` in for the module whose code it runs (see the module
    /// documentation), `module` (the scheduler) unless that is another module rasync
    /// knows; refused once that module's removal drain has finished. A null `module`
    /// (built-in caller) is never unloaded: nothing to do.
    pub(crate) fn attach(
        &self,
        module: *mut c_void,
        entry: Pin<&mut Entry>,
    ) -> Result<(), Refused> {
        if module.is_null() {
            return Ok(());
        }
        let func = entry.func as usize;
        // SAFETY: the scheduler's module is live, as its code is calling us.
        let code = if unsafe { module_text_contains(module, func) } {
            match entry.cancel {
                // SAFETY: as above.
                Some(cancel) if !unsafe { module_text_contains(module, cancel as usize) } => {
                    cancel as usize
                }
                _ => 0,
            }
        } else {
            func
        };
        let owner = match (code != 0).then(|| self.attach_foreign(code)).flatten() {
            Some(owner) => owner,
            None => self.attach_own(module)?,
        };
        // SAFETY: `owner` is not structurally pinned; the entry is not queued yet.
        // INVARIANT: counted in from now until `detach`.
        unsafe { entry.get_unchecked_mut().owner = core::ptr::from_ref(owner).cast_mut().cast() };
        Ok(())
    }

    /// Counts an entry in for `module`, the scheduler.
    #[inline]
    fn attach_own(&self, module: *mut c_void) -> Result<&Owner, Refused> {
        let owner = self.find(module);
        let o = if owner.is_null() {
            self.find_or_add(module)?
        } else {
            // SAFETY: records live as long as `self`.
            unsafe { &*owner }
        };
        o.pending.fetch_add(1, Ordering::SeqCst);
        // Pairs with the drain's store of `closed` (module documentation); a record
        // taken over by another module meanwhile refuses too.
        if o.closed.load(Ordering::SeqCst) || o.module.load(Ordering::SeqCst) != module {
            Self::count_out(o);
            return Err(Refused::Going);
        }
        Ok(o)
    }

    /// Counts an entry in for the open record whose module's text holds `code`, if any.
    fn attach_foreign(&self, code: usize) -> Option<&Owner> {
        let _guard = self.lock().lock_irqsave();
        let owner = self.find_locked(|o| {
            let module = o.module.load(Ordering::Relaxed);
            // SAFETY: the module of an open record is live, and it cannot be closed
            // while the lock is held (module invariant).
            !module.is_null()
                && !o.closed.load(Ordering::Relaxed)
                && unsafe { module_text_contains(module, code) }
        })?;
        // Counted under the lock, before any drain of it can set `closed`.
        owner.pending.fetch_add(1, Ordering::SeqCst);
        Some(owner)
    }

    /// Counts one entry of `o` out, completing a drain waiting for the last one.
    fn count_out(o: &Owner) {
        if o.pending.fetch_sub(1, Ordering::SeqCst) == 1 {
            let done = o.drained.swap(null_mut(), Ordering::SeqCst);
            if !done.is_null() {
                // SAFETY: the drain keeps its completion alive until it is taken and
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

    /// Returns whether `module` has entries pending.
    pub(crate) fn busy(&self, module: *mut c_void) -> bool {
        let owner = self.find(module);
        // SAFETY: records live as long as `self`.
        !owner.is_null() && unsafe { (*owner).pending.load(Ordering::SeqCst) } != 0
    }

    /// Waits until `module` has no entry pending. A `going` module's record is then
    /// closed (see the module documentation). Warns if that takes long (a removal after a
    /// second, the end of an init after [`WARN_EVERY_MS`]), and again every
    /// [`WARN_EVERY_MS`], naming up to [`WARN_FUNCS`] pending functions that `names`
    /// finds for the record, with their states (it returns how many it wrote).
    pub(crate) fn drain(
        &self,
        module: *mut c_void,
        going: bool,
        names: impl Fn(*const c_void, &mut PendingFuncs) -> usize,
    ) {
        let owner = self.find(module);
        if owner.is_null() {
            return;
        }
        // SAFETY: records live as long as `self`.
        let o = unsafe { &*owner };
        let mut clock = DrainClock {
            waited_ms: 0,
            warn_at_ms: if going {
                WARN_REMOVAL_AFTER_MS
            } else {
                WARN_EVERY_MS
            },
        };
        Self::wait_empty(o, module, going, &names, &mut clock);
        if going {
            {
                let _guard = self.lock().lock_irqsave();
                // INVARIANT: written under the lock. From here, the module's entries
                // are refused; one counted in before it saw this is waited for below.
                o.closed.store(true, Ordering::SeqCst);
            }
            Self::wait_empty(o, module, going, &names, &mut clock);
        }
    }

    /// Waits until `o` counts no entry, warning as [`Owners::drain`] says.
    fn wait_empty(
        o: &Owner,
        module: *mut c_void,
        going: bool,
        names: &impl Fn(*const c_void, &mut PendingFuncs) -> usize,
        clock: &mut DrainClock,
    ) {
        loop {
            // Pairs with the attacher's count-then-check (module documentation).
            fence(Ordering::SeqCst);
            if o.pending.load(Ordering::SeqCst) == 0 {
                return;
            }
            if clock.waited_ms >= clock.warn_at_ms {
                clock.warn_at_ms = clock.waited_ms.saturating_add(WARN_EVERY_MS);
                let mut funcs: PendingFuncs = [Pending::NONE; WARN_FUNCS];
                let named = names(core::ptr::from_ref(o).cast(), &mut funcs).min(WARN_FUNCS);
                let pending = o.pending.load(Ordering::Relaxed);
                // SAFETY: the helper only prints; `funcs` has `named` written slots and
                // the layout of `struct rasync_pending_func`; `module` is live.
                unsafe {
                    rasync_warn_slow_drain(
                        module,
                        going,
                        clock.waited_ms / 1000,
                        pending,
                        funcs.as_ptr(),
                        named as u32,
                    )
                };
            }
            pin_init::stack_pin_init!(let done = Completion::new());
            let ptr = core::ptr::from_ref(done.as_ref().get_ref()).cast_mut();
            // INVARIANT: published before the count is read again; taken back below.
            o.drained.store(ptr, Ordering::SeqCst);
            let mut completed = false;
            if o.pending.load(Ordering::SeqCst) != 0 {
                completed = done.wait_timeout_ms(SLICE_MS);
                if !completed {
                    clock.waited_ms = clock.waited_ms.saturating_add(SLICE_MS);
                }
            }
            if o.drained.swap(null_mut(), Ordering::SeqCst).is_null() && !completed {
                // A detach took it and completes it: wait before `done` goes away.
                done.wait();
            }
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

/// How long a drain sleeps between two looks at its count.
const SLICE_MS: u32 = 1000;

/// A drain's time spent waiting, and when it warns next.
struct DrainClock {
    waited_ms: u32,
    warn_at_ms: u32,
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
