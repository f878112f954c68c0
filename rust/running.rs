// SPDX-License-Identifier: GPL-2.0

//! Which entry each worker task is running: the basis of `current_is_async()`.
//!
//! C's `current_is_async()` compares the worker's private `current_func`, which modules
//! cannot reach. The exported `current_work()` is no substitute on its own: the work item
//! it points to may already have been freed by its own function (workqueues allow that),
//! so it must not be dereferenced. Instead, `run_entry` registers a small record on its
//! stack while the function runs, keyed by task, in one of [`SHARDS`] lists chosen by a
//! hash of the task pointer. Each shard has its own lock, so concurrent entries rarely
//! contend, and a lookup reads only records of live entries.
//!
//! # Invariants
//!
//! A record is on its shard's list exactly while its entry's function runs in `task`;
//! a task runs at most one entry at a time, so it has at most one record.
//!
//! # Examples
//!
//! ```ignore
//! running.enter(&record);   // in run_entry, around the call
//! let me = running.current();
//! running.leave(&record);
//! ```

use crate::{domain::Domain, list, lock::IrqSpinLock, shards::Shards};
use kernel::{
    bindings::{self, list_head},
    prelude::*,
    types::Opaque,
};

/// Number of independently locked lists.
const SHARDS: usize = 64;

/// The running entry of one task, on that task's stack.
#[pin_data]
pub(crate) struct Record {
    #[pin]
    link: Opaque<list_head>,
    task: *mut bindings::task_struct,
    cookie: u64,
    domain: *const Domain,
}

impl Record {
    /// Returns an initialiser for the record of the current task running `cookie`.
    pub(crate) fn new(cookie: u64, domain: &Domain) -> impl PinInit<Self> {
        let domain = core::ptr::from_ref(domain);
        pin_init!(Self {
            link <- list::new_link(),
            // SAFETY: `get_current` has no preconditions.
            task: unsafe { bindings::get_current() },
            cookie,
            domain,
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

/// The sharded registry of running entries.
pub(crate) struct Running {
    shards: Shards<SHARDS>,
}

impl Running {
    /// Allocates and initialises the shards.
    pub(crate) fn new() -> Result<Self> {
        Ok(Self {
            shards: Shards::new(c"rasync_running", kernel::static_lock_class!())?,
        })
    }

    fn shard(&self, task: *mut bindings::task_struct) -> (&IrqSpinLock, *mut list_head) {
        self.shards.get(task)
    }

    /// Registers `record` while its entry's function runs.
    pub(crate) fn enter(&self, record: Pin<&Record>) {
        let (lock, head) = self.shard(record.task);
        let _guard = lock.lock_irqsave();
        // SAFETY: the list is locked and initialised; the record is pinned and stays
        // registered only until `leave`, which its owner calls before it goes away.
        // INVARIANT: linked while the entry's function runs.
        unsafe { list::add_tail(record.link.get(), head) };
    }

    /// Unregisters `record` once its entry's function has returned.
    pub(crate) fn leave(&self, record: Pin<&Record>) {
        let (lock, _) = self.shard(record.task);
        let _guard = lock.lock_irqsave();
        // SAFETY: the record was linked by `enter` on this shard, which is locked.
        unsafe { list::del_init(record.link.get()) };
    }

    /// Returns the entry the current task is running, if it runs one.
    pub(crate) fn current(&self) -> Option<Current<'_>> {
        // SAFETY: `get_current` has no preconditions.
        let task = unsafe { bindings::get_current() };
        let (lock, head) = self.shard(task);
        let _guard = lock.lock_irqsave();
        // SAFETY: the list is locked; its nodes are links of live records.
        unsafe {
            let mut node = (*head).next;
            while node != head {
                let record = kernel::container_of!(node.cast::<Opaque<list_head>>(), Record, link);
                if (*record).task == task {
                    return Some(Current {
                        cookie: (*record).cookie,
                        // The domain outlives the running entry, and the entry outlives
                        // this call: the caller is inside its function.
                        domain: &*(*record).domain,
                    });
                }
                node = (*node).next;
            }
        }
        None
    }
}
