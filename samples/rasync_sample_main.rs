// SPDX-License-Identifier: GPL-2.0

//! rasync sample: NUMA-local asynchronous probes whose visible steps stay in order.

#[path = "../include/rasync.rs"]
mod rasync;

mod plan;
mod probe;
mod sample;

use kernel::prelude::*;
use sample::RasyncSample;

module! {
    type: RasyncSample,
    name: "rasync_sample",
    authors: ["rasync developers"],
    description: "Sample: a driver whose probes rasync runs on their devices' NUMA nodes",
    license: "GPL",
    params: {
        devices: u32 {
            default: 0,
            description: "Devices to create (0: two per online CPU, on its node)",
        },
        delay_min_ms: u32 {
            default: 100,
            description: "Shortest probe delay (ms)",
        },
        delay_max_ms: u32 {
            default: 400,
            description: "Longest probe delay (ms)",
        },
        seed: u64 {
            default: 1,
            description: "Seed of the per-device probe delays",
        },
    },
}
