//! Writes every conformance scenario as a seed for the `engine` fuzz target:
//! `cargo run -p ctguard-scenario --example fuzz_seeds -- fuzz/corpus/engine`.
//!
//! The target reads a setup byte, then frames as [length (2 bytes, big-endian), clock step in
//! quarter seconds, link type] followed by the frame.

use std::path::Path;

use ctguard_scenario::Scenario;

fn main() -> Result<(), Box<dyn std::error::Error>> {
    let out = std::env::args().nth(1).ok_or("usage: fuzz_seeds OUTDIR")?;
    std::fs::create_dir_all(&out)?;
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../conformance/scenarios");
    let mut n = 0;
    for entry in std::fs::read_dir(dir)? {
        let path = entry?.path();
        if path.extension().is_none_or(|e| e != "scn") {
            continue;
        }
        let scn = Scenario::load(&path)?;
        // Setup byte 16: checksums verified, loose pickup, invalid packets logged.
        let mut seed = vec![16u8];
        let mut last = 0.0;
        for p in &scn.packets {
            let step = ((p.time - last) * 4.0).round().clamp(0.0, 255.0) as u8;
            last = p.time;
            let len = u16::try_from(p.frame.len())?;
            seed.extend_from_slice(&len.to_be_bytes());
            seed.extend_from_slice(&[step, 0]);
            seed.extend_from_slice(&p.frame);
        }
        std::fs::write(Path::new(&out).join(&scn.name), seed)?;
        n += 1;
    }
    println!("{n} seeds written to {out}");
    Ok(())
}
