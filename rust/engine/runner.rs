// SPDX-License-Identifier: GPL-2.0

//! Submission queues and their runners: how queued entries reach a CPU.
//!
//! `kernel/async.c` hands every entry to the workqueue as its own work item: one
//! `queue_work_node()` (pool lock, worker wake-up) and one `process_one_work()` per
//! entry. rasync instead keeps one FIFO submission queue per node with online CPUs, plus
//! one per node for "any CPU" entries scheduled from that node's CPUs, each drained by
//! *runners*: work items on rasync's workqueues that run the queue's entries one after
//! another until it is empty, as the 2009 async thread pool did. A burst of entries then
//! costs one work item per runner, not one per entry, and an entry needs no
//! `work_struct` (an 8-byte queue link instead).
//!
//! Runners scale themselves, so that entries which sleep, or wait for each other, all run
//! at once as they would as separate work items:
//!
//! - a queue counts its runners that will look at it again before they stop
//!   (`searching`): a runner between two entries, or queued and not yet started;
//! - a push that finds no searching runner starts one;
//! - a runner that takes an entry while others are still queued starts another runner
//!   first if it was the only one searching, so an entry that sleeps never holds up the
//!   ones behind it;
//! - a helper that starts to find no entry of its queue returned since it was asked for
//!   (the running ones sleep: a burst of probes or suspend callbacks waiting for I/O or
//!   timers) starts two, as long as there are queued entries for them, so such a burst
//!   has runners after log2(n) wake-ups rather than n, near kernel/async.c, which wakes
//!   an idle worker for each item. Short entries return while the helper wakes up, so
//!   their bursts are not charged for wake-ups they do not need;
//! - a runner stops only when it finds the queue empty, in the same critical section.
//!
//! A runner completes the waiters that its entry unblocked once it has popped its next
//! entry, or found none: then it is about to stop and its CPU to go idle, so the first
//! waiter is placed on this CPU (`complete_on_current_cpu()`), where the entry's data
//! is in the cache, instead of waking an idle CPU for it, and the runner offers it
//! the CPU at once ([`crate::wait::yield_to_wakee`]).
//!
//! Every decision is made under the queue's lock, so no entry can be pushed unseen while
//! the last runner stops. Runners that stop are kept on the queue (`idle`) for reuse and
//! freed with it. A push that needs a new runner allocates it with `GFP_ATOMIC` (the
//! scheduler may have interrupts off); if none can be had, the push fails and the caller
//! runs its entry itself (the synchronous fallback, as when the entry cannot be
//! allocated, and as kernel/async.c, which allocates only at schedule time). A runner
//! that needs a helper and finds none idle allocates it in its own process context with
//! `GFP_KERNEL`, counted as searching meanwhile, and starts it before it runs its entry:
//! a helper is never lost to an atomic allocation, so an entry that waits for the ones
//! queued behind it cannot stall its queue.
//!
//! A node's queue runs its runners on the node's own workqueue, `rasync_node<N>`
//! (restricted to its CPUs), with `queue_work_node()`, the "any CPU" queues on `rasync`,
//! as in [`crate::wq`].
//!
//! "Any CPU" entries go to the queue of the node they are scheduled from, as
//! `kernel/async.c`'s go to the worker pool of the scheduling CPU's node: with one queue
//! for all nodes, a probe scheduled on one node waited in the FIFO behind a burst
//! scheduled on another (AHCI's port probes behind NVMe's 64 namespace scans, ~40 ms at
//! boot), where async.c's other pool starts it at once. Each queue is FIFO; entries
//! scheduled from different nodes have no start order between them, as in async.c.
//!
//! # Invariants (of a queue, under its lock)
//!
//! - `entries` ([`EntryFifo`]) holds the queued entries, in arrival order.
//! - `searching` is the number of runners queued or running that will pop again before
//!   stopping, including a helper that its runner is still allocating; it is at least 1
//!   whenever the list is non-empty.
//! - `returned` counts the entries whose runner came back to the queue after them.
//! - `idle` is a list, through `Runner::next`, of runners owned by the queue (from
//!   `KBox::into_raw`) that are neither queued nor running.
//!
//! # Examples
//!
//! ```ignore
//! let queues = Queues::new(&wqs)?;
//! if let Err(entry) = queues.for_node(node).push(entry) {
//!     run_it_here(entry);
//! }
//! ```
//!
//! C header: [`include/linux/workqueue.h`](srctree/include/linux/workqueue.h)

use crate::{
    domain::{Domain, Woken},
    entry::EntryBox,
    fifo::EntryFifo,
    lock::IrqSpinLock,
    numa,
    owner::{self, Pending},
    wq::{Workqueue, Workqueues},
};
use core::{cell::UnsafeCell, ptr::null_mut};
use kernel::{
    alloc::flags::__GFP_NOWARN,
    bindings,
    ffi::c_void,
    impl_has_work, new_work,
    prelude::*,
    workqueue::{Work, WorkItem},
};

/// A runner: a work item that runs its queue's entries until the queue is empty.
///
/// # Invariants
///
/// `queue` outlives the runner; `next` is used only while the runner is idle;
/// `asked_at` is the queue's `returned` count when the runner was last started as a
/// helper, [`NOT_A_HELPER`] when it was started by a push.
#[pin_data]
pub(crate) struct Runner {
    #[pin]
    work: Work<Runner>,
    queue: *const Queue,
    next: *mut Runner,
    asked_at: u64,
}

/// `Runner::asked_at` of a runner a push started (`returned` never gets that far).
const NOT_A_HELPER: u64 = u64::MAX;

// SAFETY: a runner refers only to its queue, which is `Sync` and outlives it.
unsafe impl Send for Runner {}

impl_has_work! {
    impl HasWork<Self> for Runner { self.work }
}

impl Runner {
    fn new(queue: &Queue, asked_at: u64) -> impl PinInit<Self> {
        let queue = core::ptr::from_ref(queue);
        pin_init!(Self {
            work <- new_work!("rasync::Runner::work"),
            queue,
            next: null_mut(),
            asked_at,
        })
    }

    /// Records how the runner is started next (see `asked_at`).
    fn set_asked_at(this: &mut Pin<KBox<Runner>>, asked_at: u64) {
        // SAFETY: `asked_at` is not structurally pinned; nothing is moved.
        unsafe { this.as_mut().get_unchecked_mut().asked_at = asked_at };
    }
}

impl WorkItem for Runner {
    type Pointer = Pin<KBox<Runner>>;

    fn run(this: Pin<KBox<Runner>>) {
        // SAFETY: the queue outlives its runners (type invariant).
        let queue = unsafe { &*this.queue };
        queue.run(this);
    }
}

/// A helper runner a runner starts before it runs its entry.
enum Helper {
    /// None needed: the queue is empty, or another runner will look at it.
    None,
    /// One the queue kept idle.
    Idle(Pin<KBox<Runner>>),
    /// None is idle: allocate one outside the lock (counted as searching already).
    Allocate,
}

impl Helper {
    /// Takes a runner the queue keeps idle for a helper, or asks for an allocation.
    fn take(s: &mut State) -> Self {
        match s.take_idle() {
            Some(idle) => Helper::Idle(idle),
            None => Helper::Allocate,
        }
    }
}

/// The lock-protected part of a queue.
struct State {
    entries: EntryFifo,
    searching: u32,
    returned: u64,
    idle: *mut Runner,
    /// Entries popped to run (debugfs "ran async"; counted here, under the lock the
    /// runner holds anyway).
    started: u64,
    /// Helpers that found no entry returned since they were asked for and started two
    /// (debugfs "runner doublings").
    doublings: u64,
}

impl State {
    /// Returns an idle runner of `queue`, or a new one, counted as searching.
    fn take_runner(&mut self, queue: &Queue) -> Option<Pin<KBox<Runner>>> {
        let runner = match self.take_idle() {
            Some(mut runner) => {
                Runner::set_asked_at(&mut runner, NOT_A_HELPER);
                runner
            }
            None => {
                KBox::pin_init(Runner::new(queue, NOT_A_HELPER), GFP_ATOMIC | __GFP_NOWARN).ok()?
            }
        };
        self.searching += 1;
        Some(runner)
    }

    /// Returns an idle runner, if the queue keeps one (not counted as searching).
    fn take_idle(&mut self) -> Option<Pin<KBox<Runner>>> {
        if self.idle.is_null() {
            return None;
        }
        let runner = self.idle;
        // SAFETY: idle runners are owned by the queue (invariant), from `KBox::into_raw`
        // of a pinned box; ownership passes to the caller.
        unsafe {
            self.idle = (*runner).next;
            Some(Pin::new_unchecked(KBox::from_raw(runner)))
        }
    }

    fn put_idle(&mut self, runner: Pin<KBox<Runner>>) {
        // SAFETY: the queue keeps the runner in place until `take_runner` or drop.
        let runner = KBox::into_raw(unsafe { Pin::into_inner_unchecked(runner) });
        // SAFETY: `runner` is valid and now owned by the queue.
        unsafe { (*runner).next = self.idle };
        self.idle = runner;
    }
}

/// One submission queue.
///
/// # Invariants
///
/// `lock` is initialised and protects `state` (see the module invariants); `wq` is a
/// live workqueue for the queue's lifetime.
pub(crate) struct Queue {
    lock: UnsafeCell<bindings::spinlock_t>,
    state: UnsafeCell<State>,
    node: i32,
    wq: *const Workqueue,
}

// SAFETY: the state is only touched under the lock; the workqueue is thread-safe.
unsafe impl Sync for Queue {}
// SAFETY: as above.
unsafe impl Send for Queue {}

impl Queue {
    /// Runs `f` on the state with the queue's lock held.
    fn with_locked<R>(&self, f: impl FnOnce(&mut State) -> R) -> R {
        // SAFETY: the lock is initialised (type invariant) and lives as long as `self`.
        let lock = unsafe { IrqSpinLock::from_raw(self.lock.get()) };
        let _guard = lock.lock_irqsave();
        // SAFETY: the lock is held, so this is the only reference to the state.
        f(unsafe { &mut *self.state.get() })
    }

    /// Returns the node the queue's runners are queued on ([`numa::NUMA_NO_NODE`]: any).
    pub(crate) fn node(&self) -> i32 {
        self.node
    }

    /// Returns the workqueue the queue's runners run on.
    pub(crate) fn wq(&self) -> &Workqueue {
        // SAFETY: the workqueue outlives the queue (type invariant).
        unsafe { &*self.wq }
    }

    fn start(&self, runner: Pin<KBox<Runner>>) {
        self.wq().queue_work_node(self.node, runner);
    }

    /// Allocates a helper runner in a runner's process context, where it may sleep: the
    /// entries behind the one this runner is about to run must not wait for it. Tries
    /// again until the allocation succeeds (it fails only under fault injection or
    /// extreme memory pressure), as a runner has no caller to fall back to.
    fn new_runner(&self, asked_at: u64) -> Pin<KBox<Runner>> {
        loop {
            if let Ok(runner) =
                KBox::pin_init(Runner::new(self, asked_at), GFP_KERNEL | __GFP_NOWARN)
            {
                return runner;
            }
            // SAFETY: a runner runs in process context, where it may sleep.
            unsafe { bindings::msleep(1) };
        }
    }

    /// Starts `helper`, asked for at `asked_at` (the queue's `returned`).
    fn start_helper(&self, helper: Helper, asked_at: u64) {
        match helper {
            Helper::None => {}
            Helper::Idle(mut idle) => {
                Runner::set_asked_at(&mut idle, asked_at);
                self.start(idle);
            }
            Helper::Allocate => self.start(self.new_runner(asked_at)),
        }
    }

    /// Queues `entry` to be run by a runner; gives it back if none can be had.
    pub(crate) fn push(&self, entry: EntryBox) -> Result<(), EntryBox> {
        let runner = self.with_locked(|s| {
            let runner = if s.searching == 0 {
                match s.take_runner(self) {
                    Some(runner) => Some(runner),
                    None => return Err(entry),
                }
            } else {
                None
            };
            s.entries.push(entry);
            Ok(runner)
        })?;
        if let Some(runner) = runner {
            self.start(runner);
        }
        Ok(())
    }

    /// The body of a runner: pops and runs entries until the queue is empty.
    fn run(&self, runner: Pin<KBox<Runner>>) {
        let asked_at = runner.asked_at;
        let mut runner = Some(runner);
        // The queue's `returned` when this runner last asked for helpers.
        let mut asked = 0;
        // A runner counts as searching from its start until it pops an entry or stops;
        // after an entry it looks again in one critical section, so it is not counted
        // again in between.
        let mut counted = true;
        // The waiters that the last entry unblocked, completed once the runner has its
        // next entry or stops.
        pin_init::stack_pin_init!(let woken = Woken::new());
        loop {
            let (entry, helper, second) = self.with_locked(|s| {
                // Just started: has no entry of the queue returned since it was asked
                // for (the runners in them sleep)?
                let stalled = counted && asked_at == s.returned;
                if counted {
                    s.searching -= 1;
                } else {
                    s.returned = s.returned.wrapping_add(1);
                }
                let Some(entry) = s.entries.pop() else {
                    // Stopping: nothing of the runner is touched once it is idle.
                    if let Some(runner) = runner.take() {
                        s.put_idle(runner);
                    }
                    return (None, Helper::None, Helper::None);
                };
                s.started = s.started.wrapping_add(1);
                // Stalled: helpers for as many queued entries as no runner searches for,
                // two at most (so the queue is counted no further than that).
                let (grow, queued) = if stalled {
                    let queued = s.entries.count_up_to(s.searching + 2);
                    (queued > s.searching, queued)
                } else {
                    (s.searching == 0 && !s.entries.is_empty(), 0)
                };
                if !grow {
                    return (Some(entry), Helper::None, Helper::None);
                }
                // Counted as searching from here, so no push starts another one while
                // this runner allocates them.
                s.searching += 1;
                asked = s.returned;
                let helper = Helper::take(s);
                // Stalled: a second one too.
                let second = if stalled && queued > s.searching {
                    s.searching += 1;
                    s.doublings = s.doublings.wrapping_add(1);
                    Helper::take(s)
                } else {
                    Helper::None
                };
                (Some(entry), helper, second)
            });
            if !matches!(helper, Helper::None) {
                self.start_helper(helper, asked);
                self.start_helper(second, asked);
            }
            // Stopping, this CPU is about to go idle: the first waiter runs here, and
            // first, rather than on an idle CPU woken for it.
            let stopping = entry.is_none();
            if crate::engine::wake(&woken, stopping) > 0 && stopping {
                crate::wait::yield_to_wakee();
            }
            let Some(entry) = entry else {
                return;
            };
            crate::engine::run_entry(entry, &woken);
            counted = false;
        }
    }
}

impl Drop for Queue {
    fn drop(&mut self) {
        let state = self.state.get_mut();
        if !state.entries.is_empty() || state.searching != 0 {
            pr_err!("dropping a submission queue with entries or runners\n");
        }
        while !state.idle.is_null() {
            let runner = state.idle;
            // SAFETY: idle runners are owned by the queue (type invariant); none is queued
            // or running any more, as the workqueues are destroyed first.
            unsafe {
                state.idle = (*runner).next;
                drop(KBox::from_raw(runner));
            }
        }
    }
}

/// The submission queues: one per possible node, then one "any CPU" queue per possible
/// node, for the entries scheduled there.
///
/// # Invariants
///
/// `queues` holds `2 * nr_node_ids` initialised queues and is never resized.
pub(crate) struct Queues {
    queues: KVec<Queue>,
}

impl Queues {
    /// Sets up the queues: a node's runners go to its workqueue in `wqs`, the others'
    /// to `wqs.any()`.
    ///
    /// # Safety
    ///
    /// The workqueues must outlive the queues, and be destroyed (drained) before them.
    pub(crate) unsafe fn new(wqs: &Workqueues) -> Result<Self> {
        let nr = numa::nr_node_ids();
        let mut queues = KVec::<Queue>::with_capacity(2 * nr, GFP_KERNEL)?;
        let base = queues.spare_capacity_mut().as_mut_ptr().cast::<Queue>();
        for i in 0..2 * nr {
            let (node, wq) = if i < nr {
                (i as i32, wqs.for_node(i as i32))
            } else {
                (numa::NUMA_NO_NODE, wqs.any())
            };
            // SAFETY: `base + i` is inside the spare capacity; each queue is written once,
            // in place (the vector is never resized), before the length covers it.
            unsafe {
                let q = base.add(i);
                (&raw mut (*q).state).write(UnsafeCell::new(State {
                    entries: EntryFifo::new(),
                    searching: 0,
                    returned: 0,
                    idle: null_mut(),
                    started: 0,
                    doublings: 0,
                }));
                (&raw mut (*q).node).write(node);
                (&raw mut (*q).wq).write(core::ptr::from_ref(wq));
                IrqSpinLock::init(
                    (*q).lock.get(),
                    c"rasync_queue",
                    kernel::static_lock_class!().get_ref(),
                );
            }
        }
        // SAFETY: the first `2 * nr` queues were initialised above.
        unsafe { queues.inc_len(2 * nr) };
        // INVARIANT: `2 * nr` initialised queues; the caller keeps the workqueues alive.
        Ok(Self { queues })
    }

    /// Writes to `out`, from index `*n` on, the functions of `owner`'s queued entries,
    /// and whether a runner will look at their queue.
    pub(crate) fn queued_funcs(&self, owner: *const c_void, out: &mut [Pending], n: &mut usize) {
        for queue in self.queues.iter() {
            queue.with_locked(|s| {
                let state = if s.searching == 0 {
                    owner::QUEUED_NO_RUNNER
                } else {
                    owner::QUEUED
                };
                s.entries.for_each_while(|e| {
                    if e.owner.cast_const() == owner && *n < out.len() {
                        out[*n] = Pending {
                            func: Some(e.func),
                            state,
                        };
                        *n += 1;
                    }
                    *n < out.len()
                })
            });
        }
    }

    /// Returns the sum over all queues of the counter `count` reads.
    fn sum(&self, count: impl Fn(&State) -> u64) -> u64 {
        self.queues
            .iter()
            .map(|q| q.with_locked(|s| count(s)))
            .sum()
    }

    /// Returns how many entries the runners of all queues have started.
    pub(crate) fn started(&self) -> u64 {
        self.sum(|s| s.started)
    }

    /// Returns how many helpers of all queues started two helpers (see the module doc).
    pub(crate) fn doublings(&self) -> u64 {
        self.sum(|s| s.doublings)
    }

    /// Takes every queued entry of `domain` off the queues.
    pub(crate) fn take_domain(&self, domain: &Domain) -> EntryFifo {
        let domain = core::ptr::from_ref(domain);
        let mut taken = EntryFifo::new();
        for queue in self.queues.iter() {
            taken.append(queue.with_locked(|s| s.entries.take_if(|e| e.domain == domain)));
        }
        taken
    }

    /// Returns the queue for entries bound to `node`: its own if it has online CPUs, else
    /// the "any CPU" queue of the node the caller runs on (see [`numa::node_has_cpus`]).
    pub(crate) fn for_node(&self, node: i32) -> &Queue {
        let nr = self.queues.len() / 2;
        // The common case, "any node", without the out-of-line check.
        let i = if node != numa::NUMA_NO_NODE && numa::node_has_cpus(node) {
            node as usize
        } else {
            // A CPU's node is below `nr_node_ids`; `min` keeps the index in range anyway.
            nr + (numa::numa_node_id().max(0) as usize).min(nr - 1)
        };
        &self.queues[i]
    }
}
