//! Arbitrary text through every rule-set loader. Nothing may panic; whatever loads must save,
//! and the saved text must load again (as an iptables-save file of its family) and save to
//! exactly the same text.

#![no_main]

use ctguard_netfilter::rules::{self, Loaded};
use ctguard_netfilter::Family;
use libfuzzer_sys::fuzz_target;

fn round_trip(loaded: &Loaded, how: &str) {
    for family in [Family::V4, Family::V6] {
        let first = rules::save(loaded.family(family));
        let again = match rules::load_save(&first, "saved", family) {
            Ok(l) => l,
            Err(e) => panic!("{how}: saved {family:?} text refused on reload: {e}\n--- saved:\n{first}"),
        };
        let second = rules::save(again.family(family));
        assert_eq!(first, second, "{how}: {family:?} save -> load_save -> save differs");
        // Warnings and errors render.
        for w in &loaded.warnings {
            let _ = w.to_string();
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let text = String::from_utf8_lossy(data);
    match rules::load(&text, "fuzz.rules") {
        Ok(l) => round_trip(&l, "load"),
        Err(e) => {
            let _ = e.to_string();
        }
    }
    for family in [Family::V4, Family::V6] {
        match rules::load_save(&text, "fuzz.save", family) {
            Ok(l) => round_trip(&l, "load_save"),
            Err(e) => {
                let _ = e.to_string();
            }
        }
    }
    match rules::load_script(&text, "fuzz.sh") {
        Ok(l) => round_trip(&l, "load_script"),
        Err(e) => {
            let _ = e.to_string();
        }
    }
});
