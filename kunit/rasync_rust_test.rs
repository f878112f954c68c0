// SPDX-License-Identifier: GPL-2.0

//! KUnit tests of rasync's Rust API (`include/rasync.rs`), as another Rust module sees it.

mod api_tests;
#[path = "../include/rasync.rs"]
mod rasync;

use api_tests::RasyncRustTest;
use kernel::prelude::*;

module! {
    type: RasyncRustTest,
    name: "rasync_rust_test",
    authors: ["rasync developers"],
    description: "KUnit tests of rasync's Rust API",
    license: "GPL",
}
