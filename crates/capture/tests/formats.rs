//! The corners of the formats real captures rarely show: big-endian files, other timestamp
//! resolutions, Simple and obsolete Packet Blocks, skipped block types, and every error with
//! its offset. Captures here are built by hand (or converted from the fixtures) in the test.

mod common;

use common::{bytes, read_bytes, read_file, scratch, tcpdump_count, to_big_endian};
use ctguard_capture::{Capture, ErrorKind, Format, MAX_PACKET};

/// A pcapng stream under construction, in one byte order.
struct Ng {
    big: bool,
    out: Vec<u8>,
}

impl Ng {
    fn new(big: bool) -> Ng {
        let mut ng = Ng {
            big,
            out: Vec::new(),
        };
        ng.shb();
        ng
    }

    fn u16(&self, v: u16) -> [u8; 2] {
        if self.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }

    fn u32(&self, v: u32) -> [u8; 4] {
        if self.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }

    fn u64(&self, v: u64) -> [u8; 8] {
        if self.big {
            v.to_be_bytes()
        } else {
            v.to_le_bytes()
        }
    }

    /// Appends a block; returns its offset.
    fn block(&mut self, ty: u32, body: &[u8]) -> usize {
        let at = self.out.len();
        let len = 12 + body.len().next_multiple_of(4) as u32;
        self.out.extend(self.u32(ty));
        self.out.extend(self.u32(len));
        self.out.extend(body);
        self.out.resize(at + 8 + body.len().next_multiple_of(4), 0);
        self.out.extend(self.u32(len));
        at
    }

    fn options(&self, opts: &[(u16, &[u8])]) -> Vec<u8> {
        let mut b = Vec::new();
        for (code, v) in opts {
            b.extend(self.u16(*code));
            b.extend(self.u16(v.len() as u16));
            b.extend(*v);
            b.resize(b.len().next_multiple_of(4), 0);
        }
        if !opts.is_empty() {
            b.extend([0; 4]);
        }
        b
    }

    fn shb(&mut self) -> usize {
        let mut b = Vec::new();
        b.extend(self.u32(0x1a2b_3c4d));
        b.extend(self.u16(1));
        b.extend(self.u16(0));
        b.extend(self.u64(u64::MAX));
        self.block(0x0a0d_0d0a, &b)
    }

    fn idb(&mut self, link: u16, snaplen: u32, opts: &[(u16, &[u8])]) -> usize {
        let mut b = Vec::new();
        b.extend(self.u16(link));
        b.extend(self.u16(0));
        b.extend(self.u32(snaplen));
        b.extend(self.options(opts));
        self.block(1, &b)
    }

    fn epb(&mut self, iface: u32, ts: u64, data: &[u8]) -> usize {
        let mut b = Vec::new();
        b.extend(self.u32(iface));
        b.extend(self.u32((ts >> 32) as u32));
        b.extend(self.u32(ts as u32));
        b.extend(self.u32(data.len() as u32));
        b.extend(self.u32(data.len() as u32 + 10));
        b.extend(data);
        self.block(6, &b)
    }

    fn spb(&mut self, orig_len: u32, data: &[u8]) -> usize {
        let mut b = Vec::new();
        b.extend(self.u32(orig_len));
        b.extend(data);
        self.block(3, &b)
    }

    fn pb(&mut self, iface: u16, ts: u64, data: &[u8]) -> usize {
        let mut b = Vec::new();
        b.extend(self.u16(iface));
        b.extend(self.u16(7)); // drops count
        b.extend(self.u32((ts >> 32) as u32));
        b.extend(self.u32(ts as u32));
        b.extend(self.u32(data.len() as u32));
        b.extend(self.u32(data.len() as u32));
        b.extend(data);
        self.block(2, &b)
    }
}

fn read(name: &str, bytes: &[u8]) -> common::Read {
    read_bytes(name, bytes.to_vec()).unwrap_or_else(|e| panic!("{e}"))
}

fn open_err(bytes: &[u8]) -> ctguard_capture::CaptureError {
    read_bytes("t", bytes.to_vec()).expect_err("refused at open")
}

/// The error after the records, with its offset.
fn fault(bytes: &[u8]) -> (usize, ctguard_capture::CaptureError) {
    let r = read("t", bytes);
    (r.records.len(), r.error.expect("an error"))
}

#[test]
fn big_endian_pcap_both_resolutions() {
    for name in ["http.pcap", "http-ns.pcap", "syn-flood.pcap"] {
        let le = read_file(name);
        let be_bytes = to_big_endian(&bytes(name));
        let cap = Capture::from_reader(name, std::io::Cursor::new(be_bytes.clone())).unwrap();
        assert!(matches!(
            cap.format(),
            Format::Pcap {
                big_endian: true,
                ..
            }
        ));
        let be = common::read_all(cap);
        assert!(be.error.is_none());
        assert_eq!(le.records, be.records, "{name}");
        let path = scratch(&format!("be-{name}"));
        std::fs::write(&path, &be_bytes).unwrap();
        if let Some(n) = tcpdump_count(&path) {
            assert_eq!(n, le.records.len(), "tcpdump reads the converted {name}");
        }
    }
}

#[test]
fn big_endian_pcapng() {
    for name in ["http.pcapng", "lo-any.pcapng", "http-us.pcapng"] {
        let le = read_file(name);
        let be_bytes = to_big_endian(&bytes(name));
        let be = read(name, &be_bytes);
        assert!(be.error.is_none(), "{:?}", be.error);
        assert_eq!(le.interfaces, be.interfaces);
        assert_eq!(le.records, be.records, "{name}");
        let path = scratch(&format!("be-{name}"));
        std::fs::write(&path, &be_bytes).unwrap();
        // tcpdump refuses lo-any.pcapng (two link types) either way; the others it reads.
        if let Some(n) = tcpdump_count(&path) {
            assert_eq!(Some(n), tcpdump_count(&common::data(name)), "{name}");
        }
    }
    // A big-endian section after a little-endian one.
    let mut mixed = bytes("http.pcapng");
    mixed.extend(to_big_endian(&bytes("lo-any.pcapng")));
    let r = read("mixed", &mixed);
    assert!(r.error.is_none());
    assert_eq!(r.records.len(), 32);
    assert_eq!(r.interfaces[2].name.as_deref(), Some("any"));
    assert_eq!(r.interfaces[2].section, 1);
}

#[test]
fn timestamp_resolutions_and_offsets() {
    for big in [false, true] {
        let mut ng = Ng::new(big);
        ng.idb(1, 0, &[]); // 10^-6 by default
        ng.idb(1, 0, &[(9, &[9])]); // 10^-9
        ng.idb(1, 0, &[(9, &[0x80 | 20])]); // 2^-20
        ng.idb(1, 0, &[(9, &[3]), (14, &ng.u64(-100i64 as u64))]); // ms, 100 s earlier
        ng.idb(1, 0, &[(9, &[0]), (14, &ng.u64(1_700_000_000))]); // s, from 2023
        ng.idb(1, 0, &[(9, &[0x80])]); // 2^0: seconds
        let t = 1_700_000_000u64;
        ng.epb(0, t * 1_000_000 + 123_456, b"a");
        ng.epb(1, t * 1_000_000_000 + 123_456_789, b"b");
        ng.epb(2, (t << 20) | (1 << 19), b"c"); // half a second
        ng.epb(3, t * 1000 + 5, b"d");
        ng.epb(4, 42, b"e");
        ng.epb(5, t, b"f");
        ng.epb(3, 50_000, b"g"); // 50 s + offset -100 s: before 1970, clamped
        let r = read("ts", &ng.out);
        assert!(r.error.is_none(), "{:?}", r.error);
        let times: Vec<_> = r.records.iter().map(|x| x.time).collect();
        let s = t * 1_000_000_000;
        assert_eq!(
            times,
            [
                s + 123_456_000,
                s + 123_456_789,
                s + 500_000_000,
                s - 100_000_000_000 + 5_000_000,
                s + 42_000_000_000,
                s,
                0
            ]
        );
    }
}

#[test]
fn simple_packet_blocks_use_interface_0_and_its_snaplen() {
    let mut ng = Ng::new(false);
    ng.idb(101, 64, &[(2, b"eth0")]);
    ng.idb(1, 0, &[(2, b"eth1\0")]);
    ng.epb(1, 5_000_000, &[1; 20]);
    ng.spb(100, &[7; 100]); // cut to the snaplen, 64
    ng.spb(30, &[8; 30]);
    let r = read("spb", &ng.out);
    assert!(r.error.is_none(), "{:?}", r.error);
    assert_eq!(r.interfaces[0].name.as_deref(), Some("eth0"));
    assert_eq!(
        r.interfaces[1].name.as_deref(),
        Some("eth1"),
        "a trailing NUL is dropped"
    );
    assert_eq!(r.records.len(), 3);
    let spb = &r.records[1];
    assert_eq!((spb.interface, spb.link_type), (Some(0), 101));
    assert_eq!((spb.data.len(), spb.orig_len), (64, 100));
    assert_eq!(
        spb.time, 5_000_000_000,
        "no timestamp: the previous packet's"
    );
    assert_eq!(r.records[2].data, [8; 30]);

    let mut ng = Ng::new(false);
    let at = ng.spb(4, &[0; 4]);
    let (n, e) = fault(&ng.out);
    assert_eq!(n, 0);
    assert_eq!(e.offset(), Some(at as u64));
    assert!(matches!(
        e.kind(),
        ErrorKind::UnknownInterface { id: 0, count: 0 }
    ));
}

#[test]
fn obsolete_packet_blocks() {
    for big in [false, true] {
        let mut ng = Ng::new(big);
        ng.idb(1, 0, &[]);
        ng.idb(113, 0, &[]);
        ng.pb(1, 3_000_000, &[9; 33]);
        let r = read("pb", &ng.out);
        assert!(r.error.is_none());
        let p = &r.records[0];
        assert_eq!(
            (p.interface, p.link_type, p.time, p.data.len()),
            (Some(1), 113, 3_000_000_000, 33)
        );
    }
}

#[test]
fn other_blocks_are_skipped_by_length() {
    for big in [false, true] {
        let mut ng = Ng::new(big);
        ng.block(4, &[0; 16]); // name resolution, before any interface
        ng.idb(1, 0, &[]);
        ng.epb(0, 1, b"one");
        ng.block(5, &[1; 20]); // interface statistics
        ng.block(0x0a, &[2; 8]); // decryption secrets
        ng.block(0x0bad, &[3; 13]); // custom, copiable
        ng.block(0x4000_0bad, &[]); // custom, not to be copied
        ng.block(0x8000_1234, &[4; 4]); // local use
        ng.block(0x1234, &[5; 40]); // unknown
        ng.epb(0, 2, b"two");
        let r = read("skip", &ng.out);
        assert!(r.error.is_none(), "{:?}", r.error);
        let data: Vec<_> = r.records.iter().map(|x| x.data.clone()).collect();
        assert_eq!(data, [b"one".to_vec(), b"two".to_vec()]);
    }
}

#[test]
fn unknown_link_types_are_delivered() {
    let mut ng = Ng::new(false);
    ng.idb(0xfffe, 0, &[]);
    ng.epb(0, 1, b"x");
    let r = read("lt", &ng.out);
    assert_eq!(r.records[0].link_type, 0xfffe);

    let mut pcap = bytes("dns.pcap");
    pcap[20..24].copy_from_slice(&147u32.to_le_bytes()); // LINKTYPE_USER0
    let r = read("lt", &pcap);
    assert!(r.records.iter().all(|x| x.link_type == 147));
}

#[test]
fn block_length_errors() {
    let mut ng = Ng::new(false);
    ng.idb(1, 0, &[]);
    ng.epb(0, 1, b"ok");
    let good = ng.out.clone();

    // Not a multiple of 4.
    let mut b = good.clone();
    let at = b.len();
    b.extend(6u32.to_le_bytes());
    b.extend(33u32.to_le_bytes());
    b.extend([0; 25]);
    let (n, e) = fault(&b);
    assert_eq!(n, 1, "the packet before is delivered");
    assert_eq!(e.offset(), Some(at as u64));
    assert_eq!(
        e.to_string(),
        format!("t: byte {at}: enhanced packet block with length 33, not a multiple of 4")
    );

    // Shorter than the block's fixed fields.
    let mut b = good.clone();
    b.extend(6u32.to_le_bytes());
    b.extend(12u32.to_le_bytes());
    b.extend(12u32.to_le_bytes());
    let (_, e) = fault(&b);
    assert!(matches!(
        e.kind(),
        ErrorKind::BlockTooShort {
            len: 12,
            min: 32,
            ..
        }
    ));
    let mut b = good.clone();
    b.extend(0x1234u32.to_le_bytes());
    b.extend(8u32.to_le_bytes());
    let (_, e) = fault(&b);
    assert!(matches!(e.kind(), ErrorKind::BlockTooShort { min: 12, .. }));

    // The trailing length differs.
    let mut ng2 = Ng::new(false);
    ng2.idb(1, 0, &[]);
    let at = ng2.epb(0, 1, b"abcd");
    let end = ng2.out.len();
    ng2.out[end - 4..].copy_from_slice(&100u32.to_le_bytes());
    let (_, e) = fault(&ng2.out);
    assert_eq!(e.offset(), Some(at as u64));
    assert!(matches!(
        e.kind(),
        ErrorKind::BlockLengthMismatch {
            leading: 36,
            trailing: 100,
            ..
        }
    ));
    // ... in a skipped block too.
    let mut ng3 = Ng::new(false);
    let at = ng3.block(5, &[0; 8]);
    let end = ng3.out.len();
    ng3.out[end - 4..].copy_from_slice(&24u32.to_le_bytes());
    let (_, e) = fault(&ng3.out);
    assert_eq!(e.offset(), Some(at as u64));
    assert!(matches!(e.kind(), ErrorKind::BlockLengthMismatch { .. }));

    // A garbage length far past the end: truncated, without allocating it.
    let mut b = good.clone();
    let at = b.len();
    b.extend(6u32.to_le_bytes());
    b.extend(0x00ff_fff0u32.to_le_bytes());
    b.extend([0; 100]);
    let (_, e) = fault(&b);
    assert_eq!(e.offset(), Some(at as u64));
    assert!(matches!(
        e.kind(),
        ErrorKind::Truncated {
            got: 108,
            need: 0x00ff_fff0,
            ..
        }
    ));
    let mut b = good.clone();
    b.extend(6u32.to_le_bytes());
    b.extend(0xffff_fff0u32.to_le_bytes());
    let (_, e) = fault(&b);
    assert!(matches!(e.kind(), ErrorKind::BlockTooLong { .. }), "{e}");
    let mut b = good;
    b.extend(5u32.to_le_bytes());
    b.extend(0xffff_fff0u32.to_le_bytes());
    b.extend([0; 64]);
    let (_, e) = fault(&b);
    assert!(
        matches!(e.kind(), ErrorKind::Truncated { got: 72, .. }),
        "{e}"
    );
}

#[test]
fn packet_errors() {
    // An EPB naming an interface the section has not described.
    let mut ng = Ng::new(false);
    ng.idb(1, 0, &[]);
    ng.epb(0, 1, b"ok");
    let at = ng.epb(1, 1, b"no");
    let (n, e) = fault(&ng.out);
    assert_eq!(n, 1);
    assert_eq!(
        e.to_string(),
        format!("t: byte {at}: packet on interface 1, but its section describes 1 interface(s)")
    );

    // Interfaces belong to their section.
    let mut ng = Ng::new(false);
    ng.idb(1, 0, &[]);
    ng.shb();
    let at = ng.epb(0, 1, b"x");
    let (_, e) = fault(&ng.out);
    assert_eq!(e.offset(), Some(at as u64));
    assert!(matches!(
        e.kind(),
        ErrorKind::UnknownInterface { id: 0, count: 0 }
    ));

    // A captured length past the end of the block.
    let mut ng = Ng::new(false);
    ng.idb(1, 0, &[]);
    let at = ng.epb(0, 1, b"abcdefgh");
    ng.out[at + 20..at + 24].copy_from_slice(&9u32.to_le_bytes());
    let (_, e) = fault(&ng.out);
    assert!(matches!(
        e.kind(),
        ErrorKind::CaplenPastBlock { caplen: 9, room: 8 }
    ));

    // A captured length no packet has.
    let mut ng = Ng::new(false);
    ng.idb(1, 0, &[]);
    let at = ng.epb(0, 1, &vec![0; MAX_PACKET as usize + 4]);
    ng.out[at + 20..at + 24].copy_from_slice(&(MAX_PACKET + 1).to_le_bytes());
    let (_, e) = fault(&ng.out);
    assert!(matches!(e.kind(), ErrorKind::PacketTooLarge { .. }), "{e}");

    // ... in pcap.
    let mut pcap = bytes("dns.pcap");
    pcap.truncate(24);
    pcap.extend([0; 8]);
    pcap.extend((MAX_PACKET + 1).to_le_bytes());
    pcap.extend((MAX_PACKET + 1).to_le_bytes());
    let (_, e) = fault(&pcap);
    assert_eq!(
        e.to_string(),
        "t: byte 24: captured length 262145 is above the 262144-byte limit for a packet"
    );
    // A captured length above the header's snaplen but within the limit is taken.
    let mut pcap = bytes("dns.pcap");
    pcap[16..20].copy_from_slice(&10u32.to_le_bytes());
    let r = read("t", &pcap);
    assert!(r.error.is_none());
    assert_eq!(r.records[0].data.len(), 95);
}

#[test]
fn option_errors() {
    let mut ng = Ng::new(false);
    let at = ng.idb(1, 0, &[(9, &[39])]);
    let (_, e) = fault(&ng.out);
    assert_eq!(e.offset(), Some(at as u64 + 16), "the option's own offset");
    assert!(
        matches!(e.kind(), ErrorKind::BadOption { code: 9, .. }),
        "{e}"
    );

    let mut ng = Ng::new(false);
    let at = ng.idb(1, 0, &[(2, b"eth0")]);
    ng.out[at + 18..at + 20].copy_from_slice(&200u16.to_le_bytes());
    let (_, e) = fault(&ng.out);
    assert_eq!(
        e.to_string(),
        format!(
            "t: byte {}: interface description option 2: runs past the end of its block",
            at + 16
        )
    );

    let mut ng = Ng::new(false);
    ng.idb(1, 0, &[(14, &[1, 2, 3, 4])]);
    let (_, e) = fault(&ng.out);
    assert!(matches!(e.kind(), ErrorKind::BadOption { code: 14, .. }));
}

#[test]
fn header_errors() {
    assert!(matches!(open_err(&[]).kind(), ErrorKind::Empty));
    let e = open_err(b"GET / HTTP/1.1\r\n");
    assert_eq!(
        e.to_string(),
        "t: byte 0: not a pcap, pcapng or gzip file (it starts with 47 45 54 20)"
    );
    assert!(matches!(
        open_err(&[0xa1, 0xb2]).kind(),
        ErrorKind::UnknownFormat { len: 2, .. }
    ));

    let mut k = bytes("dns.pcap");
    k[..4].copy_from_slice(&[0x34, 0xcd, 0xb2, 0xa1]);
    assert!(matches!(
        open_err(&k).kind(),
        ErrorKind::UnsupportedFormat(_)
    ));

    let mut v = bytes("dns.pcap");
    v[4..6].copy_from_slice(&1u16.to_le_bytes());
    assert_eq!(
        open_err(&v).to_string(),
        "t: byte 4: unsupported pcap version 1.4"
    );

    let mut ng = Ng::new(false);
    ng.out[12..14].copy_from_slice(&2u16.to_le_bytes());
    assert_eq!(
        open_err(&ng.out).to_string(),
        "t: byte 0: unsupported pcapng version 2.0"
    );

    let mut ng = Ng::new(false);
    ng.out[8..12].copy_from_slice(&[1, 2, 3, 4]);
    assert!(matches!(
        open_err(&ng.out).kind(),
        ErrorKind::BadByteOrderMagic(0x0403_0201)
    ));

    // A bad second section: the first one's packets come first.
    let mut b = bytes("http.pcapng");
    let at = b.len();
    let mut ng = Ng::new(true);
    ng.out[8..12].copy_from_slice(&[9, 9, 9, 9]);
    b.extend(ng.out);
    let (n, e) = fault(&b);
    assert_eq!(n, 24);
    assert_eq!(e.offset(), Some(at as u64));
    assert!(matches!(e.kind(), ErrorKind::BadByteOrderMagic(_)));

    // Corrupt gzip.
    let mut gz = bytes("http.pcapng.gz");
    let mid = gz.len() / 2;
    for b in &mut gz[mid..mid + 16] {
        *b ^= 0x5a;
    }
    // Garbage decompresses until the CRC check: whichever comes first is reported.
    let r = read_bytes("x.gz", gz);
    assert!(r.is_err() || r.unwrap().error.is_some());
}
