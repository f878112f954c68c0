// SPDX-License-Identifier: GPL-2.0

//! Module lifetime: the engine is built and published at load, drained at unload.
//!
//! The engine is published in a global so that the exported functions, which have no
//! module object to hand, can reach it. It is published only once fully built and
//! withdrawn only after every pending entry has finished; modules that call rasync hold
//! a reference on it, so none of them can still call in by then.
//!
//! # Examples
//!
//! ```ignore
//! let engine = engine::get().ok_or(ENODEV)?;
//! ```

use crate::{domain, engine::Engine};
use kernel::prelude::*;

/// The loaded module.
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
            pr_info!("loaded: workqueues \"rasync\" and \"rasync_node\" ready\n");
            Ok(())
        };
        init.pin_chain(publish)
    }
}

#[pinned_drop]
impl PinnedDrop for Rasync {
    fn drop(self: Pin<&mut Self>) {
        self.engine.unpublish();
        pr_info!("unloaded: no entries left, workqueues destroyed\n");
    }
}
