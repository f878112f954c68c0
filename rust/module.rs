// SPDX-License-Identifier: GPL-2.0

//! Module lifetime: the dedicated workqueue is created at load and destroyed at unload.
//!
//! The workqueue is published in a global so that the exported functions, which have no
//! module object to hand, can reach it. It is published only after it is fully created
//! and withdrawn only when no entry can be queued any more (every module that could call
//! rasync has been unloaded first, since it holds a reference on rasync).
//!
//! # Examples
//!
//! ```ignore
//! let wq = module::async_wq().ok_or(ENODEV)?;
//! ```

use crate::wq::{OwnedWorkqueue, Workqueue};
use core::{
    ptr::null_mut,
    sync::atomic::{AtomicPtr, Ordering},
};
use kernel::{bindings, prelude::*};

/// The workqueue of the loaded module, or null outside its lifetime.
static ASYNC_WQ: AtomicPtr<bindings::workqueue_struct> = AtomicPtr::new(null_mut());

/// Returns rasync's workqueue while the module is loaded.
pub(crate) fn async_wq() -> Option<&'static Workqueue> {
    let ptr = ASYNC_WQ.load(Ordering::Acquire);
    if ptr.is_null() {
        return None;
    }
    // SAFETY: a non-null `ASYNC_WQ` is the live workqueue owned by `Rasync`, and it stays
    // live until `Rasync::drop`, which runs only once nothing can call into rasync.
    Some(unsafe { Workqueue::from_raw(ptr) })
}

/// The loaded module.
pub(crate) struct Rasync {
    wq: OwnedWorkqueue,
}

impl kernel::Module for Rasync {
    fn init(_module: &'static ThisModule) -> Result<Self> {
        let wq = OwnedWorkqueue::new_unbound(c"rasync")?;
        ASYNC_WQ.store(wq.as_ptr(), Ordering::Release);
        pr_info!("loaded: unbound workqueue \"rasync\" created\n");
        Ok(Self { wq })
    }
}

impl Drop for Rasync {
    fn drop(&mut self) {
        ASYNC_WQ.store(null_mut(), Ordering::Release);
        // `self.wq` is destroyed right after this, draining anything still queued.
        pr_info!("unloading: destroying workqueue \"rasync\"\n");
    }
}
