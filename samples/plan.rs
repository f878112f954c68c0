// SPDX-License-Identifier: GPL-2.0

//! The sample's plan: how many devices, on which NUMA node each, and its probe delay.
//!
//! By default there are two devices per online CPU, each on its CPU's node (as in
//! `drivers/base/test/test_async_driver_probe.c`), so every online node gets some.
//! With `devices=N` the devices go round the online CPUs, two at a time. Each device's
//! probe delay is drawn from `[delay_min_ms, delay_max_ms]` by a small deterministic
//! generator (SplitMix64) seeded with `seed`: the same parameters give the same delays.
//!
//! # Examples
//!
//! ```ignore
//! // insmod rasync_sample.ko devices=6 delay_min_ms=50 delay_max_ms=300 seed=7
//! let plan = plan::plan()?;
//! assert_eq!(plan.len(), 6);
//! ```
//!
//! C header: [`include/linux/topology.h`](srctree/include/linux/topology.h)

use kernel::prelude::*;

/// Most devices the sample creates.
pub(crate) const MAX_DEVICES: u32 = 1024;

/// Devices per online CPU by default.
const PER_CPU: u32 = 2;

/// One device of the plan.
#[derive(Clone, Copy)]
pub(crate) struct Device {
    /// The node the device is placed on (its "firmware" says so).
    pub(crate) node: i32,
    /// How long its probe's slow part sleeps.
    pub(crate) delay_ms: u32,
}

extern "C" {
    fn rasync_sample_num_online_cpus() -> u32;
    fn rasync_sample_online_cpu_node(nth: u32) -> i32;
}

/// SplitMix64: a tiny deterministic generator (Steele, Lea, Flood, 2014).
struct SplitMix64(u64);

impl SplitMix64 {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
}

/// Builds the plan from the module parameters.
pub(crate) fn plan() -> Result<KVec<Device>> {
    use crate::module_parameters::{delay_max_ms, delay_min_ms, devices, seed};

    let (min, max) = (delay_min_ms.value(), delay_max_ms.value());
    if min > max {
        pr_err!("delay_min_ms ({min}) is above delay_max_ms ({max})\n");
        return Err(EINVAL);
    }
    // SAFETY: no preconditions.
    let cpus = unsafe { rasync_sample_num_online_cpus() };
    let count = match devices.value() {
        0 => cpus.saturating_mul(PER_CPU),
        n => n,
    };
    if count == 0 || count > MAX_DEVICES {
        pr_err!("devices={count}: want 1 to {MAX_DEVICES}\n");
        return Err(EINVAL);
    }
    let mut rng = SplitMix64(seed.value());
    let mut plan = KVec::with_capacity(count as usize, GFP_KERNEL)?;
    for i in 0..count {
        // SAFETY: no preconditions; `cpus` is not zero, as this CPU is online.
        let node = unsafe { rasync_sample_online_cpu_node((i / PER_CPU) % cpus) };
        let span = u64::from(max - min) + 1;
        let delay_ms = min + (rng.next() % span) as u32;
        plan.push(Device { node, delay_ms }, GFP_KERNEL)?;
    }
    Ok(plan)
}
