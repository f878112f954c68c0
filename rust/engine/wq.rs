// SPDX-License-Identifier: GPL-2.0

//! The dedicated unbound workqueues that run rasync's entries.
//!
//! `kernel::workqueue` can neither create a workqueue nor queue work on a NUMA node, so
//! this file wraps `alloc_workqueue_noprof()`, `queue_work_node()` and
//! `destroy_workqueue()`. Work items are any [`RawWorkItem`], so the usual ownership
//! rules of `Pin<KBox<T>>` and `Arc<T>` work items apply unchanged.
//!
//! [`Workqueues`] holds `rasync`, for entries with no (or an invalid or offline) node,
//! and, with `numa_strict=1` (the default), one queue per node with CPUs,
//! `rasync_node<N>`, for the entries bound to node N. Both shapes come from what
//! `kernel/workqueue.c` gives a module:
//!
//! - **Concurrency.** `workqueue_set_min_active()` is not exported, so a module's queue
//!   keeps `min_active` = 8, where C raises its `async` queue's to `WQ_DFL_ACTIVE`
//!   (1024). `wq_update_node_max_active()` splits an unbound queue's `max_active` (at
//!   most `WQ_MAX_ACTIVE`, 2048) between nodes by their share of the queue's CPUs,
//!   never below `min_active`: on one queue for all nodes, a node with one CPU of four
//!   would run 512 work items at once, one of 256 CPUs 8, where C's node gets 1024, and
//!   more interdependent entries than that stall. A work item counts against the node
//!   of its pool, and a pool's node is `NUMA_NO_NODE`, allowed all 2048, when its CPUs
//!   span nodes (`get_unbound_pool()`). So `rasync_node<N>` is restricted to node N's
//!   possible CPUs (its sysfs `cpumask`): node N then holds all of that queue's CPUs
//!   and gets all 2048. And `rasync` has one pod for all CPUs (`affinity_scope=system`),
//!   so its pool spans the nodes and admits 2048 whichever node queued the work; on a
//!   single-node machine that node holds every CPU and gets 2048 as well. rasync's
//!   runners are work items of their own, so this bounds how many entries that sleep
//!   or wait for each other run at once: 2048 bound to each node, and 2048 with no node
//!   wherever they are queued. C's `async` (`max_active` 1024, `min_active` raised to
//!   1024) runs 1024 per node.
//! - **Placement.** `queue_work_node()` picks a CPU of the node; with the default,
//!   non-strict affinity the worker is only *started* in that CPU's pod and the
//!   scheduler may move it (seen in the 2-node guest). `rasync_node<N>`'s cpumask keeps
//!   its workers on node N's CPUs, always; within the node the system's affinity scope
//!   applies. `rasync`'s single pod leaves an entry with no node wherever the scheduler
//!   wakes the worker, where C's `async` starts it in the queuing CPU's pod.
//! - With `numa_strict=0` there are no per-node queues: entries bound to a node are
//!   queued with `queue_work_node()` on `rasync`, as C does on `async`, and get its
//!   2048; but with one pod for all CPUs their node no longer steers the worker at all,
//!   which C's best-effort placement does. Both together are out of a module's reach:
//!   a pool confined to one node counts against that node's share.
//!
//! The host sets the attributes: `apply_workqueue_attrs()` is not exported to modules,
//! so `rasync.ko` writes each queue's own sysfs files (`WQ_SYSFS`), under
//! `/sys/devices/virtual/workqueue/<name>/`; built into vmlinux, the engine applies them
//! directly, and raises `min_active` to `WQ_DFL_ACTIVE` as `kernel/async.c` does; with
//! that (1024 per node, whatever its share of the CPUs) the built-in `rasync` keeps the
//! system's default affinity scope, as `async`, and its runners start in the queuing
//! CPU's pod. If the module's sysfs writes fail, rasync warns: `rasync` then keeps the
//! system's scope, and a node whose queue cannot be restricted has its entries run on
//! `rasync`.
//!
//! A node whose CPUs are all offline gets `min_active` (8) on its queue; rasync sends its
//! entries to `rasync` meanwhile ([`crate::numa::node_has_cpus`]).
//!
//! # Examples
//!
//! ```ignore
//! let wqs = Workqueues::new(true)?;
//! wqs.for_node(node).queue_work_node(node, KBox::pin_init(item, GFP_KERNEL)?);
//! ```
//!
//! C header: [`include/linux/workqueue.h`](srctree/include/linux/workqueue.h)

use crate::numa;
use core::ptr::NonNull;
use kernel::{
    bindings,
    error::to_result,
    ffi::{c_char, c_int},
    prelude::*,
    str::CString,
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
    /// Allocates an unbound workqueue called `name` (with the host's flags: `WQ_SYSFS`
    /// for the module).
    fn new_unbound(name: &CStr) -> Result<Self> {
        // SAFETY: the host's function only returns a constant.
        let flags = bindings::wq_flags_WQ_UNBOUND | unsafe { rasync_host_wq_flags() };
        let max_active = bindings::wq_consts_WQ_MAX_ACTIVE as i32;
        // SAFETY: the format "%s" reads exactly one variadic argument, `name`, a
        // NUL-terminated string; the workqueue copies it.
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

    /// Allocates `name` with one pod for all CPUs (`affinity_scope=system`): its pool
    /// spans the nodes, so work queued from any node may have all of `max_active` active.
    fn new_system_wide(name: &CStr) -> Result<Self> {
        let wq = Self::new_unbound(name)?;
        // SAFETY: `wq` is live (type invariant) and `name` is NUL-terminated; both
        // outlive the call.
        let ret = unsafe { rasync_host_wq_system_wide(wq.as_raw(), name.as_char_ptr()) };
        if let Err(e) = to_result(ret) {
            pr_warn!(
                "{name:?}: cannot give it one pod for all CPUs ({e:?}); a node runs only its CPU share of {} entries at once\n",
                bindings::wq_consts_WQ_MAX_ACTIVE
            );
        }
        Ok(wq)
    }

    /// Allocates `rasync_node<node>`, restricted to `node`'s possible CPUs; `None` (with a
    /// warning) if it cannot be restricted.
    fn new_node(node: i32) -> Result<Option<Self>> {
        let name = CString::try_from_fmt(fmt!("rasync_node{node}"))?;
        let wq = Self::new_unbound(&name)?;
        // SAFETY: `wq` is live (type invariant) and `name` is NUL-terminated; both
        // outlive the call.
        let ret = unsafe { rasync_host_wq_node(wq.as_raw(), name.as_char_ptr(), node) };
        match to_result(ret) {
            Ok(()) => Ok(Some(wq)),
            Err(e) => {
                pr_warn!(
                    "{:?}: cannot restrict it to node {node}'s CPUs ({e:?}); entries bound to node {node} run on \"rasync\"\n",
                    &*name
                );
                Ok(None)
            }
        }
    }
}

// The host shapes the workqueues: `rasync.ko` through their sysfs files (`WQ_SYSFS`,
// `module/wq_sysfs.c`), the built-in engine with `apply_workqueue_attrs()` (not
// exported to modules). Each returns 0 or a negative errno.
extern "C" {
    fn rasync_host_wq_flags() -> u32;
    fn rasync_host_wq_system_wide(
        wq: *mut bindings::workqueue_struct,
        name: *const c_char,
    ) -> c_int;
    fn rasync_host_wq_node(
        wq: *mut bindings::workqueue_struct,
        name: *const c_char,
        node: c_int,
    ) -> c_int;
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

/// rasync's workqueues: `rasync` for any CPU, and with `numa_strict` one per node with
/// CPUs (see the module documentation).
///
/// # Invariants
///
/// `nodes` has one slot per possible node number (`nr_node_ids`); slot N holds
/// `rasync_node<N>`, restricted to node N's CPUs, or `None`.
pub(crate) struct Workqueues {
    any: OwnedWorkqueue,
    nodes: KVec<Option<OwnedWorkqueue>>,
}

impl Workqueues {
    /// Allocates `rasync`, and with `strict` a queue for each online node with possible
    /// CPUs.
    pub(crate) fn new(strict: bool) -> Result<Self> {
        let any = OwnedWorkqueue::new_system_wide(c"rasync")?;
        let nr = numa::nr_node_ids();
        let mut nodes = KVec::with_capacity(nr, GFP_KERNEL)?;
        for node in 0..nr as i32 {
            let wq = if strict && numa::node_has_possible_cpus(node) {
                OwnedWorkqueue::new_node(node)?
            } else {
                None
            };
            nodes.push(wq, GFP_KERNEL)?;
        }
        // INVARIANT: one slot per node number below `nr_node_ids`.
        Ok(Self { any, nodes })
    }

    /// Returns `rasync`, the queue for entries with no node.
    pub(crate) fn any(&self) -> &Workqueue {
        &self.any
    }

    /// Returns the queue for entries bound to `node`: `rasync_node<node>` if there is
    /// one, else `rasync` (`numa_strict=0`, no CPUs, or an invalid node).
    pub(crate) fn for_node(&self, node: i32) -> &Workqueue {
        let own = usize::try_from(node)
            .ok()
            .and_then(|i| self.nodes.get(i))
            .and_then(Option::as_ref);
        own.unwrap_or(&self.any)
    }
}

#[kunit_tests(rasync_workqueue)]
mod tests {
    use super::*;
    use crate::{engine, numa};
    use core::sync::atomic::{AtomicU32, AtomicUsize, Ordering};
    use kernel::{
        impl_has_work, new_work,
        sync::{Arc, Completion},
        workqueue::{Work, WorkItem},
    };

    /// Records the CPU it ran on, and the queue that "any CPU" entries scheduled there
    /// would join; never asserts (the test thread does).
    #[pin_data]
    struct Probe {
        #[pin]
        work: Work<Probe>,
        cpu: AtomicU32,
        any_queue: AtomicUsize,
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
            let any = engine::get().map_or(0, |e| {
                core::ptr::from_ref(e.queue_for(numa::NUMA_NO_NODE)) as usize
            });
            this.any_queue.store(any, Ordering::Relaxed);
            this.done.complete_all();
        }
    }

    /// Queues a probe on `node` of rasync's workqueue and returns the CPU it ran on.
    fn cpu_of_work_on(node: i32) -> Result<u32> {
        probe_on(node).map(|(cpu, _)| cpu)
    }

    /// Queues a probe on `node` of rasync's workqueue; returns the CPU it ran on and the
    /// address of the "any CPU" queue it saw.
    fn probe_on(node: i32) -> Result<(u32, usize)> {
        let queue = engine::get().ok_or(ENODEV)?.queue_for(node);
        let (node, wq) = (queue.node(), queue.wq());
        let probe = Arc::pin_init(
            pin_init!(Probe {
                work <- new_work!("rasync::wq::tests::Probe"),
                cpu: AtomicU32::new(u32::MAX),
                any_queue: AtomicUsize::new(0),
                done <- Completion::new(),
            }),
            GFP_KERNEL,
        )?;
        wq.queue_work_node(node, probe.clone()).map_err(|_| EBUSY)?;
        probe.done.wait_for_completion();
        Ok((
            probe.cpu.load(Ordering::Relaxed),
            probe.any_queue.load(Ordering::Relaxed),
        ))
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

    /// "Any CPU" entries join the queue of the node they are scheduled from, as
    /// async.c's join the worker pool of the scheduling CPU's node: one queue per node,
    /// the same for every CPU of a node, another for another node. With one queue for
    /// all, a probe scheduled on one node waited behind a burst scheduled on another.
    #[test]
    fn any_cpu_entries_queue_on_the_scheduling_node() -> Result {
        let mut seen = KVec::<(i32, usize)>::new();
        for node in numa::online_nodes() {
            if !numa::node_has_cpus(node) {
                continue;
            }
            for _ in 0..4 {
                let (cpu, any) = probe_on(node)?;
                assert_eq!(numa::cpu_to_node(cpu), node);
                assert_ne!(any, 0);
                for &(n, q) in seen.iter() {
                    let (same_node, same_queue) = (n == node, q == any);
                    assert_eq!(same_node, same_queue);
                }
                seen.push((node, any), GFP_KERNEL)?;
            }
        }
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
