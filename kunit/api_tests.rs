// SPDX-License-Identifier: GPL-2.0

//! The `rasync_rust_api` suite: closures owning their data, owned domains, node
//! placement, cookie order and `current_is_async`, through `include/rasync.rs` only.
//!
//! Closures record what they see into shared atomics; the test thread asserts.

use crate::rasync;
use core::sync::atomic::{AtomicBool, AtomicI32, AtomicU64, AtomicUsize, Ordering};
use kernel::{
    device::{Bound, Device},
    faux,
    prelude::*,
    sync::{aref::ARef, Arc},
};

/// The test module has nothing to set up: its suite runs when it is loaded.
pub(crate) struct RasyncRustTest;

impl kernel::Module for RasyncRustTest {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        Ok(Self)
    }
}

/// What a closure saw.
struct Seen {
    ran: AtomicBool,
    cookie: AtomicU64,
    cpu: AtomicI32,
    is_async: AtomicBool,
    sum: AtomicUsize,
}

impl Seen {
    fn new() -> Result<Arc<Self>> {
        Ok(Arc::new(
            Self {
                ran: AtomicBool::new(false),
                cookie: AtomicU64::new(0),
                cpu: AtomicI32::new(-1),
                is_async: AtomicBool::new(false),
                sum: AtomicUsize::new(0),
            },
            GFP_KERNEL,
        )?)
    }

    fn record(&self, cookie: rasync::Cookie) {
        self.cookie.store(cookie, Ordering::Relaxed);
        // SAFETY: `raw_smp_processor_id` has no preconditions.
        let cpu = unsafe { kernel::bindings::raw_smp_processor_id() };
        self.cpu.store(cpu as i32, Ordering::Relaxed);
        self.is_async
            .store(rasync::current_is_async(), Ordering::Relaxed);
        self.ran.store(true, Ordering::Release);
    }
}

/// Set once a bounded synchronize timed out: the remaining tests fail at once.
static POISONED: AtomicBool = AtomicBool::new(false);

/// How long a synchronize under test may take before the test fails.
const SYNC_TIMEOUT_MS: u32 = 8_000;

/// A domain pointer handed to the helper work item of [`bounded`].
struct DomainRef(*const rasync::Domain);

// SAFETY: the test that owns the domain waits for the work item (or fails and leaks).
unsafe impl Send for DomainRef {}

impl DomainRef {
    fn new(domain: &rasync::Domain) -> Self {
        Self(core::ptr::from_ref(domain))
    }

    /// # Safety
    ///
    /// The domain must still be alive.
    unsafe fn get(&self) -> &rasync::Domain {
        // SAFETY: the caller guarantees the domain is alive.
        unsafe { &*self.0 }
    }
}

/// Runs the synchronize `f` on a system workqueue and waits at most [`SYNC_TIMEOUT_MS`]
/// for it: a synchronize that never returns fails the test (naming `what`) in seconds.
fn bounded(what: &str, f: impl FnOnce() + Send + 'static) -> Result {
    if POISONED.load(Ordering::Relaxed) {
        pr_err!("rasync-test: skipped: an earlier test left a synchronize stuck\n");
        return Err(ECANCELED);
    }
    let done = Arc::new(AtomicBool::new(false), GFP_KERNEL)?;
    let flag = done.clone();
    kernel::workqueue::system_unbound().try_spawn(GFP_KERNEL, move || {
        f();
        flag.store(true, Ordering::Release);
    })?;
    let mut waited = 0;
    while !done.load(Ordering::Acquire) {
        if waited >= SYNC_TIMEOUT_MS {
            POISONED.store(true, Ordering::Relaxed);
            pr_err!("rasync-test: TIMEOUT: {what} still waiting after {SYNC_TIMEOUT_MS} ms\n");
            return Err(ETIMEDOUT);
        }
        // SAFETY: `msleep` may sleep; tests run in process context.
        unsafe { kernel::bindings::msleep(10) };
        waited += 10;
    }
    Ok(())
}

#[kunit_tests(rasync_rust_api)]
mod tests {
    use super::*;

    #[test]
    fn closures_own_their_data() -> Result {
        let seen = Seen::new()?;
        let mut data = KVec::new();
        for i in 1..=10usize {
            data.push(i, GFP_KERNEL)?;
        }
        let s = seen.clone();
        let cookie = rasync::schedule(move |cookie| {
            s.sum.store(data.iter().sum(), Ordering::Relaxed);
            s.record(cookie);
        });
        bounded("synchronize_cookie", move || {
            rasync::synchronize_cookie(cookie + 1)
        })?;
        assert!(seen.ran.load(Ordering::Acquire));
        assert_eq!(seen.sum.load(Ordering::Relaxed), 55);
        assert_eq!(seen.cookie.load(Ordering::Relaxed), cookie);
        assert!(seen.is_async.load(Ordering::Relaxed));
        assert!(!rasync::current_is_async());
        Ok(())
    }

    #[test]
    fn cookies_increase() -> Result {
        let mut last = 0;
        for _ in 0..8 {
            let c = rasync::schedule(|_| {});
            assert!(c > last);
            last = c;
        }
        bounded("synchronize_full", rasync::synchronize_full)?;
        Ok(())
    }

    #[test]
    fn cancel_drops_closures_that_never_started() -> Result {
        /// Counts its drops: a cancelled closure is dropped uncalled.
        struct Dropped(Arc<AtomicUsize>);
        impl Drop for Dropped {
            fn drop(&mut self) {
                self.0.fetch_add(1, Ordering::Relaxed);
            }
        }
        let seen = Seen::new()?;
        let gate = Arc::new(AtomicBool::new(false), GFP_KERNEL)?;
        let drops = Arc::new(AtomicUsize::new(0), GFP_KERNEL)?;
        let domain = rasync::Domain::new_exclusive()?;
        domain.set_max_active(1)?;
        let started = Arc::new(AtomicBool::new(false), GFP_KERNEL)?;
        let (s, g, st) = (seen.clone(), gate.clone(), started.clone());
        domain.schedule(move |cookie| {
            st.store(true, Ordering::Release);
            // Bounded: the test opens the gate, or the entry goes on after 10 s.
            for _ in 0..1000 {
                if g.load(Ordering::Acquire) {
                    break;
                }
                // SAFETY: `msleep` may sleep; entries run in process context.
                unsafe { kernel::bindings::msleep(10) };
            }
            s.record(cookie);
        });
        let mut last = 0;
        for _ in 0..4 {
            let (s, d) = (seen.clone(), Dropped(drops.clone()));
            last = domain.schedule(move |_| {
                let _d = d;
                s.sum.fetch_add(1, Ordering::Relaxed);
            });
        }
        // The first entry must be running (not just queued) before the cancel.
        for _ in 0..1000 {
            if started.load(Ordering::Acquire) {
                break;
            }
            // SAFETY: `msleep` may sleep; tests run in process context.
            unsafe { kernel::bindings::msleep(10) };
        }
        assert!(started.load(Ordering::Acquire));
        assert_eq!(domain.cancel(), 4);
        assert_eq!(drops.load(Ordering::Relaxed), 4);
        gate.store(true, Ordering::Release);
        let domain = Arc::new(domain, GFP_KERNEL)?;
        let d = domain.clone();
        bounded("Domain::synchronize_cookie", move || {
            d.synchronize_cookie(last + 1)
        })?;
        assert!(seen.ran.load(Ordering::Acquire));
        assert_eq!(seen.sum.load(Ordering::Relaxed), 0);
        Ok(())
    }

    #[test]
    fn result_closures_report_the_first_error() -> Result {
        let seen = Seen::new()?;
        let domain = rasync::Domain::new_exclusive()?;
        let ok = domain.schedule_result(|_| Ok(()));
        let s = seen.clone();
        let failing = domain.schedule_result(move |cookie| {
            // Finishes after the later failure below: the lower cookie still wins.
            // SAFETY: `msleep` may sleep; entries run in process context.
            unsafe { kernel::bindings::msleep(50) };
            s.record(cookie);
            Err(EIO)
        });
        let later = domain.schedule_result(|_| Err(ENODEV));
        let d = DomainRef::new(&domain);
        bounded("Domain::synchronize_full", move || {
            // SAFETY: the test waits for this work item while it owns the domain.
            unsafe { d.get() }.synchronize_full()
        })?;
        let full = domain.synchronize_full_result();
        let below = domain.synchronize_cookie_result(failing);
        let kept = domain.error();
        let reset = domain.reset_error();
        let after = domain.error();
        let expected = rasync::Failure {
            error: EIO,
            cookie: failing,
        };
        assert!(ok < failing && failing < later);
        assert!(seen.ran.load(Ordering::Acquire));
        assert_eq!(full, Err(expected));
        assert_eq!(below, Ok(()));
        assert_eq!(kept, Some(expected));
        assert_eq!(reset, Some(expected));
        assert_eq!(after, None);
        Ok(())
    }

    #[test]
    fn dropping_a_domain_waits_for_its_entries() -> Result {
        let seen = Seen::new()?;
        let domain = rasync::Domain::new_exclusive()?;
        for _ in 0..4 {
            let s = seen.clone();
            domain.schedule(move |cookie| {
                // SAFETY: `msleep` may sleep; entries run in process context.
                unsafe { kernel::bindings::msleep(20) };
                s.sum.fetch_add(1, Ordering::Relaxed);
                s.record(cookie);
            });
        }
        drop(domain);
        assert_eq!(seen.sum.load(Ordering::Relaxed), 4);
        Ok(())
    }

    #[test]
    fn domain_synchronize_cookie_orders_entries() -> Result {
        let seen = Seen::new()?;
        let domain = rasync::Domain::new()?;
        let s = seen.clone();
        let first = domain.schedule(move |cookie| {
            // SAFETY: as above.
            unsafe { kernel::bindings::msleep(50) };
            s.record(cookie);
        });
        let second = domain.schedule(|_| {});
        let d = DomainRef::new(&domain);
        bounded("Domain::synchronize_cookie", move || {
            // SAFETY: the test waits for this work item while it owns the domain.
            unsafe { d.get() }.synchronize_cookie(second)
        })?;
        assert!(seen.ran.load(Ordering::Acquire));
        assert_eq!(seen.cookie.load(Ordering::Relaxed), first);
        let d = DomainRef::new(&domain);
        bounded("Domain::synchronize_full", move || {
            // SAFETY: the test waits for this work item while it owns the domain.
            unsafe { d.get() }.synchronize_full()
        })?;
        Ok(())
    }

    #[test]
    fn device_variants_pass_the_device() -> Result {
        let reg = faux::Registration::new(c"rasync_rust_test_dev", None)?;
        let faux_dev: &faux::Device<Bound> = reg.as_ref();
        let dev: &Device<Bound> = faux_dev.as_ref();
        let dev: &Device = dev;
        let want = core::ptr::from_ref(dev) as usize;
        let seen_dev = Arc::new(AtomicUsize::new(0), GFP_KERNEL)?;
        let seen = Seen::new()?;

        let (s, d) = (seen.clone(), seen_dev.clone());
        let cookie = rasync::schedule_dev(
            move |dev, cookie| {
                d.store(core::ptr::from_ref(dev) as usize, Ordering::Relaxed);
                s.record(cookie);
            },
            ARef::from(dev),
        );
        bounded("synchronize_full", rasync::synchronize_full)?;
        assert_eq!(seen_dev.load(Ordering::Relaxed), want);
        assert_eq!(seen.cookie.load(Ordering::Relaxed), cookie);
        assert_eq!(rasync::dev_to_node(dev), rasync::NUMA_NO_NODE);

        let domain = rasync::Domain::new_exclusive()?;
        let s = seen.clone();
        let cookie = domain.schedule_dev(move |_, cookie| s.record(cookie), ARef::from(dev));
        let d = DomainRef::new(&domain);
        bounded("Domain::synchronize_full", move || {
            // SAFETY: the test waits for this work item while it owns the domain.
            unsafe { d.get() }.synchronize_full()
        })?;
        assert_eq!(seen.cookie.load(Ordering::Relaxed), cookie);

        let s = seen.clone();
        seen.ran.store(false, Ordering::Relaxed);
        let queued =
            rasync::schedule_dev_nocall(move |_, cookie| s.record(cookie), ARef::from(dev));
        bounded("synchronize_full", rasync::synchronize_full)?;
        assert!(queued.is_ok());
        assert!(seen.ran.load(Ordering::Acquire));
        assert!(seen.is_async.load(Ordering::Relaxed));
        Ok(())
    }

    #[test]
    fn schedule_node_runs_on_the_node() -> Result {
        for node in 0..2 {
            let seen = Seen::new()?;
            let s = seen.clone();
            let domain = rasync::Domain::new_exclusive()?;
            domain.schedule_node(move |cookie| s.record(cookie), node);
            let d = DomainRef::new(&domain);
            bounded("Domain::synchronize_full", move || {
                // SAFETY: the test waits for this work item while it owns the domain.
                unsafe { d.get() }.synchronize_full()
            })?;
            assert!(seen.ran.load(Ordering::Acquire));
            let cpu = seen.cpu.load(Ordering::Relaxed);
            // CPUs 0-2 are node 0 and CPU 3 node 1 in the test guest (scripts/vm-run).
            assert_eq!(i32::from(cpu >= 3), node);
        }
        let seen = Seen::new()?;
        let s = seen.clone();
        rasync::schedule_node(move |cookie| s.record(cookie), 999);
        bounded("synchronize_full", rasync::synchronize_full)?;
        assert!(seen.ran.load(Ordering::Acquire));
        Ok(())
    }
}
