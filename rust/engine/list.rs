// SPDX-License-Identifier: GPL-2.0

//! The few `list_head` operations rasync needs, on the C layout.
//!
//! Domains are C structures that C users define statically with `RASYNC_DOMAIN()`, so
//! their lists are plain `struct list_head`s. These helpers are the only code that
//! follows or rewrites list pointers; each caller holds the lock that protects the list.
//!
//! # Examples
//!
//! ```ignore
//! // SAFETY: both heads are initialised and the caller holds the list's lock.
//! unsafe { list::add_tail(new, head) };
//! ```
//!
//! C header: [`include/linux/list.h`](srctree/include/linux/list.h)

use kernel::{bindings::list_head, prelude::*, types::Opaque};

/// Returns an initialiser for an unlinked list node (or empty head) in an `Opaque`.
pub(crate) fn new_link() -> impl PinInit<Opaque<list_head>> {
    // SAFETY: `slot` is valid for writes; `init` makes it an unlinked node.
    Opaque::ffi_init(|slot| unsafe { init(slot) })
}

/// Makes `head` an empty list (or an unlinked node).
///
/// # Safety
///
/// `head` must be valid for writes and not linked into a list that is still in use.
pub(crate) unsafe fn init(head: *mut list_head) {
    // SAFETY: the caller guarantees `head` is valid for writes.
    unsafe {
        (*head).next = head;
        (*head).prev = head;
    }
}

/// Returns whether the list at `head` is empty (or the node is unlinked).
///
/// # Safety
///
/// `head` must be an initialised list head; the caller holds the list's lock.
pub(crate) unsafe fn is_empty(head: *const list_head) -> bool {
    // SAFETY: the caller guarantees `head` is valid and initialised.
    unsafe { (*head).next.cast_const() == head }
}

/// Returns the first node of the list at `head`, if any.
///
/// # Safety
///
/// `head` must be an initialised list head; the caller holds the list's lock.
pub(crate) unsafe fn first(head: *mut list_head) -> Option<*mut list_head> {
    // SAFETY: the caller guarantees `head` is valid and initialised.
    unsafe { (!is_empty(head)).then(|| (*head).next) }
}

/// Links `new` in front of `next` (before the head means at the tail).
///
/// # Safety
///
/// `new` must be valid and unlinked; `next` must be a node or the head of an initialised
/// list whose lock the caller holds.
pub(crate) unsafe fn add_before(new: *mut list_head, next: *mut list_head) {
    // SAFETY: the caller guarantees all three nodes are valid and the list is locked.
    unsafe {
        let prev = (*next).prev;
        (*new).next = next;
        (*new).prev = prev;
        (*prev).next = new;
        (*next).prev = new;
    }
}

/// Links `new` at the tail of the list at `head`.
///
/// # Safety
///
/// As for [`add_before`].
pub(crate) unsafe fn add_tail(new: *mut list_head, head: *mut list_head) {
    // SAFETY: the caller's guarantees are those of `add_before`.
    unsafe { add_before(new, head) }
}

/// Unlinks `entry` and leaves it as an empty, unlinked node.
///
/// # Safety
///
/// `entry` must be initialised (linked or not); if linked, the caller holds the list's lock.
pub(crate) unsafe fn del_init(entry: *mut list_head) {
    // SAFETY: the caller guarantees `entry` and its neighbours are valid and locked.
    unsafe {
        let (prev, next) = ((*entry).prev, (*entry).next);
        (*prev).next = next;
        (*next).prev = prev;
        init(entry);
    }
}
