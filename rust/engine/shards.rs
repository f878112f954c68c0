// SPDX-License-Identifier: GPL-2.0

//! Sharded lists: `N` C `list_head`s, each behind its own irq-saving spinlock, chosen by
//! hashing a pointer.
//!
//! Used where many CPUs touch unrelated records keyed by a pointer: the running entries
//! keyed by task ([`crate::running`]), behind its lock-free table. Records that hash
//! apart never contend for a lock.
//!
//! # Examples
//!
//! ```ignore
//! let shards = Shards::<64>::new(c"rasync_running", kernel::static_lock_class!())?;
//! let (lock, head) = shards.get(task.cast());
//! let _guard = lock.lock_irqsave();
//! ```
//!
//! C header: [`include/linux/list.h`](srctree/include/linux/list.h)

use crate::{list, lock::IrqSpinLock};
use kernel::{
    bindings::{self, list_head},
    prelude::*,
    sync::LockClassKey,
};

/// One list and its lock.
#[repr(C)]
struct Shard {
    lock: bindings::spinlock_t,
    list: list_head,
}

/// `N` independently locked lists.
///
/// # Invariants
///
/// Every shard's lock and list are initialised.
pub(crate) struct Shards<const N: usize> {
    shards: KBox<[Shard; N]>,
}

// SAFETY: all state is behind the shards' spinlocks.
unsafe impl<const N: usize> Send for Shards<N> {}
// SAFETY: all state is behind the shards' spinlocks.
unsafe impl<const N: usize> Sync for Shards<N> {}

impl<const N: usize> Shards<N> {
    /// Allocates `N` empty lists whose locks share lockdep class `key`.
    pub(crate) fn new(name: &'static CStr, key: Pin<&'static LockClassKey>) -> Result<Self> {
        let mut shards = KBox::<[Shard; N]>::new_uninit(GFP_KERNEL)?;
        let base = shards.as_mut_ptr().cast::<Shard>();
        for i in 0..N {
            // SAFETY: `base + i` is inside the allocation; each shard is initialised
            // exactly once here, in place, before the box is assumed initialised.
            unsafe {
                let shard = base.add(i);
                IrqSpinLock::init(&raw mut (*shard).lock, name, key.get_ref());
                list::init(&raw mut (*shard).list);
            }
        }
        // SAFETY: every shard was initialised in place above.
        let shards = unsafe { shards.assume_init() };
        // INVARIANT: every shard's lock and list are initialised.
        Ok(Self { shards })
    }

    /// Returns the lock and list of shard `i` (`i < N`).
    pub(crate) fn at(&self, i: usize) -> (&IrqSpinLock, *mut list_head) {
        let shard = core::ptr::from_ref(&self.shards[i]).cast_mut();
        // SAFETY: the shard is initialised (type invariant) and lives as long as `self`.
        unsafe {
            (
                IrqSpinLock::from_raw(&raw mut (*shard).lock),
                &raw mut (*shard).list,
            )
        }
    }

    /// Returns the lock and list of the shard for `key`.
    pub(crate) fn get<T>(&self, key: *const T) -> (&IrqSpinLock, *mut list_head) {
        // Kernel objects are at least cache-line aligned: drop the low bits first.
        self.at(((key as usize) >> 6).wrapping_mul(0x9E37_79B9) % N)
    }
}
