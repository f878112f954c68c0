// SPDX-License-Identifier: GPL-2.0

//! The C ABI of `include/rasync.h`: thin `extern "C"` shims over [`crate::engine`].
//!
//! `exports.c` exports these symbols (GPL) so that C and Rust modules can call them.
//! Pointers from C are checked for null here; a null function or domain gets a
//! `WARN_ONCE`-style error message and no call, never a crash.
//!
//! # Examples
//!
//! ```c
//! static RASYNC_DOMAIN(my_domain);
//! rasync_cookie_t c = rasync_schedule_domain(probe_one, dev, &my_domain);
//! rasync_synchronize_full_domain(&my_domain);
//! ```
//!
//! C header: [`include/rasync.h`](../include/rasync.h)

use crate::{
    domain::{Domain, RawDomain, COOKIE_MAX},
    engine::{self, Engine, Owner},
    entry::{Call, Func, ResultFunc},
    numa,
    observe::Why,
};
use kernel::{
    bindings,
    ffi::{c_int, c_void},
    prelude::*,
};

/// Returns the engine, or logs why a call into rasync cannot be served.
fn engine_or_err(what: &str) -> Option<&'static Engine> {
    let engine = engine::get();
    if engine.is_none() {
        pr_err!("{what}: called while rasync is not loaded\n");
    }
    engine
}

/// How a caller passed a domain.
enum DomainArg<'a> {
    /// A null pointer.
    Null,
    /// A domain that was never initialised (not defined with `RASYNC_DOMAIN()`).
    Uninitialised,
    /// A usable domain.
    Valid(&'a Domain),
}

/// Classifies a C domain pointer, logging an uninitialised one as `what`'s error.
///
/// # Safety
///
/// A non-null `domain` must point to a `struct rasync_domain` that outlives `'a`.
unsafe fn domain_arg<'a>(domain: *mut RawDomain, what: &str) -> DomainArg<'a> {
    if domain.is_null() {
        return DomainArg::Null;
    }
    // SAFETY: the caller guarantees `domain` points to a live `struct rasync_domain`;
    // `is_initialised` is checked before anything else is used.
    let domain = unsafe { Domain::from_raw(domain) };
    if domain.is_initialised() {
        DomainArg::Valid(domain)
    } else {
        pr_err!(
            "{what}: domain {:p} is not initialised (use RASYNC_DOMAIN())\n",
            domain.as_raw()
        );
        DomainArg::Uninitialised
    }
}

/// `rasync_schedule_node_domain()`: schedule `func(data, cookie)` on `node` in `domain`,
/// on behalf of module `owner` (`THIS_MODULE`, passed by the inline wrappers of
/// `include/rasync.h`; null for built-in code).
///
/// # Safety
///
/// `domain` must be an initialised domain that outlives every entry scheduled on it;
/// `func` must be callable with `data` from any CPU; `owner` must be null or the live
/// module whose code calls (it owns `func`).
#[no_mangle]
pub(crate) unsafe extern "C" fn __rasync_schedule_node_domain(
    func: Option<Func>,
    data: *mut c_void,
    node: i32,
    domain: *mut RawDomain,
    owner: Owner,
) -> u64 {
    const WHAT: &str = "rasync_schedule_node_domain";
    let Some(func) = func else {
        pr_err!("{WHAT}: NULL function, nothing scheduled\n");
        return 0;
    };
    // SAFETY: the caller's guarantees are passed on.
    unsafe { schedule_checked(WHAT, Call::Void(func), None, data, node, domain, owner) }
}

/// `rasync_schedule_node()`: schedule in the default domain.
///
/// # Safety
///
/// As for [`__rasync_schedule_node_domain`].
#[no_mangle]
pub(crate) unsafe extern "C" fn __rasync_schedule_node(
    func: Option<Func>,
    data: *mut c_void,
    node: i32,
    owner: Owner,
) -> u64 {
    let Some(engine) = engine_or_err("rasync_schedule_node") else {
        return 0;
    };
    let domain = engine.dfl_domain().as_raw();
    // SAFETY: the default domain lives as long as the engine; the caller vouches for the rest.
    unsafe { __rasync_schedule_node_domain(func, data, node, domain, owner) }
}

/// `rasync_schedule_dev_nocall()`: schedule `func(dev, cookie)` on `dev`'s node, or
/// return `false` without calling it.
///
/// # Safety
///
/// `dev` must be a valid device that outlives the call of `func`; `owner` as for
/// [`__rasync_schedule_node_domain`].
#[no_mangle]
pub(crate) unsafe extern "C" fn __rasync_schedule_dev_nocall(
    func: Option<Func>,
    dev: *mut bindings::device,
    owner: Owner,
) -> bool {
    if dev.is_null() {
        pr_err!("rasync_schedule_dev_nocall: NULL device, nothing scheduled\n");
        return false;
    }
    // SAFETY: the caller guarantees `dev` is valid.
    let node = unsafe { numa::dev_to_node(dev) };
    // SAFETY: `func` is called with the device, which the caller keeps valid until then.
    unsafe { __rasync_schedule_node_nocall(func, dev.cast(), node, owner) }
}

/// `rasync_schedule_node_nocall()`: schedule `func(data, cookie)` on `node` in the default
/// domain, or return `false` without calling it.
///
/// # Safety
///
/// As for [`__rasync_schedule_node_domain`].
#[no_mangle]
pub(crate) unsafe extern "C" fn __rasync_schedule_node_nocall(
    func: Option<Func>,
    data: *mut c_void,
    node: i32,
    owner: Owner,
) -> bool {
    let Some(func) = func else {
        pr_err!("rasync_schedule_node_nocall: NULL function, nothing scheduled\n");
        return false;
    };
    let Some(engine) = engine_or_err("rasync_schedule_node_nocall") else {
        return false;
    };
    engine.schedule_nocall(func, data, node, owner).is_some()
}

/// `rasync_synchronize_cookie_domain()`: wait for the entries of `domain` (all registered
/// domains if null) whose cookie is below `cookie`.
///
/// # Safety
///
/// A non-null `domain` must be an initialised domain.
#[no_mangle]
pub(crate) unsafe extern "C" fn rasync_synchronize_cookie_domain(
    cookie: u64,
    domain: *mut RawDomain,
) {
    let Some(engine) = engine_or_err("rasync_synchronize_cookie_domain") else {
        return;
    };
    // SAFETY: the caller guarantees a non-null domain is valid.
    match unsafe { domain_arg(domain, "rasync_synchronize_cookie_domain") } {
        DomainArg::Valid(domain) => engine.synchronize_cookie_domain(cookie, Some(domain)),
        DomainArg::Null => engine.synchronize_cookie_domain(cookie, None),
        // Nothing can be pending on a domain that was never initialised.
        DomainArg::Uninitialised => {}
    }
}

/// `rasync_synchronize_cookie()`: wait for the default domain's entries below `cookie`.
#[no_mangle]
pub(crate) extern "C" fn rasync_synchronize_cookie(cookie: u64) {
    if let Some(engine) = engine_or_err("rasync_synchronize_cookie") {
        engine.synchronize_cookie_domain(cookie, Some(engine.dfl_domain()));
    }
}

/// `rasync_synchronize_full_domain()`: wait for every entry of `domain` (of all registered
/// domains if null).
///
/// # Safety
///
/// A non-null `domain` must be an initialised domain.
#[no_mangle]
pub(crate) unsafe extern "C" fn rasync_synchronize_full_domain(domain: *mut RawDomain) {
    // SAFETY: the caller's guarantee is passed on.
    unsafe { rasync_synchronize_cookie_domain(COOKIE_MAX, domain) }
}

/// `rasync_synchronize_full()`: wait for every entry of every registered domain.
#[no_mangle]
pub(crate) extern "C" fn rasync_synchronize_full() {
    if let Some(engine) = engine_or_err("rasync_synchronize_full") {
        engine.synchronize_full();
    }
}

/// `rasync_current_is_async()`: whether the caller runs inside a rasync function.
#[no_mangle]
pub(crate) extern "C" fn rasync_current_is_async() -> bool {
    engine::get().is_some_and(|e| e.current().is_some())
}

/// `rasync_entry_bytes()`: the slab bytes one pending entry occupies.
#[no_mangle]
pub(crate) extern "C" fn rasync_entry_bytes() -> usize {
    crate::entry::Entry::slab_bytes()
}

/// `rasync_domain_create()`: allocate an empty domain (`GFP_KERNEL`); null on failure.
#[no_mangle]
pub(crate) extern "C" fn rasync_domain_create(registered: bool) -> *mut RawDomain {
    let Some(engine) = engine_or_err("rasync_domain_create") else {
        return core::ptr::null_mut();
    };
    match KBox::pin_init(Domain::new_heap(registered), GFP_KERNEL) {
        Ok(domain) => {
            engine.domain_created(&domain);
            // SAFETY: the domain is never moved out of its box: only
            // `rasync_domain_destroy` turns the pointer back into the box.
            unsafe { KBox::into_raw(Pin::into_inner_unchecked(domain)) }.cast()
        }
        Err(_) => core::ptr::null_mut(),
    }
}

/// `rasync_domain_destroy()`: wait for the domain's entries, then free it. Returns 0
/// (also for null), or `-EINVAL` for a domain that `rasync_domain_create()` did not
/// make (a `RASYNC_DOMAIN()`, static, on the stack or embedded in a structure): that
/// one is left as it is, neither synchronized nor freed, with an error message.
///
/// # Safety
///
/// A non-null `domain` must point to a live `struct rasync_domain`; one from
/// [`rasync_domain_create`] must not be used after this call.
#[no_mangle]
pub(crate) unsafe extern "C" fn rasync_domain_destroy(domain: *mut RawDomain) -> c_int {
    const WHAT: &str = "rasync_domain_destroy";
    // SAFETY: the caller guarantees a non-null domain is a live `struct rasync_domain`.
    let created = match unsafe { domain_arg(domain, WHAT) } {
        DomainArg::Null => return 0,
        DomainArg::Uninitialised => return EINVAL.to_errno(),
        DomainArg::Valid(domain) => domain,
    };
    if !created.is_created() {
        // SAFETY: the helper only prints the address (`%ps`).
        unsafe { rasync_warn_not_created(domain.cast()) };
        return EINVAL.to_errno();
    }
    // SAFETY: `domain` is a live created domain (checked above; the caller guarantees
    // it is live).
    unsafe { rasync_synchronize_full_domain(domain) };
    if !created.idle_or_mark_dying() {
        // Only possible from inside one of its own entries: that entry still uses it.
        // Its last entry to finish frees it (`Engine::finish`).
        kernel::pr_warn_once!(
            "rasync_domain_destroy: called from inside an entry of the domain; it is freed when its last entry finishes\n"
        );
        return 0;
    }
    if let Some(engine) = engine::get() {
        engine.domain_destroyed(created);
    }
    // SAFETY: a created domain came from `KBox::into_raw` in `rasync_domain_create`; no
    // entry refers to it any more and no waiter is parked on it, and it is unlisted. The
    // caller gives it up: `created` is not used after this.
    drop(unsafe { KBox::from_raw(domain.cast::<Domain>()) });
    0
}

extern "C" {
    /// `exports.c`: the rate-limited error message of a refused destroy.
    fn rasync_warn_not_created(domain: *const c_void);
}

/// `rasync_schedule_node_domain_cancelable()`: as [`__rasync_schedule_node_domain`], but
/// if [`rasync_domain_cancel`] cancels the entry before it starts, `cancel(data, cookie)`
/// (if non-null) is called instead of `func`.
///
/// # Safety
///
/// As for [`__rasync_schedule_node_domain`]; `cancel`, if non-null, must be callable
/// with `data` from the context of a `rasync_domain_cancel()` caller.
#[no_mangle]
pub(crate) unsafe extern "C" fn __rasync_schedule_node_domain_cancelable(
    func: Option<Func>,
    cancel: Option<Func>,
    data: *mut c_void,
    node: i32,
    domain: *mut RawDomain,
    owner: Owner,
) -> u64 {
    const WHAT: &str = "rasync_schedule_node_domain_cancelable";
    let Some(func) = func else {
        pr_err!("{WHAT}: NULL function, nothing scheduled\n");
        return 0;
    };
    // SAFETY: the caller's guarantees are passed on.
    unsafe { schedule_checked(WHAT, Call::Void(func), cancel, data, node, domain, owner) }
}

/// Schedules a checked call on a C domain pointer: refused domains run it now.
///
/// # Safety
///
/// As for [`__rasync_schedule_node_domain_cancelable`].
unsafe fn schedule_checked(
    what: &str,
    call: Call,
    cancel: Option<Func>,
    data: *mut c_void,
    node: i32,
    domain: *mut RawDomain,
    owner: Owner,
) -> u64 {
    let Some(engine) = engine_or_err(what) else {
        return 0;
    };
    // SAFETY: the caller guarantees a non-null domain is valid.
    match unsafe { domain_arg(domain, what) } {
        DomainArg::Valid(domain) => engine.schedule_call(call, cancel, data, node, domain, owner),
        // Refused, but nothing is lost: like the fallback, run it now with the next cookie.
        DomainArg::Null => {
            pr_err!("{what}: NULL domain; running the call synchronously\n");
            engine.run_now(call, data, node, None, Why::BadDomain)
        }
        DomainArg::Uninitialised => engine.run_now(call, data, node, None, Why::BadDomain),
    }
}

/// `rasync_schedule_result_node_domain()`: as
/// [`__rasync_schedule_node_domain_cancelable`] for a function with a result, which
/// `domain` records if it is an error.
///
/// # Safety
///
/// As for [`__rasync_schedule_node_domain_cancelable`].
#[no_mangle]
pub(crate) unsafe extern "C" fn __rasync_schedule_result_node_domain(
    func: Option<ResultFunc>,
    cancel: Option<Func>,
    data: *mut c_void,
    node: i32,
    domain: *mut RawDomain,
    owner: Owner,
) -> u64 {
    const WHAT: &str = "rasync_schedule_result_node_domain";
    let Some(func) = func else {
        pr_err!("{WHAT}: NULL function, nothing scheduled\n");
        return 0;
    };
    // SAFETY: the caller's guarantees are passed on.
    unsafe { schedule_checked(WHAT, Call::Result(func), cancel, data, node, domain, owner) }
}

/// Returns the usable domain at `domain`, or `-EINVAL` (a NULL one logged as `what`'s
/// error, an uninitialised one by [`domain_arg`]).
///
/// # Safety
///
/// A non-null `domain` must point to a `struct rasync_domain` that outlives `'a`.
unsafe fn domain_or_einval<'a>(
    domain: *mut RawDomain,
    what: &str,
) -> core::result::Result<&'a Domain, c_int> {
    // SAFETY: the caller's guarantee is passed on.
    match unsafe { domain_arg(domain, what) } {
        DomainArg::Valid(domain) => Ok(domain),
        DomainArg::Null => {
            pr_err!("{what}: NULL domain\n");
            Err(EINVAL.to_errno())
        }
        DomainArg::Uninitialised => Err(EINVAL.to_errno()),
    }
}

/// Returns `domain`'s error below `below` (0 if none), its cookie in `cookie`; with
/// `reset`, forgets it. `-EINVAL` for a bad domain.
///
/// # Safety
///
/// A non-null `domain` must be a live `struct rasync_domain`; a non-null `cookie` must
/// be valid for a write.
unsafe fn domain_error(
    what: &str,
    domain: *mut RawDomain,
    below: u64,
    reset: bool,
    cookie: *mut u64,
) -> c_int {
    // SAFETY: the caller guarantees a non-null domain is valid.
    let domain = match unsafe { domain_or_einval(domain, what) } {
        Ok(domain) => domain,
        Err(errno) => return errno,
    };
    let (error, at) = domain.error(below, reset).unwrap_or((0, 0));
    if !cookie.is_null() {
        // SAFETY: the caller guarantees a non-null `cookie` is writable.
        unsafe { cookie.write(at) };
    }
    error
}

/// `rasync_synchronize_cookie_domain_result()`: synchronize, then return the first
/// error of the entries below `cookie`.
///
/// # Safety
///
/// A non-null `domain` must be a live `struct rasync_domain`; a non-null `err_cookie`
/// must be valid for a write.
#[no_mangle]
pub(crate) unsafe extern "C" fn rasync_synchronize_cookie_domain_result(
    cookie: u64,
    domain: *mut RawDomain,
    err_cookie: *mut u64,
) -> c_int {
    const WHAT: &str = "rasync_synchronize_cookie_domain_result";
    if domain.is_null() {
        pr_err!("{WHAT}: NULL domain\n");
        return EINVAL.to_errno();
    }
    // SAFETY: the caller guarantees the domain is valid.
    unsafe { rasync_synchronize_cookie_domain(cookie, domain) };
    // SAFETY: the caller's guarantees are passed on.
    unsafe { domain_error(WHAT, domain, cookie, false, err_cookie) }
}

/// `rasync_synchronize_full_domain_result()`: synchronize, then return the domain's
/// first error.
///
/// # Safety
///
/// As for [`rasync_synchronize_cookie_domain_result`].
#[no_mangle]
pub(crate) unsafe extern "C" fn rasync_synchronize_full_domain_result(
    domain: *mut RawDomain,
    cookie: *mut u64,
) -> c_int {
    // SAFETY: the caller's guarantees are passed on.
    unsafe { rasync_synchronize_cookie_domain_result(COOKIE_MAX, domain, cookie) }
}

/// `rasync_domain_error()`: the domain's first error so far, without waiting.
///
/// # Safety
///
/// As for [`rasync_synchronize_cookie_domain_result`].
#[no_mangle]
pub(crate) unsafe extern "C" fn rasync_domain_error(
    domain: *mut RawDomain,
    cookie: *mut u64,
) -> c_int {
    // SAFETY: the caller's guarantees are passed on.
    unsafe { domain_error("rasync_domain_error", domain, COOKIE_MAX, false, cookie) }
}

/// `rasync_domain_reset_error()`: forget the domain's error, returning it.
///
/// # Safety
///
/// As for [`rasync_synchronize_cookie_domain_result`].
#[no_mangle]
pub(crate) unsafe extern "C" fn rasync_domain_reset_error(
    domain: *mut RawDomain,
    cookie: *mut u64,
) -> c_int {
    // SAFETY: the caller's guarantees are passed on.
    unsafe {
        domain_error(
            "rasync_domain_reset_error",
            domain,
            COOKIE_MAX,
            true,
            cookie,
        )
    }
}

/// `rasync_domain_set_max_active()`: cap the domain's entries running at once.
///
/// # Safety
///
/// A non-null `domain` must be a live `struct rasync_domain`.
#[no_mangle]
pub(crate) unsafe extern "C" fn rasync_domain_set_max_active(
    domain: *mut RawDomain,
    max_active: u32,
) -> c_int {
    const WHAT: &str = "rasync_domain_set_max_active";
    let Some(engine) = engine_or_err(WHAT) else {
        return ENODEV.to_errno();
    };
    // SAFETY: the caller guarantees a non-null domain is valid.
    match unsafe { domain_or_einval(domain, WHAT) } {
        Ok(domain) => {
            engine.set_max_active(domain, max_active);
            0
        }
        Err(errno) => errno,
    }
}

/// `rasync_domain_cancel()`: cancel the domain's entries that have not started.
///
/// # Safety
///
/// A non-null `domain` must be a live `struct rasync_domain`.
#[no_mangle]
pub(crate) unsafe extern "C" fn rasync_domain_cancel(domain: *mut RawDomain) -> u32 {
    const WHAT: &str = "rasync_domain_cancel";
    let Some(engine) = engine_or_err(WHAT) else {
        return 0;
    };
    // SAFETY: the caller guarantees a non-null domain is valid.
    match unsafe { domain_arg(domain, WHAT) } {
        DomainArg::Valid(domain) => engine.cancel_domain(domain),
        DomainArg::Null => {
            pr_err!("{WHAT}: NULL domain, nothing cancelled\n");
            0
        }
        DomainArg::Uninitialised => 0,
    }
}

/// `rasync_domain_set_error()`: record an error as a result function would.
///
/// # Safety
///
/// A non-null `domain` must be a live `struct rasync_domain`.
#[no_mangle]
pub(crate) unsafe extern "C" fn rasync_domain_set_error(
    domain: *mut RawDomain,
    error: c_int,
    cookie: u64,
) {
    const WHAT: &str = "rasync_domain_set_error";
    // SAFETY: the caller guarantees a non-null domain is valid.
    match unsafe { domain_arg(domain, WHAT) } {
        DomainArg::Valid(domain) => domain.record_result(error, cookie),
        DomainArg::Null => pr_err!("{WHAT}: NULL domain, error {error} not recorded\n"),
        DomainArg::Uninitialised => {}
    }
}
