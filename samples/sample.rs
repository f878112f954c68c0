// SPDX-License-Identifier: GPL-2.0

//! The sample module: devices on every online NUMA node, probed asynchronously.
//!
//! Modelled on `drivers/base/test/test_async_driver_probe.c`. Init creates one faux
//! "bus" device per node used, placed on that node, and the planned devices under
//! them ([`crate::plan`]): each inherits its bus's node in `device_add()`, as real
//! devices inherit their bus's, before the driver core calls the sample's probe
//! ([`crate::probe`]). The probes return at once; rasync runs their slow parts, on
//! their nodes, in parallel. Loaded normally, `insmod` returns once they are all done
//! (rasync waits for a module's entries after its init); loaded with `async_probe=1`
//! it returns at once, and an immediate `rmmod` is safe: exit waits for the probes
//! before destroying the devices.
//!
//! # Examples
//!
//! ```ignore
//! // insmod rasync_sample.ko devices=8 delay_min_ms=100 delay_max_ms=400 seed=1
//! // rasync_sample: summary devices=8 nodes=2 wall_ms=430 serial_ms=2020 speedup=4.69 ...
//! ```
//!
//! C header: [`include/linux/device/faux.h`](srctree/include/linux/device/faux.h)

use crate::{plan, probe};
use kernel::{
    bindings,
    device::{Bound, Device},
    faux,
    ffi::c_void,
    prelude::*,
    str::CString,
    sync::Arc,
};

extern "C" {
    fn rasync_sample_set_dev_node(dev: *mut c_void, node: i32);
    fn rasync_sample_set_drvdata(dev: *mut c_void, data: *mut c_void);
}

/// Returns the generic device of a faux device.
fn bus_device(reg: &faux::Registration) -> &Device<Bound> {
    let faux_dev: &faux::Device<Bound> = reg.as_ref();
    faux_dev.as_ref()
}

/// Returns the `struct device` behind `dev`.
fn raw(dev: &Device<Bound>) -> *mut c_void {
    // `Device` is `repr(transparent)` over `struct device`.
    core::ptr::from_ref(dev)
        .cast::<bindings::device>()
        .cast_mut()
        .cast()
}

/// A node's bus: the parent of the sample devices on that node.
struct Bus {
    node: i32,
    reg: faux::Registration,
}

impl Bus {
    /// Creates the bus of `node`, handing `probes` to its children's probes.
    fn new(node: i32, probes: &Arc<probe::Probes>) -> Result<Self> {
        let name = CString::try_from_fmt(fmt!("rasync_sample_node{node}"))?;
        let reg = faux::Registration::new(&name, None)?;
        let dev = raw(bus_device(&reg));
        // SAFETY: `dev` is the bus's live device, which has no children yet; the driver
        // data is a `Probes` that the module keeps alive until after the bus is
        // destroyed (field order of `RasyncSample`).
        unsafe {
            rasync_sample_set_dev_node(dev, node);
            rasync_sample_set_drvdata(dev, Arc::as_ptr(probes).cast_mut().cast());
        }
        Ok(Self { node, reg })
    }
}

/// The loaded sample. Fields drop in order: devices, then their buses, then the state
/// the probes share.
pub(crate) struct RasyncSample {
    devices: KVec<probe::ProbedDevice>,
    buses: KVec<Bus>,
    probes: Arc<probe::Probes>,
}

impl kernel::Module for RasyncSample {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let plan = plan::plan()?;
        let probes = Arc::new(probe::Probes::new(&plan)?, GFP_KERNEL)?;
        // From here on an error drops `this`, which waits for the probes scheduled so far.
        let mut this = Self {
            devices: KVec::with_capacity(plan.len(), GFP_KERNEL)?,
            buses: KVec::new(),
            probes,
        };
        for d in plan.iter() {
            if !this.buses.iter().any(|b| b.node == d.node) {
                let bus = Bus::new(d.node, &this.probes)?;
                this.buses.push(bus, GFP_KERNEL)?;
            }
        }
        pr_info!(
            "{} devices on {} nodes, probe delays {}..{} ms, seed {}\n",
            plan.len(),
            this.buses.len(),
            crate::module_parameters::delay_min_ms.value(),
            crate::module_parameters::delay_max_ms.value(),
            crate::module_parameters::seed.value()
        );
        for (index, d) in plan.iter().enumerate() {
            let Some(bus) = this.buses.iter().find(|b| b.node == d.node) else {
                return Err(EINVAL);
            };
            let name = CString::try_from_fmt(fmt!("rasync_sample.{index}"))?;
            let dev = probe::ProbedDevice::new(&name, bus_device(&bus.reg))?;
            this.devices.push(dev, GFP_KERNEL)?;
        }
        pr_info!("{} probes scheduled\n", this.devices.len());
        Ok(this)
    }
}

impl Drop for RasyncSample {
    fn drop(&mut self) {
        let pending = self.probes.pending();
        if pending > 0 {
            pr_info!("exit: {pending} probes still running, waiting for them\n");
        }
        // Before the devices go: no probe's slow part outlives its device's driver.
        self.probes.synchronize();
        pr_info!(
            "exit pending_at_exit={pending} devices={} unregistered={}\n",
            self.devices.len(),
            self.probes.pending()
        );
    }
}
