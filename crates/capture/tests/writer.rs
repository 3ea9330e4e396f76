//! PcapWriter: classic pcap, nanosecond magic; what it writes reads back the same, here and
//! in tcpdump (a real reader of the format; .ci/run installs it).

mod common;

use std::io::Cursor;

use common::{read_bytes, read_file, scratch, tcpdump_count};
use ctguard_capture::{Capture, Format, PcapWriter, linktype};

fn write_all(name: &str, link_type: u32, snaplen: u32) -> Vec<u8> {
    let src = read_file(name);
    let mut w = PcapWriter::new(Vec::new(), link_type, snaplen).unwrap();
    for r in src.records.iter().filter(|r| r.link_type == link_type) {
        w.write_packet(r.time, &r.data, r.orig_len).unwrap();
    }
    w.into_inner().unwrap()
}

#[test]
fn header_is_nanosecond_pcap() {
    let out = PcapWriter::new(Vec::new(), linktype::LINUX_SLL2, 0)
        .unwrap()
        .into_inner()
        .unwrap();
    assert_eq!(
        out,
        [
            0x4d, 0x3c, 0xb2, 0xa1, 2, 0, 4, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0x14, 1, 0, 0
        ]
    );
    let cap = Capture::from_reader("w", Cursor::new(out)).unwrap();
    assert_eq!(
        cap.format(),
        Format::Pcap {
            nanosecond: true,
            big_endian: false,
            version: (2, 4),
            snaplen: 262_144,
            link_type: linktype::LINUX_SLL2,
        }
    );
}

#[test]
fn round_trips() {
    for (name, link) in [
        ("http.pcapng", linktype::ETHERNET), // nanosecond times
        ("http.pcap", linktype::ETHERNET),
        ("syn-flood.pcap", linktype::ETHERNET),
        ("any-sll2.pcap", linktype::LINUX_SLL2),
        ("lo-any.pcapng", linktype::LINUX_SLL), // the "any" interface's packets
    ] {
        let src = read_file(name);
        let out = write_all(name, link, 0);
        let back = read_bytes("w.pcap", out.clone()).unwrap();
        assert!(back.error.is_none());
        let want: Vec<_> = src.records.iter().filter(|r| r.link_type == link).collect();
        assert_eq!(back.records.len(), want.len(), "{name}");
        for (a, b) in want.iter().zip(&back.records) {
            assert_eq!(
                (a.time, a.link_type, a.orig_len, &a.data),
                (b.time, b.link_type, b.orig_len, &b.data),
                "{name}"
            );
            assert_eq!(b.interface, None);
        }
        // tcpdump reads it.
        let path = scratch(&format!("written-{name}.pcap"));
        std::fs::write(&path, &out).unwrap();
        if let Some(n) = tcpdump_count(&path) {
            assert_eq!(n, want.len(), "tcpdump reads {}", path.display());
        }
    }
}

#[test]
fn tcpdump_sees_the_nanoseconds() {
    let out = write_all("http.pcapng", linktype::ETHERNET, 0);
    let path = scratch("written-ns.pcap");
    std::fs::write(&path, &out).unwrap();
    let run = std::process::Command::new("tcpdump")
        .args(["-nn", "-tt", "--nano", "-c", "1", "-r"])
        .arg(&path)
        .stderr(std::process::Stdio::null())
        .output()
        .expect("tcpdump runs (apt-get install tcpdump; .ci/run installs it)");
    let line = String::from_utf8_lossy(&run.stdout);
    assert!(
        line.starts_with("1795554732.447324627 IP 127.0.0.1."),
        "{line}"
    );
}

#[test]
fn snaplen_cuts_and_keeps_the_original_length() {
    let frame: Vec<u8> = (0..74).collect();
    let mut w = PcapWriter::new(Vec::new(), linktype::ETHERNET, 60).unwrap();
    w.write(1_500_000_000_123_456_789, &frame).unwrap();
    w.write_packet(1_500_000_001_000_000_000, &frame[..40], 1500)
        .unwrap();
    w.write(1_500_000_002_000_000_000, &[]).unwrap();
    let out = w.into_inner().unwrap();
    assert_eq!(out.len(), 24 + 16 + 60 + 16 + 40 + 16);
    let r = read_bytes("w", out).unwrap();
    assert!(r.error.is_none());
    assert_eq!(r.records[0].data, &frame[..60]);
    assert_eq!(r.records[0].orig_len, 74);
    assert_eq!(r.records[0].time, 1_500_000_000_123_456_789);
    assert_eq!((r.records[1].data.len(), r.records[1].orig_len), (40, 1500));
    assert_eq!((r.records[2].data.len(), r.records[2].orig_len), (0, 0));
}

#[test]
fn times_pcap_cannot_hold_are_refused() {
    let mut w = PcapWriter::new(Vec::new(), linktype::RAW, 0).unwrap();
    let last = (u32::MAX as u64 + 1) * 1_000_000_000 - 1;
    w.write(last, b"\x45").unwrap();
    let e = w.write(last + 1, b"\x45").unwrap_err();
    assert_eq!(e.kind(), std::io::ErrorKind::InvalidInput);
    let r = read_bytes("w", w.into_inner().unwrap()).unwrap();
    assert_eq!(r.records.len(), 1, "nothing half-written");
    assert_eq!(r.records[0].time, last);
}
