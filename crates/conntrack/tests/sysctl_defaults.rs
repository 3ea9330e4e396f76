//! Every setting has the kernel's name and default: compared with what a fresh child network
//! namespace showed (conformance/record-sysctl.sh).

use ctguard_conntrack::Sysctl;
use ctguard_conntrack::sysctl::KEYS;

#[test]
fn defaults_are_the_kernels() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../conformance/goldens/sysctl-defaults.txt"
    );
    let text = std::fs::read_to_string(path).expect("recorded defaults");
    let ours = Sysctl::default();
    let mut seen = Vec::new();
    for line in text
        .lines()
        .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
    {
        let (key, value) = line.split_once(" = ").expect("key = value");
        assert_eq!(ours.get(key).as_deref(), Some(value), "{key}");
        seen.push(key);
    }
    for key in KEYS {
        assert!(seen.contains(key), "{key} is not in the kernel's recording");
    }
}
