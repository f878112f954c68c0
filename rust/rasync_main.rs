// SPDX-License-Identifier: GPL-2.0

//! rasync: the kernel's asynchronous function calls (`kernel/async.c`) as a Rust module.

mod counters;
mod debugfs;
mod demangle;
mod domain;
mod engine;
mod entry;
mod exports;
mod fifo;
mod list;
mod lock;
mod module;
mod numa;
mod observe;
mod owner;
mod params;
mod registry;
mod runner;
mod running;
mod shards;
mod stamp;
mod wait;
mod wq;

use kernel::prelude::*;
use module::Rasync;

module! {
    type: Rasync,
    name: "rasync",
    authors: ["rasync developers"],
    description: "Asynchronous function calls with sequence cookies (kernel/async.c in Rust)",
    license: "GPL",
}
