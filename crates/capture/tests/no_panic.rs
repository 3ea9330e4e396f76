//! No input panics the reader: random bytes, and real captures mutated (bytes changed, cut,
//! spliced). Whatever it delivers is bounded, and every error names the file and a byte.

mod common;

use std::sync::OnceLock;

use ctguard_capture::{Capture, MAX_PACKET};
use proptest::prelude::*;

fn fixtures() -> &'static [Vec<u8>] {
    static F: OnceLock<Vec<Vec<u8>>> = OnceLock::new();
    F.get_or_init(|| {
        [
            "http.pcap",
            "http-ns.pcap",
            "http.pcapng",
            "lo-any.pcapng",
            "dns.pcap",
            "any-sll2.pcap",
            "http.pcapng.gz",
        ]
        .iter()
        .map(|n| common::bytes(n))
        .collect()
    })
}

/// Reads to the end; checks what it can about whatever comes out.
fn drain(bytes: Vec<u8>) {
    let len = bytes.len() as u64;
    let mut cap = match Capture::from_reader("fuzz.pcap", std::io::Cursor::new(bytes)) {
        Ok(c) => c,
        Err(e) => {
            assert!(e.to_string().starts_with("fuzz.pcap: byte "), "{e}");
            return;
        }
    };
    let mut n = 0u64;
    while let Some(r) = cap.next_record() {
        match r {
            Ok(r) => {
                assert_eq!(r.index, n);
                assert!(r.data.len() <= MAX_PACKET as usize);
                n += 1;
            }
            Err(e) => {
                let s = e.to_string();
                assert!(s.starts_with("fuzz.pcap: byte "), "{s}");
                break;
            }
        }
        // A record takes at least 16 bytes of stream.
        assert!(n <= 1 + len.max(cap.offset()) / 12, "{n} records");
    }
    assert!(cap.next_record().is_none());
    let (done, total) = cap.progress();
    assert_eq!(total, None);
    if !cap.is_gzip() {
        assert!(done <= len);
    }
}

/// Every record's interface is in the list (checked at the end: the list only grows).
fn indexes_are_valid(bytes: Vec<u8>) {
    let Ok(mut cap) = Capture::from_reader("fuzz", std::io::Cursor::new(bytes)) else {
        return;
    };
    let mut seen = Vec::new();
    while let Some(Ok(r)) = cap.next_record() {
        seen.push(r.interface);
    }
    let count = cap.interfaces().len();
    assert!(seen.iter().flatten().all(|&i| i < count));
}

#[derive(Debug, Clone)]
enum Mutation {
    Set(usize, u8),
    Flip(usize, u8),
    Cut(usize),
    Remove(usize, usize),
    Insert(usize, Vec<u8>),
    /// A 32-bit value at an aligned offset: lengths and counts are where parsers break.
    Word(usize, u32),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        (any::<usize>(), any::<u8>()).prop_map(|(i, b)| Mutation::Set(i, b)),
        (any::<usize>(), 0u8..8).prop_map(|(i, b)| Mutation::Flip(i, b)),
        any::<usize>().prop_map(Mutation::Cut),
        (any::<usize>(), 1usize..64).prop_map(|(i, n)| Mutation::Remove(i, n)),
        (any::<usize>(), prop::collection::vec(any::<u8>(), 1..32))
            .prop_map(|(i, v)| Mutation::Insert(i, v)),
        (
            any::<usize>(),
            prop_oneof![
                Just(0u32),
                Just(1),
                Just(0xffff_ffff),
                Just(0x8000_0000),
                Just(262_145),
                any::<u32>()
            ]
        )
            .prop_map(|(i, v)| Mutation::Word(i, v)),
    ]
}

fn apply(mut b: Vec<u8>, muts: &[Mutation]) -> Vec<u8> {
    for m in muts {
        if b.is_empty() {
            break;
        }
        let len = b.len();
        match m {
            Mutation::Set(i, v) => b[i % len] = *v,
            Mutation::Flip(i, bit) => b[i % len] ^= 1 << bit,
            Mutation::Cut(i) => b.truncate(i % len),
            Mutation::Remove(i, n) => {
                let i = i % len;
                b.drain(i..(i + n).min(len));
            }
            Mutation::Insert(i, v) => {
                let i = i % len;
                b.splice(i..i, v.iter().copied());
            }
            Mutation::Word(i, v) => {
                let i = (i % len) & !3;
                if i + 4 <= len {
                    b[i..i + 4].copy_from_slice(&v.to_le_bytes());
                }
            }
        }
    }
    b
}

/// 2000 cases a test, or PROPTEST_CASES for a longer run.
fn config() -> ProptestConfig {
    let cases = std::env::var("PROPTEST_CASES")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    ProptestConfig::with_cases(cases)
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn random_bytes(b in prop::collection::vec(any::<u8>(), 0..512)) {
        drain(b.clone());
        indexes_are_valid(b);
    }

    #[test]
    fn random_bytes_after_a_magic(
        magic in prop_oneof![
            Just(vec![0xd4, 0xc3, 0xb2, 0xa1]),
            Just(vec![0xa1, 0xb2, 0xc3, 0xd4]),
            Just(vec![0x4d, 0x3c, 0xb2, 0xa1]),
            Just(vec![0xa1, 0xb2, 0x3c, 0x4d]),
            Just(vec![0x0a, 0x0d, 0x0d, 0x0a]),
            Just(vec![0x0a, 0x0d, 0x0d, 0x0a, 0x1c, 0, 0, 0, 0x4d, 0x3c, 0x2b, 0x1a, 1, 0, 0, 0]),
            Just(vec![0x1f, 0x8b]),
        ],
        rest in prop::collection::vec(any::<u8>(), 0..512),
    ) {
        let mut b = magic;
        b.extend(rest);
        drain(b.clone());
        indexes_are_valid(b);
    }

    #[test]
    fn mutated_captures(
        which in 0usize..7,
        muts in prop::collection::vec(mutation(), 1..6),
    ) {
        let b = apply(fixtures()[which].clone(), &muts);
        drain(b.clone());
        indexes_are_valid(b);
    }
}
