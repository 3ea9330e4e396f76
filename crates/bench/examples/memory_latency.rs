//! The machine's memory latency by working-set size: a dependent random walk (each load's
//! address comes from the previous load), in nanoseconds per load. It bounds what any table
//! lookup that misses the cache can cost here; see BENCHMARKS.md.
//!
//! `cargo run --release -p ctguard-bench --example memory_latency`

fn main() {
    for mb in [1usize, 8, 32, 128, 512] {
        let n = mb * 1024 * 1024 / 8;
        // One random cycle through every slot (Sattolo's shuffle), so the walk visits all.
        let mut next: Vec<usize> = (0..n).collect();
        let mut x: u64 = 0x2545_f491_4f6c_dd1d;
        for i in (1..n).rev() {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            next.swap(i, (x % i as u64) as usize);
        }
        let steps = 2_000_000;
        let mut at = 0;
        let t = std::time::Instant::now();
        for _ in 0..steps {
            at = next[at];
        }
        let ns = t.elapsed().as_nanos() as f64 / f64::from(steps);
        println!("{mb:>4} MB: {ns:6.1} ns per dependent load (ended at {at})");
    }
}
