//! A capture cut anywhere delivers every complete record, then an error naming the file and the
//! byte where the cut record or block starts. The cut copies are made here from the fixtures.

mod common;

use common::{bytes, layout, read_bytes, read_file};
use ctguard_capture::{Capture, ErrorKind};

const FIXTURES: [&str; 9] = [
    "http.pcap",
    "http-ns.pcap",
    "http.pcapng",
    "http-ns.pcapng",
    "http-us.pcapng",
    "dns.pcap",
    "syn-flood.pcap",
    "any-sll2.pcap",
    "lo-any.pcapng",
];

fn check_cut(name: &str, all: &[u8], cut: usize) {
    let full = read_file(name);
    let (starts, header_end) = layout(all);
    let got = read_bytes(name, all[..cut].to_vec());
    if (cut as u64) < header_end {
        let e = got.expect_err("a cut file header is refused at open");
        match cut {
            0 => assert!(matches!(e.kind(), ErrorKind::Empty), "{e}"),
            1..4 => assert!(matches!(e.kind(), ErrorKind::UnknownFormat { .. }), "{e}"),
            _ => {
                assert!(matches!(e.kind(), ErrorKind::Truncated { .. }), "{e}");
                assert_eq!(e.offset(), Some(0), "{e}");
            }
        }
        return;
    }
    let got = got.unwrap_or_else(|e| panic!("{name} cut at {cut}: {e}"));
    let complete: Vec<_> = full
        .records
        .iter()
        .filter(|r| r.end <= cut as u64)
        .cloned()
        .collect();
    assert_eq!(got.records, complete, "{name} cut at {cut}");
    let at_boundary = cut == all.len() || starts.contains(&(cut as u64));
    match (&got.error, at_boundary) {
        (None, true) => {}
        (Some(e), false) => {
            let start = starts.iter().rev().find(|&&s| s <= cut as u64).unwrap();
            assert_eq!(e.offset(), Some(*start), "{name} cut at {cut}: {e}");
            assert!(
                matches!(e.kind(), ErrorKind::Truncated { .. }),
                "{name} cut at {cut}: {e}"
            );
            assert_eq!(e.name(), name);
        }
        (e, _) => panic!("{name} cut at {cut}: {e:?}"),
    }
}

#[test]
fn every_cut_of_the_small_fixtures() {
    for name in FIXTURES {
        let all = bytes(name);
        let step = if all.len() > 4096 { 7 } else { 1 };
        for cut in (0..=all.len()).step_by(step) {
            check_cut(name, &all, cut);
        }
        // Every record boundary of the large ones too, and one byte either side.
        for &s in &layout(&all).0 {
            for cut in [s as usize - 1, s as usize, s as usize + 1] {
                check_cut(name, &all, cut.min(all.len()));
            }
        }
    }
}

#[test]
fn the_message_names_file_offset_and_reason() {
    // The first record of http.pcap starts at byte 24: a 16-byte header and a 74-byte SYN.
    let all = bytes("http.pcap");
    let r = read_bytes("capture.pcap", all[..24 + 16 + 60].to_vec()).unwrap();
    assert!(r.records.is_empty());
    assert_eq!(
        r.error.unwrap().to_string(),
        "capture.pcap: byte 24: truncated packet record: 60 bytes of 74"
    );

    let (starts, _) = layout(&all);
    let r = read_bytes("capture.pcap", all[..starts[3] as usize + 10].to_vec()).unwrap();
    assert_eq!(r.records.len(), 3);
    assert_eq!(
        r.error.unwrap().to_string(),
        format!(
            "capture.pcap: byte {}: truncated packet record header: 10 bytes of 16",
            starts[3]
        )
    );

    let all = bytes("http.pcapng");
    let (starts, _) = layout(&all);
    let r = read_bytes("capture.pcapng", all[..starts[5] as usize + 40].to_vec()).unwrap();
    assert_eq!(r.records.len(), 4, "the IDB, then four EPBs");
    let e = r.error.unwrap();
    assert_eq!(e.offset(), Some(starts[5]));
    assert!(
        e.to_string().starts_with(&format!(
            "capture.pcapng: byte {}: truncated enhanced packet block: 40 bytes of ",
            starts[5]
        )),
        "{e}"
    );
}

#[test]
fn a_cut_gzip_file_delivers_what_was_decompressed() {
    let full = read_file("http.pcapng");
    let gz = bytes("http.pcapng.gz");
    for cut in 0..gz.len() {
        let Ok(got) = read_bytes("http.pcapng.gz", gz[..cut].to_vec()) else {
            continue; // too little left for the section header
        };
        assert!(got.error.is_some(), "cut at {cut}: the stream ends early");
        assert!(full.records.starts_with(&got.records), "cut at {cut}");
    }
    assert_eq!(
        read_bytes("http.pcapng.gz", gz).unwrap().records,
        full.records
    );
}

#[test]
fn a_missing_file_is_named() {
    let e = Capture::open("/nonexistent/x.pcap").unwrap_err();
    assert!(matches!(e.kind(), ErrorKind::Open(_)));
    assert_eq!(e.offset(), None);
    assert!(
        e.to_string()
            .starts_with("/nonexistent/x.pcap: cannot open: "),
        "{e}"
    );
}
