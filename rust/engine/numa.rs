// SPDX-License-Identifier: GPL-2.0

//! NUMA topology queries for the scheduling and test code.
//!
//! `cpu_to_node()`, `node_online()` and `dev_to_node()` are static inline
//! in C, so the generated bindings cannot call them; `helpers.c` gives each a non-inline
//! body and this file wraps those in safe functions.
//!
//! # Examples
//!
//! ```ignore
//! for node in numa::online_nodes() {
//!     pr_info!("node {node} is online\n");
//! }
//! ```
//!
//! C header: [`include/linux/topology.h`](srctree/include/linux/topology.h)

use kernel::{
    bindings,
    ffi::{c_int, c_void}, //
};

/// `NUMA_NO_NODE`: no preference, any CPU will do.
pub(crate) const NUMA_NO_NODE: i32 = -1;

extern "C" {
    fn rasync_helper_cpu_to_node(cpu: c_int) -> c_int;
    fn rasync_helper_numa_node_id() -> c_int;
    fn rasync_helper_node_online(node: c_int) -> bool;
    fn rasync_helper_node_has_cpus(node: c_int) -> bool;
    fn rasync_helper_node_has_possible_cpus(node: c_int) -> bool;
    fn rasync_helper_nr_node_ids() -> c_int;
    fn rasync_dev_to_node(dev: *mut c_void) -> c_int;
}

/// Returns the node of `cpu`.
pub(crate) fn cpu_to_node(cpu: u32) -> i32 {
    // SAFETY: `cpu_to_node` reads a per-CPU map that is valid for any possible CPU number;
    // callers pass CPU numbers the kernel handed them.
    unsafe { rasync_helper_cpu_to_node(cpu as c_int) }
}

/// Returns the node of the CPU the caller runs on (may change unless preemption is off).
pub(crate) fn numa_node_id() -> i32 {
    // SAFETY: `numa_node_id` reads this CPU's node, valid in any context.
    unsafe { rasync_helper_numa_node_id() }
}

/// Returns the CPU the caller runs on (may change unless preemption is off).
pub(crate) fn raw_smp_processor_id() -> u32 {
    // SAFETY: `raw_smp_processor_id` has no preconditions.
    unsafe { bindings::raw_smp_processor_id() }
}

/// Returns whether `node` is a valid node number that is online.
pub(crate) fn node_online(node: i32) -> bool {
    // SAFETY: the helper range-checks `node` before reading the online mask.
    unsafe { rasync_helper_node_online(node) }
}

/// Returns whether `node` is online and has an online CPU to run work on.
///
/// A node whose CPUs are all offline (CPU hotplug, e.g. during suspend) keeps its memory
/// online, but the workqueue then caps that node's work items in flight at `min_active`
/// (8): more than 8 interdependent entries queued there would stall. rasync treats such
/// a node like an offline one: "any CPU".
pub(crate) fn node_has_cpus(node: i32) -> bool {
    // SAFETY: the helper range-checks `node` before reading the masks.
    unsafe { rasync_helper_node_has_cpus(node) }
}

/// Returns whether `node` is online and has a possible CPU: one that is online, or may
/// come online later (CPU hotplug). A node with none (memory only) never runs work itself.
pub(crate) fn node_has_possible_cpus(node: i32) -> bool {
    // SAFETY: the helper range-checks `node` before reading the masks.
    unsafe { rasync_helper_node_has_possible_cpus(node) }
}

/// Returns `nr_node_ids`: one more than the highest possible node number.
pub(crate) fn nr_node_ids() -> usize {
    // SAFETY: `nr_node_ids` is set up during early boot and read-only afterwards.
    let nr = unsafe { rasync_helper_nr_node_ids() };
    nr.max(1) as usize
}

/// Returns an iterator over the online nodes.
pub(crate) fn online_nodes() -> impl Iterator<Item = i32> {
    (0..nr_node_ids() as i32).filter(|&n| node_online(n))
}

/// Returns the node of `dev`, or [`NUMA_NO_NODE`].
///
/// # Safety
///
/// `dev` must point to a valid `struct device`.
pub(crate) unsafe fn dev_to_node(dev: *mut bindings::device) -> i32 {
    // SAFETY: the caller guarantees that `dev` is valid.
    unsafe { rasync_dev_to_node(dev.cast()) }
}
