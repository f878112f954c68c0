// SPDX-License-Identifier: GPL-2.0

//! rasync built into vmlinux (`CONFIG_ASYNC_RUST`): the engine serves `<linux/async.h>`.
//!
//! The same engine files as `rasync.ko` (`../engine/`), with the built-in host
//! ([`host`], `api.c`, `host.c`) instead of the module's: no `module!`, so the log
//! prefix that `module!` would define is declared here.

#[path = "../engine/counters.rs"]
mod counters;
#[path = "../engine/debugfs.rs"]
mod debugfs;
#[path = "../engine/demangle.rs"]
mod demangle;
#[path = "../engine/domain.rs"]
mod domain;
#[path = "../engine/engine.rs"]
// The module's unload uses `Engine::unpublish()`; vmlinux never unloads the engine.
#[allow(dead_code)]
mod engine;
#[path = "../engine/entry.rs"]
mod entry;
#[path = "../engine/exports.rs"]
mod exports;
#[path = "../engine/fifo.rs"]
mod fifo;
mod host;
#[path = "../engine/list.rs"]
mod list;
#[path = "../engine/loader.rs"]
mod loader;
#[path = "../engine/lock.rs"]
mod lock;
#[path = "../engine/numa.rs"]
mod numa;
#[path = "../engine/observe.rs"]
mod observe;
#[path = "../engine/owner.rs"]
// The module's unload uses `Owners::is_empty()`; vmlinux never unloads the engine.
#[allow(dead_code)]
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
// The module's unload uses `SwaitQueue::wait_event()`; vmlinux never unloads the engine.
#[allow(dead_code)]
mod wait;
#[path = "../engine/wq.rs"]
mod wq;

/// The prefix of the engine's messages, `rasync: ` as from the module.
const __LOG_PREFIX: &[u8] = b"rasync\0";
