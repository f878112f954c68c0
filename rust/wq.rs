// SPDX-License-Identifier: GPL-2.0

//! The dedicated unbound workqueue that runs rasync's entries.
//!
//! `kernel::workqueue` can neither create a workqueue nor queue work on a NUMA node, so
//! this file wraps `alloc_workqueue_noprof()`, `queue_work_node()` and
//! `destroy_workqueue()`. Work items are any [`RawWorkItem`], so the usual ownership
//! rules of `Pin<KBox<T>>` and `Arc<T>` work items apply unchanged.
//!
//! Placement: `queue_work_node()` picks a CPU of the node, and the item runs in that
//! CPU's pod of the unbound queue. With the default, non-strict affinity the worker is
//! only *started* near the pod and the scheduler may place it elsewhere (seen in the
//! 2-node guest). rasync therefore keeps two queues: `rasync` for entries with no (or an
//! invalid or offline) node, with the system's default affinity, as `async` has; and
//! `rasync_node` for entries bound to a node, which [`OwnedWorkqueue::new_node_affine`]
//! makes strictly NUMA-affine. `apply_workqueue_attrs()` is not exported to modules, so
//! this is done through the queue's own sysfs attributes (`WQ_SYSFS`), under
//! `/sys/devices/virtual/workqueue/rasync_node/`.
//!
//! `workqueue_set_min_active()` is not exported to modules, so unlike the C `async`
//! queue (raised to `WQ_DFL_ACTIVE`, 1024) these keep `min_active = 8`. Their
//! `max_active` is `WQ_MAX_ACTIVE` (2048), which the workqueue shares among nodes by CPU
//! count, never below 8 per node: 1024 per node in the 2-node guest, where the
//! `rasync_engine` suite runs 32 entries that wait on each other. On a lopsided machine
//! (a 4-CPU node among 256 CPUs) a node gets only 8 concurrent entries, where the C
//! queue allows 1024: more than 8 interdependent entries queued on such a node stall.
//!
//! # Examples
//!
//! ```ignore
//! let wq = OwnedWorkqueue::new_unbound(c"rasync")?;
//! wq.queue_work_node(numa::NUMA_NO_NODE, KBox::pin_init(item, GFP_KERNEL)?);
//! ```
//!
//! C header: [`include/linux/workqueue.h`](srctree/include/linux/workqueue.h)

use core::ptr::NonNull;
use kernel::{
    bindings,
    error::to_result,
    ffi::{c_char, c_int},
    prelude::*,
    types::Opaque,
    workqueue::RawWorkItem, //
};

/// A workqueue borrowed from its owner.
///
/// # Invariants
///
/// The inner `workqueue_struct` is a live unbound workqueue for the lifetime of the
/// reference.
#[repr(transparent)]
pub(crate) struct Workqueue(Opaque<bindings::workqueue_struct>);

// SAFETY: workqueues may be used from any thread; the C side does its own locking.
unsafe impl Sync for Workqueue {}
// SAFETY: workqueues may be used from any thread; the C side does its own locking.
unsafe impl Send for Workqueue {}

impl Workqueue {
    /// Borrows the workqueue at `ptr`.
    ///
    /// # Safety
    ///
    /// `ptr` must be a live unbound workqueue for all of `'a`.
    pub(crate) unsafe fn from_raw<'a>(ptr: *const bindings::workqueue_struct) -> &'a Self {
        // SAFETY: `Workqueue` is `repr(transparent)` over the C struct, and the caller
        // guarantees the pointer is valid for `'a`, which is the type invariant.
        unsafe { &*ptr.cast::<Self>() }
    }

    fn as_raw(&self) -> *mut bindings::workqueue_struct {
        self.0.get()
    }

    /// Queues `w` on a CPU of `node`; an invalid or offline node means any CPU.
    pub(crate) fn queue_work_node<W, const ID: u64>(&self, node: i32, w: W) -> W::EnqueueOutput
    where
        W: RawWorkItem<ID> + Send + 'static,
    {
        let queue = self.as_raw();
        // SAFETY: `queue` is live (type invariant) and the work item is `Send + 'static`,
        // so it may run on any thread at any later time. `queue_work_node` returns false
        // only if the `work_struct` is already pending, which `__enqueue` allows.
        unsafe {
            // `__enqueue` guarantees `work` is a valid `work_struct` that stays valid until
            // its function runs; `queue` is a live unbound workqueue.
            w.__enqueue(move |work| bindings::queue_work_node(node, queue, work))
        }
    }
}

/// An unbound workqueue owned by rasync, destroyed when dropped.
///
/// # Invariants
///
/// `ptr` was returned by `alloc_workqueue_noprof()` with `WQ_UNBOUND` and has not been
/// destroyed.
pub(crate) struct OwnedWorkqueue {
    ptr: NonNull<bindings::workqueue_struct>,
}

// SAFETY: the workqueue may be used and destroyed from any thread.
unsafe impl Send for OwnedWorkqueue {}
// SAFETY: all methods reachable through `&self` are thread-safe C calls.
unsafe impl Sync for OwnedWorkqueue {}

impl OwnedWorkqueue {
    /// Allocates an unbound workqueue called `name`, visible in sysfs.
    pub(crate) fn new_unbound(name: &'static CStr) -> Result<Self> {
        let flags = bindings::wq_flags_WQ_UNBOUND | bindings::wq_flags_WQ_SYSFS;
        let max_active = bindings::wq_consts_WQ_MAX_ACTIVE as i32;
        // SAFETY: the format "%s" reads exactly one variadic argument, `name`, a
        // NUL-terminated string.
        let ptr = unsafe {
            bindings::alloc_workqueue_noprof(
                c"%s".as_char_ptr(),
                flags,
                max_active,
                name.as_char_ptr(),
            )
        };
        // INVARIANT: `ptr` comes from `alloc_workqueue_noprof` with `WQ_UNBOUND`.
        Ok(Self {
            ptr: NonNull::new(ptr).ok_or(ENOMEM)?,
        })
    }
}

impl OwnedWorkqueue {
    /// Allocates an unbound workqueue for entries bound to a node: with `strict`, it is
    /// made to run them on that node's CPUs only (`affinity_scope=numa`,
    /// `affinity_strict=1`), else it keeps the system's best-effort placement.
    pub(crate) fn new_node_affine(name: &'static CStr, strict: bool) -> Result<Self> {
        let wq = Self::new_unbound(name)?;
        if strict {
            if let Err(e) = wq
                .set_sysfs_attr(name, c"affinity_scope", c"numa")
                .and_then(|()| wq.set_sysfs_attr(name, c"affinity_strict", c"1"))
            {
                pr_warn!(
                    "{name:?}: cannot make it strictly NUMA-affine ({e:?}); node placement is best effort\n"
                );
            }
        }
        Ok(wq)
    }

    /// Writes `val` to the workqueue's sysfs attribute `attr` (it has `WQ_SYSFS`).
    fn set_sysfs_attr(&self, name: &CStr, attr: &CStr, val: &CStr) -> Result {
        extern "C" {
            fn rasync_helper_wq_sysfs_write(
                wq: *const c_char,
                attr: *const c_char,
                val: *const c_char,
            ) -> c_int;
        }
        // SAFETY: the three strings are NUL-terminated and outlive the call.
        to_result(unsafe {
            rasync_helper_wq_sysfs_write(name.as_char_ptr(), attr.as_char_ptr(), val.as_char_ptr())
        })
    }
}

impl core::ops::Deref for OwnedWorkqueue {
    type Target = Workqueue;

    fn deref(&self) -> &Workqueue {
        // SAFETY: by the type invariant the workqueue lives as long as `self`.
        unsafe { Workqueue::from_raw(self.ptr.as_ptr()) }
    }
}

impl Drop for OwnedWorkqueue {
    fn drop(&mut self) {
        // SAFETY: by the type invariant the workqueue is live and, being dropped, is
        // destroyed only once. `destroy_workqueue` drains it first.
        unsafe { bindings::destroy_workqueue(self.ptr.as_ptr()) };
    }
}

#[kunit_tests(rasync_workqueue)]
mod tests {
    use super::*;
    use crate::{engine, numa};
    use core::sync::atomic::{AtomicU32, Ordering};
    use kernel::{
        impl_has_work, new_work,
        sync::{Arc, Completion},
        workqueue::{Work, WorkItem},
    };

    /// Records the CPU it ran on; never asserts (the test thread does).
    #[pin_data]
    struct Probe {
        #[pin]
        work: Work<Probe>,
        cpu: AtomicU32,
        #[pin]
        done: Completion,
    }

    impl_has_work! {
        impl HasWork<Self> for Probe { self.work }
    }

    impl WorkItem for Probe {
        type Pointer = Arc<Probe>;

        fn run(this: Arc<Probe>) {
            this.cpu
                .store(numa::raw_smp_processor_id(), Ordering::Relaxed);
            this.done.complete_all();
        }
    }

    /// Queues a probe on `node` of rasync's workqueue and returns the CPU it ran on.
    fn cpu_of_work_on(node: i32) -> Result<u32> {
        let queue = engine::get().ok_or(ENODEV)?.queue_for(node);
        let (node, wq) = (queue.node(), queue.wq());
        let probe = Arc::pin_init(
            pin_init!(Probe {
                work <- new_work!("rasync::wq::tests::Probe"),
                cpu: AtomicU32::new(u32::MAX),
                done <- Completion::new(),
            }),
            GFP_KERNEL,
        )?;
        wq.queue_work_node(node, probe.clone()).map_err(|_| EBUSY)?;
        probe.done.wait_for_completion();
        Ok(probe.cpu.load(Ordering::Relaxed))
    }

    #[test]
    fn queue_work_node_runs_on_that_node() -> Result {
        let mut nodes = 0;
        for node in numa::online_nodes() {
            nodes += 1;
            for _ in 0..8 {
                let cpu = cpu_of_work_on(node)?;
                assert_eq!(numa::cpu_to_node(cpu), node);
            }
        }
        assert!(nodes >= 1);
        Ok(())
    }

    #[test]
    fn invalid_node_still_runs() -> Result {
        for node in [numa::NUMA_NO_NODE, -7, 4096] {
            let cpu = cpu_of_work_on(node)?;
            assert!(cpu != u32::MAX);
        }
        Ok(())
    }
}
