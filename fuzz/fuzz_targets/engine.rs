//! A stream of arbitrary frames through the whole tracker, with the clock moving in jumps.
//! Nothing may panic; the table never holds more than nf_conntrack_max entries; every entry
//! an outcome names exists; /proc lists every counted entry; log lines render.

#![no_main]

use ctguard_conntrack::intake::LinkType;
use ctguard_conntrack::{Conntrack, Event, Instant, Sysctl};
use libfuzzer_sys::fuzz_target;

const LINKS: [LinkType; 4] = [LinkType::Ethernet, LinkType::Raw, LinkType::LinuxSll, LinkType::LinuxSll2];

fuzz_target!(|data: &[u8]| {
    let Some((&setup, mut rest)) = data.split_first() else { return };
    let mut sysctl = Sysctl { max: 8, buckets: 512, ..Sysctl::default() };
    sysctl.checksum = setup & 1 == 0;
    sysctl.tcp_loose = setup & 2 == 0;
    sysctl.tcp_be_liberal = setup & 4 != 0;
    sysctl.acct = setup & 8 != 0;
    sysctl.log_invalid = if setup & 16 != 0 { 255 } else { 0 };
    let mut ct = Conntrack::new(sysctl);
    let mut now = 0u64;
    // Each frame: [length (2 bytes), clock step, link type] then the bytes.
    while let [hi, lo, step, link, tail @ ..] = rest {
        let n = usize::from(u16::from_be_bytes([*hi, *lo])).min(tail.len());
        let (frame, after) = tail.split_at(n);
        rest = after;
        now += u64::from(*step) * 250_000_000;
        let out = ct.process(LINKS[*link as usize % LINKS.len()], frame, Instant::from_nanos(now));
        if let Some(id) = out.conn {
            assert!(ct.get(id).is_some(), "outcome names a live entry");
        }
        assert!(ct.count() <= 8, "table over nf_conntrack_max");
        while let Some(ev) = ct.poll_event() {
            if let Event::Log { line, .. } = ev {
                assert!(!line.render("eth0", "").is_empty());
            }
        }
    }
    // Reading /proc reaps what has expired; every entry still counted must then be listed.
    let lines = ct.proc_lines(Instant::from_nanos(now));
    assert_eq!(lines.len(), ct.count() as usize, "an entry fell out of its hash chain");
});
