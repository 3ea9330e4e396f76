//! Every setting has the kernel's name and default, and `conntrack -S` its layout: compared
//! with what a fresh child network namespace showed (conformance/record-sysctl.sh).

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

/// `conntrack -S` as conntrack-tools printed it for a fresh namespace: one line per CPU,
/// `cpu=N` padded to four, a tab, `key=value ` pairs. ctguard is one CPU: its line must equal
/// the kernel's `cpu=0` line for the same counters.
#[test]
fn conntrack_s_line_is_the_kernels() {
    let path = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../../conformance/goldens/conntrack-S.txt"
    );
    let text = std::fs::read_to_string(path).expect("recorded conntrack -S");
    let kernel = text.lines().next().expect("a cpu=0 line");
    assert_eq!(
        ctguard_conntrack::Stats::default().conntrack_s_line(0),
        kernel
    );
    let cpu1 = text.lines().nth(1).expect("a second CPU");
    assert_eq!(
        ctguard_conntrack::Stats::default().conntrack_s_line(1),
        cpu1
    );
}
