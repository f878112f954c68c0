// SPDX-License-Identifier: GPL-2.0

//! The engine: cookies, scheduling, the synchronous fallback, and synchronization.
//!
//! This is `kernel/async.c` with its one global lock and one wait queue split up:
//!
//! - **Cookies** come from one atomic counter, starting at 1, strictly increasing. A
//!   cookie is taken while holding the lock of the lists the entry joins (an exclusive
//!   domain's own; the global list's for a registered domain, whose lists share it), so
//!   each list stays in cookie order without one lock for all of them. Scheduling in an
//!   exclusive domain touches no global lock at all.
//! - **Waiting**: `synchronize_cookie_domain(c, d)` returns once every entry of `d` with
//!   a cookie below `c` has finished (`lowest_in_progress(d) >= c`), exactly as in C;
//!   `d = None` means the global list of registered domains. A waiter that must sleep
//!   parks on its own completion in the list's cookie-ordered waiter list; a finishing
//!   entry that was the lowest of a list completes just the waiters whose cookie is now
//!   reached, after dropping the lock. C wakes every waiter on every completion.
//! - **Fallback**: if the entry cannot be allocated (`GFP_ATOMIC`) or more than
//!   `max_work` entries are pending, the function runs synchronously in the caller with
//!   a fresh cookie, as in C. `schedule_dev_nocall()` returns `false` instead.
//! - **Running**: a queued entry goes on its node's submission queue, which
//!   self-scaling runners drain ([`crate::runner`]), instead of being a work item of its
//!   own.
//! - **Limits and cancellation** (beyond async.c): a domain with `max_active` admits
//!   that many entries to the runners and holds the rest, in cookie order, until one
//!   retires ([`crate::domain`]); [`Engine::cancel_domain`] retires the entries not yet
//!   started (held, or still on a submission queue) without calling them.
//! - **Unload** waits on a simple wait queue until no entry is pending.
//!
//! Deliberate differences from `kernel/async.c`:
//!
//! - Locking and wake-ups, as above: per-domain locks for exclusive domains, targeted
//!   wake-ups; runners instead of one work item per entry.
//! - A synchronize called from inside an async function that would wait for that very
//!   function (it is in the waited-for list with a lower cookie) does not wait for the
//!   function itself, with a one-time warning; async.c deadlocks there. It still waits
//!   for every other entry of the list below its cookie that can run, including ones
//!   scheduled after the caller, and skips only those that can finish only after the
//!   caller: entries that wait from inside in the same way for it, if their cookie is
//!   higher (of two such entries waiting for each other, the lower goes first), and
//!   entries of its domain held behind its cap while every slot is taken by the caller
//!   or by such entries (any other slot holder is waited for, and once it finishes the
//!   entry it lets start is waited for too). Longer cycles through
//!   several lists still deadlock, as in C. This slow path is taken only from inside an
//!   entry of the list ([`crate::domain`] keeps its waiter on the list; it re-checks
//!   when the entry it found it must wait for retires); other synchronizes are
//!   untouched, and while no such waiter exists a retiring entry pays one load for it.
//! - Entries bound to a node with online CPUs go to that node's own workqueue,
//!   `rasync_node<N>`, restricted to the node's CPUs, so they always run on that node;
//!   C's placement is best effort. `numa_strict=0` sends them to `rasync` instead, with
//!   no placement by node (see [`crate::wq`]).
//! - `workqueue_set_min_active()` is not exported, so the workqueues keep the default
//!   `min_active` of 8; their shapes give every node 2048 work items at once instead
//!   (C: at least 1024; see [`crate::wq`]).
//! - Bad input is refused with a message instead of crashing: a NULL function (cookie 0,
//!   nothing to run); a NULL domain to schedule on, or one never initialised with
//!   `RASYNC_DOMAIN()` (the call runs synchronously with the next cookie, nothing is
//!   lost); a NULL device for `_nocall` (`false`).
//! - `rasync_schedule_dev_nocall()` is exported, and `rasync_schedule_node_nocall()`,
//!   `rasync_domain_create()`/`rasync_domain_destroy()` and `rasync_dev_to_node()` are
//!   added; `max_work` is a module parameter (default 32768 = `MAX_WORK`).
//!
//! Invariants of the lists (cookie order, which lists an entry is on, when a waiter is
//! woken) are stated in [`crate::domain`].
//!
//! # Examples
//!
//! ```ignore
//! let cookie = engine.schedule_node_domain(func, data, NUMA_NO_NODE, engine.dfl_domain(), owner);
//! engine.synchronize_cookie_domain(cookie + 1, Some(engine.dfl_domain()));
//! ```

use crate::{
    counters::{Counters, GlobalCounts},
    domain::{Domain, Link, Waiter, Woken, COOKIE_MAX},
    entry::{Call, Entry, EntryBox, EntryCache, Func},
    fifo::EntryFifo,
    observe::{self, Why},
    owner::{self, Owners, Pending, Refused},
    registry::{Registry, UNSEEN},
    runner::{Queue, Queues},
    running::{Current, Record, Running},
    wait::SwaitQueue,
    wq::Workqueues,
};
use core::{
    ptr::null_mut,
    sync::atomic::{AtomicPtr, AtomicU32, AtomicU64, Ordering},
};
use kernel::{
    bindings::{self, list_head},
    ffi::c_void,
    prelude::*,
};

extern "C" {
    fn rasync_param_numa_strict() -> bool;
    fn rasync_trace_calling(cookie: u64, func: Func) -> bindings::ktime_t;
    fn rasync_trace_returned(cookie: u64, func: Func, start: bindings::ktime_t);
    fn rasync_trace_waiting() -> bindings::ktime_t;
    fn rasync_trace_continuing(start: bindings::ktime_t);
    fn rasync_helper_in_task() -> bool;
    fn rasync_warn_going(module: Owner, func: Func);
}

/// The module on whose behalf an entry is scheduled (`THIS_MODULE` of the caller); null
/// for built-in code, which is never unloaded.
pub(crate) type Owner = *mut c_void;

/// Global state of the loaded module.
///
/// # Invariants
///
/// `entry_count` is the number of entries allocated and not yet freed; `global` holds
/// exactly the pending entries of registered domains, through their global links.
/// `queues` hand their runners to `wqs`, which are dropped (drained) first;
/// `entry_cache` outlives every entry.
#[pin_data]
pub(crate) struct Engine {
    wqs: Workqueues,
    queues: Queues,
    running: Running,
    owners: Owners,
    counters: Counters,
    #[pin]
    registry: Registry,
    #[pin]
    dfl_domain: Domain,
    #[pin]
    global: Domain,
    #[pin]
    drained: SwaitQueue,
    /// The number of synchronizes waiting from inside an entry
    /// ([`Engine::synchronize_in_entry`]): while there are any, a retiring entry looks
    /// for those it blocked.
    in_entry_waiters: AtomicU32,
    next_cookie: AtomicU64,
    entry_count: AtomicU32,
    /// Last: dropped once every entry is freed and the queues are gone.
    entry_cache: EntryCache,
}

/// The engine of the loaded module, or null outside its lifetime.
static ENGINE: AtomicPtr<Engine> = AtomicPtr::new(null_mut());

/// Returns the engine while the module is loaded.
pub(crate) fn get() -> Option<&'static Engine> {
    let ptr = ENGINE.load(Ordering::Acquire);
    // SAFETY: a non-null `ENGINE` points to the engine pinned in the module object; it
    // is withdrawn in `Engine::unpublish` only once no caller of rasync can remain.
    (!ptr.is_null()).then(|| unsafe { &*ptr })
}

impl Engine {
    /// Returns an initialiser: the workqueue, the default domain and the global list.
    pub(crate) fn new() -> impl PinInit<Self, Error> {
        // SAFETY: the helper only reads the module parameter.
        let wqs = Workqueues::new(unsafe { rasync_param_numa_strict() });
        let queues = match &wqs {
            // SAFETY: the queues are a field of the engine declared after the workqueues,
            // so they are dropped after them, once their runners have been drained.
            Ok(wqs) => unsafe { Queues::new(wqs) },
            Err(_) => Err(ENOMEM),
        };
        try_pin_init!(Self {
            wqs: wqs?,
            queues: queues?,
            running: Running::new()?,
            owners: Owners::new()?,
            counters: Counters::default(),
            registry <- Registry::new(),
            dfl_domain <- Domain::new(true, c"rasync_dfl_domain", kernel::static_lock_class!()),
            global <- Domain::new(false, c"rasync_global", kernel::static_lock_class!()),
            drained <- SwaitQueue::new(c"rasync::drained", kernel::static_lock_class!()),
            in_entry_waiters: AtomicU32::new(0),
            next_cookie: AtomicU64::new(1),
            entry_count: AtomicU32::new(0),
            entry_cache: EntryCache::new()?,
        })
    }

    /// Makes this engine the one the exported functions use.
    pub(crate) fn publish(self: Pin<&Self>) {
        crate::domain::set_global(Some(&self.global));
        self.registry.add(&self.dfl_domain);
        ENGINE.store(
            core::ptr::from_ref(self.get_ref()).cast_mut(),
            Ordering::Release,
        );
    }

    /// Waits until no entry is pending, then withdraws the engine.
    pub(crate) fn unpublish(&self) {
        self.drained
            .wait_event(|| self.entry_count.load(Ordering::Acquire) == 0);
        if !self.dfl_domain.is_idle() || !self.global.is_idle() || !self.owners.is_empty() {
            pr_err!("unloading with entries or waiters still listed\n");
        }
        ENGINE.store(null_mut(), Ordering::Release);
        crate::domain::set_global(None);
    }

    /// Returns the submission queue for entries bound to `node`: the node's own, on the
    /// node-affine workqueue, if the node has online CPUs, else the "any CPU" queue of
    /// the node the caller runs on (a node without online CPUs means "any CPU", see
    /// `numa::node_has_cpus`).
    pub(crate) fn queue_for(&self, node: i32) -> &Queue {
        self.queues.for_node(node)
    }

    /// Returns the default (registered) domain used by `schedule()` and friends.
    pub(crate) fn dfl_domain(&self) -> &Domain {
        &self.dfl_domain
    }

    /// A module comes: gives it an owner record ([`crate::owner`]).
    pub(crate) fn open_owner(&self, module: Owner) {
        self.owners.open(module);
    }

    /// Returns whether `module` has entries pending.
    pub(crate) fn owner_busy(&self, module: Owner) -> bool {
        self.owners.busy(module)
    }

    /// Waits until `module` has no queued entry (module notifier, [`crate::owner`]).
    pub(crate) fn drain_owner(&self, module: Owner, going: bool) {
        self.owners.drain(module, going, |owner, out| {
            let mut n = 0;
            self.running.running_funcs(owner, out, &mut n);
            self.queues.queued_funcs(owner, out, &mut n);
            // Held entries of the domains debugfs lists (not those of stack domains).
            self.registry.for_each(|domain| {
                let guard = domain.lock();
                domain.for_each_held_locked(&guard, |e| {
                    if e.owner.cast_const() == owner && n < out.len() {
                        out[n] = Pending {
                            func: Some(e.func),
                            state: owner::HELD,
                        };
                        n += 1;
                    }
                    n < out.len()
                });
            });
            n
        });
        if going {
            // Its static domains go with its memory.
            self.registry.forget_module(module);
        }
    }

    /// Returns the list of domains debugfs shows.
    pub(crate) fn registry(&self) -> &Registry {
        &self.registry
    }

    /// Fills in the global counters (debugfs `rasync/stats`).
    pub(crate) fn global_counts(&self, out: &mut GlobalCounts) {
        self.counters.fill(out);
        out.scheduled = self.next_cookie.load(Ordering::Relaxed) - 1;
        out.started = self.queues.started();
        out.doublings = self.queues.doublings();
        out.pending = self.pending();
    }

    /// Returns the number of entries allocated and not yet freed.
    pub(crate) fn pending(&self) -> u32 {
        self.entry_count.load(Ordering::Relaxed)
    }

    fn take_cookie(&self) -> u64 {
        self.next_cookie.fetch_add(1, Ordering::Relaxed)
    }

    /// Schedules `func(data, cookie)` on `node` in `domain` on behalf of `owner`, or runs
    /// it now if the entry cannot be allocated, too much work is pending or `owner` is
    /// being removed. Callable with interrupts off.
    pub(crate) fn schedule_node_domain(
        &self,
        func: Func,
        data: *mut c_void,
        node: i32,
        domain: &Domain,
        owner: Owner,
    ) -> u64 {
        self.schedule_call(Call::Void(func), None, data, node, domain, owner)
    }

    /// Like [`Engine::schedule_node_domain`] for either kind of function; if
    /// [`Engine::cancel_domain`] cancels the entry before it starts, `cancel(data,
    /// cookie)` is called instead. A result function's error goes to `domain`.
    pub(crate) fn schedule_call(
        &self,
        call: Call,
        cancel: Option<Func>,
        data: *mut c_void,
        node: i32,
        domain: &Domain,
        owner: Owner,
    ) -> u64 {
        let init = Entry::new(call, cancel, data, node, domain, observe::observing());
        let why = match EntryBox::new(init, bindings::GFP_ATOMIC) {
            Ok(entry) if !self.too_busy() => match self.queue(entry, domain, owner) {
                Ok(cookie) => return cookie,
                Err(why) => why,
            },
            Ok(_) => Why::MaxWork,
            Err(_) => Why::NoMemory,
        };
        self.run_now(call, data, node, Some(domain), why)
    }

    /// The synchronous fallback: takes the next cookie and calls the function in the
    /// caller, for `why`; a result goes to `domain` (none: a NULL or bad domain).
    pub(crate) fn run_now(
        &self,
        call: Call,
        data: *mut c_void,
        node: i32,
        domain: Option<&Domain>,
        why: Why,
    ) -> u64 {
        let cookie = self.take_cookie();
        self.counters.note_sync(why);
        if let Some(domain) = domain {
            domain.note_sync();
        }
        if observe::observing() {
            let d = domain.map_or(core::ptr::null(), core::ptr::from_ref);
            observe::schedule(cookie, call.addr(), node, d, why);
        }
        // SAFETY: the caller vouches for the function and `data`, as in C; running the
        // function synchronously is the documented fallback.
        let result = unsafe { call.call(data, cookie) };
        if result != 0 {
            self.note_failed(result, call.addr());
            if let Some(domain) = domain {
                domain.record_result(result, cookie);
            }
        }
        cookie
    }

    /// Counts a result function's error; a positive one is not an errno.
    fn note_failed(&self, result: c_int, func: Func) {
        self.counters.note_failed();
        if result > 0 {
            kernel::pr_warn_once!(
                "result function {:p} returned {result}, not 0 or a negative errno; recorded as is\n",
                func as *const c_void
            );
        }
    }

    /// Like [`Engine::schedule_node_domain`] in the default domain, but never runs `func`
    /// synchronously: returns `None` if it could not be queued.
    pub(crate) fn schedule_nocall(
        &self,
        func: Func,
        data: *mut c_void,
        node: i32,
        owner: Owner,
    ) -> Option<u64> {
        // GFP_KERNEL, as async_schedule_dev_nocall() uses: it may sleep.
        let init = Entry::new(Call::Void(func), None, data, node, &self.dfl_domain, false);
        let queued = match EntryBox::new(init, bindings::GFP_KERNEL) {
            Ok(entry) if !self.too_busy() => self.queue(entry, &self.dfl_domain, owner).ok(),
            _ => None,
        };
        if queued.is_none() {
            self.counters.note_refused();
        }
        queued
    }

    fn too_busy(&self) -> bool {
        self.entry_count.load(Ordering::Relaxed) > crate::params::max_work()
    }

    /// Attaches the entry to `owner`, takes a cookie, links the entry on `domain` (its
    /// own) and queues it, or leaves it held by the domain if its `max_active` entries
    /// are running. Returns why not, dropping the entry, if `owner` refuses it.
    fn queue(&self, mut entry: EntryBox, domain: &Domain, owner: Owner) -> Result<u64, Why> {
        match self.owners.attach(owner, entry.as_mut()) {
            Ok(()) => {}
            Err(Refused::Going) => {
                // SAFETY: the helper only prints; `owner` is the caller's live module.
                unsafe { rasync_warn_going(owner, entry.func) };
                return Err(Why::Going);
            }
            Err(Refused::NoMemory) => return Err(Why::NoMemory),
        }
        let (func, node) = (entry.func, entry.node());
        let cookie;
        let pending;
        let admitted;
        {
            // For a registered domain, this is the global list's lock too.
            let guard = domain.lock();
            cookie = self.take_cookie();
            // SAFETY: `cookie` is not structurally pinned; the entry is not linked yet.
            // INVARIANT: the cookie is set before linking and never changed again.
            unsafe { entry.as_mut().get_unchecked_mut().cookie = cookie };
            // SAFETY: the entry lives until `retire` unlinks it; `cookie` was taken
            // under the lock of every list it joins, so it is their highest.
            unsafe {
                if domain.is_registered() {
                    self.global.add_locked(&guard, entry.link(Link::Global));
                }
                domain.add_locked(&guard, entry.link(Link::Domain));
            }
            domain.note_queued_locked(&guard);
            pending = self
                .entry_count
                .fetch_add(1, Ordering::Relaxed)
                .wrapping_add(1);
            admitted = domain.admit_locked(&guard, entry);
        }
        self.counters.note_pending(pending);
        if domain.listed() == UNSEEN {
            self.registry.note(domain, owner);
        }
        if observe::observing() {
            let why = if admitted.is_some() {
                Why::Queued
            } else {
                Why::Held
            };
            observe::schedule(cookie, func, node, domain, why);
        }
        if let Some(entry) = admitted {
            self.dispatch(entry);
        }
        Ok(cookie)
    }

    /// Hands an admitted (active) entry to its node's runners; if no runner can be had,
    /// runs it here, as the fallback does (no trace, not `current_is_async()`), and
    /// retires it like any other entry.
    fn dispatch(&self, entry: EntryBox) {
        let mut next = Some(entry);
        while let Some(entry) = next.take() {
            if let Err(entry) = self.queue_for(entry.node()).push(entry) {
                self.counters.note_sync(Why::NoRunner);
                // SAFETY: the scheduler vouched for the function and `data`, as with
                // async_schedule().
                let result = unsafe { entry.call().call(entry.data, entry.cookie) };
                pin_init::stack_pin_init!(let woken = Woken::new());
                next = self.retire_one(entry, result, false, &woken);
                self.wake(&woken, false);
            }
        }
    }

    /// Unlinks a finished (or cancelled) entry, records its result and moves the
    /// waiters it unblocks to `woken`; returns the held entry of its domain that may
    /// start in its place.
    ///
    /// # Safety
    ///
    /// `woken` is an initialised list head private to the caller, which completes the
    /// waiters moved there (`complete_woken()`) once no lock is held.
    unsafe fn finish(
        &self,
        entry: &Entry,
        result: c_int,
        cancelled: bool,
        woken: *mut list_head,
    ) -> Option<EntryBox> {
        let free_domain;
        let released;
        {
            let domain = entry.domain();
            let guard = domain.lock();
            // SAFETY: the entry is on its domain's list (and on the global one if the
            // domain is registered) until here; `woken` is ours.
            // (For a registered domain, `guard` holds the global list's lock too.)
            unsafe {
                domain.remove_locked(&guard, entry.link(Link::Domain), Link::Domain, woken);
                if domain.is_registered() {
                    let node = entry.link(Link::Global);
                    self.global.remove_locked(&guard, node, Link::Global, woken);
                }
            }
            // Seen if a synchronize from inside an entry began to wait before this took
            // the lock: it counts itself in first, then names its blocker under the lock.
            if self.in_entry_waiters.load(Ordering::Relaxed) != 0 {
                domain.wake_in_entry_locked(&guard, Some(entry.cookie));
            }
            domain.note_retired_locked(&guard, cancelled);
            if entry.result {
                domain.record_result_locked(&guard, result, entry.cookie);
            }
            released = domain.release_locked(&guard, entry.counted);
            free_domain = domain.dying_and_idle_locked(&guard);
        }
        if result != 0 {
            self.note_failed(result, entry.func);
        }
        if free_domain {
            self.registry.remove(entry.domain());
            // SAFETY: only a created domain can be dying (`rasync_domain_destroy`); its
            // owner gave it up, and this entry was the last on it (so nothing is held
            // either), so nobody else refers to it. It came from `KBox::into_raw` in
            // `rasync_domain_create`.
            drop(unsafe { KBox::from_raw(entry.domain.cast_mut()) });
        }
        released
    }

    /// Unlinks and frees an entry whose function has returned (or that was cancelled),
    /// moves the waiters it unblocks to `woken` (for the caller to complete), and
    /// returns the held entry that may start in its place.
    fn retire_one(
        &self,
        entry: EntryBox,
        result: c_int,
        cancelled: bool,
        woken: &Woken,
    ) -> Option<EntryBox> {
        // SAFETY: `woken`'s list is initialised and completed by its owner once no lock
        // is held.
        let released = unsafe { self.finish(&entry, result, cancelled, woken.as_ptr()) };
        // Once detached, the owning module may be freed.
        self.owners.detach(&entry);
        drop(entry);
        // The wake-up keeps interrupts off if they were (a cancel or a fallback in a hard
        // IRQ, or with interrupts disabled, retires here too).
        if self.entry_count.fetch_sub(1, Ordering::AcqRel) == 1 {
            self.drained.wake_up_all();
        }
        released
    }

    /// Completes the waiters on `woken` (the first on this CPU if `here`); counts them.
    #[inline]
    fn wake(&self, woken: &Woken, here: bool) -> u64 {
        let n = woken.complete(here);
        self.counters.note_woken(n);
        n
    }

    /// Retires an entry that ran (or was cancelled), and starts the held entry that may
    /// replace it. The waiters it unblocks go to `woken`, for the caller to complete
    /// last, as kernel/async.c wakes last (the runner does once it knows whether it
    /// stops), or first when a held entry starts here. Either way the entry is wholly
    /// retired when they return; the waiters on the list are off every domain list and
    /// no lock is held when they are completed, so a woken owner of a heap domain may
    /// free it right away, and each `Waiter` lives on its sleeping task's stack until
    /// completed, so the entry's module going does not matter.
    fn retire(&self, entry: EntryBox, result: c_int, cancelled: bool, woken: &Woken) {
        if let Some(next) = self.retire_one(entry, result, cancelled, woken) {
            // Not behind an entry that may run here (the fallback) or take a while.
            self.wake(woken, false);
            self.dispatch(next);
        }
    }

    /// Sets `domain`'s cap on entries running at once (0: none), and starts the held
    /// entries that the new cap admits.
    pub(crate) fn set_max_active(&self, domain: &Domain, max_active: u32) {
        let mut released = {
            let guard = domain.lock();
            domain.set_max_active_locked(&guard, max_active);
            // Which entries a synchronize from inside an entry may skip depends on the cap.
            if self.in_entry_waiters.load(Ordering::Relaxed) != 0 {
                domain.wake_in_entry_locked(&guard, None);
            }
            domain.release_locked(&guard, false)
        };
        while let Some(entry) = released.take() {
            self.dispatch(entry);
            let guard = domain.lock();
            released = domain.release_locked(&guard, false);
        }
    }

    /// Cancels `domain`'s entries that have not started: held ones and those still on
    /// a submission queue. Each one's cancel callback runs here instead of its function;
    /// its cookie counts as finished. Returns how many were cancelled.
    pub(crate) fn cancel_domain(&self, domain: &Domain) -> u32 {
        // All held entries at once, then the queued ones: cancelling a queued (active)
        // entry frees a slot, which must not start an entry that is being cancelled.
        let held = {
            let guard = domain.lock();
            domain.take_all_held_locked(&guard)
        };
        let queued = self.queues.take_domain(domain);
        let cancelled = self.cancel_all(queued) + self.cancel_all(held);
        self.counters.note_cancelled(cancelled);
        cancelled
    }

    /// Cancels every entry of `fifo`, in order; returns how many.
    fn cancel_all(&self, mut fifo: EntryFifo) -> u32 {
        let mut cancelled = 0;
        while let Some(entry) = fifo.pop() {
            self.cancel_one(entry);
            cancelled += 1;
        }
        cancelled
    }

    /// Calls a cancelled entry's cancel callback and retires it.
    fn cancel_one(&self, entry: EntryBox) {
        if let Some(cancel) = entry.cancel {
            // SAFETY: the scheduler passed `cancel` for `data`, to be called instead of
            // `func` for an entry that never started.
            unsafe { cancel(entry.data, entry.cookie) };
        }
        pin_init::stack_pin_init!(let woken = Woken::new());
        self.retire(entry, 0, true, &woken);
        self.wake(&woken, false);
    }

    /// Waits until every entry of `domain` (or of all registered domains, for `None`)
    /// with a cookie below `cookie` has finished.
    pub(crate) fn synchronize_cookie_domain(&self, cookie: u64, domain: Option<&Domain>) {
        let (list, link) = match domain {
            Some(d) => (d, Link::Domain),
            None => (&self.global, Link::Global),
        };
        kernel::task::might_sleep();
        let me = self.waits_for_self(cookie, domain);
        let trace = crate::params::initcall_debug();
        let start = if trace {
            // SAFETY: the trace helpers only print.
            unsafe { rasync_trace_waiting() }
        } else {
            0
        };
        let observed = observe::observing();
        let d = domain.map_or(core::ptr::null(), core::ptr::from_ref);
        let wait_start = if observed {
            observe::wait_begin(cookie, d)
        } else {
            0
        };
        if let Some(me) = me {
            self.synchronize_in_entry(cookie, list, link, &me);
        } else {
            pin_init::stack_pin_init!(let waiter = Waiter::new(cookie));
            if list.park_waiter(&waiter, link) {
                self.counters.note_wait();
                waiter.wait();
            }
        }
        if observed {
            observe::wait_end(cookie, d, wait_start);
        }
        if trace {
            // SAFETY: as above.
            unsafe { rasync_trace_continuing(start) };
        }
    }

    /// Returns the entry the caller runs if it is on the waited-for list below `cookie`:
    /// the plain wait, for the lowest cookie in progress to reach `cookie`, would wait
    /// for it forever.
    #[inline]
    fn waits_for_self(&self, cookie: u64, domain: Option<&Domain>) -> Option<Current<'_>> {
        let me = self.current()?;
        let same_list = match domain {
            Some(d) => core::ptr::eq(me.domain, d),
            None => me.domain.is_registered(),
        };
        (same_list && me.cookie < cookie).then_some(me)
    }

    /// The slow path of a synchronize from inside entry `me` of the waited-for `list`,
    /// for a `cookie` above its own: waits until every entry of the list below `cookie`
    /// has finished except those that can finish only after `me`
    /// ([`Domain::in_entry_reached`]: `me` itself, entries waiting in the same way for it
    /// with a higher cookie, and the entries of its domain that only they and `me` hold
    /// behind its cap). Each check that fails names an entry that must finish first (its
    /// blocker); the waiter sleeps until that entry retires, starts waiting the same way
    /// (it may be skippable now), or the cap of `me`'s domain changes.
    #[cold]
    fn synchronize_in_entry(&self, cookie: u64, list: &Domain, link: Link, me: &Current<'_>) {
        kernel::pr_warn_once!(
            "synchronize from inside async entry {} for cookie {} does not wait for the entry itself (async.c would deadlock)\n",
            me.cookie,
            cookie
        );
        pin_init::stack_pin_init!(let waiter = Waiter::new_in_entry(cookie, me.cookie));
        // Counted in before the list's lock is taken: a retire that takes it later sees
        // the count, and completes this waiter if it retires its blocker (see `finish`).
        self.in_entry_waiters.fetch_add(1, Ordering::SeqCst);
        // Also wakes the waiters blocked on `me`: they may skip it now.
        list.park_in_entry(&waiter, me.domain);
        self.counters.note_wait();
        while !list.in_entry_reached(&waiter, link, me.domain) {
            waiter.wait();
        }
        list.unpark_in_entry(&waiter);
        self.in_entry_waiters.fetch_sub(1, Ordering::Release);
    }

    /// Returns the entry the current task is running (`current_is_async()`).
    /// Interrupts that arrive while a worker runs an entry are not inside it (`in_task()`
    /// is false there), as with the kernel's `current_is_async()`.
    pub(crate) fn current(&self) -> Option<Current<'_>> {
        // SAFETY: the helper only reads the preempt count.
        if !unsafe { rasync_helper_in_task() } {
            return None;
        }
        self.running.current()
    }

    /// `synchronize_full()`: waits for every entry of every registered domain.
    pub(crate) fn synchronize_full(&self) {
        self.synchronize_cookie_domain(COOKIE_MAX, None);
    }

    /// Lists a domain from `rasync_domain_create()` for debugfs.
    pub(crate) fn domain_created(&self, domain: &Domain) {
        self.registry.add(domain);
    }

    /// Unlists a domain that `rasync_domain_destroy()` is about to free.
    pub(crate) fn domain_destroyed(&self, domain: &Domain) {
        self.registry.remove(domain);
    }
}

/// Runs a queued entry (in a runner): calls its function, unlinks it, frees it. The
/// waiters it unblocks go to `woken`, for the runner to complete with [`wake`].
pub(crate) fn run_entry(entry: EntryBox, woken: &Woken) {
    let Some(engine) = get() else {
        // Cannot happen: the engine is withdrawn only once no entry is pending.
        return;
    };
    let (cookie, func, call, data) = (entry.cookie, entry.func, entry.call(), entry.data);
    // Read once per entry, so that an entry's start and end are both traced or neither.
    let observed = observe::observing();
    let queued_at = entry.stamp.start(observed);
    let run_start = if observed {
        observe::start(cookie, func, entry.node(), queued_at)
    } else {
        0
    };
    // The parameter is read once per entry, so both lines of an entry are printed or
    // neither (the helpers check it again: a write in between may drop the pair).
    let trace = crate::params::initcall_debug();
    let start = if trace {
        // SAFETY: the trace helper only prints.
        unsafe { rasync_trace_calling(cookie, func) }
    } else {
        0
    };
    pin_init::stack_pin_init!(let record = Record::new(&entry));
    engine.running.enter(record.as_ref());
    // SAFETY: the scheduler vouched for the function and `data`, as with
    // async_schedule().
    let result = unsafe { call.call(data, cookie) };
    engine.running.leave(record.as_ref());
    if trace {
        // SAFETY: as above.
        unsafe { rasync_trace_returned(cookie, func, start) };
    }
    if observed {
        observe::end(cookie, func, run_start, result);
    }
    engine.retire(entry, result, false, woken);
}

/// Completes the waiters a runner's entries unblocked: the first on this CPU if the
/// runner stops (`here`), as the CPU would otherwise go idle while another one is woken
/// for the waiter. Returns how many were completed.
#[inline]
pub(crate) fn wake(woken: &Woken, here: bool) -> u64 {
    match get() {
        Some(engine) => engine.wake(woken, here),
        // Cannot happen while an entry is pending; the waiters are completed anyway.
        None => woken.complete(here),
    }
}

#[kunit_tests(rasync_engine)]
mod tests {
    use super::*;
    use crate::{numa::NUMA_NO_NODE, wait::Completion};
    use core::sync::atomic::AtomicBool;
    use kernel::{
        sync::Arc,
        time::{Delta, Instant, Monotonic},
    };

    extern "C" {
        fn rasync_param_set_max_work(value: u32);
    }

    /// Sets `max_work`, returning the previous value for restoring.
    fn set_max_work(value: u32) -> u32 {
        let old = crate::params::max_work();
        // SAFETY: the helper writes the module parameter (`WRITE_ONCE()`).
        unsafe { rasync_param_set_max_work(value) };
        old
    }

    /// The engine's own tests schedule as built-in code would: no owning module.
    const THIS: Owner = null_mut();

    /// How long a gated entry waits for its gate before giving up, so no test can hang.
    /// Counted from the entry's start: the first of a burst waits while the others
    /// start (520 of them, each on a kworker the pool may have to create, on an emulated
    /// guest), and longer than [`WAIT_STARTED_MS`], so it outlasts that wait.
    const GATE_TIMEOUT_MS: u32 = 20_000;

    /// How long [`wait_started`] waits for a burst's entries to start.
    const WAIT_STARTED_MS: i64 = 15_000;

    /// What one entry observed; written in the entry, asserted in the test thread.
    #[pin_data]
    struct Probe {
        #[pin]
        gate: Completion,
        gated: bool,
        delay_ms: AtomicU32,
        ran: AtomicBool,
        gate_timed_out: AtomicBool,
        cookie: AtomicU64,
        task: AtomicPtr<bindings::task_struct>,
        is_async: AtomicBool,
        current_cookie: AtomicU64,
    }

    impl Probe {
        fn new(gated: bool) -> Result<Arc<Self>> {
            Arc::pin_init(
                pin_init!(Self {
                    gate <- Completion::new(),
                    gated,
                    delay_ms: AtomicU32::new(0),
                    ran: AtomicBool::new(false),
                    gate_timed_out: AtomicBool::new(false),
                    cookie: AtomicU64::new(0),
                    task: AtomicPtr::new(null_mut()),
                    is_async: AtomicBool::new(false),
                    current_cookie: AtomicU64::new(0),
                }),
                GFP_KERNEL,
            )
        }

        fn open(&self) {
            self.gate.complete();
        }

        fn ran(&self) -> bool {
            self.ran.load(Ordering::Acquire)
        }

        fn ran_in_caller(&self) -> bool {
            // SAFETY: `get_current` has no preconditions.
            self.task.load(Ordering::Acquire) == unsafe { bindings::get_current() }
        }
    }

    /// The entry function: records, waits for its gate if gated, records completion.
    ///
    /// # Safety
    ///
    /// `data` must come from `Arc::<Probe>::into_raw`; the call takes that reference.
    unsafe extern "C" fn probe_fn(data: *mut c_void, cookie: u64) {
        // SAFETY: `data` came from `Arc::into_raw` in `schedule_probe`; this call owns it.
        let probe = unsafe { Arc::from_raw(data.cast::<Probe>()) };
        probe.cookie.store(cookie, Ordering::Relaxed);
        // SAFETY: `get_current` has no preconditions.
        probe
            .task
            .store(unsafe { bindings::get_current() }, Ordering::Relaxed);
        let current = get().and_then(|e| e.current());
        let is_async = current.is_some();
        probe
            .current_cookie
            .store(current.map_or(0, |c| c.cookie), Ordering::Relaxed);
        probe.is_async.store(is_async, Ordering::Release);
        // A gate holds back only an asynchronous run: run in the caller (a fallback the
        // test did not expect), it would just stall the test thread.
        if probe.gated && is_async && !probe.gate.wait_timeout_ms(GATE_TIMEOUT_MS) {
            probe.gate_timed_out.store(true, Ordering::Relaxed);
        }
        let delay = probe.delay_ms.load(Ordering::Relaxed);
        if delay > 0 {
            // SAFETY: `msleep` may sleep; entries run in process context.
            unsafe { bindings::msleep(delay) };
        }
        probe.ran.store(true, Ordering::Release);
    }

    /// Set once a synchronize under test timed out: the engine is then in an unknown
    /// state (a waiter or an entry may be stuck), so the remaining tests fail at once.
    static POISONED: AtomicBool = AtomicBool::new(false);

    /// How long a synchronize under test may take before the test fails.
    const SYNC_TIMEOUT_MS: u32 = 8_000;

    fn engine() -> Result<&'static Engine> {
        if POISONED.load(Ordering::Relaxed) {
            pr_err!("rasync-test: skipped: an earlier test left a synchronize stuck\n");
            return Err(ECANCELED);
        }
        get().ok_or(ENODEV)
    }

    extern "C" {
        fn rasync_helper_kthread_run(
            thread_fn: unsafe extern "C" fn(*mut c_void) -> kernel::ffi::c_int,
            data: *mut c_void,
        ) -> *mut c_void;
        fn rasync_helper_task_put(task: *mut c_void, show_stack: bool);
    }

    /// A synchronize run by a helper kthread for [`sync_bounded`].
    #[pin_data]
    struct SyncJob {
        cookie: u64,
        domain: *const Domain,
        #[pin]
        done: Completion,
    }

    // SAFETY: the domain pointer is only dereferenced while the test that owns the domain
    // waits for the job; the rest is plain data and a completion.
    unsafe impl Send for SyncJob {}
    // SAFETY: as above.
    unsafe impl Sync for SyncJob {}

    /// The helper kthread: synchronizes, then reports.
    ///
    /// # Safety
    ///
    /// `data` must come from `Arc::<SyncJob>::into_raw`; the thread takes that reference.
    unsafe extern "C" fn sync_thread(data: *mut c_void) -> kernel::ffi::c_int {
        // SAFETY: `data` came from `Arc::into_raw` in `sync_bounded`; this thread owns it.
        let job = unsafe { Arc::from_raw(data.cast::<SyncJob>()) };
        if let Some(e) = get() {
            // SAFETY: the domain outlives the job while the test waits (see `SyncJob`).
            let domain = unsafe { job.domain.as_ref() };
            e.synchronize_cookie_domain(job.cookie, domain);
        }
        job.done.complete();
        0
    }

    /// `synchronize_cookie_domain(cookie, domain)`, bounded: it runs in a helper kthread,
    /// and if it has not returned after [`SYNC_TIMEOUT_MS`] the test fails, naming the
    /// cookie awaited and the list's lowest pending cookie, and the helper's stack is
    /// printed. A lost wake-up fails in seconds instead of hanging the run.
    fn sync_bounded(e: &Engine, cookie: u64, domain: Option<&Domain>) -> Result {
        let sync = BoundedSync::start(cookie, domain)?;
        sync.finish(e)
    }

    /// A synchronize running in its helper kthread (see [`sync_bounded`]).
    struct BoundedSync<'a> {
        job: Arc<SyncJob>,
        task: *mut c_void,
        domain: Option<&'a Domain>,
    }

    impl<'a> BoundedSync<'a> {
        /// Starts `synchronize_cookie_domain(cookie, domain)` in a helper kthread.
        fn start(cookie: u64, domain: Option<&'a Domain>) -> Result<Self> {
            let job = Arc::pin_init(
                pin_init!(SyncJob {
                    cookie,
                    domain: domain.map_or(core::ptr::null(), core::ptr::from_ref),
                    done <- Completion::new(),
                }),
                GFP_KERNEL,
            )?;
            let data = Arc::into_raw(job.clone()).cast_mut().cast();
            // SAFETY: `sync_thread` takes the reference `data` carries.
            let task = unsafe { rasync_helper_kthread_run(sync_thread, data) };
            if task.is_null() {
                // SAFETY: the thread was not created, so the reference is still ours.
                drop(unsafe { Arc::from_raw(data.cast::<SyncJob>()) });
                return Err(ENOMEM);
            }
            Ok(Self { job, task, domain })
        }

        /// Returns whether the synchronize has returned, waiting at most `ms`.
        fn returned_within(&self, ms: u32) -> bool {
            self.job.done.wait_timeout_ms(ms)
        }

        /// Waits for the synchronize to return, at most [`SYNC_TIMEOUT_MS`].
        fn finish(self, e: &Engine) -> Result {
            let finished = self.returned_within(SYNC_TIMEOUT_MS);
            if !finished {
                POISONED.store(true, Ordering::Relaxed);
                let (list, link) = self
                    .domain
                    .map_or((&e.global, Link::Global), |d| (d, Link::Domain));
                let lowest = list.lowest_locked(&list.lock(), link);
                pr_err!(
                    "rasync-test: TIMEOUT: synchronize of {} for cookie {} still waiting after {} ms; lowest pending cookie {}; waiter's stack:\n",
                    if self.domain.is_some() { "a domain" } else { "all registered domains" },
                    self.job.cookie,
                    SYNC_TIMEOUT_MS,
                    lowest
                );
            }
            // SAFETY: `task` holds the reference taken by the helper, dropped here once.
            unsafe { rasync_helper_task_put(self.task, !finished) };
            if finished {
                Ok(())
            } else {
                Err(ETIMEDOUT)
            }
        }
    }

    fn schedule_probe(probe: &Arc<Probe>, domain: &Domain) -> Result<u64> {
        let data = Arc::into_raw(probe.clone()).cast_mut().cast();
        Ok(engine()?.schedule_node_domain(probe_fn, data, NUMA_NO_NODE, domain, THIS))
    }

    /// Schedules `n` gated probes in `domain` and waits (bounded, see [`wait_started`])
    /// until each has started, all held at their gates; returns them and how many
    /// started.
    fn schedule_gated_and_wait(domain: &Domain, n: usize) -> Result<(KVec<Arc<Probe>>, usize)> {
        let mut probes = KVec::with_capacity(n, GFP_KERNEL)?;
        for _ in 0..n {
            let p = Probe::new(true)?;
            schedule_probe(&p, domain)?;
            probes.push(p, GFP_KERNEL)?;
        }
        let started = wait_started(&probes);
        Ok((probes, started))
    }

    /// Waits (at most [`WAIT_STARTED_MS`] of elapsed time) until each of `probes` has
    /// started; returns how many did.
    fn wait_started(probes: &[Arc<Probe>]) -> usize {
        let start = Instant::<Monotonic>::now();
        while probes.iter().any(|p| p.cookie.load(Ordering::Relaxed) == 0)
            && start.elapsed() < Delta::from_millis(WAIT_STARTED_MS)
        {
            // SAFETY: the test thread may sleep.
            unsafe { bindings::msleep(10) };
        }
        probes
            .iter()
            .filter(|p| p.cookie.load(Ordering::Relaxed) != 0)
            .count()
    }

    extern "C" {
        fn rasync_helper_stop_machine(
            thread_fn: unsafe extern "C" fn(*mut c_void) -> kernel::ffi::c_int,
            data: *mut c_void,
        ) -> kernel::ffi::c_int;
    }

    /// Gated probes to schedule in one burst, and how many of them were queued.
    struct Burst<'a> {
        domain: &'a Domain,
        probes: &'a [Arc<Probe>],
        queued: usize,
    }

    /// Schedules a [`Burst`]'s probes (under `stop_machine()`, see [`schedule_burst`]).
    ///
    /// # Safety
    ///
    /// `data` must point to a [`Burst`] that nothing else accesses during the call.
    unsafe extern "C" fn schedule_burst_fn(data: *mut c_void) -> kernel::ffi::c_int {
        // SAFETY: by the function's safety requirements.
        let burst = unsafe { &mut *data.cast::<Burst<'_>>() };
        for p in burst.probes {
            if schedule_probe(p, burst.domain).is_ok() && !p.ran_in_caller() {
                burst.queued += 1;
            }
        }
        0
    }

    /// Schedules `n` gated probes in `domain` while no other CPU runs (`stop_machine()`),
    /// so that all of them are queued before the first runner starts, then waits as
    /// [`schedule_gated_and_wait`] does; returns the probes, how many were queued and
    /// how many started.
    fn schedule_burst(domain: &Domain, n: usize) -> Result<(KVec<Arc<Probe>>, usize, usize)> {
        let mut probes = KVec::with_capacity(n, GFP_KERNEL)?;
        for _ in 0..n {
            probes.push(Probe::new(true)?, GFP_KERNEL)?;
        }
        let mut burst = Burst {
            domain,
            probes: &probes,
            queued: 0,
        };
        // SAFETY: `burst` lives across the call, which is the only one to access it.
        let ret = unsafe {
            rasync_helper_stop_machine(schedule_burst_fn, core::ptr::from_mut(&mut burst).cast())
        };
        let queued = burst.queued;
        let started = wait_started(&probes);
        kernel::error::to_result(ret)?;
        Ok((probes, queued, started))
    }

    fn new_domain(registered: bool) -> Result<Pin<KBox<Domain>>> {
        KBox::pin_init(Domain::new_heap(registered), GFP_KERNEL)
    }

    #[test]
    fn cookies_start_at_one_and_increase() -> Result {
        let e = engine()?;
        let mut last = 0;
        for _ in 0..16 {
            let probe = Probe::new(false)?;
            let cookie = schedule_probe(&probe, e.dfl_domain())?;
            assert!(cookie >= 1);
            assert!(cookie > last);
            last = cookie;
        }
        sync_bounded(e, COOKIE_MAX, None)?;
        Ok(())
    }

    #[test]
    fn synchronize_cookie_waits_for_exactly_the_lower_cookies() -> Result {
        let e = engine()?;
        let (d, other) = (new_domain(false)?, new_domain(false)?);
        let (p1, p2, p3) = (Probe::new(true)?, Probe::new(true)?, Probe::new(true)?);
        let c1 = schedule_probe(&p1, &d)?;
        let c_other = schedule_probe(&p3, &other)?;
        let c2 = schedule_probe(&p2, &d)?;
        assert!(c1 < c_other && c_other < c2);
        p1.open();
        // Waits for p1 (cookie below c2) only: not for p2 (c2 itself) nor for p3 (other
        // domain), both still gated; had it waited for them, they would have timed out.
        sync_bounded(e, c2, Some(&d))?;
        assert!(p1.ran());
        assert!(!p2.ran());
        assert!(!p3.ran());
        p2.open();
        p3.open();
        sync_bounded(e, COOKIE_MAX, Some(&d))?;
        assert!(p2.ran());
        sync_bounded(e, COOKIE_MAX, Some(&other))?;
        assert!(p3.ran());
        assert!(!p1.gate_timed_out.load(Ordering::Relaxed));
        assert!(!p2.gate_timed_out.load(Ordering::Relaxed));
        Ok(())
    }

    #[test]
    fn waiter_is_not_woken_while_a_lower_cookie_runs() -> Result {
        // A waiter for c3 needs c1 and c2 finished: when c1 finishes, the lowest cookie
        // in progress is c2 = c3 - 1, and the waiter must sleep on until c2 finishes.
        let e = engine()?;
        let d = new_domain(false)?;
        let (p1, p2, p3) = (Probe::new(true)?, Probe::new(true)?, Probe::new(true)?);
        schedule_probe(&p1, &d)?;
        let c2 = schedule_probe(&p2, &d)?;
        let c3 = schedule_probe(&p3, &d)?;
        let sync = BoundedSync::start(c3, Some(&d))?;
        p1.open();
        let early = sync.returned_within(300);
        let p2_ran_then = p2.ran();
        p2.open();
        let finished = sync.finish(e);
        p3.open();
        sync_bounded(e, COOKIE_MAX, Some(&d))?;
        finished?;
        assert_eq!(c3, c2 + 1);
        assert!(!early || p2_ran_then);
        assert!(p2.ran());
        Ok(())
    }

    #[test]
    fn synchronize_on_a_past_cookie_returns_at_once() -> Result {
        let e = engine()?;
        let d = new_domain(false)?;
        let p = Probe::new(true)?;
        let c = schedule_probe(&p, &d)?;
        // Cookies at or below the lowest in progress need nothing to finish.
        sync_bounded(e, c, Some(&d))?;
        sync_bounded(e, 1, Some(&d))?;
        assert!(!p.ran());
        p.open();
        sync_bounded(e, COOKIE_MAX, Some(&d))?;
        assert!(p.ran());
        Ok(())
    }

    #[test]
    fn full_waits_for_registered_domains_only() -> Result {
        let e = engine()?;
        let (reg, excl) = (new_domain(true)?, new_domain(false)?);
        let (pr, pd, px) = (Probe::new(true)?, Probe::new(true)?, Probe::new(true)?);
        // Still running well after their gates open: the synchronize must wait for them.
        pr.delay_ms.store(200, Ordering::Relaxed);
        pd.delay_ms.store(200, Ordering::Relaxed);
        schedule_probe(&px, &excl)?;
        schedule_probe(&pr, &reg)?;
        schedule_probe(&pd, e.dfl_domain())?;
        pr.open();
        pd.open();
        sync_bounded(e, COOKIE_MAX, None)?;
        assert!(pr.ran());
        assert!(pd.ran());
        assert!(!px.ran());
        px.open();
        sync_bounded(e, COOKIE_MAX, Some(&excl))?;
        assert!(px.ran());
        Ok(())
    }

    #[test]
    fn domain_stays_initialised_while_entries_come_and_go() -> Result {
        // `is_initialised` reads the list pointers without the lock (READ_ONCE-style)
        // while workers link and unlink entries on other CPUs: it must never misread.
        let e = engine()?;
        let d = new_domain(false)?;
        let mut misread = 0;
        for _ in 0..2000 {
            let p = Probe::new(false)?;
            schedule_probe(&p, &d)?;
            if !d.is_initialised() {
                misread += 1;
            }
        }
        sync_bounded(e, COOKIE_MAX, Some(&d))?;
        assert_eq!(misread, 0);
        assert!(d.is_idle());
        Ok(())
    }

    #[test]
    fn current_is_async_inside_only() -> Result {
        let e = engine()?;
        let p = Probe::new(false)?;
        schedule_probe(&p, e.dfl_domain())?;
        sync_bounded(e, COOKIE_MAX, None)?;
        assert!(p.ran());
        assert!(p.is_async.load(Ordering::Relaxed));
        assert!(!p.ran_in_caller());
        assert!(e.current().is_none());
        Ok(())
    }

    #[test]
    fn current_is_async_with_more_entries_running_than_slots() -> Result {
        // More sleeping entries at once than the lock-free table has slots: the last
        // ones register on the locked lists, and every entry still finds itself.
        let e = engine()?;
        let d = new_domain(false)?;
        let n = crate::running::SLOTS + 8;
        let (probes, started) = schedule_gated_and_wait(&d, n)?;
        for p in probes.iter() {
            p.open();
        }
        sync_bounded(e, COOKIE_MAX, Some(&d))?;
        assert_eq!(started, n);
        for p in probes.iter() {
            assert!(p.ran());
            assert!(p.is_async.load(Ordering::Acquire));
            assert!(!p.gate_timed_out.load(Ordering::Relaxed));
            assert_eq!(
                p.current_cookie.load(Ordering::Relaxed),
                p.cookie.load(Ordering::Relaxed)
            );
        }
        assert!(e.current().is_none());
        Ok(())
    }

    /// A burst of entries that sleep (as the PM core's 48 leaf suspend callbacks, or
    /// NVMe's 64 namespace scans): a helper that finds no entry of its queue returned
    /// since it was asked for starts two, so the burst gets its runners in doublings
    /// rather than one wake-up after another, and all of it runs at once.
    ///
    /// The burst is queued whole before its first runner starts (`stop_machine()`):
    /// scheduled one by one, each entry could be taken before the next arrived, every
    /// runner then started by a push and none of them a helper, and the test would
    /// depend on how fast the other CPUs were.
    #[test]
    fn a_burst_of_sleeping_entries_doubles_its_runners() -> Result {
        let e = engine()?;
        let d = new_domain(false)?;
        let n = 32;
        let doublings = e.queues.doublings();
        let (probes, queued, started) = schedule_burst(&d, n)?;
        let doubled = e.queues.doublings() - doublings;
        for p in probes.iter() {
            p.open();
        }
        sync_bounded(e, COOKIE_MAX, Some(&d))?;
        assert_eq!(queued, n);
        assert_eq!(started, n);
        assert!(doubled >= 1);
        for p in probes.iter() {
            assert!(p.ran());
            assert!(!p.gate_timed_out.load(Ordering::Relaxed));
        }
        Ok(())
    }

    #[test]
    fn too_much_pending_runs_synchronously() -> Result {
        let e = engine()?;
        let d = new_domain(false)?;
        let blocker = Probe::new(true)?;
        schedule_probe(&blocker, &d)?;
        let max_work = set_max_work(0);
        let before = e.pending();
        let sync = Probe::new(false)?;
        let c = schedule_probe(&sync, &d)?;
        let ran_now = sync.ran();
        let nocall = Probe::new(false)?;
        let data = Arc::into_raw(nocall.clone()).cast_mut().cast();
        let queued = e.schedule_nocall(probe_fn, data, NUMA_NO_NODE, THIS);
        if queued.is_none() {
            // SAFETY: not queued, so the reference handed over is still ours to drop.
            drop(unsafe { Arc::from_raw(data.cast::<Probe>()) });
        }
        set_max_work(max_work);
        blocker.open();
        sync_bounded(e, COOKIE_MAX, Some(&d))?;
        sync_bounded(e, COOKIE_MAX, None)?;
        assert!(before > 0);
        assert!(ran_now);
        assert!(sync.ran_in_caller());
        assert!(!sync.is_async.load(Ordering::Relaxed));
        assert_eq!(sync.cookie.load(Ordering::Relaxed), c);
        assert!(queued.is_none());
        assert!(!nocall.ran());
        Ok(())
    }

    #[test]
    fn max_work_boundary_matches_async_c() -> Result {
        // async.c falls back once `entry_count > MAX_WORK`: with max_work = N, the entry
        // scheduled while N are pending is still queued, the one after runs in the caller.
        let e = engine()?;
        let d = new_domain(false)?;
        let base = e.pending();
        let n = base + 2;
        let old = set_max_work(n);
        let mut gated = KVec::new();
        let mut queued_ok = true;
        for _ in 0..3 {
            // Pending before each: base, base + 1, base + 2 = N: all queued.
            let p = Probe::new(true)?;
            schedule_probe(&p, &d)?;
            queued_ok &= !p.ran_in_caller();
            gated.push(p, GFP_KERNEL)?;
        }
        let pending_at_boundary = e.pending();
        // N + 1 pending: this one runs synchronously.
        let over = Probe::new(false)?;
        schedule_probe(&over, &d)?;
        let over_in_caller = over.ran_in_caller();
        set_max_work(old);
        for p in gated.iter() {
            p.open();
        }
        sync_bounded(e, COOKIE_MAX, Some(&d))?;
        assert!(queued_ok);
        assert_eq!(pending_at_boundary, n + 1);
        assert!(over_in_caller);
        assert!(gated.iter().all(|p| p.ran() && !p.ran_in_caller()));
        Ok(())
    }

    #[test]
    fn max_work_zero_queues_only_when_nothing_is_pending() -> Result {
        // max_work = 0: `pending > 0` falls back, so an entry is queued only when nothing
        // at all is pending, as async.c with MAX_WORK 0 would.
        let e = engine()?;
        let d = new_domain(false)?;
        let old = set_max_work(0);
        let first = Probe::new(true)?;
        let idle = e.pending() == 0;
        schedule_probe(&first, &d)?;
        let second = Probe::new(false)?;
        schedule_probe(&second, &d)?;
        set_max_work(old);
        first.open();
        sync_bounded(e, COOKIE_MAX, Some(&d))?;
        if idle {
            assert!(!first.ran_in_caller());
        }
        assert!(second.ran_in_caller());
        assert!(first.ran());
        Ok(())
    }

    /// Sets `current->fail_nth` (fault injection): the `n`-th next allocation fails.
    #[cfg(CONFIG_FAILSLAB)]
    fn fail_nth(n: u32) {
        extern "C" {
            fn rasync_helper_set_fail_nth(n: u32);
        }
        // SAFETY: the helper writes the current task's own `fail_nth`. (Rust's generated
        // `task_struct` layout cannot be trusted for this field: it differs from C's.)
        unsafe { rasync_helper_set_fail_nth(n) };
    }

    #[cfg(CONFIG_FAILSLAB)]
    #[test]
    fn allocation_failure_runs_synchronously() -> Result {
        let e = engine()?;
        let p = Probe::new(false)?;
        let data = Arc::into_raw(p.clone()).cast_mut().cast();
        // The next slab allocation of this task, the entry's, fails.
        fail_nth(1);
        let c = e.schedule_node_domain(probe_fn, data, NUMA_NO_NODE, e.dfl_domain(), THIS);
        let ran_now = p.ran();
        fail_nth(0);
        sync_bounded(e, COOKIE_MAX, None)?;
        assert!(ran_now);
        assert!(p.ran_in_caller());
        assert_eq!(p.cookie.load(Ordering::Relaxed), c);
        Ok(())
    }

    #[cfg(CONFIG_FAILSLAB)]
    #[test]
    fn cookies_unique_across_queued_and_fallback_paths() -> Result {
        // Queued, out of memory, above max_work and nocall, interleaved: every cookie is
        // unique and increasing, and each function got the cookie returned for it.
        let e = engine()?;
        let d = new_domain(false)?;
        let blocker = Probe::new(true)?;
        let mut last = schedule_probe(&blocker, &d)?;
        let mut increasing = true;
        let mut probes = KVec::new();
        for i in 0..16 {
            let p = Probe::new(false)?;
            let data = Arc::into_raw(p.clone()).cast_mut().cast();
            let cookie = match i % 4 {
                0 => e.schedule_node_domain(probe_fn, data, NUMA_NO_NODE, &d, THIS),
                1 => {
                    fail_nth(1);
                    let c = e.schedule_node_domain(probe_fn, data, NUMA_NO_NODE, &d, THIS);
                    fail_nth(0);
                    c
                }
                2 => {
                    let old = set_max_work(0);
                    let c = e.schedule_node_domain(probe_fn, data, NUMA_NO_NODE, &d, THIS);
                    set_max_work(old);
                    c
                }
                _ => match e.schedule_nocall(probe_fn, data, NUMA_NO_NODE, THIS) {
                    Some(c) => c,
                    None => {
                        // SAFETY: not queued, so the reference is still ours.
                        drop(unsafe { Arc::from_raw(data.cast::<Probe>()) });
                        0
                    }
                },
            };
            increasing &= cookie > last;
            last = cookie;
            probes.push((p, cookie), GFP_KERNEL)?;
        }
        blocker.open();
        sync_bounded(e, COOKIE_MAX, Some(&d))?;
        sync_bounded(e, COOKIE_MAX, None)?;
        assert!(increasing);
        for (i, (p, cookie)) in probes.iter().enumerate() {
            assert!(p.ran());
            assert_eq!(p.cookie.load(Ordering::Relaxed), *cookie);
            // The out-of-memory and max_work ones ran in the caller, the others did not.
            assert_eq!(p.ran_in_caller(), i % 4 == 1 || i % 4 == 2);
        }
        Ok(())
    }

    /// Entry that synchronizes on everything from inside, which would wait for itself.
    ///
    /// # Safety
    ///
    /// `data` must come from `Arc::<Probe>::into_raw`; the call takes that reference.
    unsafe extern "C" fn sync_self_fn(data: *mut c_void, _cookie: u64) {
        if let Some(e) = get() {
            e.synchronize_full();
        }
        // SAFETY: `data` came from `Arc::into_raw`; this call owns it.
        let probe = unsafe { Arc::from_raw(data.cast::<Probe>()) };
        probe.ran.store(true, Ordering::Release);
    }

    #[test]
    fn synchronize_inside_an_entry_does_not_wait_for_itself() -> Result {
        let e = engine()?;
        let p = Probe::new(false)?;
        let data = Arc::into_raw(p.clone()).cast_mut().cast();
        e.schedule_node_domain(sync_self_fn, data, NUMA_NO_NODE, e.dfl_domain(), THIS);
        sync_bounded(e, COOKIE_MAX, None)?;
        assert!(p.ran());
        Ok(())
    }

    /// Entry that waits for its gate, opened by an entry scheduled after it.
    ///
    /// # Safety
    ///
    /// `data` must come from `Arc::<Probe>::into_raw`; the call takes that reference.
    unsafe extern "C" fn wait_for_last_fn(data: *mut c_void, _cookie: u64) {
        // SAFETY: `data` came from `Arc::into_raw`; this call owns it.
        let probe = unsafe { Arc::from_raw(data.cast::<Probe>()) };
        if !probe.gate.wait_timeout_ms(GATE_TIMEOUT_MS * 3) {
            probe.gate_timed_out.store(true, Ordering::Relaxed);
        }
        probe.ran.store(true, Ordering::Release);
    }

    /// Opens the gate of the probe it is given.
    ///
    /// # Safety
    ///
    /// `data` must come from `Arc::<Probe>::into_raw`; the call takes that reference.
    unsafe extern "C" fn open_gate_fn(data: *mut c_void, _cookie: u64) {
        // SAFETY: `data` came from `Arc::into_raw`; this call owns it.
        let probe = unsafe { Arc::from_raw(data.cast::<Probe>()) };
        probe.gate.complete();
    }

    #[test]
    fn more_than_min_active_interdependent_entries_run() -> Result {
        const N: usize = 32;
        let e = engine()?;
        let d = new_domain(false)?;
        let mut waiters = KVec::new();
        for i in 0..N {
            let p = Probe::new(true)?;
            let data = Arc::into_raw(p.clone()).cast_mut().cast();
            let node = (i % 2) as i32;
            e.schedule_node_domain(wait_for_last_fn, data, node, &d, THIS);
            waiters.push(p, GFP_KERNEL)?;
        }
        // Each gate is opened by an entry queued after all N waiters: those openers only
        // run if the workqueue runs more than N entries at once, or if they overtake.
        for p in waiters.iter() {
            let data = Arc::into_raw(p.clone()).cast_mut().cast();
            e.schedule_node_domain(open_gate_fn, data, NUMA_NO_NODE, &d, THIS);
        }
        sync_bounded(e, COOKIE_MAX, Some(&d))?;
        let timed_out = waiters
            .iter()
            .filter(|p| p.gate_timed_out.load(Ordering::Relaxed))
            .count();
        assert_eq!(timed_out, 0);
        assert!(waiters.iter().all(|p| p.ran()));
        Ok(())
    }

    /// What [`sync_after_fn`] does and saw: it schedules `later` (if any) in
    /// `later_domain`, then synchronizes `sync_domain` (null: all registered domains)
    /// from inside, to `later`'s cookie + 1 if `to_later`, else to [`COOKIE_MAX`].
    #[pin_data]
    struct InEntrySync {
        later: Option<Arc<Probe>>,
        later_domain: *const Domain,
        sync_domain: *const Domain,
        to_later: bool,
        cookie: AtomicU64,
        later_cookie: AtomicU64,
        started: AtomicBool,
        later_ran_at_return: AtomicBool,
        /// Set once the entry's function is about to return.
        finished: AtomicBool,
        /// Another job whose `finished` this one records when its synchronize returns.
        other: Option<Arc<InEntrySync>>,
        other_finished_at_return: AtomicBool,
        #[pin]
        returned: Completion,
    }

    // SAFETY: the domain pointers are only dereferenced while the test that owns the
    // domains waits for the entry; the rest is atomics, a completion and `Arc`s.
    unsafe impl Send for InEntrySync {}
    // SAFETY: as above.
    unsafe impl Sync for InEntrySync {}

    impl InEntrySync {
        fn new(
            later: Option<(Arc<Probe>, &Domain, bool)>,
            sync_domain: Option<&Domain>,
            other: Option<Arc<InEntrySync>>,
        ) -> Result<Arc<Self>> {
            let (later, later_domain, to_later) = match later {
                Some((p, d, to)) => (Some(p), core::ptr::from_ref(d), to),
                None => (None, core::ptr::null(), false),
            };
            Arc::pin_init(
                pin_init!(Self {
                    later,
                    later_domain,
                    sync_domain: sync_domain.map_or(core::ptr::null(), core::ptr::from_ref),
                    to_later,
                    cookie: AtomicU64::new(0),
                    later_cookie: AtomicU64::new(0),
                    started: AtomicBool::new(false),
                    later_ran_at_return: AtomicBool::new(false),
                    finished: AtomicBool::new(false),
                    other,
                    other_finished_at_return: AtomicBool::new(false),
                    returned <- Completion::new(),
                }),
                GFP_KERNEL,
            )
        }

        /// Schedules the job's entry in `domain`.
        fn schedule(self: &Arc<Self>, e: &Engine, domain: &Domain) -> u64 {
            let data = Arc::into_raw(self.clone()).cast_mut().cast();
            e.schedule_node_domain(sync_after_fn, data, NUMA_NO_NODE, domain, THIS)
        }

        /// Waits (bounded) for the entry's synchronize to return; on a timeout the
        /// engine is poisoned, as the entry may never finish.
        fn returned(&self) -> Result {
            if self.returned.wait_timeout_ms(SYNC_TIMEOUT_MS) {
                return Ok(());
            }
            POISONED.store(true, Ordering::Relaxed);
            pr_err!(
                "rasync-test: TIMEOUT: synchronize inside entry {} still waiting after {} ms\n",
                self.cookie.load(Ordering::Relaxed),
                SYNC_TIMEOUT_MS
            );
            Err(ETIMEDOUT)
        }

        fn later_ran_at_return(&self) -> bool {
            self.later_ran_at_return.load(Ordering::Relaxed)
        }
    }

    /// The entry of an [`InEntrySync`] job: schedules its later entry, synchronizes from
    /// inside, and records what it saw when the synchronize returned.
    ///
    /// # Safety
    ///
    /// `data` must come from `Arc::<InEntrySync>::into_raw`; the call takes that reference.
    unsafe extern "C" fn sync_after_fn(data: *mut c_void, cookie: u64) {
        // SAFETY: `data` came from `Arc::into_raw`; this call owns it.
        let job = unsafe { Arc::from_raw(data.cast::<InEntrySync>()) };
        job.cookie.store(cookie, Ordering::Relaxed);
        job.started.store(true, Ordering::Release);
        if let Some(e) = get() {
            let mut target = COOKIE_MAX;
            if let Some(later) = &job.later {
                let later_data = Arc::into_raw(later.clone()).cast_mut().cast();
                // SAFETY: the test keeps the domain alive until this entry has finished.
                let d = unsafe { &*job.later_domain };
                let c = e.schedule_node_domain(probe_fn, later_data, NUMA_NO_NODE, d, THIS);
                job.later_cookie.store(c, Ordering::Relaxed);
                if job.to_later {
                    target = c + 1;
                }
            }
            // SAFETY: as above.
            let domain = unsafe { job.sync_domain.as_ref() };
            e.synchronize_cookie_domain(target, domain);
        }
        let later_ran = job.later.as_ref().is_some_and(|p| p.ran());
        job.later_ran_at_return.store(later_ran, Ordering::Relaxed);
        let other_finished = job
            .other
            .as_ref()
            .is_some_and(|o| o.finished.load(Ordering::Acquire));
        job.other_finished_at_return
            .store(other_finished, Ordering::Relaxed);
        job.finished.store(true, Ordering::Release);
        job.returned.complete();
    }

    /// Waits (bounded) for `domain` to be idle; leaks it if that fails, as entries may
    /// still use it.
    fn drain_and_drop(e: &Engine, domain: Pin<KBox<Domain>>) -> Result {
        let r = sync_bounded(e, COOKIE_MAX, Some(&domain));
        if r.is_err() {
            core::mem::forget(domain);
        }
        r
    }

    #[test]
    fn synchronize_inside_an_entry_waits_for_a_later_entry_of_its_domain() -> Result {
        // E schedules E2 in its own domain, then synchronizes to E2's cookie + 1: E2 may
        // run (nothing holds it), so the synchronize returns only once E2 has finished.
        let e = engine()?;
        let d = new_domain(false)?;
        let later = Probe::new(false)?;
        later.delay_ms.store(200, Ordering::Relaxed);
        let job = InEntrySync::new(Some((later.clone(), &d, true)), Some(&d), None)?;
        let c = job.schedule(e, &d);
        let returned = job.returned();
        drain_and_drop(e, d)?;
        returned?;
        assert!(job.later_cookie.load(Ordering::Relaxed) > c);
        assert!(job.later_ran_at_return());
        assert!(later.is_async.load(Ordering::Relaxed));
        Ok(())
    }

    #[test]
    fn synchronize_full_inside_an_entry_waits_for_later_registered_entries() -> Result {
        // The same through the global list: an entry of a registered domain schedules
        // one in the default domain and synchronizes everything registered.
        let e = engine()?;
        let d = new_domain(true)?;
        let later = Probe::new(false)?;
        later.delay_ms.store(200, Ordering::Relaxed);
        let job = InEntrySync::new(Some((later.clone(), e.dfl_domain(), false)), None, None)?;
        job.schedule(e, &d);
        let returned = job.returned();
        drain_and_drop(e, d)?;
        returned?;
        sync_bounded(e, COOKIE_MAX, None)?;
        assert!(job.later_ran_at_return());
        Ok(())
    }

    #[test]
    fn synchronize_full_inside_an_exclusive_entry_waits_for_registered_ones() -> Result {
        // An entry of an exclusive domain is not on the global list: its full
        // synchronize skips nothing, not even entries scheduled after it.
        let e = engine()?;
        let (x, r) = (new_domain(false)?, new_domain(true)?);
        let later = Probe::new(false)?;
        later.delay_ms.store(200, Ordering::Relaxed);
        let job = InEntrySync::new(Some((later.clone(), &r, false)), None, None)?;
        job.schedule(e, &x);
        let returned = job.returned();
        drain_and_drop(e, x)?;
        drain_and_drop(e, r)?;
        returned?;
        assert!(job.later_ran_at_return());
        Ok(())
    }

    #[test]
    fn synchronize_inside_an_entry_skips_entries_held_behind_it_by_a_cap_of_one() -> Result {
        // Cap 1: E2 can start only once E has finished. Waiting for it would deadlock
        // (as async.c would); the synchronize returns without it.
        let e = engine()?;
        let d = new_domain(false)?;
        e.set_max_active(&d, 1);
        let later = Probe::new(false)?;
        let job = InEntrySync::new(Some((later.clone(), &d, true)), Some(&d), None)?;
        job.schedule(e, &d);
        let returned = job.returned();
        drain_and_drop(e, d)?;
        returned?;
        assert!(!job.later_ran_at_return());
        assert!(later.ran());
        Ok(())
    }

    #[test]
    fn synchronize_inside_an_entry_waits_for_entries_held_behind_another_slot() -> Result {
        // Cap 2, X (gated) and E running: E2 is held, but can start through X's slot
        // once X finishes, so E's synchronize waits for X and then for E2.
        let e = engine()?;
        let d = new_domain(false)?;
        e.set_max_active(&d, 2);
        let x = Probe::new(true)?;
        schedule_probe(&x, &d)?;
        let later = Probe::new(false)?;
        later.delay_ms.store(200, Ordering::Relaxed);
        let job = InEntrySync::new(Some((later.clone(), &d, true)), Some(&d), None)?;
        job.schedule(e, &d);
        let early = job.returned.wait_timeout_ms(300);
        let later_ran_before_x = later.ran();
        x.open();
        // Completed once: after an early return there is nothing more to wait for.
        let returned = if early { Ok(()) } else { job.returned() };
        drain_and_drop(e, d)?;
        returned?;
        assert!(!early);
        assert!(!later_ran_before_x);
        assert!(job.later_ran_at_return());
        assert!(x.ran());
        Ok(())
    }

    #[test]
    fn synchronizes_inside_two_entries_waiting_for_each_other_both_return() -> Result {
        // A and B both synchronize their whole domain from inside: each would wait for
        // the other. The lower cookie, A, goes first; B returns only after A finished.
        let e = engine()?;
        let d = new_domain(false)?;
        let a = InEntrySync::new(None, Some(&d), None)?;
        let b = InEntrySync::new(None, Some(&d), Some(a.clone()))?;
        let ca = a.schedule(e, &d);
        let cb = b.schedule(e, &d);
        let returned_a = a.returned();
        let returned_b = b.returned();
        drain_and_drop(e, d)?;
        returned_a?;
        returned_b?;
        assert!(ca < cb);
        assert!(b.other_finished_at_return.load(Ordering::Relaxed));
        Ok(())
    }

    #[test]
    fn synchronizes_inside_both_slots_skip_the_entry_they_hold_behind_their_cap() -> Result {
        // Cap 2, X and A hold both slots and synchronize their domain from inside; A
        // schedules E2, which its cap holds. E2 can start only once X or A has finished,
        // and X waits for A: X goes first and skips both (A waits for it, E2 is held
        // behind the two), then A waits for E2, which X's slot lets start. Waiting for E2
        // from X would deadlock all three.
        let e = engine()?;
        let d = new_domain(false)?;
        e.set_max_active(&d, 2);
        let later = Probe::new(false)?;
        let x = InEntrySync::new(None, Some(&d), None)?;
        let a = InEntrySync::new(Some((later.clone(), &d, true)), Some(&d), Some(x.clone()))?;
        let cx = x.schedule(e, &d);
        let ca = a.schedule(e, &d);
        let returned_x = x.returned();
        let returned_a = a.returned();
        drain_and_drop(e, d)?;
        returned_x?;
        returned_a?;
        assert!(cx < ca);
        assert!(a.other_finished_at_return.load(Ordering::Relaxed));
        assert!(a.later_ran_at_return());
        assert!(later.ran());
        Ok(())
    }

    extern "C" {
        fn rasync_helper_call_in_hardirq(
            f: unsafe extern "C" fn(*mut c_void),
            data: *mut c_void,
        ) -> kernel::ffi::c_int;
        fn rasync_helper_local_irq_save() -> kernel::ffi::c_ulong;
        fn rasync_helper_local_irq_restore(flags: kernel::ffi::c_ulong);
        fn rasync_helper_irqs_disabled() -> bool;
    }

    /// What the interrupts-off fallback rounds saw ([`irq_fallback_round`]).
    struct IrqRounds<'a> {
        domain: &'a Domain,
        calls: AtomicU32,
        irqs_on: AtomicU32,
        /// Calls of [`irq_count_fn`], and those made with interrupts off (in the caller).
        ran: AtomicU32,
        ran_irqs_off: AtomicU32,
    }

    /// Counts its call, and whether interrupts were off (the synchronous fallback).
    ///
    /// # Safety
    ///
    /// `data` must point to a live [`IrqRounds`].
    unsafe extern "C" fn irq_count_fn(data: *mut c_void, _cookie: u64) {
        // SAFETY: the caller guarantees `data` is a live `IrqRounds`.
        let r = unsafe { &*data.cast::<IrqRounds<'_>>() };
        r.ran.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the helper only reads the interrupt state.
        if unsafe { rasync_helper_irqs_disabled() } {
            r.ran_irqs_off.fetch_add(1, Ordering::Relaxed);
        }
    }

    /// One schedule that falls back to a synchronous run (max_work 0, an entry pending),
    /// made with interrupts off; records whether they are still off after it.
    ///
    /// # Safety
    ///
    /// `data` must point to a live [`IrqRounds`].
    unsafe extern "C" fn irq_fallback_round(data: *mut c_void) {
        // SAFETY: the caller guarantees `data` is a live `IrqRounds`.
        let r = unsafe { &*data.cast::<IrqRounds<'_>>() };
        if let Some(e) = get() {
            e.schedule_node_domain(irq_count_fn, data, NUMA_NO_NODE, r.domain, THIS);
        }
        r.calls.fetch_add(1, Ordering::Relaxed);
        // SAFETY: the helper only reads the interrupt state.
        if !unsafe { rasync_helper_irqs_disabled() } {
            r.irqs_on.fetch_add(1, Ordering::Relaxed);
        }
    }

    #[test]
    fn fallbacks_keep_interrupts_off() -> Result {
        // Above max_work (and, with failslab, out of memory) the call runs in the caller:
        // from a hard IRQ, or under local_irq_save(), interrupts are still off after it.
        const ROUNDS: u32 = 200;
        let e = engine()?;
        let d = new_domain(false)?;
        let blocker = Probe::new(true)?;
        schedule_probe(&blocker, &d)?;
        let r = IrqRounds {
            domain: &d,
            calls: AtomicU32::new(0),
            irqs_on: AtomicU32::new(0),
            ran: AtomicU32::new(0),
            ran_irqs_off: AtomicU32::new(0),
        };
        let data = core::ptr::from_ref(&r).cast_mut().cast();
        let old = set_max_work(0);
        let mut hardirq = 0;
        for _ in 0..ROUNDS {
            // SAFETY: `r` outlives the call, which waits for the callback.
            if unsafe { rasync_helper_call_in_hardirq(irq_fallback_round, data) } == 1 {
                hardirq += 1;
            }
        }
        for _ in 0..ROUNDS {
            // SAFETY: interrupts are restored right after the round.
            let flags = unsafe { rasync_helper_local_irq_save() };
            // SAFETY: `r` is live.
            unsafe { irq_fallback_round(data) };
            // SAFETY: `flags` came from the save above.
            unsafe { rasync_helper_local_irq_restore(flags) };
        }
        set_max_work(old);
        #[cfg(CONFIG_FAILSLAB)]
        for _ in 0..ROUNDS {
            // SAFETY: as above.
            let flags = unsafe { rasync_helper_local_irq_save() };
            // fail_nth counts in task context, interrupts off or not.
            fail_nth(1);
            // SAFETY: `r` is live.
            unsafe { irq_fallback_round(data) };
            fail_nth(0);
            // SAFETY: as above.
            unsafe { rasync_helper_local_irq_restore(flags) };
        }
        blocker.open();
        sync_bounded(e, COOKIE_MAX, Some(&d))?;
        let calls = r.calls.load(Ordering::Relaxed);
        assert_eq!(hardirq, ROUNDS);
        assert!(calls >= 2 * ROUNDS);
        assert_eq!(r.irqs_on.load(Ordering::Relaxed), 0);
        // Every call ran synchronously, in the caller, with interrupts off.
        assert_eq!(r.ran.load(Ordering::Relaxed), calls);
        assert_eq!(r.ran_irqs_off.load(Ordering::Relaxed), calls);
        Ok(())
    }
}
