// SPDX-License-Identifier: GPL-2.0

//! The engine's list of domains, which debugfs walks (`rasync/domains`, `rasync/pending`).
//!
//! Domains have no registration call in `linux/async.h`, so rasync lists a domain the
//! first time an entry is queued on it, if it can tell how long the domain lives:
//!
//! - its own default domain, for the engine's life;
//! - a domain from `rasync_domain_create()`, until `rasync_domain_destroy()` (or until
//!   its last entry frees it);
//! - a domain defined statically in the module that schedules on it (`within_module()`),
//!   until that module goes away ([`Registry::forget_module`], after its entries); one in
//!   the module's init memory (`__initdata`) only until its init has returned
//!   ([`Registry::forget_init`], at `MODULE_STATE_LIVE`, before the loader frees that
//!   memory), and never once it has.
//!
//! Any other domain (say, one embedded in memory its user frees) is never listed: its
//! entries are counted in the global counters only. Each domain's `listed` byte keeps
//! the verdict, so the hot path only reads one byte.
//!
//! Lock order: the registry's lock, then a domain's (debugfs walks). Listing and
//! unlisting take the registry's lock alone.
//!
//! # Examples
//!
//! ```ignore
//! if domain.listed() == UNSEEN {
//!     registry.note(domain, owner);
//! }
//! ```

use crate::{
    domain::Domain,
    engine::Owner,
    list,
    lock::{IrqGuard, IrqSpinLock},
};
use kernel::{bindings, bindings::list_head, ffi::c_void, prelude::*, types::Opaque};

extern "C" {
    fn rasync_helper_within_module(addr: *const c_void, module: Owner) -> bool;
    fn rasync_helper_within_module_listable(addr: *const c_void, module: Owner) -> bool;
    fn rasync_helper_within_module_init(addr: *const c_void, module: Owner) -> bool;
}

/// `listed`: not yet seen.
pub(crate) const UNSEEN: u8 = 0;
/// `listed`: on the list.
const LISTED: u8 = 1;
/// `listed`: seen, not listable.
const UNLISTABLE: u8 = 2;

#[repr(C)]
struct RawRegistry {
    lock: bindings::spinlock_t,
    head: list_head,
}

/// The list of domains.
///
/// # Invariants
///
/// The lock and the list are initialised; the list holds, through their `registry`
/// links, exactly the live domains whose `listed` is [`LISTED`].
#[repr(transparent)]
pub(crate) struct Registry(Opaque<RawRegistry>);

// SAFETY: all state is behind the spinlock.
unsafe impl Send for Registry {}
// SAFETY: all state is behind the spinlock.
unsafe impl Sync for Registry {}

impl Registry {
    /// Returns an initialiser for an empty list.
    pub(crate) fn new() -> impl PinInit<Self> {
        let init = |slot: *mut Self| {
            let raw = slot.cast::<RawRegistry>();
            // SAFETY: `slot` is valid for writes and not yet in use.
            // INVARIANT: the lock and an empty list are initialised.
            unsafe {
                IrqSpinLock::init(
                    &raw mut (*raw).lock,
                    c"rasync_registry",
                    kernel::static_lock_class!().get_ref(),
                );
                list::init(&raw mut (*raw).head);
            }
            Ok(())
        };
        // SAFETY: the closure initialises every field and never fails.
        unsafe { pin_init::pin_init_from_closure(init) }
    }

    fn lock(&self) -> IrqGuard<'_> {
        // SAFETY: the lock is initialised (type invariant) and lives as long as `self`.
        unsafe { IrqSpinLock::from_raw(&raw mut (*self.0.get()).lock) }.lock_irqsave()
    }

    fn head(&self) -> *mut list_head {
        // SAFETY: only a field address is computed.
        unsafe { &raw mut (*self.0.get()).head }
    }

    /// Lists `domain` unconditionally (the default domain, created ones).
    pub(crate) fn add(&self, domain: &Domain) {
        let _guard = self.lock();
        self.add_locked(domain);
    }

    fn add_locked(&self, domain: &Domain) {
        if domain.listed() == LISTED {
            return;
        }
        // SAFETY: the list is locked; the domain is live and not on it.
        // INVARIANT: listed, and marked so.
        unsafe { list::add_tail(domain.registry_link(), self.head()) };
        domain.set_listed(LISTED);
    }

    /// Decides whether a domain just seen (an entry queued by `owner`) is listed.
    pub(crate) fn note(&self, domain: &Domain, owner: Owner) {
        let _guard = self.lock();
        if domain.listed() != UNSEEN {
            return;
        }
        let addr = core::ptr::from_ref(domain).cast::<c_void>();
        // Created domains were listed by `rasync_domain_create()`; any other domain in
        // the heap is not listable: nothing tells rasync when it is freed. Neither is
        // one in init memory once the module's init has returned (`forget_init` ran, or
        // runs next, and the memory goes right after).
        // SAFETY: the helper only compares the address with the module's memory ranges
        // and reads its state; `owner` is null or the live module that schedules.
        if unsafe { rasync_helper_within_module_listable(addr, owner) } {
            self.add_locked(domain);
        } else {
            domain.set_listed(UNLISTABLE);
        }
    }

    /// Unlists `domain`, which is about to be freed.
    pub(crate) fn remove(&self, domain: &Domain) {
        let _guard = self.lock();
        if domain.listed() == LISTED {
            // SAFETY: the list is locked and the domain is on it.
            // INVARIANT: off the list, and marked so.
            unsafe { list::del_init(domain.registry_link()) };
            domain.set_listed(UNLISTABLE);
        }
    }

    /// Unlists the domains that live in `module`'s memory: it is going away.
    pub(crate) fn forget_module(&self, module: Owner) {
        // SAFETY: the helper only compares addresses with the module's memory ranges.
        self.forget(|addr| unsafe { rasync_helper_within_module(addr, module) });
    }

    /// Unlists the domains that live in `module`'s init memory (`__initdata`): its init
    /// has returned, and the loader frees that memory next (`MODULE_STATE_LIVE`).
    pub(crate) fn forget_init(&self, module: Owner) {
        // SAFETY: the helper only compares addresses with the module's memory ranges.
        self.forget(|addr| unsafe { rasync_helper_within_module_init(addr, module) });
    }

    /// Unlists the domains whose address `gone` says is about to be freed.
    fn forget(&self, gone: impl Fn(*const c_void) -> bool) {
        let _guard = self.lock();
        let head = self.head();
        // SAFETY: the list is locked; its nodes are `registry` links of live domains.
        unsafe {
            let mut node = (*head).next;
            while node != head {
                let next = (*node).next;
                let domain = Domain::from_registry_link(node);
                if gone(core::ptr::from_ref(domain).cast::<c_void>()) {
                    // INVARIANT: off the list before its memory goes.
                    list::del_init(node);
                    domain.set_listed(UNLISTABLE);
                }
                node = next;
            }
        }
    }

    /// Calls `f` on every listed domain, with the registry's lock held.
    pub(crate) fn for_each(&self, mut f: impl FnMut(&Domain)) {
        let _guard = self.lock();
        let head = self.head();
        // SAFETY: the list is locked; its nodes are `registry` links of live domains,
        // which cannot be unlisted (nor freed) while the lock is held.
        unsafe {
            let mut node = (*head).next;
            while node != head {
                f(Domain::from_registry_link(node));
                node = (*node).next;
            }
        }
    }
}
