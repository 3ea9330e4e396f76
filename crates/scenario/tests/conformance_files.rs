//! The repository's own scenarios and goldens: every scenario parses, and every golden parses,
//! writes back byte for byte, and matches its scenario packet for packet.

use std::path::{Path, PathBuf};

use ctguard_scenario::{Golden, Scenario};

fn conformance() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../../conformance")
}

fn files(dir: &str, ext: &str) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(conformance().join(dir)) else {
        return Vec::new();
    };
    let mut paths: Vec<PathBuf> = entries
        .filter_map(|e| Some(e.ok()?.path()))
        .filter(|p| p.extension().is_some_and(|e| e == ext))
        .collect();
    paths.sort();
    paths
}

#[test]
fn every_scenario_parses() {
    for path in files("scenarios", "scn") {
        let scenario = Scenario::load(&path).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            !scenario.packets.is_empty(),
            "{} has no packets",
            path.display()
        );
        assert!(
            !scenario.description.is_empty(),
            "{} has no description comment",
            path.display()
        );
    }
}

#[test]
fn every_golden_round_trips_and_matches_its_scenario() {
    for path in files("goldens", "golden") {
        let text = std::fs::read_to_string(&path).unwrap();
        let golden = Golden::load(&path).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            golden.write(),
            text,
            "{} does not write back as read",
            path.display()
        );
        let scn_path = conformance()
            .join("scenarios")
            .join(format!("{}.scn", golden.scenario));
        let scenario = Scenario::load(&scn_path).unwrap_or_else(|e| panic!("{e}"));
        let name = &scenario.name;
        assert_eq!(golden.proc_mode, scenario.proc_mode, "{name}: snapshots");
        assert_eq!(golden.runs.len(), scenario.runs as usize, "{name}: runs");
        assert_eq!(
            golden.packets.len(),
            scenario.packets.len(),
            "{name}: packets"
        );
        for (g, p) in golden.packets.iter().zip(&scenario.packets) {
            assert_eq!(g.text, p.label(), "{name}: packet {}", p.index);
            assert!(
                (g.time - p.time).abs() < 5e-4,
                "{name}: packet {} time",
                p.index
            );
        }
    }
}
