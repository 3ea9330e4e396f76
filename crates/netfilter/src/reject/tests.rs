use super::*;

use std::path::{Path, PathBuf};

/// One recorded probe: `testdata/cases/*.case` (see `testdata/README.md`).
struct Case {
    name: String,
    kind: RejectWith,
    hook: Hook,
    offending: Vec<u8>,
    replies: Vec<Vec<u8>>,
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).expect("hex"))
        .collect()
}

fn load_cases() -> Vec<Case> {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("src/reject/testdata/cases");
    let mut paths: Vec<PathBuf> = std::fs::read_dir(&dir)
        .expect("testdata/cases")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "case"))
        .collect();
    paths.sort();
    paths
        .iter()
        .map(|path| {
            let text = std::fs::read_to_string(path).expect("case file");
            let name = path.file_stem().unwrap().to_string_lossy().into_owned();
            let (mut kind, mut hook, mut offending) = (None, None, None);
            let mut replies = Vec::new();
            for line in text.lines().filter(|l| !l.starts_with('#')) {
                let (key, value) = line.split_once(' ').expect("key value");
                match key {
                    "kind" => kind = RejectWith::ALL.into_iter().find(|k| k.name() == value),
                    "hook" => hook = Hook::from_chain_name(&value.to_ascii_uppercase()),
                    "offending" => offending = Some(unhex(value)),
                    "reply" if value == "none" => {}
                    "reply" => replies.push(unhex(value)),
                    other => panic!("{name}: unknown key {other}"),
                }
            }
            Case {
                kind: kind.unwrap_or_else(|| panic!("{name}: kind")),
                hook: hook.unwrap_or_else(|| panic!("{name}: hook")),
                offending: offending.unwrap_or_else(|| panic!("{name}: offending")),
                replies,
                name,
            }
        })
        .collect()
}

/// The packet as the FORWARD hook sees it: TTL / hop limit already decremented.
fn at_hook(case: &Case) -> Vec<u8> {
    let mut p = case.offending.clone();
    if case.hook == Hook::Forward {
        if p[0] >> 4 == 4 {
            p[8] -= 1;
            ipv4::Packet::new_unchecked(&mut p[..]).fill_checksum();
        } else {
            p[7] -= 1;
        }
    }
    p
}

/// The recorder's routers: the address facing the client.
fn reply_src(case: &Case) -> Option<IpAddr> {
    match (case.hook, case.offending[0] >> 4) {
        (Hook::Forward, 4) => Some("10.77.1.2".parse().unwrap()),
        (Hook::Forward, _) => Some("fd77:1::2".parse().unwrap()),
        _ => None,
    }
}

/// Blanks what the kernel picks and this module does not: the IPv4 ID (and so the header
/// checksum), the IPv6 flow label.
fn masked(p: &[u8]) -> Vec<u8> {
    let mut p = p.to_vec();
    if p.len() >= 20 && p[0] >> 4 == 4 {
        p[4..6].fill(0);
        p[10..12].fill(0);
    } else if p.len() >= 4 {
        p[1] &= 0xf0;
        p[2..4].fill(0);
    }
    p
}

#[test]
fn replies_match_the_kernel_recordings() {
    let cases = load_cases();
    assert!(cases.len() >= 30, "only {} cases", cases.len());
    let mut failures = Vec::new();
    for case in &cases {
        let opts = Options {
            reply_src: reply_src(case),
            ..Options::at_hook(case.hook)
        };
        let mut ours = Vec::new();
        let result = build_with(case.kind, &at_hook(case), &opts, &mut ours);
        match (&result, case.replies.as_slice()) {
            (Err(_), []) => {}
            (Ok(()), [kernel]) => {
                let kernel = &partial_tcp_checksum_completed(kernel, &ours);
                if masked(&ours) != masked(kernel) {
                    failures.push(format!(
                        "{}:\n  kernel {}\n  ours   {}",
                        case.name,
                        hex(kernel),
                        hex(&ours)
                    ));
                }
                // What is not masked must still be a valid packet: checksums included.
                assert_valid(&ours);
            }
            (result, kernel) => failures.push(format!(
                "{}: ours {result:?}, the kernel sent {} replies",
                case.name,
                kernel.len()
            )),
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The kernel leaves an IPv4 RST's TCP checksum to offload (`CHECKSUM_PARTIAL`): on veth it
/// is never completed, so the capture holds only the folded pseudo-header sum. When the
/// recorded checksum is exactly that, the completed one (ours, checked by `assert_valid`)
/// stands in for it.
fn partial_tcp_checksum_completed(kernel: &[u8], ours: &[u8]) -> Vec<u8> {
    let mut k = kernel.to_vec();
    if k.len() == 40 && k[0] == 0x45 && k[9] == protocol::TCP && ours.len() == 40 {
        let ip = ipv4::Packet::new_unchecked(&k[..]);
        let partial = checksum::pseudo_header_v4(&ip.src_addr(), &ip.dst_addr(), 6, 20).fold();
        if k[36..38] == partial.to_be_bytes() {
            k[36..38].copy_from_slice(&ours[36..38]);
        }
    }
    k
}

fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

#[track_caller]
fn assert_valid(p: &[u8]) {
    if p[0] >> 4 == 4 {
        let ip = ipv4::Packet::new_checked(p).unwrap();
        assert!(ip.verify_checksum());
        assert_eq!(usize::from(ip.total_len()), p.len());
        let l4 = ip.payload();
        let ok = match ip.protocol() {
            protocol::TCP => {
                let mut c =
                    checksum::pseudo_header_v4(&ip.src_addr(), &ip.dst_addr(), 6, l4.len() as u32);
                c.add_bytes(l4);
                c.verifies()
            }
            _ => checksum::sum(l4).verifies(),
        };
        assert!(ok, "transport checksum");
    } else {
        let ip = ipv6::Packet::new_checked(p).unwrap();
        assert_eq!(usize::from(ip.payload_len()) + 40, p.len());
        assert!(v6_l4_checksum_ok(
            &ip.src_addr(),
            &ip.dst_addr(),
            ip.next_header(),
            ip.payload()
        ));
    }
}

#[test]
fn names_and_aliases() {
    for k in RejectWith::ALL {
        let family = k.family().unwrap_or(Family::V4);
        assert_eq!(RejectWith::from_name(k.name(), family), Some(k), "{k}");
        assert_eq!(
            RejectWith::from_name(&k.name().to_uppercase(), family),
            Some(k)
        );
    }
    let v4 = [
        ("net-unreach", RejectWith::IcmpNetUnreachable),
        ("host-unreach", RejectWith::IcmpHostUnreachable),
        ("port-unreach", RejectWith::IcmpPortUnreachable),
        ("proto-unreach", RejectWith::IcmpProtoUnreachable),
        ("net-prohib", RejectWith::IcmpNetProhibited),
        ("host-prohib", RejectWith::IcmpHostProhibited),
        ("admin-prohib", RejectWith::IcmpAdminProhibited),
        ("tcp-rst", RejectWith::TcpReset),
        ("icmp-host", RejectWith::IcmpHostUnreachable),
    ];
    for (name, k) in v4 {
        assert_eq!(RejectWith::from_name(name, Family::V4), Some(k), "{name}");
    }
    let v6 = [
        ("no-route", RejectWith::Icmp6NoRoute),
        ("adm-prohibited", RejectWith::Icmp6AdmProhibited),
        ("addr-unreach", RejectWith::Icmp6AddrUnreachable),
        ("port-unreach", RejectWith::Icmp6PortUnreachable),
        ("policy-fail", RejectWith::Icmp6PolicyFail),
        ("reject-route", RejectWith::Icmp6RejectRoute),
        ("tcp-reset", RejectWith::TcpReset),
    ];
    for (name, k) in v6 {
        assert_eq!(RejectWith::from_name(name, Family::V6), Some(k), "{name}");
    }
    assert_eq!(RejectWith::from_name("icmp6-no-route", Family::V4), None);
    assert_eq!(
        RejectWith::from_name("icmp-port-unreachable", Family::V6),
        None
    );
    assert_eq!(RejectWith::from_name("", Family::V4), None);
    assert_eq!(RejectWith::from_name("bogus", Family::V4), None);
    assert!(RejectWith::TcpReset.valid_for(Family::V6));
    assert!(!RejectWith::IcmpPortUnreachable.valid_for(Family::V6));
    assert_eq!(
        RejectWith::default_for(Family::V6).name(),
        "icmp6-port-unreachable"
    );
}

/// An IPv4 TCP segment 10.0.0.1:1000 -> 10.0.0.2:80 with valid checksums.
fn v4_tcp(flags: u8, seq: u32, ack: u32, payload: &[u8]) -> Vec<u8> {
    let total = 40 + payload.len();
    let mut p = vec![
        0x45, 0, 0, 0, 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
    ];
    p[2..4].copy_from_slice(&(total as u16).to_be_bytes());
    p.extend_from_slice(&[0x03, 0xe8, 0, 80]);
    p.extend_from_slice(&seq.to_be_bytes());
    p.extend_from_slice(&ack.to_be_bytes());
    p.extend_from_slice(&[0x50, flags, 0x20, 0, 0, 0, 0, 0]);
    p.extend_from_slice(payload);
    ipv4::Packet::new_unchecked(&mut p[..]).fill_checksum();
    let mut c = checksum::pseudo_header_v4(&[10, 0, 0, 1], &[10, 0, 0, 2], 6, total as u32 - 20);
    c.add_bytes(&p[20..]);
    let sum = c.checksum();
    p[36..38].copy_from_slice(&sum.to_be_bytes());
    p
}

#[test]
fn reset_sequence_rules() {
    let mut out = Vec::new();
    build(
        RejectWith::TcpReset,
        &v4_tcp(0x02, 100, 0, b""),
        None,
        &mut out,
    )
    .unwrap();
    let t = tcp::Packet::new_checked(&out[20..]).unwrap();
    assert_eq!((t.seq_number(), t.ack_number(), t.flags()), (0, 101, 0x14));
    assert_eq!((t.src_port(), t.dst_port(), t.window_len()), (80, 1000, 0));

    out.clear();
    build(
        RejectWith::TcpReset,
        &v4_tcp(0x18, 100, 9, b"abc"),
        None,
        &mut out,
    )
    .unwrap();
    let t = tcp::Packet::new_checked(&out[20..]).unwrap();
    assert_eq!((t.seq_number(), t.ack_number(), t.flags()), (9, 0, 0x04));

    out.clear();
    build(
        RejectWith::TcpReset,
        &v4_tcp(0x01, u32::MAX, 0, b"ab"),
        None,
        &mut out,
    )
    .unwrap();
    let t = tcp::Packet::new_checked(&out[20..]).unwrap();
    assert_eq!(t.ack_number(), 2);
    assert_valid(&out);
}

#[test]
fn no_reply_conditions() {
    let mut out = Vec::new();
    let syn = v4_tcp(0x02, 1, 0, b"");
    let r = |k, p: &[u8], o: &Options| build_with(k, p, o, &mut Vec::new());
    let d = Options::default();
    assert_eq!(
        r(RejectWith::TcpReset, &v4_tcp(0x04, 1, 0, b""), &d),
        Err(NoReply::RstForRst)
    );
    let mut bad = syn.clone();
    bad[30] ^= 1;
    ipv4::Packet::new_unchecked(&mut bad[..]).fill_checksum();
    assert_eq!(r(RejectWith::TcpReset, &bad, &d), Err(NoReply::BadChecksum));
    // Not verified where the kernel finds a partial checksum (OUTPUT).
    assert_eq!(
        r(RejectWith::TcpReset, &bad, &Options::at_hook(Hook::Output)),
        Ok(())
    );
    let mut frag = syn.clone();
    frag[6..8].copy_from_slice(&[0, 3]);
    ipv4::Packet::new_unchecked(&mut frag[..]).fill_checksum();
    assert_eq!(r(RejectWith::TcpReset, &frag, &d), Err(NoReply::Fragment));
    assert_eq!(
        r(RejectWith::IcmpPortUnreachable, &frag, &d),
        Err(NoReply::Fragment)
    );
    let mut bcast = syn.clone();
    bcast[16..20].copy_from_slice(&[255; 4]);
    assert_eq!(
        r(
            RejectWith::IcmpPortUnreachable,
            &bcast,
            &Options {
                verify_checksum: false,
                ..d
            }
        ),
        Err(NoReply::Broadcast)
    );
    let opts = Options {
        broadcast: true,
        ..d
    };
    assert_eq!(
        r(RejectWith::IcmpHostProhibited, &syn, &opts),
        Err(NoReply::Broadcast)
    );
    assert_eq!(
        r(RejectWith::Icmp6NoRoute, &syn, &d),
        Err(NoReply::WrongFamily)
    );
    assert_eq!(
        r(RejectWith::TcpReset, &syn[..30], &d),
        Err(NoReply::Malformed)
    );
    assert_eq!(r(RejectWith::TcpReset, &[], &d), Err(NoReply::WrongFamily));
    // Nothing is written when there is no reply.
    assert!(build(RejectWith::TcpReset, &bad, None, &mut out).is_err());
    assert!(out.is_empty());
}

#[test]
fn quote_is_capped_and_source_is_the_callers() {
    let payload = vec![0u8; 1000];
    let p = v4_tcp(0x02, 1, 0, &payload);
    let mut out = Vec::new();
    let src = "192.0.2.9".parse().unwrap();
    build(RejectWith::IcmpHostProhibited, &p, Some(src), &mut out).unwrap();
    assert_eq!(out.len(), 576);
    assert_eq!(&out[12..16], &[192, 0, 2, 9]);
    assert_eq!(&out[20..22], &[3, 10]);
    assert_eq!(&out[28..], &p[..548]);
    assert_valid(&out);
}

/// Any bytes in: no panic, and every reply is a well-formed packet.
#[test]
fn arbitrary_input_never_panics() {
    let mut seeds: Vec<Vec<u8>> = load_cases().into_iter().map(|c| c.offending).collect();
    seeds.push(v4_tcp(0x02, 1, 0, b"xyz"));
    for seed in &seeds {
        for n in 0..=seed.len().min(120) {
            for flip in [false, true] {
                let mut p = seed[..n].to_vec();
                if flip {
                    for b in p.iter_mut().skip(1).step_by(5) {
                        *b = !*b;
                    }
                }
                for k in RejectWith::ALL {
                    for verify in [false, true] {
                        let opts = Options {
                            verify_checksum: verify,
                            ..Options::default()
                        };
                        let mut out = Vec::new();
                        if build_with(k, &p, &opts, &mut out).is_ok() {
                            assert_valid(&out);
                        }
                    }
                }
            }
        }
    }
}
