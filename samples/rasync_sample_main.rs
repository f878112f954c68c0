// SPDX-License-Identifier: GPL-2.0

//! rasync sample: NUMA-local asynchronous probes whose visible steps stay in order.

#[path = "../include/rasync.rs"]
mod rasync;
mod sample;

use kernel::prelude::*;
use sample::RasyncSample;

module! {
    type: RasyncSample,
    name: "rasync_sample",
    authors: ["rasync developers"],
    description: "Sample: devices on several NUMA nodes probed asynchronously with rasync",
    license: "GPL",
}
