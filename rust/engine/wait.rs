// SPDX-License-Identifier: GPL-2.0

//! Waiting on the kernel's own primitives: completions and simple wait queues.
//!
//! `kernel::sync::Completion` offers only `complete_all()`, and there is no binding for
//! `swait` at all, so this file wraps both thinly. Nothing here polls or sleeps for a
//! period: a waiter sleeps uninterruptibly until the waker names it, as
//! `wait_event()` and `wait_for_completion()` do in C.
//!
//! - [`Completion`]: one waiter, one wake-up. Each `synchronize_*()` caller that has to
//!   wait parks on its own completion, so a finishing entry wakes exactly the waiters
//!   whose cookie has been reached.
//! - [`SwaitQueue`]: a condition re-checked on each wake-up; rasync uses it to drain all
//!   entries at unload. Its wake-up keeps interrupts off if they were: it is called
//!   where an entry retires, which may be in a hard IRQ.
//!
//! # Examples
//!
//! ```ignore
//! stack_pin_init!(let done = Completion::new());
//! // ... hand `&*done` to a waker, which calls `done.complete()` ...
//! done.wait();
//! ```
//!
//! C headers: [`include/linux/completion.h`](srctree/include/linux/completion.h),
//! [`include/linux/swait.h`](srctree/include/linux/swait.h)

use kernel::{bindings, prelude::*, sync::LockClassKey, types::Opaque};

extern "C" {
    fn rasync_helper_complete_on_current_cpu(x: *mut bindings::completion);
    fn rasync_helper_yield_to_wakee();
}

/// Offers this CPU to a task just woken onto it ([`Completion::complete_on_current_cpu`])
/// by a waker that has nothing left to do: the wake-up alone rarely preempts the waker,
/// which would keep the CPU until it sleeps. Process context, no lock held.
pub(crate) fn yield_to_wakee() {
    // SAFETY: the helper calls `schedule()` with the task running, which callers allow
    // (process context, no lock held).
    unsafe { rasync_helper_yield_to_wakee() };
}

/// A `struct completion`.
///
/// # Invariants
///
/// `inner` is initialised by `init_completion()`.
#[pin_data]
pub(crate) struct Completion {
    #[pin]
    inner: Opaque<bindings::completion>,
}

// SAFETY: completions are designed to be completed and waited on from any thread.
unsafe impl Send for Completion {}
// SAFETY: completions are designed to be completed and waited on from any thread.
unsafe impl Sync for Completion {}

impl Completion {
    /// Returns an initialiser for a completion that is not done.
    pub(crate) fn new() -> impl PinInit<Self> {
        pin_init!(Self {
            // SAFETY: `slot` is valid for writes; `init_completion` initialises it fully.
            // INVARIANT: the completion is initialised here.
            inner <- Opaque::ffi_init(|slot| unsafe { bindings::init_completion(slot) }),
        })
    }

    /// Returns the C completion, without `Opaque::get`'s call (not inlined across crates).
    #[inline(always)]
    fn as_ptr(&self) -> *mut bindings::completion {
        // `Opaque<T>` is `repr(transparent)` over `T`'s cell, the first and only field.
        core::ptr::from_ref(&self.inner).cast_mut().cast()
    }

    /// Wakes the waiter (`complete()`); safe from any context, including with IRQs off.
    pub(crate) fn complete(&self) {
        // SAFETY: the completion is initialised (type invariant).
        unsafe { bindings::complete(self.as_ptr()) };
    }

    /// Like [`Completion::complete`], but places the woken waiter on this CPU if it may
    /// run here (`complete_on_current_cpu()`): for a waker that is about to stop.
    pub(crate) fn complete_on_current_cpu(&self) {
        // SAFETY: the completion is initialised (type invariant).
        unsafe { rasync_helper_complete_on_current_cpu(self.as_ptr()) };
    }

    /// Sleeps uninterruptibly until [`Completion::complete`] has been called.
    pub(crate) fn wait(&self) {
        // SAFETY: the completion is initialised (type invariant).
        unsafe { bindings::wait_for_completion(self.as_ptr()) };
    }

    /// Like [`Completion::wait`], but gives up after `timeout_ms`; returns whether it was
    /// completed.
    pub(crate) fn wait_timeout_ms(&self, timeout_ms: u32) -> bool {
        // SAFETY: `msecs_to_jiffies` is a pure conversion.
        let timeout = unsafe { bindings::__msecs_to_jiffies(timeout_ms) };
        // SAFETY: the completion is initialised (type invariant).
        unsafe { bindings::wait_for_completion_timeout(self.as_ptr(), timeout) != 0 }
    }
}

/// A simple wait queue (`struct swait_queue_head`).
///
/// # Invariants
///
/// `head` is initialised by `__init_swait_queue_head()`.
#[pin_data]
pub(crate) struct SwaitQueue {
    #[pin]
    head: Opaque<bindings::swait_queue_head>,
}

// SAFETY: swait queues are designed to be used from any thread.
unsafe impl Send for SwaitQueue {}
// SAFETY: swait queues are designed to be used from any thread.
unsafe impl Sync for SwaitQueue {}

impl SwaitQueue {
    /// Returns an initialiser for an empty queue with lockdep class `key`.
    pub(crate) fn new(name: &'static CStr, key: Pin<&'static LockClassKey>) -> impl PinInit<Self> {
        pin_init!(Self {
            // SAFETY: `slot` is valid for writes; `name` and `key` are static.
            // INVARIANT: the queue is initialised here.
            head <- Opaque::ffi_init(|slot| unsafe {
                bindings::__init_swait_queue_head(slot, name.as_char_ptr(), key.as_ptr())
            }),
        })
    }

    /// Sleeps uninterruptibly until `condition()` holds, re-checking it on each wake-up
    /// (`swait_event_exclusive()` without the exclusivity).
    pub(crate) fn wait_event(&self, condition: impl Fn() -> bool) {
        if condition() {
            return;
        }
        let mut wait = bindings::swait_queue {
            // SAFETY: `get_current` has no preconditions.
            task: unsafe { bindings::get_current() },
            task_list: bindings::list_head {
                next: core::ptr::null_mut(),
                prev: core::ptr::null_mut(),
            },
        };
        let entry = core::ptr::addr_of_mut!(wait);
        // SAFETY: `wait` lives on this frame until after `finish_swait`, and is not moved
        // while linked: it is only reached through `entry`.
        unsafe { crate::list::init(core::ptr::addr_of_mut!((*entry).task_list)) };
        loop {
            // SAFETY: the queue is initialised (type invariant); `entry` is a valid
            // `swait_queue` owned by this frame.
            unsafe {
                bindings::prepare_to_swait_event(
                    self.head.get(),
                    entry,
                    bindings::TASK_UNINTERRUPTIBLE as i32,
                )
            };
            if condition() {
                break;
            }
            // SAFETY: sleeping is allowed here: callers of `wait_event` are in process
            // context without spinlocks held.
            unsafe { bindings::schedule() };
        }
        // SAFETY: `entry` was prepared on this queue above.
        unsafe { bindings::finish_swait(self.head.get(), entry) };
    }

    /// Wakes every waiter so each re-checks its condition. Callable with interrupts off
    /// and from a hard IRQ: the queue's lock is taken with the interrupt state saved and
    /// restored, as `complete_all()` does. (`swake_up_all()` takes it with
    /// `raw_spin_lock_irq()` and returns with interrupts on, whatever they were: a cancel
    /// or a fallback that retires the last entry with interrupts off would turn them on.)
    /// rasync's queues have few waiters, so holding the lock across all of the wake-ups
    /// is short.
    pub(crate) fn wake_up_all(&self) {
        let head = self.head.get();
        // SAFETY: the queue is initialised (type invariant); its `lock` is a raw spinlock
        // initialised with it, taken here with the interrupt state saved and released
        // with it restored. `swake_up_locked()` wants that lock held, and unlinks the
        // waiter it wakes, so the loop ends once the list is empty.
        unsafe {
            let lock = &raw mut (*head).lock;
            let flags = bindings::_raw_spin_lock_irqsave(lock);
            while !crate::list::is_empty(&raw const (*head).task_list) {
                bindings::swake_up_locked(head, 0);
            }
            bindings::_raw_spin_unlock_irqrestore(lock, flags);
        }
    }
}
