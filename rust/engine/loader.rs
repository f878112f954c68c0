// SPDX-License-Identifier: GPL-2.0

//! The engine's side of module lifetimes: what a host calls at the module loader's fixed
//! points.
//!
//! The hosts reach the loader differently: `rasync.ko` from a module notifier
//! (`module/lifecycle.c`), the built-in engine from the loader itself (the in-tree
//! series turns `kernel/module/main.c`'s two `async_synchronize_full()` calls into
//! per-module waits). Both call these functions, which wait for the module's entries
//! ([`crate::owner`]) and forget its init-memory domains ([`crate::registry`]).
//!
//! # Examples
//!
//! ```c
//! rasync_module_coming(mod);              /* MODULE_STATE_COMING */
//! rasync_module_drain(mod, false);        /* after init, before init memory is freed */
//! rasync_module_init_done(mod);
//! rasync_module_drain(mod, true);         /* after exit(), before free_module() */
//! ```
//!
//! C header: [`include/linux/module.h`](srctree/include/linux/module.h)

use crate::engine;

/// Called by the host at `MODULE_STATE_LIVE`, after the end-of-init drain (or
/// instead of it, for a module loaded with `async_probe`): the loader frees `module`'s
/// init memory next, so the domains defined there leave debugfs's list now.
#[no_mangle]
pub(crate) extern "C" fn rasync_module_init_done(module: engine::Owner) {
    if let Some(engine) = engine::get() {
        engine.registry().forget_init(module);
    }
}

/// Called by the host: waits for the entries of `module`; `going` means the
/// module is being removed (its record is then closed).
#[no_mangle]
pub(crate) extern "C" fn rasync_module_drain(module: engine::Owner, going: bool) {
    if let Some(engine) = engine::get() {
        engine.drain_owner(module, going);
    }
}

/// Called by the host when `module` comes, before its init runs.
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
