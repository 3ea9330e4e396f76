//! Arbitrary bytes through every link type's intake, the L4 checks, the quoted-packet parser
//! and reassembly. Nothing may panic, and reassembled packets must parse again.

#![no_main]

use ctguard_conntrack::Instant;
use ctguard_conntrack::defrag::{Defrag, Reassembly};
use ctguard_conntrack::intake::{self, L4, LinkType};
use ctguard_conntrack::sysctl::Sysctl;
use libfuzzer_sys::fuzz_target;

const LINKS: [LinkType; 6] = [
    LinkType::Ethernet,
    LinkType::LinuxSll,
    LinkType::LinuxSll2,
    LinkType::Raw,
    LinkType::Ipv4,
    LinkType::Ipv6,
];

fuzz_target!(|data: &[u8]| {
    let sysctl = Sysctl::default();
    let mut defrag = Defrag::new();
    for (i, link) in LINKS.into_iter().enumerate() {
        let Ok(ip) = intake::parse_frame(link, data) else {
            continue;
        };
        assert!(ip.l4_offset <= ip.packet.len());
        for verify in [false, true] {
            if let Ok(L4::Icmp(m)) = intake::parse_l4(&ip, verify)
                && let Some(q) = m.quoted
            {
                let _ = intake::parse_quoted(q);
                let _ = intake::parse_quoted_as(ip.l3, q);
            }
        }
        let _ = intake::parse_quoted(ip.packet);
        if ip.fragment.is_some() {
            // Twice: the second copy exercises the duplicate and overlap paths.
            for n in 0..2u64 {
                let now = Instant::from_nanos((i as u64) * 1_000_000_000 + n);
                if let Reassembly::Complete(whole) = defrag.push(&ip, now, &sysctl) {
                    let again =
                        intake::parse_reassembled(&whole).expect("reassembled packets parse");
                    let _ = intake::parse_l4(&again, true);
                }
            }
        }
    }
    // Fragments that arrive one after another from slices of the input.
    for chunk in data.chunks(64) {
        if let Ok(ip) = intake::parse_ip(chunk)
            && ip.fragment.is_some()
        {
            let _ = defrag.push(&ip, Instant::from_nanos(7), &sysctl);
        }
    }
    defrag.expire(Instant::from_secs_f64(120.0), &sysctl);
    assert_eq!(defrag.memory(), 0);
});
