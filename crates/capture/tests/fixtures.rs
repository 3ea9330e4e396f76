//! The reader on captures made by real tools (tcpdump, dumpcap, editcap, gzip; see
//! tests/data/README.md): counts, link types, interfaces, timestamps and first bytes.

mod common;

use common::{Read, bytes, data, read_bytes, read_file};
use ctguard_capture::{Capture, Format, InterfaceInfo, linktype};

const HTTP_PACKETS: usize = 24;

fn assert_monotonic(r: &Read) {
    for w in r.records.windows(2) {
        assert!(w[0].time <= w[1].time, "{} then {}", w[0].time, w[1].time);
    }
}

fn assert_indexed(r: &Read) {
    for (i, rec) in r.records.iter().enumerate() {
        assert_eq!(rec.index, i as u64);
        assert_eq!(
            rec.orig_len as usize,
            rec.data.len(),
            "full-length captures"
        );
    }
}

/// Ethernet, IPv4, TCP from 127.0.0.1 to 127.0.0.1:8080 with only SYN set.
fn assert_http_syn(frame: &[u8]) {
    assert_eq!(frame.len(), 74);
    assert_eq!(&frame[..12], &[0; 12], "loopback's MAC addresses are zero");
    assert_eq!(&frame[12..14], &[0x08, 0x00], "IPv4");
    assert_eq!(frame[14], 0x45);
    assert_eq!(frame[23], 6, "TCP");
    assert_eq!(&frame[26..34], &[127, 0, 0, 1, 127, 0, 0, 1]);
    assert_eq!(&frame[36..38], &8080u16.to_be_bytes());
    assert_eq!(frame[47], 0x02, "SYN");
}

#[test]
fn http_pcap_microseconds() {
    let cap = Capture::open(data("http.pcap")).unwrap();
    assert_eq!(
        cap.format(),
        Format::Pcap {
            nanosecond: false,
            big_endian: false,
            version: (2, 4),
            snaplen: 262_144,
            link_type: linktype::ETHERNET,
        }
    );
    assert!(!cap.is_gzip());
    let r = common::read_all(cap);
    assert!(r.error.is_none(), "{:?}", r.error);
    assert_eq!(r.records.len(), HTTP_PACKETS);
    assert!(
        r.interfaces.is_empty(),
        "classic pcap describes no interface"
    );
    assert!(r.records.iter().all(|x| x.interface.is_none()));
    assert!(r.records.iter().all(|x| x.link_type == linktype::ETHERNET));
    assert_indexed(&r);
    assert_monotonic(&r);
    assert_eq!(r.records[0].time, 1_795_554_732_447_326_000);
    assert_eq!(r.records[23].time, 1_795_554_732_464_160_000);
    assert_http_syn(&r.records[0].data);
    assert_eq!(r.records[1].data[47], 0x12, "SYN-ACK");
}

#[test]
fn http_pcap_nanoseconds() {
    let cap = Capture::open(data("http-ns.pcap")).unwrap();
    assert!(matches!(
        cap.format(),
        Format::Pcap {
            nanosecond: true,
            big_endian: false,
            ..
        }
    ));
    let r = common::read_all(cap);
    assert!(r.error.is_none());
    assert_eq!(r.records.len(), HTTP_PACKETS);
    assert_indexed(&r);
    assert_monotonic(&r);
    assert_eq!(r.records[0].time, 1_795_554_732_447_325_319);
    assert_eq!(r.records[1].time, 1_795_554_732_447_340_551);
    assert_eq!(r.records[23].time, 1_795_554_732_464_159_161);
    assert_http_syn(&r.records[0].data);
}

#[test]
fn http_pcapng_from_dumpcap() {
    let cap = Capture::open(data("http.pcapng")).unwrap();
    assert_eq!(cap.format(), Format::Pcapng);
    // Known at open, before the first packet.
    assert_eq!(
        cap.interfaces(),
        &[InterfaceInfo {
            link_type: linktype::ETHERNET,
            name: Some("lo".into()),
            snaplen: 262_144,
            section: 0,
        }]
    );
    let r = common::read_all(cap);
    assert!(r.error.is_none(), "{:?}", r.error);
    assert_eq!(r.records.len(), HTTP_PACKETS);
    assert!(r.records.iter().all(|x| x.interface == Some(0)));
    assert!(r.records.iter().all(|x| x.link_type == linktype::ETHERNET));
    assert_indexed(&r);
    assert_monotonic(&r);
    // if_tsresol 9: nanoseconds.
    assert_eq!(r.records[0].time, 1_795_554_732_447_324_627);
    assert_eq!(r.records[23].time, 1_795_554_732_464_158_580);
    assert_http_syn(&r.records[0].data);
}

#[test]
fn editcap_pcapng_equals_its_pcap() {
    // editcap -F pcapng: nanosecond pcap to if_tsresol 9, microsecond pcap to no if_tsresol
    // (the 10^-6 default); the same packets at the same times either way.
    for (pcap, pcapng) in [
        ("http-ns.pcap", "http-ns.pcapng"),
        ("http.pcap", "http-us.pcapng"),
    ] {
        let a = read_file(pcap);
        let b = read_file(pcapng);
        assert!(a.error.is_none() && b.error.is_none());
        assert_eq!(b.interfaces.len(), 1);
        assert_eq!(b.interfaces[0].name, None);
        assert_eq!(a.records.len(), b.records.len());
        for (x, y) in a.records.iter().zip(&b.records) {
            assert_eq!(
                (x.index, x.time, x.link_type, x.orig_len, &x.data),
                (y.index, y.time, y.link_type, y.orig_len, &y.data),
                "{pcap} vs {pcapng}"
            );
            assert_eq!(y.interface, Some(0));
        }
    }
}

#[test]
fn the_three_http_captures_saw_the_same_packets() {
    // tcpdump (µs), tcpdump (ns) and dumpcap ran side by side.
    let a = read_file("http.pcap");
    let b = read_file("http-ns.pcap");
    let c = read_file("http.pcapng");
    for ((x, y), z) in a.records.iter().zip(&b.records).zip(&c.records) {
        assert_eq!(x.data, y.data);
        assert_eq!(x.data, z.data);
        assert!(x.time.abs_diff(z.time) < 10_000, "within 10 µs");
    }
}

#[test]
fn gzip_equals_plain() {
    let gz = Capture::open(data("http.pcapng.gz")).unwrap();
    assert!(gz.is_gzip());
    assert_eq!(gz.format(), Format::Pcapng);
    let gz_len = bytes("http.pcapng.gz").len() as u64;
    assert_eq!(gz.progress().1, Some(gz_len));
    let mut gz = gz;
    let mut n = 0;
    while let Some(r) = gz.next_record() {
        r.unwrap();
        n += 1;
    }
    assert_eq!(n, HTTP_PACKETS);
    assert_eq!(
        gz.progress(),
        (gz_len, Some(gz_len)),
        "all compressed bytes consumed"
    );

    let a = read_file("http.pcapng");
    let b = read_file("http.pcapng.gz");
    assert!(b.error.is_none());
    assert_eq!(a.interfaces, b.interfaces);
    assert_eq!(a.records, b.records);
}

#[test]
fn gzip_of_a_pcap_made_in_the_test() {
    use flate2::Compression;
    use flate2::write::GzEncoder;
    use std::io::Write;
    let plain = bytes("dns.pcap");
    let mut enc = GzEncoder::new(Vec::new(), Compression::default());
    enc.write_all(&plain).unwrap();
    let gz = enc.finish().unwrap();
    let a = read_bytes("dns.pcap", plain).unwrap();
    let b = read_bytes("dns.pcap.gz", gz).unwrap();
    assert!(b.error.is_none());
    assert_eq!(a.records, b.records);
}

#[test]
fn progress_of_a_plain_file() {
    let len = bytes("syn-flood.pcap").len() as u64;
    let mut cap = Capture::open(data("syn-flood.pcap")).unwrap();
    assert_eq!(cap.progress(), (24, Some(len)));
    let mut last = 24;
    while let Some(r) = cap.next_record() {
        r.unwrap();
        let (done, total) = cap.progress();
        assert_eq!(total, Some(len));
        assert!(done > last);
        last = done;
    }
    assert_eq!(cap.progress(), (len, Some(len)));
    let from_reader = Capture::from_reader(
        "syn-flood.pcap",
        std::io::Cursor::new(bytes("syn-flood.pcap")),
    )
    .unwrap();
    assert_eq!(from_reader.progress(), (24, None));
}

#[test]
fn dns_over_udp() {
    let r = read_file("dns.pcap");
    assert!(r.error.is_none());
    assert_eq!(r.records.len(), 4, "two queries, two answers");
    assert_indexed(&r);
    assert_monotonic(&r);
    assert_eq!(r.records[0].time, 1_795_554_734_806_571_000);
    let q = &r.records[0].data;
    assert_eq!(q.len(), 95);
    assert_eq!(&q[12..14], &[0x08, 0x00]);
    assert_eq!(q[23], 17, "UDP");
    assert_eq!(&q[36..38], &53u16.to_be_bytes(), "to port 53");
    let a = &r.records[1].data;
    assert_eq!(&a[34..36], &53u16.to_be_bytes(), "from port 53");
    assert_eq!(&q[42..44], &a[42..44], "the answer carries the query's id");
}

#[test]
fn syn_flood_from_hping3() {
    let r = read_file("syn-flood.pcap");
    assert!(r.error.is_none());
    assert_eq!(r.records.len(), 200, "100 SYNs, 100 RST-ACKs");
    assert_indexed(&r);
    assert_monotonic(&r);
    assert_eq!(r.records[0].time, 1_795_554_736_994_188_000);
    assert_eq!(r.records[199].time, 1_795_554_737_200_553_000);
    for (i, rec) in r.records.iter().enumerate() {
        assert_eq!(rec.data.len(), 54);
        assert_eq!(rec.data[23], 6, "TCP");
        let flags = rec.data[47];
        if i % 2 == 0 {
            assert_eq!(flags, 0x02, "SYN");
            assert_eq!(&rec.data[36..38], &9u16.to_be_bytes());
        } else {
            assert_eq!(flags, 0x14, "RST-ACK from the closed port");
            assert_eq!(&rec.data[34..36], &9u16.to_be_bytes());
        }
    }
}

#[test]
fn linux_cooked_v2_from_tcpdump_any() {
    let cap = Capture::open(data("any-sll2.pcap")).unwrap();
    assert!(matches!(
        cap.format(),
        Format::Pcap {
            link_type: linktype::LINUX_SLL2,
            ..
        }
    ));
    let r = common::read_all(cap);
    assert!(r.error.is_none());
    assert_eq!(r.records.len(), 4, "two ICMP echoes and their replies");
    assert!(
        r.records
            .iter()
            .all(|x| x.link_type == linktype::LINUX_SLL2)
    );
    assert_monotonic(&r);
    assert_eq!(r.records[0].time, 1_795_554_739_478_157_000);
    let f = &r.records[0].data;
    assert_eq!(f.len(), 48, "20 bytes of SLL2, 28 of IPv4 and ICMP");
    assert_eq!(&f[0..2], &[0x08, 0x00], "SLL2 protocol: IPv4");
    assert_eq!(&f[4..8], &1u32.to_be_bytes(), "interface index 1: lo");
    assert_eq!(&f[8..10], &772u16.to_be_bytes(), "ARPHRD_LOOPBACK");
    assert_eq!(f[20], 0x45);
    assert_eq!(f[29], 1, "ICMP");
    assert_eq!(f[40], 8, "echo request");
    assert_eq!(r.records[1].data[40], 0, "echo reply");
}

#[test]
fn two_interfaces_from_dumpcap() {
    // dumpcap -i lo -i any: interface 0 is Ethernet, interface 1 Linux cooked v1.
    let r = read_file("lo-any.pcapng");
    assert!(r.error.is_none(), "{:?}", r.error);
    let names: Vec<_> = r.interfaces.iter().map(|i| i.name.as_deref()).collect();
    assert_eq!(names, [Some("lo"), Some("any")]);
    assert_eq!(r.interfaces[0].link_type, linktype::ETHERNET);
    assert_eq!(r.interfaces[1].link_type, linktype::LINUX_SLL);
    assert_eq!(r.records.len(), 8);
    let ifaces: Vec<_> = r.records.iter().map(|x| x.interface.unwrap()).collect();
    assert_eq!(ifaces, [0, 0, 1, 1, 0, 0, 1, 1]);
    for rec in &r.records {
        let i = rec.interface.unwrap();
        assert_eq!(rec.link_type, r.interfaces[i].link_type);
        let len = if i == 0 { 42 } else { 44 };
        assert_eq!(
            rec.data.len(),
            len,
            "14 or 16 bytes of link header, 28 of IPv4 + ICMP"
        );
    }
    // Time is monotonic per interface; the file interleaves the two.
    for i in 0..2 {
        let times: Vec<_> = r
            .records
            .iter()
            .filter(|x| x.interface == Some(i))
            .map(|x| x.time)
            .collect();
        assert!(times.windows(2).all(|w| w[0] <= w[1]));
    }
    // Each packet seen on both: same time, same IP bytes.
    assert_eq!(r.records[0].time, 1_795_554_739_478_157_679);
    assert_eq!(r.records[2].time, r.records[0].time);
    assert_eq!(r.records[0].data[14..], r.records[2].data[16..]);
}

#[test]
fn several_sections_in_one_stream() {
    // Concatenated pcapng files are one file of several sections; each section describes its
    // own interfaces, and records index the list of all of them.
    let mut all = bytes("http.pcapng");
    all.extend(bytes("lo-any.pcapng"));
    all.extend(bytes("http-ns.pcapng"));
    let r = read_bytes("three.pcapng", all).unwrap();
    assert!(r.error.is_none(), "{:?}", r.error);
    let ifaces: Vec<_> = r
        .interfaces
        .iter()
        .map(|i| (i.name.as_deref(), i.link_type, i.section))
        .collect();
    assert_eq!(
        ifaces,
        [
            (Some("lo"), 1, 0),
            (Some("lo"), 1, 1),
            (Some("any"), 113, 1),
            (None, 1, 2)
        ]
    );
    assert_eq!(r.records.len(), 24 + 8 + 24);
    let by_iface = |i| r.records.iter().filter(|x| x.interface == Some(i)).count();
    assert_eq!(
        [by_iface(0), by_iface(1), by_iface(2), by_iface(3)],
        [24, 4, 4, 24]
    );
    assert_eq!(r.records[32].index, 32);
    assert_eq!(r.records[32].time, 1_795_554_732_447_325_319);
    assert_eq!(
        r.records[32].data,
        read_file("http-ns.pcap").records[0].data
    );
}
