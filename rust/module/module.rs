// SPDX-License-Identifier: GPL-2.0

//! Module lifetime: the engine is built and published at load, drained at unload.
//!
//! The engine is published in a global so that the exported functions, which have no
//! module object to hand, can reach it. It is published only once fully built and
//! withdrawn only after every pending entry has finished; modules that call rasync hold
//! a reference on it, so none of them can still call in by then.
//!
//! rasync also stands in for the module loader's `async_synchronize_full()` calls: a
//! module notifier (`lifecycle.c`) calls the engine's loader hooks
//! ([`crate::loader`]) when a module comes, goes live and goes away, and waits there
//! for that module's entries ([`crate::owner`]).
//!
//! # Examples
//!
//! ```ignore
//! let engine = engine::get().ok_or(ENODEV)?;
//! ```
//!
//! C header: [`include/linux/module.h`](srctree/include/linux/module.h)

use crate::{domain, engine::Engine};
use kernel::prelude::*;

extern "C" {
    fn rasync_lifecycle_register() -> kernel::ffi::c_int;
    fn rasync_lifecycle_unregister();
    fn rasync_debugfs_init();
    fn rasync_debugfs_exit();
}

/// The loaded module.
///
/// # Invariants
///
/// The module notifier is registered from a successful init until drop.
#[pin_data(PinnedDrop)]
pub(crate) struct Rasync {
    #[pin]
    engine: Engine,
}

impl kernel::InPlaceModule for Rasync {
    fn init(_module: &'static ThisModule) -> impl PinInit<Self, Error> {
        let init = try_pin_init!(Self {
            engine <- Engine::new(),
        });
        let publish = |this: Pin<&mut Self>| -> Result {
            domain::check_layout()?;
            this.project().engine.into_ref().publish();
            // SAFETY: registers a static notifier block; unregistered in drop.
            // INVARIANT: registered from here on.
            kernel::error::to_result(unsafe { rasync_lifecycle_register() })?;
            // SAFETY: creates debugfs rasync/, removed in drop; its files reach the engine
            // through `engine::get()`, published above.
            unsafe { rasync_debugfs_init() };
            pr_info!("loaded: workqueues \"rasync\" and \"rasync_node<N>\" ready\n");
            Ok(())
        };
        init.pin_chain(publish)
    }
}

#[pinned_drop]
impl PinnedDrop for Rasync {
    fn drop(self: Pin<&mut Self>) {
        // SAFETY: created in init; removal waits for readers of its files.
        unsafe { rasync_debugfs_exit() };
        // SAFETY: registered in init (type invariant).
        unsafe { rasync_lifecycle_unregister() };
        self.engine.unpublish();
        pr_info!("unloaded: no entries left, workqueues destroyed\n");
    }
}
