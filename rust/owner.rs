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
//! queued entries has an [`Owner`] record, found by hashing the module pointer into one of
//! [`BUCKETS`] locked lists; the record lists the module's queued entries through their
//! `owner_link`.
//!
//! # Invariants
//!
//! - An entry with a non-null `owner` is on that owner's `entries` list from queueing
//!   until its function has returned and it has left its domain's lists; that is the
//!   last time rasync touches anything of the owning module.
//! - An owner record is on its bucket from its first queued entry until the module's
//!   `MODULE_STATE_GOING` notification found it without entries; a module in state
//!   `MODULE_STATE_GOING` never gets an entry added (checked under the bucket lock, after
//!   the loader set the state), so no entry of it is queued past the notification.
//! - `drained` is non-null only while a notifier waits for the record's entries; it is
//!   completed and cleared, under the bucket lock, by the entry that empties the list.
//!
//! # Examples
//!
//! ```ignore
//! owners.attach(module, &entry)?;  // in Engine::queue, before taking a cookie
//! owners.detach(&entry);           // in run_entry, after the entry left its domain
//! owners.drain(module, true);      // MODULE_STATE_GOING notifier
//! ```
//!
//! C header: [`include/linux/module.h`](srctree/include/linux/module.h)

use crate::{
    entry::{Entry, Func},
    list,
    lock::{IrqGuard, IrqSpinLock},
    shards::Shards,
    wait::Completion,
};
use core::ptr::null_mut;
use kernel::{
    bindings::list_head,
    ffi::c_void,
    prelude::*,
    types::Opaque, //
};

extern "C" {
    fn rasync_helper_module_going(module: *mut c_void) -> bool;
    fn rasync_warn_slow_removal(module: *mut c_void, pending: u32, funcs: *const Func, n: u32);
}

/// Number of independently locked lists of owner records.
const BUCKETS: usize = 16;

/// How many pending functions the slow-removal warning names.
const WARN_FUNCS: usize = 8;

/// How long a removal waits before it warns that the module left entries pending.
const WARN_AFTER_MS: u32 = 1000;

/// The record of one module that has queued entries.
#[repr(C)]
struct Owner {
    link: list_head,
    module: *mut c_void,
    entries: list_head,
    drained: *const Completion,
}

/// Why an entry could not be attached to its module; the caller runs it synchronously.
pub(crate) enum Refused {
    /// The module is being removed (`MODULE_STATE_GOING`).
    Going,
    /// No memory for the module's record.
    NoMemory,
}

/// The owner records of all modules with queued entries, in buckets by module.
///
/// # Invariants
///
/// The module-level invariants hold.
pub(crate) struct Owners {
    buckets: Shards<BUCKETS>,
}

impl Owners {
    /// Allocates and initialises the buckets.
    pub(crate) fn new() -> Result<Self> {
        // INVARIANT: no records yet.
        Ok(Self {
            buckets: Shards::new(c"rasync_owners", kernel::static_lock_class!())?,
        })
    }

    fn bucket(&self, module: *mut c_void) -> (&IrqSpinLock, *mut list_head) {
        self.buckets.get(module)
    }

    /// Returns the record of `module` on the bucket list `head`, or null.
    ///
    /// # Safety
    ///
    /// The caller holds the lock of the bucket whose list is `head`.
    unsafe fn find(_guard: &IrqGuard<'_>, head: *mut list_head, module: *mut c_void) -> *mut Owner {
        // SAFETY: the list is locked; its nodes are the `link`s of live records.
        unsafe {
            let mut node = (*head).next;
            while node != head {
                let owner = kernel::container_of!(node, Owner, link);
                if (*owner).module == module {
                    return owner;
                }
                node = (*node).next;
            }
        }
        null_mut()
    }

    /// Allocates an empty record for `module` (not yet on any list).
    fn new_owner(module: *mut c_void) -> Result<*mut Owner, Refused> {
        let mut owner = KBox::<Owner>::new_uninit(GFP_ATOMIC).map_err(|_| Refused::NoMemory)?;
        let raw = owner.as_mut_ptr();
        // SAFETY: `raw` is valid for writes; every field is written before use.
        unsafe {
            list::init(&raw mut (*raw).link);
            (&raw mut (*raw).module).write(module);
            list::init(&raw mut (*raw).entries);
            (&raw mut (*raw).drained).write(core::ptr::null());
        }
        // SAFETY: every field was initialised above. The record is never moved: it is
        // freed with `KBox::from_raw` in `drain` once off its bucket.
        Ok(KBox::into_raw(unsafe { owner.assume_init() }))
    }

    /// Links `entry` to the record of `module` (created if needed), unless the module is
    /// going away. A null `module` (built-in caller) is never unloaded: nothing to track.
    pub(crate) fn attach(
        &self,
        module: *mut c_void,
        entry: Pin<&mut Entry>,
    ) -> Result<(), Refused> {
        if module.is_null() {
            return Ok(());
        }
        let (lock, head) = self.bucket(module);
        let mut spare: *mut Owner = null_mut();
        let result = loop {
            let guard = lock.lock_irqsave();
            // SAFETY: the helper reads the module's state; the module is live, as its
            // code is calling us.
            if unsafe { rasync_helper_module_going(module) } {
                break Err(Refused::Going);
            }
            // SAFETY: the bucket is locked.
            let mut owner = unsafe { Self::find(&guard, head, module) };
            if owner.is_null() && !spare.is_null() {
                // SAFETY: the bucket is locked; `spare` is a fresh, unlinked record.
                // INVARIANT: the record joins its bucket with its first entry.
                unsafe { list::add_tail(&raw mut (*spare).link, head) };
                owner = core::mem::take(&mut spare);
            }
            if !owner.is_null() {
                // SAFETY: `owner_link` and `owner` are not structurally pinned; the entry
                // is not queued yet, so nobody else looks at them.
                let entry = unsafe { entry.get_unchecked_mut() };
                entry.owner = owner.cast();
                // SAFETY: the bucket is locked and the record live; the entry stays live
                // until `detach` unlinks it.
                // INVARIANT: the entry is on its owner's list from now until `detach`.
                unsafe { list::add_tail(entry.owner_link.get(), &raw mut (*owner).entries) };
                break Ok(());
            }
            drop(guard);
            match Self::new_owner(module) {
                Ok(fresh) => spare = fresh,
                Err(e) => break Err(e),
            }
        };
        if !spare.is_null() {
            // SAFETY: `spare` came from `KBox::into_raw` and was never linked.
            drop(unsafe { KBox::from_raw(spare) });
        }
        result
    }

    /// Unlinks a finished entry from its owner, waking a notifier waiting for the last one.
    /// After this, rasync touches nothing of the owning module for this entry.
    pub(crate) fn detach(&self, entry: &Entry) {
        let owner = entry.owner.cast::<Owner>();
        if owner.is_null() {
            return;
        }
        // SAFETY: the record lives while it has entries (module invariant); `module` is
        // written only at creation.
        let (lock, _) = self.bucket(unsafe { (*owner).module });
        let _guard = lock.lock_irqsave();
        // SAFETY: the bucket is locked; the entry is on its owner's list (invariant).
        unsafe {
            list::del_init(entry.owner_link.get());
            if list::is_empty(&raw const (*owner).entries) && !(*owner).drained.is_null() {
                // INVARIANT: the waiter is completed and forgotten under the lock.
                (*(*owner).drained).complete();
                (*owner).drained = core::ptr::null();
            }
        }
    }

    /// Waits until `module` has no queued entry. For a `going` module, also forgets its
    /// record, and warns (naming the pending functions) if that took over a second.
    pub(crate) fn drain(&self, module: *mut c_void, going: bool) {
        let (lock, head) = self.bucket(module);
        let mut waited_ms = 0u32;
        let mut warned = false;
        loop {
            pin_init::stack_pin_init!(let done = Completion::new());
            let mut funcs: [Option<Func>; WARN_FUNCS] = [None; WARN_FUNCS];
            let mut pending = 0u32;
            {
                let guard = lock.lock_irqsave();
                // SAFETY: the bucket is locked.
                let owner = unsafe { Self::find(&guard, head, module) };
                if owner.is_null() {
                    return;
                }
                // SAFETY: the bucket is locked and the record is on it, so it is live.
                unsafe {
                    if list::is_empty(&raw const (*owner).entries) {
                        (*owner).drained = core::ptr::null();
                        if going {
                            // INVARIANT: the module is GOING and has no entries: its
                            // record leaves the bucket and no entry can join it again.
                            list::del_init(&raw mut (*owner).link);
                            drop(guard);
                            drop(KBox::from_raw(owner));
                        }
                        return;
                    }
                    if going && !warned && waited_ms >= WARN_AFTER_MS {
                        let mut node = (*owner).entries.next;
                        while node != &raw mut (*owner).entries {
                            let entry = kernel::container_of!(
                                node.cast::<Opaque<list_head>>(),
                                Entry,
                                owner_link
                            );
                            if let Some(slot) = funcs.get_mut(pending as usize) {
                                *slot = Some((*entry).func);
                            }
                            pending += 1;
                            node = (*node).next;
                        }
                    }
                    // INVARIANT: set under the lock; cleared by the last `detach` or above.
                    (*owner).drained = core::ptr::from_ref(done.as_ref().get_ref());
                }
            }
            if pending > 0 {
                warned = true;
                let named = funcs.iter().take_while(|f| f.is_some()).count();
                // SAFETY: `Option<Func>` has the layout of a nullable function pointer;
                // the first `named` slots are `Some`.
                unsafe {
                    rasync_warn_slow_removal(module, pending, funcs.as_ptr().cast(), named as u32)
                };
            }
            if !done.wait_timeout_ms(WARN_AFTER_MS) {
                waited_ms = waited_ms.saturating_add(WARN_AFTER_MS);
            }
            // Whether completed or timed out, the next round re-checks under the lock
            // and clears or replaces `drained` before `done` goes out of scope.
            let guard = lock.lock_irqsave();
            // SAFETY: the bucket is locked.
            let owner = unsafe { Self::find(&guard, head, module) };
            if !owner.is_null() {
                // SAFETY: the bucket is locked and the record is live.
                unsafe { (*owner).drained = core::ptr::null() };
            }
        }
    }

    /// Returns whether no module has a record (all entries finished).
    pub(crate) fn is_empty(&self) -> bool {
        (0..BUCKETS).all(|i| {
            let (lock, head) = self.buckets.at(i);
            let _guard = lock.lock_irqsave();
            // SAFETY: the list is initialised and locked.
            unsafe { list::is_empty(head) }
        })
    }
}

impl Drop for Owners {
    fn drop(&mut self) {
        // Records of modules that are still loaded (their entries all finished: rasync
        // unloads only once no entry is pending) are freed here.
        for i in 0..BUCKETS {
            let head = self.buckets.head_mut(i);
            // SAFETY: exclusive access at drop; the nodes are the links of records from
            // `KBox::into_raw`, each freed once after being unlinked.
            unsafe {
                while let Some(node) = list::first(head) {
                    list::del_init(node);
                    drop(KBox::from_raw(kernel::container_of!(node, Owner, link)));
                }
            }
        }
    }
}
