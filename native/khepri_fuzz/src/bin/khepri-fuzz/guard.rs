//! An allocator that aborts on an allocation no fuzz input can justify: a
//! decoder that trusts a length field shows up as a crash, not as a machine
//! slowly running out of memory.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

/// Largest single allocation allowed. Inputs are at most 64 KiB, and the
/// most any decoder may legitimately expand them is zlib's ~1000:1.
const MAX_ONE: usize = 128 << 20;
/// Largest total allowed at once.
const MAX_LIVE: usize = 4 << 30;

static LIVE: AtomicUsize = AtomicUsize::new(0);

/// The guarding allocator (over the system one).
pub struct Guard;

fn check(size: usize) {
    let live = LIVE.fetch_add(size, Ordering::Relaxed) + size;
    if size > MAX_ONE || live > MAX_LIVE {
        // Formatting to stderr does not allocate.
        eprintln!("allocation guard: {size} bytes requested, {live} live");
        std::process::abort();
    }
}

// SAFETY: every call is forwarded unchanged to `System`; the counters are
// only bookkeeping.
unsafe impl GlobalAlloc for Guard {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        check(layout.size());
        // SAFETY: the caller's contract is the same as System's.
        unsafe { System.alloc(layout) }
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        check(layout.size());
        // SAFETY: as above.
        unsafe { System.alloc_zeroed(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        // SAFETY: as above.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_sub(layout.size(), Ordering::Relaxed);
        check(new_size);
        // SAFETY: as above.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}
