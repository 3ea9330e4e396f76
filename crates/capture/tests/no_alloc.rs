//! The reader does not allocate per packet: after the first record, reading the rest of a
//! capture (plain or gzip) allocates nothing.

mod common;

use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicU64, Ordering};

use ctguard_capture::Capture;

struct Counting;

static ALLOCS: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static COUNTING: Cell<bool> = const { Cell::new(false) };
}

// SAFETY: every call is passed on to the system allocator unchanged; only a count is kept.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: as the caller promised for `layout`.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: `ptr` came from `System.alloc` with this layout.
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        if COUNTING.with(Cell::get) {
            ALLOCS.fetch_add(1, Ordering::Relaxed);
        }
        // SAFETY: as the caller promised for `ptr`, `layout` and `new_size`.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

fn allocations_after_the_first_record(name: &str) -> (u64, u64) {
    let mut cap = Capture::open(common::data(name)).unwrap();
    cap.next_record().unwrap().unwrap();
    ALLOCS.store(0, Ordering::Relaxed);
    COUNTING.with(|c| c.set(true));
    let mut n = 1;
    while let Some(r) = cap.next_record() {
        assert!(!r.unwrap().data.is_empty());
        n += 1;
    }
    COUNTING.with(|c| c.set(false));
    (ALLOCS.load(Ordering::Relaxed), n)
}

#[test]
fn no_allocation_per_packet() {
    // The buffer starts at 64 KiB: packets up to that size never grow it.
    for name in [
        "syn-flood.pcap",
        "http.pcap",
        "http.pcapng",
        "lo-any.pcapng",
        "http.pcapng.gz",
    ] {
        let (allocs, n) = allocations_after_the_first_record(name);
        assert_eq!(allocs, 0, "{name}: {allocs} allocations for {n} records");
    }
}
