// SPDX-License-Identifier: GPL-2.0

//! An entry: one scheduled call, from `schedule*()` until its function has returned.
//!
//! An entry is allocated with `GFP_ATOMIC` (callers may have interrupts off), linked on
//! its domain's list (and the global list if the domain is registered) under the
//! domain's lock, then handed to the workqueue as a `Pin<KBox<Entry>>`. The worker calls
//! the function, unlinks the entry (waking the waiters it unblocks) and frees it.
//!
//! # Examples
//!
//! ```ignore
//! let entry = KBox::pin_init(Entry::new(func, data, domain), GFP_ATOMIC)?;
//! ```

use crate::domain::{Domain, Link};
use kernel::{
    bindings::list_head,
    ffi::c_void,
    impl_has_work, new_work,
    prelude::*,
    types::Opaque,
    workqueue::{Work, WorkItem},
};

/// `rasync_func_t`: the called function, `void (*)(void *data, rasync_cookie_t cookie)`.
pub(crate) type Func = unsafe extern "C" fn(data: *mut c_void, cookie: u64);

/// A scheduled call.
///
/// # Invariants
///
/// - `domain` outlives the entry's use of it (static; a heap domain destroyed only after
///   a full synchronize of it; or a heap domain destroyed from inside one of its own
///   entries, which the last of them frees in `Engine::finish`, after its last use).
/// - `cookie` is set before the entry is linked and never changes afterwards.
/// - The links are initialised; see [`crate::domain`] for when they are on lists, and
///   [`crate::owner`] for `owner_link`, which is on a list exactly when `owner` is set.
#[pin_data]
pub(crate) struct Entry {
    #[pin]
    work: Work<Entry>,
    #[pin]
    domain_link: Opaque<list_head>,
    #[pin]
    global_link: Opaque<list_head>,
    #[pin]
    pub(crate) owner_link: Opaque<list_head>,
    pub(crate) cookie: u64,
    pub(crate) func: Func,
    pub(crate) data: *mut c_void,
    pub(crate) domain: *const Domain,
    /// The record of the module that scheduled the entry ([`crate::owner`]), or null.
    pub(crate) owner: *mut c_void,
}

// SAFETY: `data` is the caller's, handed to `func` on whatever CPU runs the entry, exactly
// as `kernel/async.c` does; `domain` is `Sync`.
unsafe impl Send for Entry {}

impl_has_work! {
    impl HasWork<Self> for Entry { self.work }
}

impl Entry {
    /// Returns an initialiser for an unlinked entry of `domain` (cookie not yet set).
    pub(crate) fn new(func: Func, data: *mut c_void, domain: &Domain) -> impl PinInit<Self> {
        let domain = core::ptr::from_ref(domain);
        pin_init!(Self {
            work <- new_work!("rasync::Entry::work"),
            domain_link <- crate::list::new_link(),
            global_link <- crate::list::new_link(),
            owner_link <- crate::list::new_link(),
            cookie: 0,
            func,
            data,
            domain,
            owner: core::ptr::null_mut(),
        })
    }

    /// Returns the slab object size of one entry: all that a queued entry allocates
    /// (the owner records of [`crate::owner`] are per module, not per entry).
    pub(crate) fn slab_bytes() -> usize {
        // SAFETY: the function only computes the size class of a `kmalloc` size.
        unsafe { kernel::bindings::kmalloc_size_roundup(size_of::<Self>()) }
    }

    /// Returns the entry's link for lists of kind `link`.
    pub(crate) fn link(&self, link: Link) -> *mut list_head {
        match link {
            Link::Domain => self.domain_link.get(),
            Link::Global => self.global_link.get(),
        }
    }

    /// Returns the entry's domain.
    pub(crate) fn domain(&self) -> &Domain {
        // SAFETY: the domain outlives the entry (type invariant).
        unsafe { &*self.domain }
    }

    /// Returns the cookie of the entry whose `link` is `node`.
    ///
    /// # Safety
    ///
    /// `node` must be the `link` link of a live entry.
    pub(crate) unsafe fn cookie_of(node: *mut list_head, link: Link) -> u64 {
        let node = node.cast::<Opaque<list_head>>();
        // SAFETY: the caller guarantees `node` is that field of a live `Entry`.
        unsafe {
            match link {
                Link::Domain => (*kernel::container_of!(node, Self, domain_link)).cookie,
                Link::Global => (*kernel::container_of!(node, Self, global_link)).cookie,
            }
        }
    }
}

impl WorkItem for Entry {
    type Pointer = Pin<KBox<Entry>>;

    fn run(this: Pin<KBox<Entry>>) {
        crate::engine::run_entry(this);
    }
}
