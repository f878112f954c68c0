// SPDX-License-Identifier: GPL-2.0

//! Safe Rust API for rasync: schedule closures that run asynchronously, in cookie order.
//!
//! Out-of-tree Rust modules cannot link each other's crates, so a Rust module that uses
//! rasync includes this file as a module of its own crate and calls rasync through its
//! exported C ABI (`include/rasync.h`). Nothing here is `unsafe` to use: closures own
//! their data (`FnOnce(Cookie) + Send + 'static`), domains are owned objects whose drop
//! waits for their entries, and no `void *` appears in the API.
//!
//! Like `async_schedule()`, scheduling works with interrupts off and, if the closure
//! cannot be queued (no memory, or more than `max_work` entries pending), runs it
//! synchronously with a cookie in order.
//!
//! A domain's closures may return a `Result` ([`Domain::schedule_result`]): the domain
//! keeps the first error (lowest cookie) with its cookie, and
//! [`Domain::synchronize_full_result`] returns it to the code that waits.
//!
//! Closures are scheduled on behalf of the module this file is compiled into: rasync
//! waits for them when that module is removed (`rmmod` waits, then succeeds), so no
//! closure runs or is dropped after its code is freed. A module being removed runs
//! what it schedules synchronously.
//!
//! # Examples
//!
//! ```ignore
//! #[path = "../include/rasync.rs"]
//! mod rasync;
//!
//! let domain = rasync::Domain::new_exclusive()?;
//! let mut buf = KVec::new();
//! buf.push(42u8, GFP_KERNEL)?;
//! let cookie = domain.schedule(move |cookie| pr_info!("{cookie}: {:?}\n", buf));
//! domain.synchronize_cookie(cookie + 1);
//! drop(domain); // waits for anything still pending in it
//! ```
//!
//! Build: add rasync's `Module.symvers` to `KBUILD_EXTRA_SYMBOLS` and load `rasync.ko` first.
//!
//! C header: [`include/rasync.h`](rasync.h)

#![allow(dead_code)]

use core::ptr::NonNull;
use kernel::{
    bindings,
    device::Device,
    ffi::c_void,
    prelude::*,
    sync::aref::ARef, //
};

/// A sequence cookie: every scheduled call gets a higher one than all before it.
pub(crate) type Cookie = u64;

/// No NUMA preference: any CPU.
pub(crate) const NUMA_NO_NODE: i32 = -1;

/// The C ABI of `include/rasync.h`.
mod ffi {
    use kernel::ffi::{c_int, c_void};

    /// `struct rasync_domain`, only ever handled by pointer.
    #[repr(C)]
    pub(super) struct RawDomain {
        _opaque: [u8; 0],
    }

    pub(super) type Func = unsafe extern "C" fn(data: *mut c_void, cookie: u64);

    pub(super) type ResultFunc = unsafe extern "C" fn(data: *mut c_void, cookie: u64) -> c_int;

    pub(super) type Owner = *mut c_void;

    extern "C" {
        pub(super) fn __rasync_schedule_node(
            func: Option<Func>,
            data: *mut c_void,
            node: i32,
            owner: Owner,
        ) -> u64;
        pub(super) fn __rasync_schedule_node_domain(
            func: Option<Func>,
            data: *mut c_void,
            node: i32,
            domain: *mut RawDomain,
            owner: Owner,
        ) -> u64;
        pub(super) fn __rasync_schedule_node_domain_cancelable(
            func: Option<Func>,
            cancel: Option<Func>,
            data: *mut c_void,
            node: i32,
            domain: *mut RawDomain,
            owner: Owner,
        ) -> u64;
        pub(super) fn rasync_domain_set_max_active(
            domain: *mut RawDomain,
            max_active: u32,
        ) -> c_int;
        pub(super) fn rasync_domain_cancel(domain: *mut RawDomain) -> u32;
        pub(super) fn __rasync_schedule_result_node_domain(
            func: Option<ResultFunc>,
            cancel: Option<Func>,
            data: *mut c_void,
            node: i32,
            domain: *mut RawDomain,
            owner: Owner,
        ) -> u64;
        pub(super) fn rasync_synchronize_cookie_domain_result(
            cookie: u64,
            domain: *mut RawDomain,
            err_cookie: *mut u64,
        ) -> c_int;
        pub(super) fn rasync_domain_error(domain: *mut RawDomain, cookie: *mut u64) -> c_int;
        pub(super) fn rasync_domain_reset_error(domain: *mut RawDomain, cookie: *mut u64) -> c_int;
        pub(super) fn rasync_domain_set_error(domain: *mut RawDomain, error: c_int, cookie: u64);
        pub(super) fn __rasync_schedule_node_nocall(
            func: Option<Func>,
            data: *mut c_void,
            node: i32,
            owner: Owner,
        ) -> bool;
        pub(super) fn rasync_synchronize_full();
        pub(super) fn rasync_synchronize_full_domain(domain: *mut RawDomain);
        pub(super) fn rasync_synchronize_cookie(cookie: u64);
        pub(super) fn rasync_synchronize_cookie_domain(cookie: u64, domain: *mut RawDomain);
        pub(super) fn rasync_current_is_async() -> bool;
        pub(super) fn rasync_domain_create(registered: bool) -> *mut RawDomain;
        pub(super) fn rasync_domain_destroy(domain: *mut RawDomain) -> c_int;
        pub(super) fn rasync_dev_to_node(dev: *mut c_void) -> i32;
    }
}

/// The module this file is compiled into (`THIS_MODULE`): rasync finishes its closures
/// before the module loader frees it, so a closure never outlives its code.
fn owner() -> ffi::Owner {
    kernel::module::this_module::<crate::LocalModule>()
        .as_ptr()
        .cast()
}

/// Calls the boxed closure that `data` owns.
///
/// # Safety
///
/// `data` must come from `KBox::into_raw` of a `KBox<F>` and not be used again.
unsafe extern "C" fn call_boxed<F: FnOnce(Cookie)>(data: *mut c_void, cookie: u64) {
    // SAFETY: the caller guarantees `data` is an unused `KBox<F>` pointer.
    let f = unsafe { KBox::from_raw(data.cast::<F>()) };
    KBox::into_inner(f)(cookie)
}

/// Drops the boxed closure that `data` owns, uncalled: its entry was cancelled. Serves
/// both kinds of closure.
///
/// # Safety
///
/// `data` must come from `KBox::into_raw` of a `KBox<F>` and not be used again.
unsafe extern "C" fn drop_boxed<F>(data: *mut c_void, _cookie: u64) {
    // SAFETY: the caller guarantees `data` is an unused `KBox<F>` pointer.
    drop(unsafe { KBox::from_raw(data.cast::<F>()) });
}

/// Calls the boxed closure with a result that `data` owns; returns 0 or its errno.
///
/// # Safety
///
/// `data` must come from `KBox::into_raw` of a `KBox<F>` and not be used again.
unsafe extern "C" fn call_boxed_result<F: FnOnce(Cookie) -> Result>(
    data: *mut c_void,
    cookie: u64,
) -> kernel::ffi::c_int {
    // SAFETY: the caller guarantees `data` is an unused `KBox<F>` pointer.
    let f = unsafe { KBox::from_raw(data.cast::<F>()) };
    match KBox::into_inner(f)(cookie) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// Does nothing: scheduled to reserve a cookie when the closure cannot be boxed.
extern "C" fn reserve_cookie(_data: *mut c_void, _cookie: u64) {}

/// Schedules `f` on `node` in `domain` (the default domain for null).
fn schedule_in<F>(f: F, node: i32, domain: *mut ffi::RawDomain) -> Cookie
where
    F: FnOnce(Cookie) + Send + 'static,
{
    let schedule = |func: ffi::Func, cancel: Option<ffi::Func>, data: *mut c_void| {
        // SAFETY: `func` and `cancel` accept `data` as documented at each call site below;
        // a non-null `domain` belongs to a live `Domain`, which outlives its entries (its
        // drop waits).
        unsafe {
            if domain.is_null() {
                ffi::__rasync_schedule_node(Some(func), data, node, owner())
            } else {
                ffi::__rasync_schedule_node_domain_cancelable(
                    Some(func),
                    cancel,
                    data,
                    node,
                    domain,
                    owner(),
                )
            }
        }
    };
    match KBox::<F>::new_uninit(GFP_ATOMIC) {
        Ok(slot) => {
            let data = KBox::into_raw(KBox::write(slot, f)).cast::<c_void>();
            // Either `call_boxed::<F>` or, if [`Domain::cancel`] cancels the entry,
            // `drop_boxed::<F>` takes ownership of `data`, exactly once.
            schedule(call_boxed::<F>, Some(drop_boxed::<F>), data)
        }
        Err(_) => {
            // Same as rasync's own fallback: take the next cookie in order, run now.
            let cookie = schedule(reserve_cookie, None, core::ptr::null_mut());
            f(cookie);
            cookie
        }
    }
}

/// An error that an async function of a [`Domain`] returned, with its cookie.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Failure {
    /// The error the function returned.
    pub(crate) error: Error,
    /// The cookie of the entry that returned it.
    pub(crate) cookie: Cookie,
}

impl Failure {
    /// Calls `query`, a rasync function that returns an errno (0: none) and stores the
    /// cookie of that error through its pointer, and converts what it reports.
    fn query(query: impl FnOnce(*mut u64) -> kernel::ffi::c_int) -> Option<Self> {
        let mut cookie = 0;
        let errno = query(&mut cookie);
        (errno != 0).then(|| Self {
            error: Error::from_errno(errno),
            cookie,
        })
    }
}

/// Schedules `f` to run asynchronously on any CPU, in the default (registered) domain.
pub(crate) fn schedule<F: FnOnce(Cookie) + Send + 'static>(f: F) -> Cookie {
    schedule_in(f, NUMA_NO_NODE, core::ptr::null_mut())
}

/// Schedules `f` on a CPU of `node` (any CPU if the node is invalid or offline).
pub(crate) fn schedule_node<F: FnOnce(Cookie) + Send + 'static>(f: F, node: i32) -> Cookie {
    schedule_in(f, node, core::ptr::null_mut())
}

/// Returns the NUMA node of `dev` ([`NUMA_NO_NODE`] if none), as `dev_to_node()`.
///
/// Read in C: the generated bindings' layout of large structures cannot be trusted for
/// single fields (rasync found `task_struct` offsets that differ from C's).
pub(crate) fn dev_to_node(dev: &Device) -> i32 {
    let raw = core::ptr::from_ref(dev)
        .cast::<bindings::device>()
        .cast_mut();
    // SAFETY: `Device` is `repr(transparent)` over `struct device`, valid for the lifetime
    // of `dev`; the function only reads its node.
    unsafe { ffi::rasync_dev_to_node(raw.cast()) }
}

/// Schedules `f(dev, cookie)` on `dev`'s node in the default domain
/// (`async_schedule_dev()`); `f` keeps its own reference on the device.
pub(crate) fn schedule_dev<F>(f: F, dev: ARef<Device>) -> Cookie
where
    F: FnOnce(&Device, Cookie) + Send + 'static,
{
    let node = dev_to_node(&dev);
    schedule_node(move |cookie| f(&dev, cookie), node)
}

/// Waits until every entry of every registered domain has finished.
pub(crate) fn synchronize_full() {
    // SAFETY: no preconditions.
    unsafe { ffi::rasync_synchronize_full() }
}

/// Waits until every default-domain entry with a cookie below `cookie` has finished.
pub(crate) fn synchronize_cookie(cookie: Cookie) {
    // SAFETY: no preconditions.
    unsafe { ffi::rasync_synchronize_cookie(cookie) }
}

/// Returns whether the caller is running inside a rasync function.
pub(crate) fn current_is_async() -> bool {
    // SAFETY: no preconditions.
    unsafe { ffi::rasync_current_is_async() }
}

/// A domain owned by Rust code. Dropping it waits for all of its entries.
///
/// # Invariants
///
/// `ptr` is a domain from `rasync_domain_create()`, destroyed only in `drop`.
pub(crate) struct Domain {
    ptr: NonNull<ffi::RawDomain>,
}

// SAFETY: a domain is used only through rasync's thread-safe functions.
unsafe impl Send for Domain {}
// SAFETY: a domain is used only through rasync's thread-safe functions.
unsafe impl Sync for Domain {}

impl Domain {
    fn create(registered: bool) -> Result<Self> {
        // SAFETY: no preconditions.
        let ptr = unsafe { ffi::rasync_domain_create(registered) };
        // INVARIANT: a non-null pointer is a created domain.
        Ok(Self {
            ptr: NonNull::new(ptr).ok_or(ENOMEM)?,
        })
    }

    /// Creates a registered domain: [`synchronize_full`] waits for it too.
    pub(crate) fn new() -> Result<Self> {
        Self::create(true)
    }

    /// Creates an exclusive domain: only its own synchronize calls wait for it.
    pub(crate) fn new_exclusive() -> Result<Self> {
        Self::create(false)
    }

    /// Schedules `f` on any CPU in this domain.
    pub(crate) fn schedule<F: FnOnce(Cookie) + Send + 'static>(&self, f: F) -> Cookie {
        schedule_in(f, NUMA_NO_NODE, self.ptr.as_ptr())
    }

    /// Schedules `f` on a CPU of `node` in this domain.
    pub(crate) fn schedule_node<F: FnOnce(Cookie) + Send + 'static>(
        &self,
        f: F,
        node: i32,
    ) -> Cookie {
        schedule_in(f, node, self.ptr.as_ptr())
    }

    /// Schedules `f(dev, cookie)` on `dev`'s node in this domain.
    pub(crate) fn schedule_dev<F>(&self, f: F, dev: ARef<Device>) -> Cookie
    where
        F: FnOnce(&Device, Cookie) + Send + 'static,
    {
        let node = dev_to_node(&dev);
        self.schedule_node(move |cookie| f(&dev, cookie), node)
    }

    /// Waits until every entry of this domain with a cookie below `cookie` has finished.
    pub(crate) fn synchronize_cookie(&self, cookie: Cookie) {
        // SAFETY: the domain is live (type invariant).
        unsafe { ffi::rasync_synchronize_cookie_domain(cookie, self.ptr.as_ptr()) }
    }

    /// Waits until every entry of this domain has finished.
    pub(crate) fn synchronize_full(&self) {
        // SAFETY: the domain is live (type invariant).
        unsafe { ffi::rasync_synchronize_full_domain(self.ptr.as_ptr()) }
    }

    /// Schedules `f` on a CPU of `node` in this domain; if it returns an error, the
    /// domain keeps it ([`Domain::synchronize_full_result`]) unless it already keeps an
    /// error of a lower cookie. If [`Domain::cancel`] cancels it, `f` is dropped uncalled.
    pub(crate) fn schedule_node_result<F>(&self, f: F, node: i32) -> Cookie
    where
        F: FnOnce(Cookie) -> Result + Send + 'static,
    {
        let domain = self.ptr.as_ptr();
        let Ok(slot) = KBox::<F>::new_uninit(GFP_ATOMIC) else {
            // As rasync's own fallback: the next cookie in order, run now, result kept.
            // SAFETY: `reserve_cookie` ignores its data; the domain is live.
            let cookie = unsafe {
                ffi::__rasync_schedule_node_domain(
                    Some(reserve_cookie),
                    core::ptr::null_mut(),
                    node,
                    domain,
                    owner(),
                )
            };
            if let Err(e) = f(cookie) {
                // SAFETY: the domain is live (type invariant).
                unsafe { ffi::rasync_domain_set_error(domain, e.to_errno(), cookie) };
            }
            return cookie;
        };
        let data = KBox::into_raw(KBox::write(slot, f)).cast::<c_void>();
        // SAFETY: either `call_boxed_result::<F>` or, if cancelled, `drop_boxed::<F>`
        // takes ownership of `data`, exactly once; the domain outlives its entries.
        unsafe {
            ffi::__rasync_schedule_result_node_domain(
                Some(call_boxed_result::<F>),
                Some(drop_boxed::<F>),
                data,
                node,
                domain,
                owner(),
            )
        }
    }

    /// [`Domain::schedule_node_result`] on any CPU.
    pub(crate) fn schedule_result<F>(&self, f: F) -> Cookie
    where
        F: FnOnce(Cookie) -> Result + Send + 'static,
    {
        self.schedule_node_result(f, NUMA_NO_NODE)
    }

    /// Waits until every entry of this domain has finished; returns the first error
    /// (lowest cookie) its async functions returned, if any, which the domain keeps
    /// until [`Domain::reset_error`].
    pub(crate) fn synchronize_full_result(&self) -> core::result::Result<(), Failure> {
        self.synchronize_cookie_result(u64::MAX)
    }

    /// Waits until every entry of this domain below `cookie` has finished; returns the
    /// first error among them, if any.
    pub(crate) fn synchronize_cookie_result(
        &self,
        cookie: Cookie,
    ) -> core::result::Result<(), Failure> {
        Failure::query(|at| {
            // SAFETY: the domain is live (type invariant); `at` is writable.
            unsafe { ffi::rasync_synchronize_cookie_domain_result(cookie, self.ptr.as_ptr(), at) }
        })
        .map_or(Ok(()), Err)
    }

    /// Returns the first error kept so far, without waiting.
    pub(crate) fn error(&self) -> Option<Failure> {
        // SAFETY: the domain is live (type invariant); `at` is writable.
        Failure::query(|at| unsafe { ffi::rasync_domain_error(self.ptr.as_ptr(), at) })
    }

    /// Forgets the error kept, returning it.
    pub(crate) fn reset_error(&self) -> Option<Failure> {
        // SAFETY: the domain is live (type invariant); `at` is writable.
        Failure::query(|at| unsafe { ffi::rasync_domain_reset_error(self.ptr.as_ptr(), at) })
    }

    /// Caps the entries of this domain running at once at `max_active` (0: no limit);
    /// the others start in cookie order as running ones finish. Set it before scheduling:
    /// entries already running when the domain first gets a cap are not counted.
    pub(crate) fn set_max_active(&self, max_active: u32) -> Result {
        // SAFETY: the domain is live (type invariant).
        kernel::error::to_result(unsafe {
            ffi::rasync_domain_set_max_active(self.ptr.as_ptr(), max_active)
        })
    }

    /// Cancels the entries of this domain that have not started: their closures are
    /// dropped uncalled, their cookies count as finished. Returns how many.
    pub(crate) fn cancel(&self) -> u32 {
        // SAFETY: the domain is live (type invariant).
        unsafe { ffi::rasync_domain_cancel(self.ptr.as_ptr()) }
    }
}

impl Drop for Domain {
    fn drop(&mut self) {
        // SAFETY: the domain is live (type invariant) and never used again; destroy waits
        // for its entries first, so none of them outlives it. It was created (type
        // invariant), so destroy cannot refuse it: the result is always 0.
        unsafe { ffi::rasync_domain_destroy(self.ptr.as_ptr()) };
    }
}

/// A device call handed to rasync by [`schedule_dev_nocall`].
struct DevCall<F> {
    f: F,
    dev: ARef<Device>,
}

/// Calls the boxed [`DevCall`] that `data` owns.
///
/// # Safety
///
/// `data` must come from `KBox::into_raw` of a `KBox<DevCall<F>>` and not be used again.
unsafe extern "C" fn call_dev<F: FnOnce(&Device, Cookie)>(data: *mut c_void, cookie: u64) {
    // SAFETY: the caller guarantees `data` is an unused `KBox<DevCall<F>>` pointer.
    let call = KBox::into_inner(unsafe { KBox::from_raw(data.cast::<DevCall<F>>()) });
    (call.f)(&call.dev, cookie)
}

/// Schedules `f(dev, cookie)` on `dev`'s node in the default domain, never
/// synchronously (`async_schedule_dev_nocall()`): if it cannot be queued (no memory, or
/// more than `max_work` entries pending), gives the closure back as `Err(f)`.
///
/// Like the C function, this allocates with `GFP_KERNEL` and so may sleep.
pub(crate) fn schedule_dev_nocall<F>(f: F, dev: ARef<Device>) -> core::result::Result<(), F>
where
    F: FnOnce(&Device, Cookie) + Send + 'static,
{
    let node = dev_to_node(&dev);
    let Ok(slot) = KBox::<DevCall<F>>::new_uninit(GFP_KERNEL) else {
        return Err(f);
    };
    let data = KBox::into_raw(KBox::write(slot, DevCall { f, dev }));
    // SAFETY: `call_dev::<F>` takes ownership of `data` if, and only if, it is queued.
    if unsafe {
        ffi::__rasync_schedule_node_nocall(Some(call_dev::<F>), data.cast(), node, owner())
    } {
        return Ok(());
    }
    // SAFETY: not queued, so `data` is still the unused box from above.
    let call = KBox::into_inner(unsafe { KBox::from_raw(data) });
    Err(call.f)
}
