// SPDX-License-Identifier: GPL-2.0

//! An irq-saving guard for the C `spinlock_t` that lives inside a domain.
//!
//! Domains must be definable statically from C (`RASYNC_DOMAIN()` uses
//! `__SPIN_LOCK_UNLOCKED`), so their lock is a bare `spinlock_t` rather than a
//! `kernel::sync::SpinLock<T>`. Entries are scheduled with interrupts off, so every
//! acquisition saves and disables interrupts, as `async_lock` does in C.
//!
//! # Examples
//!
//! ```ignore
//! let _guard = domain.lock().lock_irqsave();
//! ```
//!
//! C header: [`include/linux/spinlock.h`](srctree/include/linux/spinlock.h)

use kernel::{
    bindings,
    ffi::{c_char, c_ulong},
    prelude::*,
    sync::LockClassKey,
    types::Opaque, //
};

#[cfg(CONFIG_PREEMPT_RT)]
extern "C" {
    fn rasync_helper_spin_lock_irqsave(lock: *mut bindings::spinlock_t) -> c_ulong;
    fn rasync_helper_spin_unlock_irqrestore(lock: *mut bindings::spinlock_t, flags: c_ulong);
}

/// A C spinlock taken with interrupts saved and disabled.
///
/// # Invariants
///
/// The inner `spinlock_t` is initialised.
#[repr(transparent)]
pub(crate) struct IrqSpinLock(Opaque<bindings::spinlock_t>);

impl IrqSpinLock {
    /// Borrows the initialised spinlock at `ptr`.
    ///
    /// # Safety
    ///
    /// `ptr` must point to an initialised `spinlock_t` that outlives `'a`.
    pub(crate) unsafe fn from_raw<'a>(ptr: *mut bindings::spinlock_t) -> &'a Self {
        // SAFETY: `IrqSpinLock` is `repr(transparent)` over `spinlock_t`; the caller
        // guarantees validity and initialisation (the type invariant) for `'a`.
        unsafe { &*ptr.cast::<Self>() }
    }

    /// Initialises the spinlock at `ptr` with lockdep class `key`.
    ///
    /// # Safety
    ///
    /// `ptr` must be valid for writes and not in use.
    pub(crate) unsafe fn init(
        ptr: *mut bindings::spinlock_t,
        name: &'static CStr,
        key: &'static LockClassKey,
    ) {
        // SAFETY: the caller guarantees `ptr` is writable and unused; `name` and `key` are
        // static as lockdep requires.
        unsafe {
            bindings::__spin_lock_init(ptr, name.as_char_ptr().cast::<c_char>(), key.as_ptr())
        };
    }

    /// Returns the C lock. (`Opaque::<spinlock_t>::get` is not inlined across crates:
    /// it would cost a call on every acquisition and release.)
    #[inline(always)]
    fn as_ptr(&self) -> *mut bindings::spinlock_t {
        // `Opaque<T>` is `repr(transparent)` over `T`'s cell, so the address is the lock's.
        core::ptr::from_ref(self).cast_mut().cast()
    }

    /// Takes the lock with interrupts disabled; the guard restores them.
    #[inline]
    pub(crate) fn lock_irqsave(&self) -> IrqGuard<'_> {
        // SAFETY: the lock is initialised (type invariant).
        let flags = unsafe { spin_lock_irqsave(self.as_ptr()) };
        IrqGuard { lock: self, flags }
    }
}

/// `spin_lock_irqsave()`. Without `PREEMPT_RT` that is `_raw_spin_lock_irqsave()` on
/// the lock's `rlock`, the first member of `spinlock_t`: called directly, it saves the
/// C helper's call on every acquisition of the hot path.
///
/// # Safety
///
/// `lock` must point to an initialised `spinlock_t`.
#[inline(always)]
unsafe fn spin_lock_irqsave(lock: *mut bindings::spinlock_t) -> c_ulong {
    #[cfg(not(CONFIG_PREEMPT_RT))]
    // SAFETY: `rlock` is at offset 0 of `spinlock_t` (a union of it and lockdep's view
    // of it); the caller guarantees the lock is initialised.
    unsafe {
        bindings::_raw_spin_lock_irqsave(lock.cast::<bindings::raw_spinlock_t>())
    }
    #[cfg(CONFIG_PREEMPT_RT)]
    // SAFETY: the caller guarantees the lock is initialised.
    unsafe {
        rasync_helper_spin_lock_irqsave(lock)
    }
}

/// `spin_unlock_irqrestore()`, as [`spin_lock_irqsave`].
///
/// # Safety
///
/// `lock` must be held by this context with `flags` saved when taking it.
#[inline(always)]
unsafe fn spin_unlock_irqrestore(lock: *mut bindings::spinlock_t, flags: c_ulong) {
    #[cfg(not(CONFIG_PREEMPT_RT))]
    // SAFETY: as in `spin_lock_irqsave`; the caller guarantees the lock is held.
    unsafe {
        bindings::_raw_spin_unlock_irqrestore(lock.cast::<bindings::raw_spinlock_t>(), flags)
    }
    #[cfg(CONFIG_PREEMPT_RT)]
    // SAFETY: the caller guarantees the lock is held with these flags.
    unsafe {
        rasync_helper_spin_unlock_irqrestore(lock, flags)
    }
}

/// Proof that an [`IrqSpinLock`] is held; releasing it restores the saved interrupt state.
///
/// # Invariants
///
/// `lock` is held by this context and `flags` are the interrupt flags saved when taking it.
pub(crate) struct IrqGuard<'a> {
    lock: &'a IrqSpinLock,
    flags: c_ulong,
}

impl Drop for IrqGuard<'_> {
    fn drop(&mut self) {
        // SAFETY: by the type invariant the lock is held here with these saved flags.
        unsafe { spin_unlock_irqrestore(self.lock.as_ptr(), self.flags) };
    }
}
