//! Resident memory, for bytes per connection.

/// The process's resident set size in bytes, from /proc/self/statm; None where unavailable.
pub fn resident_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    Some(pages * page_size())
}

fn page_size() -> u64 {
    // Every Linux target this runs on uses 4 KiB base pages unless told otherwise.
    std::env::var("CTGUARD_PAGE_SIZE")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or(4096)
}
