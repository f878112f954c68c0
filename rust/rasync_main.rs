// SPDX-License-Identifier: GPL-2.0

//! rasync: the kernel's asynchronous function calls (`kernel/async.c`) as a Rust module.

mod module;
mod numa;
mod wq;

use module::Rasync;

module! {
    type: Rasync,
    name: "rasync",
    authors: ["rasync developers"],
    description: "Asynchronous function calls with sequence cookies (kernel/async.c in Rust)",
    license: "GPL",
}
