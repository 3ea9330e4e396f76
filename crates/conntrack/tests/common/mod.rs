//! Helpers the engine test binaries share.

use ctguard_conntrack::Instant;
use ctguard_scenario::Scenario;

/// The frames of scenario-format packet lines.
pub fn frames(text: &str) -> Vec<Vec<u8>> {
    Scenario::parse("test", text)
        .expect("scenario parses")
        .packets
        .into_iter()
        .map(|p| p.frame)
        .collect()
}

pub fn at(s: f64) -> Instant {
    Instant::from_secs_f64(s)
}
