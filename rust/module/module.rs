// SPDX-License-Identifier: GPL-2.0

//! Module lifetime: the engine is built and published at load, drained at unload.
//!
//! The engine is published in a global so that the exported functions, which have no
//! module object to hand, can reach it. It is published only once fully built and
//! withdrawn only after every pending entry has finished; modules that call rasync hold
//! a reference on it, so none of them can still call in by then.
//!
//! rasync also stands in for the module loader's `async_synchronize_full()` calls: a
//! module notifier (`lifecycle.c`) calls [`rasync_module_drain`] when a module goes live
//! and when it goes away, and it waits there for that module's entries
//! ([`crate::owner`]).
//!
//! # Examples
//!
//! ```ignore
//! let engine = engine::get().ok_or(ENODEV)?;
//! ```
//!
//! C header: [`include/linux/module.h`](srctree/include/linux/module.h)

use crate::{domain, engine, engine::Engine};
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

/// Called by the module notifier at `MODULE_STATE_LIVE`, after the end-of-init drain (or
/// instead of it, for a module loaded with `async_probe`): the loader frees `module`'s
/// init memory next, so the domains defined there leave debugfs's list now.
#[no_mangle]
pub(crate) extern "C" fn rasync_module_init_done(module: engine::Owner) {
    if let Some(engine) = engine::get() {
        engine.registry().forget_init(module);
    }
}

/// Called by the module notifier: waits for the entries of `module`; `going` means the
/// module is being removed (its record is then closed).
#[no_mangle]
pub(crate) extern "C" fn rasync_module_drain(module: engine::Owner, going: bool) {
    if let Some(engine) = engine::get() {
        engine.drain_owner(module, going);
    }
}

/// Called by the module notifier when `module` comes, before its init runs.
#[no_mangle]
pub(crate) extern "C" fn rasync_module_coming(module: engine::Owner) {
    if let Some(engine) = engine::get() {
        engine.open_owner(module);
    }
}

/// Returns whether `module` has entries pending (module notifier, at removal).
#[no_mangle]
pub(crate) extern "C" fn rasync_module_busy(module: engine::Owner) -> bool {
    engine::get().is_some_and(|engine| engine.owner_busy(module))
}
