// SPDX-License-Identifier: GPL-2.0

//! Which entry each worker task is running: the basis of `current_is_async()`.
//!
//! C's `current_is_async()` compares the worker's private `current_func`, which modules
//! cannot reach. The exported `current_work()` is no substitute on its own: the work item
//! it points to may already have been freed by its own function (workqueues allow that),
//! so it must not be dereferenced. Instead, `run_entry` registers a small record on its
//! stack while the function runs, keyed by task.
//!
//! The records live in a lock-free table of [`SLOTS`] slots, probed linearly from a hash
//! of the task pointer: a task claims a free slot with one compare-and-exchange and frees
//! it with one store, so the hot path takes no lock. Only the task that claimed a slot
//! ever looks for itself in it (other tasks compare the slot's task with theirs and move
//! on), so a lookup needs no lock either: it scans as far as the longest probe any task
//! has needed. A probe goes at most [`MAX_PROBE`] slots: if those are taken (many entries
//! running at once, sleeping; every slot is taken beyond [`SLOTS`]), the record goes to
//! [`SHARDS`] lists with their own locks instead. Without that bound a full table made
//! every entry's start scan all of it (about 6,500 instructions with 1,000 entries
//! sleeping at once, as boot-time probes and the W2 benchmark do).
//!
//! # Invariants
//!
//! A record is registered (in a slot, or on its shard's list) exactly while its entry's
//! function runs in `task`; a task runs at most one entry at a time, so it has at most
//! one record. A slot's `task` is non-null exactly while it holds a record; its `record`
//! is written and read only by that task. `probe` (at most [`MAX_PROBE`]) is at least one
//! more than the offset from its hash of every occupied slot. `overflowed` counts the
//! records on the lists.
//!
//! # Examples
//!
//! ```ignore
//! running.enter(&record);   // in run_entry, around the call
//! let me = running.current();
//! running.leave(&record);
//! ```

use crate::{
    domain::Domain,
    entry::{Entry, Func},
    list,
    owner::{self, Pending},
    shards::Shards,
};
use core::{
    ptr::null_mut,
    sync::atomic::{AtomicPtr, AtomicUsize, Ordering},
};
use kernel::{
    bindings::{self, list_head},
    ffi::c_void,
    prelude::*,
    types::Opaque,
};

/// log2 of [`SLOTS`].
const SLOT_BITS: u32 = 9;
/// Slots of the lock-free table: entries running at once before the locked lists.
pub(crate) const SLOTS: usize = 1 << SLOT_BITS;
/// The most slots a task probes, from its hash on, before it takes the locked lists.
const MAX_PROBE: usize = 16;
/// Locked lists for records that find no free slot.
const SHARDS: usize = 64;
/// `Record::place` of a record on the locked lists.
const NO_SLOT: usize = usize::MAX;

/// One slot of the table.
///
/// `owner` and `func` copy the record's, for other tasks: a module's slow-removal warning
/// names its running functions from them ([`Running::running_funcs`]).
struct Slot {
    task: AtomicPtr<bindings::task_struct>,
    record: AtomicPtr<Record>,
    owner: AtomicPtr<c_void>,
    func: AtomicUsize,
}

/// The running entry of one task, on that task's stack.
#[pin_data]
pub(crate) struct Record {
    #[pin]
    link: Opaque<list_head>,
    task: *mut bindings::task_struct,
    cookie: u64,
    domain: *const Domain,
    owner: *mut c_void,
    func: Func,
    /// Where [`Running::enter`] put the record: a slot index, or [`NO_SLOT`].
    place: AtomicUsize,
}

impl Record {
    /// Returns an initialiser for the record of the current task running `entry`.
    pub(crate) fn new(entry: &Entry) -> impl PinInit<Self> {
        let (cookie, domain, owner, func) = (entry.cookie, entry.domain, entry.owner, entry.func);
        pin_init!(Self {
            link <- list::new_link(),
            // SAFETY: `get_current` has no preconditions.
            task: unsafe { bindings::get_current() },
            cookie,
            domain,
            owner,
            func,
            place: AtomicUsize::new(NO_SLOT),
        })
    }
}

/// What the current task is running: a copy, valid while the caller's call lasts.
pub(crate) struct Current<'a> {
    /// The running entry's cookie.
    pub(crate) cookie: u64,
    /// The running entry's domain (it outlives the entry, which outlives this call).
    pub(crate) domain: &'a Domain,
}

/// The registry of running entries: the lock-free table, and the locked lists behind it.
///
/// # Invariants
///
/// See the module documentation.
pub(crate) struct Running {
    slots: KBox<[Slot; SLOTS]>,
    probe: AtomicUsize,
    overflowed: AtomicUsize,
    shards: Shards<SHARDS>,
}

// SAFETY: the slots are atomics; a slot's record is only dereferenced by the task that
// put it there; the lists are behind their locks.
unsafe impl Sync for Running {}
// SAFETY: as above.
unsafe impl Send for Running {}

/// The first slot to probe for `task`: `hash_ptr(task, SLOT_BITS)`, the top bits of a
/// multiplicative hash. (Its low bits would repeat: task structs sit a fixed stride apart
/// in their slab, so the low bits of their addresses, and of any product of them, take
/// few values.)
fn home(task: *mut bindings::task_struct) -> usize {
    /// `GOLDEN_RATIO_64` of `include/linux/hash.h`.
    const GOLDEN_RATIO_64: u64 = 0x61C8_8646_80B5_83EB;
    ((task as usize as u64).wrapping_mul(GOLDEN_RATIO_64) >> (64 - SLOT_BITS)) as usize
}

impl Running {
    /// Allocates an empty table and the locked lists.
    pub(crate) fn new() -> Result<Self> {
        let mut slots = KBox::<[Slot; SLOTS]>::new_uninit(GFP_KERNEL)?;
        let base = slots.as_mut_ptr().cast::<Slot>();
        for i in 0..SLOTS {
            // SAFETY: `base + i` is inside the allocation and written once, in place.
            unsafe {
                base.add(i).write(Slot {
                    task: AtomicPtr::new(null_mut()),
                    record: AtomicPtr::new(null_mut()),
                    owner: AtomicPtr::new(null_mut()),
                    func: AtomicUsize::new(0),
                })
            };
        }
        // SAFETY: every slot was initialised above.
        let slots = unsafe { slots.assume_init() };
        // INVARIANT: no slot is taken, no record is on the lists.
        Ok(Self {
            slots,
            probe: AtomicUsize::new(0),
            overflowed: AtomicUsize::new(0),
            shards: Shards::new(c"rasync_running", kernel::static_lock_class!())?,
        })
    }

    /// Registers `record` (of the current task) while its entry's function runs.
    pub(crate) fn enter(&self, record: Pin<&Record>) {
        let task = record.task;
        let start = home(task);
        for i in 0..MAX_PROBE {
            let index = (start + i) % SLOTS;
            let slot = &self.slots[index];
            if slot.task.load(Ordering::Relaxed).is_null()
                && slot
                    .task
                    .compare_exchange(null_mut(), task, Ordering::Acquire, Ordering::Relaxed)
                    .is_ok()
            {
                // INVARIANT: the slot is ours until `leave`; `probe` covers it before
                // this task can look for it.
                slot.record.store(
                    core::ptr::from_ref(record.get_ref()).cast_mut(),
                    Ordering::Relaxed,
                );
                slot.owner.store(record.owner, Ordering::Relaxed);
                slot.func.store(record.func as usize, Ordering::Relaxed);
                if self.probe.load(Ordering::Relaxed) <= i {
                    self.probe.fetch_max(i + 1, Ordering::Relaxed);
                }
                record.place.store(index, Ordering::Relaxed);
                return;
            }
        }
        let (lock, head) = self.shards.get(task);
        let _guard = lock.lock_irqsave();
        self.overflowed.fetch_add(1, Ordering::Relaxed);
        record.place.store(NO_SLOT, Ordering::Relaxed);
        // SAFETY: the list is locked and initialised; the record is pinned and stays
        // registered only until `leave`, which its owner calls before it goes away.
        // INVARIANT: linked while the entry's function runs; counted in `overflowed`.
        unsafe { list::add_tail(record.link.get(), head) };
    }

    /// Unregisters `record`, registered by [`Running::enter`].
    pub(crate) fn leave(&self, record: Pin<&Record>) {
        let index = record.place.load(Ordering::Relaxed);
        if index != NO_SLOT {
            let slot = &self.slots[index];
            slot.record.store(null_mut(), Ordering::Relaxed);
            slot.owner.store(null_mut(), Ordering::Relaxed);
            // INVARIANT: the slot is free again; the record is no longer reachable.
            slot.task.store(null_mut(), Ordering::Release);
            return;
        }
        let (lock, _) = self.shards.get(record.task);
        let _guard = lock.lock_irqsave();
        // SAFETY: the record was linked by `enter` on this shard, which is locked.
        unsafe { list::del_init(record.link.get()) };
        self.overflowed.fetch_sub(1, Ordering::Relaxed);
    }

    /// Returns the entry the current task is running, if any.
    pub(crate) fn current(&self) -> Option<Current<'_>> {
        // SAFETY: `get_current` has no preconditions.
        let task = unsafe { bindings::get_current() };
        let start = home(task);
        let probe = self.probe.load(Ordering::Relaxed).min(MAX_PROBE);
        for i in 0..probe {
            let slot = &self.slots[(start + i) % SLOTS];
            if slot.task.load(Ordering::Relaxed) != task {
                continue;
            }
            let record = slot.record.load(Ordering::Relaxed);
            if record.is_null() {
                break;
            }
            // SAFETY: only this task puts its records in a slot holding its pointer, and
            // the record stays live until this task's `leave`, which is not running: the
            // caller is inside the entry's function.
            return Some(unsafe { Current::of(&*record) });
        }
        if self.overflowed.load(Ordering::Relaxed) == 0 {
            return None;
        }
        let (lock, head) = self.shards.get(task);
        let _guard = lock.lock_irqsave();
        // SAFETY: the list is locked; its nodes are links of live records.
        unsafe {
            let mut node = (*head).next;
            while node != head {
                let record = kernel::container_of!(node.cast::<Opaque<list_head>>(), Record, link);
                if (*record).task == task {
                    return Some(Current::of(&*record));
                }
                node = (*node).next;
            }
        }
        None
    }
}

impl Running {
    /// Writes to `out`, from index `*n` on, the functions of `owner`'s running entries
    /// (a best-effort snapshot, for a warning: a slot may change while it is read).
    /// Entries beyond the lock-free table are not named.
    pub(crate) fn running_funcs(&self, owner: *const c_void, out: &mut [Pending], n: &mut usize) {
        for slot in self.slots.iter() {
            if *n >= out.len() {
                return;
            }
            if slot.owner.load(Ordering::Relaxed).cast_const() != owner
                || slot.task.load(Ordering::Acquire).is_null()
            {
                continue;
            }
            let func = slot.func.load(Ordering::Relaxed);
            if func != 0 {
                // SAFETY: a non-zero `func` was stored from a `Func` by `enter`.
                let func = unsafe { core::mem::transmute::<usize, Func>(func) };
                out[*n] = Pending {
                    func: Some(func),
                    state: owner::RUNNING,
                };
                *n += 1;
            }
        }
    }
}

impl<'a> Current<'a> {
    /// Copies what `record` says.
    ///
    /// # Safety
    ///
    /// `record` belongs to the entry the current task is running.
    unsafe fn of(record: &Record) -> Self {
        Current {
            cookie: record.cookie,
            // SAFETY: the domain outlives the running entry, and the entry outlives the
            // caller's use: the caller is inside its function.
            domain: unsafe { &*record.domain },
        }
    }
}
