// SPDX-License-Identifier: GPL-2.0

//! An entry: one scheduled call, from `schedule*()` until its function has returned.
//!
//! An entry is allocated with `GFP_ATOMIC` (callers may have interrupts off) from
//! rasync's own slab cache ([`EntryCache`], `entry_cache.c`), linked on its domain's list
//! (and the global list if the domain is registered) under the domain's lock, then
//! pushed as an [`EntryBox`] on the submission queue of its node ([`crate::runner`]). A
//! runner calls the function, unlinks the entry (waking the waiters it unblocks) and
//! frees it. An entry has no `work_struct` of its own, nor a link to its module (the
//! module's record counts it): 96 bytes with its cancel callback, node and time stamp
//! (node and stamp share 8 bytes: [`crate::stamp`]), the size of the kmalloc object
//! `kernel/async.c`'s `struct async_entry` takes. A function with a result
//! (`rasync_result_func_t`) is kept in the same field and called through its own type
//! ([`Call`]).
//!
//! # Examples
//!
//! ```ignore
//! let init = Entry::new(Call::Void(func), None, data, node, domain, false);
//! let entry = EntryBox::new(init, GFP_ATOMIC)?;
//! ```

use crate::{
    domain::{Domain, Link},
    stamp::Stamp,
};
use core::{ops::Deref, ptr::NonNull};
use kernel::{
    alloc::AllocError,
    bindings::{self, gfp_t, list_head},
    ffi::c_void,
    prelude::*,
    types::Opaque,
};

extern "C" {
    fn rasync_entry_cache_create(size: usize, align: usize) -> c_int;
    fn rasync_entry_cache_destroy();
    #[cfg(CONFIG_MEM_ALLOC_PROFILING)]
    fn rasync_entry_alloc(flags: gfp_t) -> *mut c_void;
    fn rasync_entry_cache_object_size() -> usize;
    /// The cache (`entry_cache.c`), set while an [`EntryCache`] exists.
    static rasync_entry_cache: *mut bindings::kmem_cache;
}

/// `kmem_cache_alloc(rasync_entry_cache, gfp)`: the slab call itself, without a C
/// helper around it, unless allocation profiling wants its call site tagged in C.
///
/// # Safety
///
/// An [`EntryCache`] must exist.
#[inline(always)]
unsafe fn entry_alloc(gfp: gfp_t) -> *mut c_void {
    #[cfg(not(CONFIG_MEM_ALLOC_PROFILING))]
    // SAFETY: the cache exists (the caller); without allocation profiling,
    // `kmem_cache_alloc()` is `kmem_cache_alloc_noprof()`.
    unsafe {
        bindings::kmem_cache_alloc_noprof(rasync_entry_cache, gfp)
    }
    #[cfg(CONFIG_MEM_ALLOC_PROFILING)]
    // SAFETY: the cache exists (the caller).
    unsafe {
        rasync_entry_alloc(gfp)
    }
}

/// `rasync_func_t`: the called function, `void (*)(void *data, rasync_cookie_t cookie)`.
pub(crate) type Func = unsafe extern "C" fn(data: *mut c_void, cookie: u64);

/// `rasync_result_func_t`: `int (*)(void *data, rasync_cookie_t cookie)`, 0 or -errno.
pub(crate) type ResultFunc = unsafe extern "C" fn(data: *mut c_void, cookie: u64) -> c_int;

/// The function of an entry: either kind, called through its own type.
#[derive(Clone, Copy)]
pub(crate) enum Call {
    /// `rasync_func_t`.
    Void(Func),
    /// `rasync_result_func_t`.
    Result(ResultFunc),
}

impl Call {
    /// Returns the function's address as a [`Func`], for traces and listings only.
    pub(crate) fn addr(self) -> Func {
        match self {
            Self::Void(f) => f,
            // SAFETY: both are function pointers of the same size; the result is only
            // printed or compared, never called as a `Func`.
            Self::Result(f) => unsafe { core::mem::transmute::<ResultFunc, Func>(f) },
        }
    }

    /// Calls the function; returns its result (0 for a void function).
    ///
    /// # Safety
    ///
    /// The function must be callable with `data`, as its scheduler vouched.
    pub(crate) unsafe fn call(self, data: *mut c_void, cookie: u64) -> c_int {
        match self {
            Self::Void(f) => {
                // SAFETY: the caller's guarantee.
                unsafe { f(data, cookie) };
                0
            }
            // SAFETY: the caller's guarantee.
            Self::Result(f) => unsafe { f(data, cookie) },
        }
    }
}

/// A scheduled call.
///
/// # Invariants
///
/// - `domain` outlives the entry's use of it (static; a heap domain destroyed only after
///   a full synchronize of it; or a heap domain destroyed from inside one of its own
///   entries, which the last of them frees in `Engine::finish`, after its last use).
/// - `cookie` is set before the entry is linked and never changes afterwards.
/// - The links are initialised; see [`crate::domain`] for when they are on lists.
/// - A non-null `owner` is a record of [`crate::owner`] that counts the entry.
#[pin_data]
pub(crate) struct Entry {
    /// The link of the [`crate::fifo::EntryFifo`] the entry waits on: its submission
    /// queue's ([`crate::runner`]) or its domain's held one ([`crate::domain`]).
    pub(crate) next: *mut Entry,
    #[pin]
    domain_link: Opaque<list_head>,
    #[pin]
    global_link: Opaque<list_head>,
    pub(crate) cookie: u64,
    pub(crate) func: Func,
    pub(crate) data: *mut c_void,
    pub(crate) domain: *const Domain,
    /// The record of the module that scheduled the entry ([`crate::owner`]), or null.
    pub(crate) owner: *mut c_void,
    /// Called instead of `func` if the entry is cancelled before it starts.
    pub(crate) cancel: Option<Func>,
    /// When it was queued or started, and its state ([`Stamp`]).
    pub(crate) stamp: Stamp,
    /// The node the entry runs on (as passed, or `NUMA_NO_NODE` if beyond `i16`:
    /// [`crate::runner::Queues::for_node`]).
    node: i16,
    /// Counted in its domain's `active` (admitted under a cap, [`crate::domain`]).
    pub(crate) counted: bool,
    /// `func` is really a [`ResultFunc`]: its result goes to the domain.
    pub(crate) result: bool,
}

// SAFETY: `data` is the caller's, handed to `func` on whatever CPU runs the entry, exactly
// as `kernel/async.c` does; `domain` is `Sync`.
unsafe impl Send for Entry {}

impl Entry {
    /// Returns an initialiser for an unlinked entry of `domain` (cookie not yet set).
    pub(crate) fn new(
        call: Call,
        cancel: Option<Func>,
        data: *mut c_void,
        node: i32,
        domain: &Domain,
        fine: bool,
    ) -> impl PinInit<Self> {
        let domain = core::ptr::from_ref(domain);
        pin_init!(Self {
            next: core::ptr::null_mut(),
            domain_link <- crate::list::new_link(),
            global_link <- crate::list::new_link(),
            cookie: 0,
            func: call.addr(),
            data,
            domain,
            owner: core::ptr::null_mut(),
            cancel,
            stamp: Stamp::new(fine),
            node: i16::try_from(node).unwrap_or(crate::numa::NUMA_NO_NODE as i16),
            counted: false,
            result: matches!(call, Call::Result(_)),
        })
    }

    /// Returns the entry's function, of its own kind.
    pub(crate) fn call(&self) -> Call {
        if self.result {
            // SAFETY: `func` came from a `ResultFunc` (`Call::addr`) and is called only
            // through that type again.
            Call::Result(unsafe { core::mem::transmute::<Func, ResultFunc>(self.func) })
        } else {
            Call::Void(self.func)
        }
    }

    /// Returns the node the entry runs on.
    pub(crate) fn node(&self) -> i32 {
        self.node.into()
    }

    /// Returns the slab object size of one entry: all that a queued entry allocates
    /// (the owner records of [`crate::owner`] are per module, not per entry).
    pub(crate) fn slab_bytes() -> usize {
        // SAFETY: the cache exists while the engine does, and the caller reached us
        // through the engine.
        unsafe { rasync_entry_cache_object_size() }
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

    /// Returns the entry whose `link` is `node`.
    ///
    /// # Safety
    ///
    /// `node` must be the `link` link of a live entry.
    pub(crate) unsafe fn from_link(node: *mut list_head, link: Link) -> *const Self {
        let node = node.cast::<Opaque<list_head>>();
        // SAFETY: the caller guarantees `node` is that field of a live `Entry`.
        unsafe {
            match link {
                Link::Domain => kernel::container_of!(node, Self, domain_link),
                Link::Global => kernel::container_of!(node, Self, global_link),
            }
        }
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

/// The slab cache entries come from: created with the engine, destroyed with it.
///
/// # Invariants
///
/// While an `EntryCache` exists, `entry_cache.c`'s cache does. There is one at a time.
pub(crate) struct EntryCache(());

impl EntryCache {
    /// Creates the cache, sized and aligned for [`Entry`].
    pub(crate) fn new() -> Result<Self> {
        // SAFETY: called once, at engine creation, before any entry is allocated.
        kernel::error::to_result(unsafe {
            rasync_entry_cache_create(size_of::<Entry>(), align_of::<Entry>())
        })?;
        // INVARIANT: the cache was created.
        Ok(Self(()))
    }
}

impl Drop for EntryCache {
    fn drop(&mut self) {
        // SAFETY: the engine drops its cache last, once no entry is left (every
        // `EntryBox` was freed: rasync unloads only when none is pending).
        unsafe { rasync_entry_cache_destroy() };
    }
}

/// An owned, pinned [`Entry`] in rasync's entry cache: `Pin<KBox<Entry>>` for a slab
/// cache of its own.
///
/// # Invariants
///
/// `0` points to an initialised `Entry` in an object of the entry cache, owned by this
/// box; the entry is never moved.
pub(crate) struct EntryBox(NonNull<Entry>);

// SAFETY: an entry may be handed to any CPU (`Entry: Send`), and the box owns it.
unsafe impl Send for EntryBox {}

impl EntryBox {
    /// Allocates an entry with `gfp` (`bindings::GFP_ATOMIC` or `GFP_KERNEL`) and
    /// initialises it with `init`.
    pub(crate) fn new(init: impl PinInit<Entry>, gfp: gfp_t) -> Result<Self, AllocError> {
        // SAFETY: an `EntryCache` exists while the engine does; callers schedule
        // through the engine.
        let raw = unsafe { entry_alloc(gfp) }.cast::<Entry>();
        let ptr = NonNull::new(raw).ok_or(AllocError)?;
        // SAFETY: `raw` is a fresh object of the cache, sized and aligned for `Entry`,
        // and it stays in place.
        unsafe { pin_init::raw_init(raw, init) };
        // INVARIANT: an initialised entry in a cache object, owned by the box.
        Ok(Self(ptr))
    }

    /// Gives up ownership: the entry stays in place until [`EntryBox::from_raw`].
    pub(crate) fn into_raw(self) -> *mut Entry {
        let ptr = self.0.as_ptr();
        core::mem::forget(self);
        ptr
    }

    /// Takes ownership back of an entry given up by [`EntryBox::into_raw`].
    ///
    /// # Safety
    ///
    /// `ptr` came from `into_raw` and is not owned by anyone else.
    pub(crate) unsafe fn from_raw(ptr: *mut Entry) -> Self {
        // SAFETY: the caller guarantees `ptr` came from `into_raw`, so it is non-null.
        // INVARIANT: ownership comes back with the entry still in place.
        Self(unsafe { NonNull::new_unchecked(ptr) })
    }

    /// Returns the entry, pinned, for changes.
    pub(crate) fn as_mut(&mut self) -> Pin<&mut Entry> {
        // SAFETY: the box owns the entry (type invariant), which never moves.
        unsafe { Pin::new_unchecked(self.0.as_mut()) }
    }
}

impl Deref for EntryBox {
    type Target = Entry;

    fn deref(&self) -> &Entry {
        // SAFETY: the box owns an initialised entry (type invariant).
        unsafe { self.0.as_ref() }
    }
}

impl Drop for EntryBox {
    fn drop(&mut self) {
        let raw = self.0.as_ptr();
        // SAFETY: the box owns the initialised entry, which is dropped once, in place;
        // its object then goes back to the cache it came from.
        unsafe {
            core::ptr::drop_in_place(raw);
            bindings::kmem_cache_free(rasync_entry_cache, raw.cast());
        }
    }
}
