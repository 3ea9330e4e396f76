use ctguard_wire::ip::protocol;

use super::*;
use crate::intake::testpkt::*;
use crate::intake::{parse_ip, parse_reassembled};

fn secs(s: f64) -> Instant {
    Instant::from_secs_f64(s)
}

fn push(d: &mut Defrag, packet: &[u8], at: f64, sysctl: &Sysctl) -> Reassembly {
    let ip = parse_ip(packet).expect("fragments pass IP input");
    d.push(&ip, secs(at), sysctl)
}

fn held(r: Reassembly) {
    assert!(matches!(r, Reassembly::Held), "{r:?}");
}

fn dropped(r: Reassembly, why: &str) {
    assert!(
        matches!(r, Reassembly::Dropped(w) if w == why),
        "expected {why}, got {r:?}"
    );
}

fn complete(r: Reassembly) -> Vec<u8> {
    match r {
        Reassembly::Complete(p) => p,
        other => panic!("expected Complete, got {other:?}"),
    }
}

/// A UDP datagram of `len` payload bytes, whole, and the IPv4 builder that made it.
fn v4_datagram(len: usize, ident: u16) -> (V4, Vec<u8>) {
    let mut b = V4::new(protocol::UDP);
    b.ident = ident;
    let payload: Vec<u8> = (0..len).map(|i| (i * 7) as u8).collect();
    let udp = udp_v4(&b, 4000, 5000, &payload);
    let whole = b.build(&udp);
    (b, whole)
}

/// The IPv4 fragment carrying `[from, to)` of the datagram's data.
fn v4_frag(b: &V4, whole: &[u8], from: usize, to: usize, more: bool) -> Vec<u8> {
    let mut f = b.clone();
    f.offset = from as u16;
    f.more = more;
    f.build(&whole[20 + from..20 + to])
}

fn v4_split(b: &V4, whole: &[u8], size: usize) -> Vec<Vec<u8>> {
    let data = whole.len() - 20;
    (0..data)
        .step_by(size)
        .map(|from| v4_frag(b, whole, from, (from + size).min(data), from + size < data))
        .collect()
}

#[test]
fn ipv4_in_order_rebuilds_the_original() {
    let s = Sysctl::default();
    let (b, whole) = v4_datagram(3000, 7);
    let frags = v4_split(&b, &whole, 1480);
    assert_eq!(frags.len(), 3);
    let mut d = Defrag::new();
    held(push(&mut d, &frags[0], 0.0, &s));
    held(push(&mut d, &frags[1], 0.1, &s));
    assert!(d.memory() > 0);
    assert_eq!(d.queues(), 1);
    assert_eq!(complete(push(&mut d, &frags[2], 0.2, &s)), whole);
    assert_eq!((d.memory(), d.queues()), (0, 0));
}

#[test]
fn ipv4_out_of_order_and_reversed() {
    let s = Sysctl::default();
    let (b, whole) = v4_datagram(5000, 8);
    let frags = v4_split(&b, &whole, 1024);
    let mut d = Defrag::new();
    for order in [[4, 2, 0, 3, 1], [4, 3, 2, 1, 0], [1, 3, 0, 4, 2]] {
        for (n, &i) in order.iter().enumerate() {
            let r = push(&mut d, &frags[i], 0.0, &s);
            if n + 1 < order.len() {
                held(r);
            } else {
                assert_eq!(complete(r), whole);
            }
        }
    }
}

#[test]
fn ipv4_duplicates_are_dropped_alone() {
    let s = Sysctl::default();
    let (b, whole) = v4_datagram(3000, 9);
    let frags = v4_split(&b, &whole, 1480);
    let mut d = Defrag::new();
    held(push(&mut d, &frags[1], 0.0, &s));
    dropped(push(&mut d, &frags[1], 0.0, &s), "duplicate");
    // A fragment inside data already held is a duplicate too.
    dropped(
        push(&mut d, &v4_frag(&b, &whole, 1480, 1488, true), 0.0, &s),
        "duplicate",
    );
    held(push(&mut d, &frags[0], 0.0, &s));
    assert_eq!(complete(push(&mut d, &frags[2], 0.0, &s)), whole);
}

#[test]
fn ipv4_overlap_drops_the_queue() {
    let s = Sysctl::default();
    let (b, whole) = v4_datagram(3000, 10);
    let frags = v4_split(&b, &whole, 1480);
    let mut d = Defrag::new();
    held(push(&mut d, &frags[0], 0.0, &s));
    dropped(
        push(&mut d, &v4_frag(&b, &whole, 1472, 1600, true), 0.0, &s),
        "overlap",
    );
    assert_eq!((d.memory(), d.queues()), (0, 0));
    // What follows starts afresh: the first fragment is gone.
    held(push(&mut d, &frags[1], 0.0, &s));
    held(push(&mut d, &frags[2], 0.0, &s));
    assert_eq!(complete(push(&mut d, &frags[0], 0.0, &s)), whole);
}

#[test]
fn ipv4_non_last_fragments_are_cut_to_eight_bytes() {
    let s = Sysctl::default();
    let (b, whole) = v4_datagram(2000, 11);
    let mut d = Defrag::new();
    // 1485 bytes, MF: only 1480 count; the next fragment starts at 1480.
    held(push(&mut d, &v4_frag(&b, &whole, 0, 1485, true), 0.0, &s));
    assert_eq!(
        complete(push(
            &mut d,
            &v4_frag(&b, &whole, 1480, 2008, false),
            0.0,
            &s
        )),
        whole
    );
}

#[test]
fn ipv4_contradicting_last_fragments() {
    let s = Sysctl::default();
    let (b, whole) = v4_datagram(3000, 12);
    let mut d = Defrag::new();
    held(push(
        &mut d,
        &v4_frag(&b, &whole, 1480, 2960, true),
        0.0,
        &s,
    ));
    dropped(
        push(&mut d, &v4_frag(&b, &whole, 8, 1000, false), 0.0, &s),
        "bad-last-fragment",
    );
    assert_eq!(d.queues(), 0);
    held(push(
        &mut d,
        &v4_frag(&b, &whole, 1480, 3008, false),
        0.0,
        &s,
    ));
    dropped(
        push(&mut d, &v4_frag(&b, &whole, 0, 3008 - 8, true), 0.0, &s),
        "overlap",
    );
}

#[test]
fn ipv4_timeout() {
    let s = Sysctl::default();
    let (b, whole) = v4_datagram(3000, 13);
    let frags = v4_split(&b, &whole, 1480);
    let mut d = Defrag::new();
    held(push(&mut d, &frags[0], 0.0, &s));
    held(push(&mut d, &frags[1], 29.9, &s));
    // 30 s after the first fragment the queue is gone; the last fragment opens a new one.
    held(push(&mut d, &frags[2], 30.0, &s));
    assert_eq!(d.queues(), 1);
    d.expire(secs(59.9), &s);
    assert_eq!(d.queues(), 1);
    d.expire(secs(60.0), &s);
    assert_eq!((d.queues(), d.memory()), (0, 0));
}

#[test]
fn ipv4_memory_limit_refuses_fragments_until_memory_is_back() {
    let mut s = Sysctl::default();
    let (b, whole) = v4_datagram(3000, 1);
    let frags = v4_split(&b, &whole, 1480);
    let mut d = Defrag::new();
    held(push(&mut d, &frags[0], 0.0, &s));
    let one = d.memory();
    s.ipfrag_high_thresh = (one * 3) as u32;
    // Three more queues: the third takes memory past the threshold, which is allowed once.
    for id in 2..=4 {
        let (b2, w2) = v4_datagram(3000, id);
        held(push(&mut d, &v4_frag(&b2, &w2, 0, 1480, true), 1.0, &s));
    }
    assert!(d.memory() > s.ipfrag_high_thresh as usize);
    let (b5, w5) = v4_datagram(3000, 5);
    dropped(
        push(&mut d, &v4_frag(&b5, &w5, 0, 1480, true), 2.0, &s),
        "memory-limit",
    );
    // Existing queues are refused as well.
    dropped(push(&mut d, &frags[1], 2.0, &s), "memory-limit");
    // Once the first queue times out there is room again.
    held(push(&mut d, &frags[1], 30.0, &s));
    s.ipfrag_high_thresh = 0;
    dropped(push(&mut d, &frags[2], 30.0, &s), "memory-limit");
}

#[test]
fn ipv4_oversize_is_dropped() {
    let s = Sysctl::default();
    let b = V4::new(protocol::UDP);
    let mut d = Defrag::new();
    let frag = |from: usize, len: usize, more: bool| {
        let mut f = b.clone();
        f.offset = from as u16;
        f.more = more;
        f.build(&vec![0xab; len])
    };
    held(push(&mut d, &frag(0, 60_000, true), 0.0, &s));
    held(push(&mut d, &frag(60_000, 5528, true), 0.0, &s));
    // 65528 + 16 bytes of data and a 20-byte header: 65564 > 65535.
    dropped(push(&mut d, &frag(65_528, 16, false), 0.0, &s), "oversize");
    assert_eq!((d.queues(), d.memory()), (0, 0));
}

#[test]
fn ipv4_ecn_and_dont_fragment() {
    let s = Sysctl::default();
    let (mut b, whole) = v4_datagram(2000, 14);
    let mut d = Defrag::new();
    // Not-ECT mixed with ECT(0): dropped.
    b.tos = 0;
    held(push(&mut d, &v4_frag(&b, &whole, 0, 1480, true), 0.0, &s));
    b.tos = 2;
    dropped(
        push(&mut d, &v4_frag(&b, &whole, 1480, 2008, false), 0.0, &s),
        "bad-ecn",
    );
    // ECT(0) and CE: CE survives. DF on the largest fragment stays set.
    b.df = true;
    held(push(&mut d, &v4_frag(&b, &whole, 0, 1480, true), 0.0, &s));
    b.tos = 3;
    b.df = false;
    let out = complete(push(
        &mut d,
        &v4_frag(&b, &whole, 1480, 2008, false),
        0.0,
        &s,
    ));
    let h = ctguard_wire::ipv4::Packet::new_checked(&out[..]).unwrap();
    assert_eq!(
        (h.tos() & 3, h.dont_frag(), h.more_frags(), h.frag_offset()),
        (3, true, false, 0)
    );
    assert!(h.verify_checksum());
    assert_eq!(&out[20..], &whole[20..]);
}

#[test]
fn ipv4_too_far_restarts_a_queue() {
    let s = Sysctl::default();
    let (b, whole) = v4_datagram(3000, 100);
    let frags = v4_split(&b, &whole, 1480);
    let mut d = Defrag::new();
    held(push(&mut d, &frags[0], 0.0, &s));
    held(push(&mut d, &frags[1], 0.0, &s));
    // 65 fragments from the same source to other datagrams.
    for id in 0..65 {
        let (o, ow) = v4_datagram(3000, 200 + id);
        held(push(&mut d, &v4_frag(&o, &ow, 0, 1480, true), 0.0, &s));
    }
    // The queue is emptied before this one goes in, so it does not complete...
    held(push(&mut d, &frags[2], 0.0, &s));
    held(push(&mut d, &frags[0], 0.0, &s));
    // ...until the rest is sent again.
    assert_eq!(complete(push(&mut d, &frags[1], 0.0, &s)), whole);
}

#[test]
fn not_a_fragment_passes_through() {
    let s = Sysctl::default();
    let (_, whole) = v4_datagram(100, 15);
    let mut d = Defrag::new();
    assert_eq!(complete(push(&mut d, &whole, 0.0, &s)), whole);
    let v6 = V6::new().build(protocol::UDP, &udp_v6(&V6::new(), 1, 2, b"x"));
    assert_eq!(complete(push(&mut d, &v6, 0.0, &s)), v6);
}

/// A UDP datagram behind a hop-by-hop header: the builder, the whole packet, and what
/// follows the fixed header (hop-by-hop header, then UDP).
fn v6_datagram(len: usize) -> (V6, Vec<u8>, Vec<u8>) {
    let v6 = V6::new();
    let payload: Vec<u8> = (0..len).map(|i| (i * 13) as u8).collect();
    let udp = udp_v6(&v6, 7000, 8000, &payload);
    let rest = [&[protocol::UDP, 0, 1, 4, 0, 0, 0, 0][..], &udp[..]].concat();
    let whole = v6.build(protocol::HOPOPTS, &rest);
    (v6, whole, rest)
}

/// An IPv6 fragment of `data[from..to]` (the upper layer), behind the hop-by-hop header.
fn v6_frag(v6: &V6, data: &[u8], from: usize, to: usize, more: bool, id: u32) -> Vec<u8> {
    let mut rest = vec![protocol::FRAGMENT, 0, 1, 4, 0, 0, 0, 0];
    let off = (from as u16) | u16::from(more);
    rest.extend_from_slice(&[protocol::UDP, 0]);
    rest.extend_from_slice(&off.to_be_bytes());
    rest.extend_from_slice(&id.to_be_bytes());
    rest.extend_from_slice(&data[from..to]);
    v6.build(protocol::HOPOPTS, &rest)
}

#[test]
fn ipv6_with_hop_by_hop_rebuilds_the_original() {
    let s = Sysctl::default();
    let (v6, whole, l4) = v6_datagram(4000);
    let udp = &l4[8..];
    let mut d = Defrag::new();
    held(push(
        &mut d,
        &v6_frag(&v6, udp, 1440, 2880, true, 77),
        0.0,
        &s,
    ));
    held(push(&mut d, &v6_frag(&v6, udp, 0, 1440, true, 77), 0.0, &s));
    let out = complete(push(
        &mut d,
        &v6_frag(&v6, udp, 2880, udp.len(), false, 77),
        0.0,
        &s,
    ));
    assert_eq!(out, whole);
    let ip = parse_reassembled(&out).unwrap();
    assert_eq!((ip.proto, ip.fragment), (protocol::UDP, None));
    assert_eq!((d.queues(), d.memory()), (0, 0));
}

#[test]
fn ipv6_fragment_right_after_the_fixed_header() {
    let s = Sysctl::default();
    let v6 = V6::new();
    let udp = udp_v6(&v6, 1, 2, &[5; 3000]);
    let whole = v6.build(protocol::UDP, &udp);
    let frag = |from: usize, to: usize, more: bool| {
        let mut rest = vec![protocol::UDP, 0];
        rest.extend_from_slice(&((from as u16) | u16::from(more)).to_be_bytes());
        rest.extend_from_slice(&9u32.to_be_bytes());
        rest.extend_from_slice(&udp[from..to]);
        v6.build(protocol::FRAGMENT, &rest)
    };
    let mut d = Defrag::new();
    held(push(&mut d, &frag(0, 1448, true), 0.0, &s));
    assert_eq!(
        complete(push(&mut d, &frag(1448, udp.len(), false), 0.0, &s)),
        whole
    );
    // An atomic fragment (offset 0, last) completes at once, without its fragment header.
    let small = udp_v6(&v6, 1, 2, b"tiny");
    let mut rest = vec![protocol::UDP, 0, 0, 0, 0, 0, 0, 3];
    rest.extend_from_slice(&small);
    assert_eq!(
        complete(push(&mut d, &v6.build(protocol::FRAGMENT, &rest), 0.0, &s)),
        v6.build(protocol::UDP, &small)
    );
}

#[test]
fn ipv6_rules() {
    let s = Sysctl::default();
    let (v6, _, l4) = v6_datagram(4000);
    let udp = &l4[8..];
    let mut d = Defrag::new();
    // Small non-last fragments are held: the recorded kernel reassembles 64-byte pieces
    // (conformance/goldens/ipv6-fragments.golden).
    held(push(
        &mut Defrag::new(),
        &v6_frag(&v6, udp, 0, 1000, true, 9),
        0.0,
        &s,
    ));
    // Non-last fragments must end on 8 bytes, or the queue goes.
    held(push(
        &mut d,
        &v6_frag(&v6, udp, 1440, 2880, true, 0),
        0.0,
        &s,
    ));
    dropped(
        push(&mut d, &v6_frag(&v6, udp, 0, 1444, true, 0), 0.0, &s),
        "unaligned-fragment",
    );
    assert_eq!(d.queues(), 0);
    // Overlap (RFC 5722) drops the queue; duplicates only themselves.
    held(push(&mut d, &v6_frag(&v6, udp, 0, 1440, true, 0), 0.0, &s));
    dropped(
        push(&mut d, &v6_frag(&v6, udp, 0, 1440, true, 0), 0.0, &s),
        "duplicate",
    );
    dropped(
        push(&mut d, &v6_frag(&v6, udp, 1432, 2872, true, 0), 0.0, &s),
        "overlap",
    );
    assert_eq!((d.queues(), d.memory()), (0, 0));
    // A contradicting last fragment is dropped but the queue stays.
    held(push(
        &mut d,
        &v6_frag(&v6, udp, 2880, udp.len(), false, 0),
        0.0,
        &s,
    ));
    dropped(
        push(&mut d, &v6_frag(&v6, udp, 1440, 2000, false, 0), 0.0, &s),
        "bad-last-fragment",
    );
    assert_eq!(d.queues(), 1);
}

#[test]
fn ipv6_timeout_and_memory_limit() {
    let mut s = Sysctl::default();
    let (v6, _, l4) = v6_datagram(4000);
    let udp = &l4[8..];
    let mut d = Defrag::new();
    held(push(&mut d, &v6_frag(&v6, udp, 0, 1440, true, 1), 0.0, &s));
    held(push(
        &mut d,
        &v6_frag(&v6, udp, 1440, 2880, true, 1),
        59.0,
        &s,
    ));
    // 60 s (nf_conntrack_frag6_timeout) after the first fragment it is gone.
    held(push(
        &mut d,
        &v6_frag(&v6, udp, 2880, udp.len(), false, 1),
        60.0,
        &s,
    ));
    assert_eq!(d.queues(), 1);
    s.frag6_high_thresh = 1;
    dropped(
        push(&mut d, &v6_frag(&v6, udp, 0, 1440, true, 1), 61.0, &s),
        "memory-limit",
    );
    // IPv4 has its own budget.
    let (b, whole) = v4_datagram(3000, 1);
    held(push(&mut d, &v4_frag(&b, &whole, 0, 1480, true), 61.0, &s));
    d.expire(secs(120.0), &s);
    held(push(
        &mut d,
        &v6_frag(&v6, udp, 0, 1440, true, 1),
        120.0,
        &s,
    ));
}
