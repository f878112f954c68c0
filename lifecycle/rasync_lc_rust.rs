// SPDX-License-Identifier: GPL-2.0

//! A Rust consumer of rasync that leaves closures pending when it is removed.
//!
//! Its init schedules 4 closures in the default domain and 4 in an exclusive domain it
//! owns; each owns a vector, waits until the module's exit has begun, sleeps `SLEEP_MS`
//! and prints `closure <cookie> done (sum 55)`. Loaded with `async_probe=1`, nothing
//! waits at load; its exit never synchronizes the default domain. rasync must finish
//! the closures before the module's code is freed (scripts/guest-lifecycle).

#[path = "../include/rasync.rs"]
mod rasync;

use core::sync::atomic::{AtomicBool, Ordering};
use kernel::{bindings, prelude::*};

/// How long each closure sleeps once exit has begun.
const SLEEP_MS: u32 = 1500;

/// Longest a closure waits for exit, so that nothing can hang.
const EXIT_WAIT_CAP_MS: u32 = 60_000;

/// Set when the module's exit begins.
static EXITING: AtomicBool = AtomicBool::new(false);

/// The loaded module: its exclusive domain (dropping it waits for the domain's entries).
struct LcRust {
    _domain: rasync::Domain,
}

fn work(cookie: rasync::Cookie, data: KVec<usize>) {
    let mut waited = 0;
    while !EXITING.load(Ordering::Acquire) && waited < EXIT_WAIT_CAP_MS {
        // SAFETY: `msleep` may sleep; closures run in process context.
        unsafe { bindings::msleep(10) };
        waited += 10;
    }
    // SAFETY: as above.
    unsafe { bindings::msleep(SLEEP_MS) };
    pr_info!(
        "closure {cookie} done (sum {})\n",
        data.iter().sum::<usize>()
    );
}

fn numbers() -> Result<KVec<usize>> {
    let mut v = KVec::new();
    for i in 1..=10usize {
        v.push(i, GFP_KERNEL)?;
    }
    Ok(v)
}

impl kernel::Module for LcRust {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let domain = rasync::Domain::new_exclusive()?;
        for _ in 0..4 {
            let data = numbers()?;
            rasync::schedule(move |cookie| work(cookie, data));
            let data = numbers()?;
            domain.schedule(move |cookie| work(cookie, data));
        }
        pr_info!("init returns\n");
        Ok(Self { _domain: domain })
    }
}

impl Drop for LcRust {
    fn drop(&mut self) {
        // Runs before the domain is dropped (which waits for its closures).
        EXITING.store(true, Ordering::Release);
        pr_info!("exit\n");
    }
}

module! {
    type: LcRust,
    name: "rasync_lc_rust",
    authors: ["rasync developers"],
    description: "rasync lifecycle test: Rust closures pending at rmmod",
    license: "GPL",
}
