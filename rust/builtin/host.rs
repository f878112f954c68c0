// SPDX-License-Identifier: GPL-2.0

//! The built-in host: builds the engine at boot, from `async_init()`, and keeps it.
//!
//! `rasync.ko` keeps its engine pinned in the module object and takes it down at
//! unload. Built into vmlinux, the engine serves `<linux/async.h>` from
//! `kernel_init_freeable()` on (`async_init()`, after the workqueues' topology and
//! before the initcalls) until the end: it is allocated once and never freed.
//!
//! # Examples
//!
//! ```c
//! void __init async_init(void)
//! {
//!     if (rasync_builtin_init())
//!         panic("async: the Rust engine did not start\n");
//! }
//! ```
//!
//! C header: [`include/linux/async.h`](srctree/include/linux/async.h)

use crate::{domain, engine::Engine};
use kernel::{ffi::c_int, prelude::*};

/// Builds the engine and makes it the one `<linux/async.h>` reaches; 0 or a negative
/// errno. Called once, by `async_init()` (`api.c`).
#[no_mangle]
pub(crate) extern "C" fn rasync_builtin_init() -> c_int {
    match start() {
        Ok(()) => 0,
        Err(e) => e.to_errno(),
    }
}

fn start() -> Result {
    domain::check_layout()?;
    let engine = KBox::pin_init(Engine::new(), GFP_KERNEL)?;
    // SAFETY: the engine is taken out of its pin only to be leaked: it is never moved,
    // and its memory, never freed, stays pinned for the rest of the kernel's life.
    let engine: &'static Engine = KBox::leak(unsafe { Pin::into_inner_unchecked(engine) });
    // SAFETY: as above, the engine never moves again.
    let engine = unsafe { Pin::new_unchecked(engine) };
    engine.publish();
    pr_info!("async: served by rasync, workqueues \"rasync\" and \"rasync_node<N>\" ready\n");
    Ok(())
}
