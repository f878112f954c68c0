// SPDX-License-Identifier: GPL-2.0

//! The sample's driver: a real driver-core probe that hands its slow part to rasync.
//!
//! Each device is a faux device created with its own [`bindings::faux_device_ops`], so
//! the driver core calls [`probe_callback`] while the device is added. The probe takes
//! the device's public index (its place in probe order, which is scheduling order) and
//! schedules the slow part on the device's node with `schedule_dev`. The slow part
//! sleeps the device's delay, records the CPU and node it really ran on and how long it
//! took, then calls `synchronize_cookie(cookie)` before its externally visible step,
//! "registered": registrations happen in scheduling order though the slow parts finish
//! out of order. The last registration prints the summary line, made of measured
//! values only; checks are left to the reader of that line (`make check`), none is
//! made inside a work item.
//!
//! # Examples
//!
//! ```ignore
//! let probes = Arc::new(probe::Probes::new(&plan)?, GFP_KERNEL)?;
//! // With `probes` as the parent's driver data:
//! let dev = probe::ProbedDevice::new(c"rasync_sample.0", parent)?;
//! ```
//!
//! C header: [`include/linux/device/faux.h`](srctree/include/linux/device/faux.h)

use crate::{plan, rasync};
use core::{
    ptr::NonNull,
    sync::atomic::{AtomicI32, AtomicU32, AtomicU64, AtomicUsize, Ordering::Relaxed},
};
use kernel::{
    bindings,
    device::Device,
    ffi::{c_int, c_void},
    prelude::*,
    sync::{aref::ARef, Arc, ArcBorrow},
};

extern "C" {
    fn rasync_sample_where(cpu: *mut i32, node: *mut i32);
    fn rasync_sample_parent_drvdata(dev: *mut c_void) -> *mut c_void;
}

/// Returns the CPU the caller runs on and that CPU's node.
fn where_now() -> (i32, i32) {
    let (mut cpu, mut node) = (0, 0);
    // SAFETY: both pointers are valid for writes.
    unsafe { rasync_sample_where(&mut cpu, &mut node) };
    (cpu, node)
}

/// Nanoseconds of the monotonic clock.
fn now_ns() -> i64 {
    // SAFETY: `ktime_get` has no preconditions.
    unsafe { bindings::ktime_get() }
}

/// What one device's probe did, as measured.
///
/// # Invariants
///
/// `finished` and `registered` are 1-based ranks, 0 until the step happened.
struct Record {
    /// The node the plan put the device on.
    node: i32,
    /// The delay the plan drew for its slow part.
    delay_ms: u32,
    /// How many times the slow part ran.
    runs: AtomicU32,
    /// Where the slow part started: CPU and node.
    cpu: AtomicI32,
    start_node: AtomicI32,
    /// The node the slow part was on when its sleep ended.
    end_node: AtomicI32,
    /// How long the slow part took.
    took_ns: AtomicU64,
    /// Rank among the finished slow parts.
    finished: AtomicU32,
    /// Rank among the registrations (the public order).
    registered: AtomicU32,
}

/// The state the probes share: the plan's records, the counters, the rasync domain.
pub(crate) struct Probes {
    /// The sample's own registered domain: exit synchronizes it before freeing devices.
    domain: rasync::Domain,
    records: KVec<Record>,
    /// When the first device was created.
    start_ns: i64,
    /// Probes so far: the next public index.
    probed: AtomicUsize,
    /// Slow parts finished so far.
    finished: AtomicU32,
    /// Registrations so far.
    registered: AtomicU32,
}

impl Probes {
    /// Creates the shared state for `plan`; its clock starts now.
    pub(crate) fn new(plan: &[plan::Device]) -> Result<Self> {
        let mut records = KVec::with_capacity(plan.len(), GFP_KERNEL)?;
        for d in plan {
            let record = Record {
                node: d.node,
                delay_ms: d.delay_ms,
                runs: AtomicU32::new(0),
                cpu: AtomicI32::new(-1),
                start_node: AtomicI32::new(rasync::NUMA_NO_NODE),
                end_node: AtomicI32::new(rasync::NUMA_NO_NODE),
                took_ns: AtomicU64::new(0),
                finished: AtomicU32::new(0),
                registered: AtomicU32::new(0),
            };
            records.push(record, GFP_KERNEL)?;
        }
        Ok(Self {
            domain: rasync::Domain::new()?,
            records,
            start_ns: now_ns(),
            probed: AtomicUsize::new(0),
            finished: AtomicU32::new(0),
            registered: AtomicU32::new(0),
        })
    }

    /// How many devices have not registered yet.
    pub(crate) fn pending(&self) -> usize {
        self.records.len() - self.registered.load(Relaxed) as usize
    }

    /// Waits for every probe's slow part (module exit, before the devices go).
    pub(crate) fn synchronize(&self) {
        self.domain.synchronize_full();
    }

    /// The probe proper, in the driver core's context: takes the public index and hands
    /// the slow part to rasync on the device's node.
    fn probe(this: ArcBorrow<'_, Self>, dev: &Device) -> Result {
        let index = this.probed.fetch_add(1, Relaxed);
        let record = this.records.get(index).ok_or(EINVAL)?;
        if rasync::dev_to_node(dev) != record.node {
            dev_warn!(
                dev,
                "placed on node {}, not {}\n",
                rasync::dev_to_node(dev),
                record.node
            );
        }
        let probes: Arc<Self> = this.into();
        let cookie = this.domain.schedule_dev(
            move |dev, cookie| probes.slow_part(dev, index, cookie),
            ARef::from(dev),
        );
        dev_info!(dev, "probe {index} scheduled (cookie {cookie})\n");
        Ok(())
    }

    /// The asynchronous part of probe `index`: the slow work, then the ordered step.
    fn slow_part(&self, dev: &Device, index: usize, cookie: rasync::Cookie) {
        let Some(record) = self.records.get(index) else {
            return;
        };
        let t0 = now_ns();
        let (cpu, node) = where_now();
        record.cpu.store(cpu, Relaxed);
        record.start_node.store(node, Relaxed);
        // SAFETY: `msleep` may sleep; rasync runs entries in process context.
        unsafe { bindings::msleep(record.delay_ms) };
        record.end_node.store(where_now().1, Relaxed);
        let took = now_ns() - t0;
        record.took_ns.store(took as u64, Relaxed);
        record.runs.fetch_add(1, Relaxed);
        record
            .finished
            .store(self.finished.fetch_add(1, Relaxed) + 1, Relaxed);
        if node != record.node {
            dev_warn!(dev, "NUMA node mismatch {} != {node}\n", record.node);
        }
        dev_info!(
            dev,
            "probe {index} done after {} ms on CPU {cpu} (node {node})\n",
            took / 1_000_000
        );

        // The visible step waits for every earlier probe's.
        self.domain.synchronize_cookie(cookie);
        let rank = self.registered.fetch_add(1, Relaxed) + 1;
        record.registered.store(rank, Relaxed);
        dev_info!(
            dev,
            "registered as device {} (probe {index}, cookie {cookie})\n",
            rank - 1
        );
        if rank as usize == self.records.len() {
            self.report();
        }
    }

    /// Prints the summary line: measured values only, `key=value` for scripts.
    fn report(&self) {
        let wall = (now_ns() - self.start_ns) / 1_000_000;
        let (mut serial_ns, mut mismatches, mut violations) = (0u64, 0, 0);
        let (mut runs, mut ran_once, mut out_of_order) = (0, 0, 0);
        let mut nodes: u64 = 0;
        let mut other_nodes = 0;
        for (index, r) in self.records.iter().enumerate() {
            serial_ns += r.took_ns.load(Relaxed);
            let n = r.runs.load(Relaxed);
            runs += n;
            ran_once += u32::from(n == 1);
            if r.start_node.load(Relaxed) != r.node || r.end_node.load(Relaxed) != r.node {
                mismatches += 1;
            }
            // Ranks are 1-based, indices 0-based.
            violations += u32::from(r.registered.load(Relaxed) as usize != index + 1);
            out_of_order += u32::from(r.finished.load(Relaxed) as usize != index + 1);
            match u32::try_from(r.node) {
                Ok(n) if n < 64 => nodes |= 1 << n,
                _ => other_nodes += 1,
            }
        }
        let serial = (serial_ns / 1_000_000) as i64;
        let speedup = if wall > 0 { serial * 100 / wall } else { 0 };
        pr_info!(
            "summary devices={} nodes={} wall_ms={wall} serial_ms={serial} speedup={}.{:02} \
             numa_mismatches={mismatches} order_violations={violations} runs={runs} \
             ran_once={ran_once} finished_out_of_order={out_of_order}\n",
            self.records.len(),
            nodes.count_ones() + u32::from(other_nodes > 0),
            speedup / 100,
            speedup % 100
        );
    }
}

/// Called by the driver core (the faux bus) while a sample device is added.
///
/// # Safety
///
/// `faux_dev` is a valid faux device whose parent's driver data is a live `Probes`
/// (from `Arc::as_ptr`), as [`ProbedDevice::new`] arranges.
unsafe extern "C" fn probe_callback(faux_dev: *mut bindings::faux_device) -> c_int {
    // SAFETY: `faux_dev` is valid (function safety requirement); `dev` is its first field.
    let dev = unsafe { Device::from_raw(&raw mut (*faux_dev).dev) };
    // SAFETY: as above; the helper only reads the parent's driver data.
    let data = unsafe { rasync_sample_parent_drvdata((&raw mut (*faux_dev).dev).cast()) };
    if data.is_null() {
        return EINVAL.to_errno();
    }
    // SAFETY: the parent's driver data is a `Probes` from `Arc::as_ptr` of an `Arc` that
    // the module holds until after its devices are destroyed (function safety requirement).
    let probes = unsafe { ArcBorrow::from_raw(data.cast::<Probes>()) };
    match Probes::probe(probes, dev) {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

/// The sample driver's callbacks on the faux bus.
static OPS: bindings::faux_device_ops = bindings::faux_device_ops {
    probe: Some(probe_callback),
    remove: None,
};

/// A faux device probed by this driver, destroyed on drop.
///
/// # Invariants
///
/// `0` is a faux device from `faux_device_create()`, destroyed only in `drop`.
pub(crate) struct ProbedDevice(NonNull<bindings::faux_device>);

// SAFETY: the faux device API is thread-safe; the device is destroyed once, in `drop`.
unsafe impl Send for ProbedDevice {}
// SAFETY: as above; `ProbedDevice` offers no methods through `&self`.
unsafe impl Sync for ProbedDevice {}

impl ProbedDevice {
    /// Creates the device `name` under `parent` (a node bus whose driver data is a
    /// `Probes` from `Arc::as_ptr`, alive until this device is dropped); the driver
    /// core probes it before this returns.
    pub(crate) fn new(name: &CStr, parent: &Device) -> Result<Self> {
        let parent = core::ptr::from_ref(parent)
            .cast::<bindings::device>()
            .cast_mut();
        // SAFETY: `name` is copied; `parent` is a live device, referenced by the child
        // through `device_add()`; `OPS` is static; `probe_callback`'s requirement on the
        // parent's driver data is the caller's.
        let dev = unsafe { bindings::faux_device_create(name.as_char_ptr(), parent, &OPS) };
        // INVARIANT: a non-null result is a created and probed faux device.
        Ok(Self(NonNull::new(dev).ok_or(ENODEV)?))
    }
}

impl Drop for ProbedDevice {
    fn drop(&mut self) {
        // SAFETY: by the type invariant, the device is live and destroyed only here.
        unsafe { bindings::faux_device_destroy(self.0.as_ptr()) }
    }
}
