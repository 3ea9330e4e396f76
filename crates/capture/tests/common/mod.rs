//! Helpers shared by the integration tests: the fixtures, reading whole captures, and the
//! block layout of the fixtures (walked independently of the reader, to place truncations).

#![allow(dead_code)]

use std::path::PathBuf;

use ctguard_capture::{Capture, CaptureError, InterfaceInfo};

pub fn data(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
        .join("tests/data")
        .join(name)
}

pub fn bytes(name: &str) -> Vec<u8> {
    std::fs::read(data(name)).unwrap()
}

/// A record, owned.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Owned {
    pub index: u64,
    pub time: u64,
    pub interface: Option<usize>,
    pub link_type: u32,
    pub orig_len: u32,
    pub data: Vec<u8>,
    /// The stream offset just after the record.
    pub end: u64,
}

/// Everything a capture delivers: its records, then the error that ended it, if any.
#[derive(Debug)]
pub struct Read {
    pub records: Vec<Owned>,
    pub error: Option<CaptureError>,
    pub interfaces: Vec<InterfaceInfo>,
}

pub fn read_all(mut cap: Capture) -> Read {
    let mut records = Vec::new();
    let mut error = None;
    while let Some(r) = cap.next_record() {
        match r {
            Ok(r) => {
                let mut o = Owned {
                    index: r.index,
                    time: r.time,
                    interface: r.interface,
                    link_type: r.link_type,
                    orig_len: r.orig_len,
                    data: r.data.to_vec(),
                    end: 0,
                };
                o.end = cap.offset();
                records.push(o);
            }
            Err(e) => {
                error = Some(e);
                break;
            }
        }
    }
    assert!(
        cap.next_record().is_none(),
        "nothing after the end or an error"
    );
    Read {
        records,
        error,
        interfaces: cap.interfaces().to_vec(),
    }
}

pub fn read_file(name: &str) -> Read {
    read_all(Capture::open(data(name)).unwrap())
}

pub fn read_bytes(name: &str, bytes: Vec<u8>) -> Result<Read, CaptureError> {
    Capture::from_reader(name, std::io::Cursor::new(bytes)).map(read_all)
}

/// Where each record or block starts, and the end of the file: `(starts, header_end)`, where
/// `header_end` is the end of the file header (pcap) or of the first section header (pcapng).
/// Little-endian files only, which is what the fixtures are.
pub fn layout(bytes: &[u8]) -> (Vec<u64>, u64) {
    let u32_at = |o: usize| u32::from_le_bytes(bytes[o..o + 4].try_into().unwrap()) as usize;
    let mut starts = Vec::new();
    if bytes[..4] == [0x0a, 0x0d, 0x0d, 0x0a] {
        let mut o = 0;
        while o < bytes.len() {
            starts.push(o as u64);
            o += u32_at(o + 4);
        }
        let first = starts.remove(0);
        assert_eq!(first, 0);
        let header_end = starts[0];
        (starts, header_end)
    } else {
        let mut o = 24;
        while o < bytes.len() {
            starts.push(o as u64);
            o += 16 + u32_at(o + 8);
        }
        (starts, 24)
    }
}

/// How many packets tcpdump reads from `path`, when tcpdump is installed (a check by a real
/// program on files the tests make); `None` without it.
pub fn tcpdump_count(path: &std::path::Path) -> Option<usize> {
    let out = std::process::Command::new("tcpdump")
        .arg("-nn")
        .arg("-r")
        .arg(path)
        .stderr(std::process::Stdio::null())
        .output()
        .expect("tcpdump runs (apt-get install tcpdump; .ci/run installs it)");
    if !out.status.success() {
        return Some(usize::MAX);
    }
    Some(out.stdout.iter().filter(|&&b| b == b'\n').count())
}

/// A scratch file under the target directory's tmp dir (cargo sets CARGO_TARGET_TMPDIR for
/// integration tests).
pub fn scratch(name: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(name)
}

/// The same capture in big-endian byte order: the fixtures are little-endian (x86 tools), and
/// this exercises the other order on real packets. pcap: every header field; pcapng: block
/// headers, section and interface fields, option headers and the numeric option values used
/// (if_tsoffset, if_speed, epb_flags, epb_dropcount, statistics counters).
pub fn to_big_endian(le: &[u8]) -> Vec<u8> {
    let mut out = le.to_vec();
    let swap16 = |b: &mut [u8], o: usize| b[o..o + 2].reverse();
    let swap32 = |b: &mut [u8], o: usize| b[o..o + 4].reverse();
    let swap64 = |b: &mut [u8], o: usize| b[o..o + 8].reverse();
    let u16_le = |b: &[u8], o: usize| u16::from_le_bytes([b[o], b[o + 1]]) as usize;
    let u32_le = |b: &[u8], o: usize| u32::from_le_bytes(b[o..o + 4].try_into().unwrap()) as usize;
    if le[..4] != [0x0a, 0x0d, 0x0d, 0x0a] {
        swap32(&mut out, 0);
        swap16(&mut out, 4);
        swap16(&mut out, 6);
        for o in [8, 12, 16, 20] {
            swap32(&mut out, o);
        }
        let mut o = 24;
        while o < le.len() {
            let caplen = u32_le(le, o + 8);
            for f in 0..4 {
                swap32(&mut out, o + 4 * f);
            }
            o += 16 + caplen;
        }
        return out;
    }
    let mut o = 0;
    while o < le.len() {
        let ty = u32_le(le, o);
        let len = u32_le(le, o + 4);
        swap32(&mut out, o);
        swap32(&mut out, o + 4);
        swap32(&mut out, o + len - 4);
        // Where the options start, and which option codes hold numbers of which width.
        let (opts, numeric): (usize, &[(usize, usize)]) = match ty {
            0x0a0d0d0a => {
                swap32(&mut out, o + 8);
                swap16(&mut out, o + 12);
                swap16(&mut out, o + 14);
                swap64(&mut out, o + 16);
                (24, &[])
            }
            1 => {
                swap16(&mut out, o + 8);
                swap16(&mut out, o + 10);
                swap32(&mut out, o + 12);
                (16, &[(8, 8), (14, 8)])
            }
            6 => {
                let caplen = u32_le(le, o + 20);
                for f in 0..5 {
                    swap32(&mut out, o + 8 + 4 * f);
                }
                (28 + caplen.next_multiple_of(4), &[(2, 4), (4, 8)])
            }
            5 => {
                for f in 0..3 {
                    swap32(&mut out, o + 8 + 4 * f);
                }
                (20, &[(4, 8), (5, 8), (6, 8), (7, 8), (8, 8)])
            }
            _ => panic!("block type {ty} not converted"),
        };
        let mut p = o + opts;
        while p + 4 <= o + len - 4 {
            let code = u16_le(le, p);
            let olen = u16_le(le, p + 2);
            swap16(&mut out, p);
            swap16(&mut out, p + 2);
            if code == 0 {
                break;
            }
            match numeric.iter().find(|(c, _)| *c == code) {
                Some((_, 8)) => swap64(&mut out, p + 4),
                Some((_, 4)) => swap32(&mut out, p + 4),
                _ if ty == 5 && (code == 2 || code == 3) => {
                    swap32(&mut out, p + 4);
                    swap32(&mut out, p + 8);
                }
                _ => {}
            }
            p += 4 + olen.next_multiple_of(4);
        }
        o += len;
    }
    out
}
