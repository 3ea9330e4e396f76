//! Arbitrary text as a sysctl.conf file: parsed, then applied to default settings. Nothing may
//! panic; every diagnostic renders; `Ok` carries no error and `Err` at least one, and a refused
//! file changes nothing (all or nothing).
//! (Applying a file twice is not checked: lines apply in order against the thresholds' current
//! values, so `low = 4000000`, `low = 1`, `high = 2` applies once and, by design, not twice.)

#![no_main]

use ctguard_conntrack::Sysctl;
use ctguard_conntrack::sysctl::conf;
use ctguard_conntrack::sysctl::Severity;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    let parsed = conf::parse("/etc/sysctl.conf", &text);
    let mut s = Sysctl::default();
    match s.apply_conf(&parsed) {
        Ok(notes) => {
            for n in &notes {
                assert!(n.severity != Severity::Error, "Ok with an error: {n}");
                assert!(!n.to_string().is_empty());
            }
        }
        Err(errs) => {
            assert!(errs.iter().any(|e| e.severity == Severity::Error), "Err with no error");
            for e in &errs {
                assert!(!e.to_string().is_empty());
            }
            assert_eq!(s, Sysctl::default(), "a refused file changed the settings");
        }
    }
});
