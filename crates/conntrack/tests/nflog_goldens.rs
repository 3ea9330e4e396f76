//! The packet part of every kernel log line in the goldens, rebuilt from the scenario's frame.
//!
//! For each golden packet record with a log line naming an input device (` IN=`), the
//! scenario frame of the same index goes through `packet_fields` (the first 14 bytes as the
//! MAC header, the rest as the IP packet) and must equal the kernel's line after `OUT= `.

use std::path::{Path, PathBuf};

use ctguard_conntrack::view::packet_fields;
use ctguard_scenario::{Golden, Scenario};

fn conformance() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../conformance")
}

#[test]
fn packet_fields_match_the_kernel_log_lines() {
    let dir = conformance().join("goldens");
    let mut goldens: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("goldens directory")
        .map(|e| e.expect("directory entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "golden"))
        .collect();
    goldens.sort();

    let (mut checked, mut skipped) = (0, 0);
    let mut failures = Vec::new();
    for path in &goldens {
        let golden = Golden::load(path).unwrap_or_else(|e| panic!("{e}"));
        let name = path.file_stem().and_then(|s| s.to_str()).expect("name");
        let scn_path = conformance().join("scenarios").join(format!("{name}.scn"));
        let scenario = Scenario::load(&scn_path).unwrap_or_else(|e| panic!("{e}"));
        // Rule-set scenarios log through the LOG target on every path; the pipeline's own
        // test (crates/netfilter/tests) compares those lines.
        if scenario.needs_pipeline() {
            continue;
        }
        for record in &golden.packets {
            for line in record.log.iter().filter(|l| l.contains(" IN=")) {
                let Some((_, kernel)) = line.split_once(" OUT= ") else {
                    failures.push(format!("{name} #{}: no `OUT= ` in {line}", record.index));
                    continue;
                };
                let Some(packet) = scenario.packets.get(record.index) else {
                    failures.push(format!("{name} #{}: no such scenario packet", record.index));
                    continue;
                };
                if packet.fragment.is_some() {
                    // The kernel logs the reassembled datagram, which no single frame holds.
                    println!(
                        "skipped {name} #{}: logged after reassembly, the frame is one fragment",
                        record.index
                    );
                    skipped += 1;
                    continue;
                }
                let frame = &packet.frame;
                assert!(frame.len() >= 14, "{name} #{}: short frame", record.index);
                let mut ours = String::new();
                packet_fields(&mut ours, Some(&frame[..14]), &frame[14..]);
                if ours != kernel {
                    failures.push(format!(
                        "{name} #{} {}\n  kernel: {kernel}\n  ours:   {ours}",
                        record.index, record.text
                    ));
                }
                checked += 1;
            }
        }
    }
    println!("checked {checked} log lines, skipped {skipped}");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    assert!(checked > 0, "no log lines with IN= in the goldens");
}
