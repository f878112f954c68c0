// SPDX-License-Identifier: GPL-2.0
/*
 * rasync's slab cache of entries (entry.rs). kernel/async.c kmalloc()s each
 * struct async_entry (96 bytes, kmalloc-96); a cache of its own sizes rasync's entries
 * exactly, and kmem_cache_alloc() is the slab fast path without the size-class lookup
 * that Rust's KBox pays (it allocates through krealloc_node_align()).
 */

#include <linux/slab.h>
#include "rasync_internal.h"

/* Read by entry.rs, which calls the slab functions on it directly. */
struct kmem_cache *rasync_entry_cache;

int rasync_entry_cache_create(size_t size, size_t align)
{
	rasync_entry_cache = kmem_cache_create("rasync_entry", size, align, 0, NULL);
	return rasync_entry_cache ? 0 : -ENOMEM;
}

/* Only once every entry is freed (rasync unloads once none is pending). */
void rasync_entry_cache_destroy(void)
{
	kmem_cache_destroy(rasync_entry_cache);
	rasync_entry_cache = NULL;
}

/* With CONFIG_MEM_ALLOC_PROFILING, so the allocations are tagged here. */
void *rasync_entry_alloc(gfp_t flags)
{
	return kmem_cache_alloc(rasync_entry_cache, flags);
}

/* The slab object size of one entry, as slabinfo reports it. */
size_t rasync_entry_cache_object_size(void)
{
	return kmem_cache_size(rasync_entry_cache);
}
