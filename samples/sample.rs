// SPDX-License-Identifier: GPL-2.0

//! Four devices, two per NUMA node, each "probed" asynchronously on its own node.
//!
//! A probe does its slow, private part (a sleep standing in for hardware) in parallel
//! with the others, then calls `synchronize_cookie(cookie)` before its externally
//! visible step ("registered"), so registrations happen in scheduling order even though
//! the probes finish out of order — the pattern `kernel/async.c` was written for. Load
//! with `rasync.initcall_debug=1` (or `echo 1 > /sys/module/rasync/parameters/initcall_debug`)
//! to see the `calling`/`initcall … returned` trace lines that `scripts/bootgraph.pl`
//! draws.

use crate::rasync;
use kernel::{
    bindings,
    device::{Bound, Device},
    faux,
    prelude::*,
    str::CString,
    sync::aref::ARef, //
};

/// Devices per node, and nodes used.
const PER_NODE: usize = 2;
const NODES: usize = 2;

/// The loaded sample: its devices, removed on unload.
pub(crate) struct RasyncSample {
    _devices: KVec<faux::Registration>,
}

/// Sets the NUMA node of a device that no driver uses yet (`set_dev_node()`).
fn set_dev_node(dev: &Device, node: i32) {
    extern "C" {
        fn rasync_sample_set_dev_node(dev: *mut kernel::ffi::c_void, node: i32);
    }
    let raw = core::ptr::from_ref(dev)
        .cast::<bindings::device>()
        .cast_mut();
    // SAFETY: `Device` is `repr(transparent)` over `struct device`; the faux device was
    // just created and nothing reads its node concurrently.
    unsafe { rasync_sample_set_dev_node(raw.cast(), node) };
}

/// Returns the generic device of a faux device.
fn bus_device(reg: &faux::Registration) -> &Device<Bound> {
    let faux_dev: &faux::Device<Bound> = reg.as_ref();
    faux_dev.as_ref()
}

/// The probe: slow private work, then the ordered, visible step.
fn probe(dev: &Device, index: usize, cookie: rasync::Cookie) {
    // Later devices are faster, so their private parts finish first.
    let ms = 100 * (NODES * PER_NODE - index) as u32;
    // SAFETY: `msleep` may sleep; probes run in process context.
    unsafe { bindings::msleep(ms) };
    // SAFETY: `raw_smp_processor_id` has no preconditions.
    let cpu = unsafe { bindings::raw_smp_processor_id() };
    dev_info!(
        dev,
        "probe {index} done after {ms} ms on CPU {cpu} (node {})\n",
        rasync::dev_to_node(dev)
    );
    rasync::synchronize_cookie(cookie);
    dev_info!(dev, "registered as device {index} (cookie {cookie})\n");
}

impl kernel::Module for RasyncSample {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let mut devices = KVec::new();
        for index in 0..NODES * PER_NODE {
            let name = CString::try_from_fmt(fmt!("rasync_sample.{index}"))?;
            let reg = faux::Registration::new(&name, None)?;
            set_dev_node(bus_device(&reg), (index / PER_NODE) as i32);
            devices.push(reg, GFP_KERNEL)?;
        }
        // SAFETY: `ktime_get` has no preconditions.
        let start = unsafe { bindings::ktime_get() };
        for (index, reg) in devices.iter().enumerate() {
            let dev: &Device = bus_device(reg);
            rasync::schedule_dev(
                move |dev, cookie| probe(dev, index, cookie),
                ARef::from(dev),
            );
        }
        rasync::synchronize_full();
        // SAFETY: as above.
        let ms = (unsafe { bindings::ktime_get() } - start) / 1_000_000;
        pr_info!(
            "{} devices probed asynchronously in {ms} ms (serial: 1000 ms)\n",
            devices.len()
        );
        Ok(Self { _devices: devices })
    }
}
