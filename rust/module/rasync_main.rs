// SPDX-License-Identifier: GPL-2.0

//! rasync: the kernel's asynchronous function calls (`kernel/async.c`) as a Rust module.

#[path = "../engine/counters.rs"]
mod counters;
#[path = "../engine/debugfs.rs"]
mod debugfs;
#[path = "../engine/demangle.rs"]
mod demangle;
#[path = "../engine/domain.rs"]
mod domain;
#[path = "../engine/engine.rs"]
mod engine;
#[path = "../engine/entry.rs"]
mod entry;
#[path = "../engine/exports.rs"]
mod exports;
#[path = "../engine/fifo.rs"]
mod fifo;
#[path = "../engine/list.rs"]
mod list;
#[path = "../engine/loader.rs"]
mod loader;
#[path = "../engine/lock.rs"]
mod lock;
mod module;
#[path = "../engine/numa.rs"]
mod numa;
#[path = "../engine/observe.rs"]
mod observe;
#[path = "../engine/owner.rs"]
mod owner;
#[path = "../engine/params.rs"]
mod params;
#[path = "../engine/registry.rs"]
mod registry;
#[path = "../engine/runner.rs"]
mod runner;
#[path = "../engine/running.rs"]
mod running;
#[path = "../engine/shards.rs"]
mod shards;
#[path = "../engine/stamp.rs"]
mod stamp;
#[path = "../engine/wait.rs"]
mod wait;
#[path = "../engine/wq.rs"]
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
