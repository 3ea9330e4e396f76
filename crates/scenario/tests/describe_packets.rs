//! `describe::packet` is total: any bytes give one deterministic line, and it never panics.
//! Valid packets built from scenario lines describe without checksum complaints.

use ctguard_scenario::Scenario;
use ctguard_scenario::describe::packet;
use proptest::prelude::*;

/// Packets of every kind the scenario syntax builds, as IP packets.
fn seeds() -> Vec<Vec<u8>> {
    let text = "\
c tcp 10.99.1.100:41000 > 10.99.2.100:80 S seq=1000 win=64240 mss=1460 sackok wscale=7 ts=1:0
c tcp 10.99.1.100:41000 > 10.99.2.100:80 PA seq=1 ack=2 len=20 sack=1-2,3-4
c udp 10.99.1.100:5000 > 10.99.2.100:53 len=30
c udplite 10.99.1.100:5000 > 10.99.2.100:53 len=30
c icmp 10.99.1.100 > 10.99.2.100 echo-request id=1 seq=2 len=16
s icmp 10.99.2.100 > 10.99.1.100 unreach code=3 quote=#2
s icmp 10.99.2.100 > 10.99.1.100 unreach code=4 mtu=1400 quote=#0 quote-len=20
c proto 253 10.99.1.100 > 10.99.2.100 len=12
c tcp [fd00:99:1::100]:41000 > [fd00:99:2::100]:80 S seq=1
c udp [fd00:99:1::100]:5000 > [fd00:99:2::100]:53 len=100 frag=64
s icmp6 fd00:99:2::100 > fd00:99:1::100 unreach code=4 quote=#8
r icmp6 fd00:99:1::1 > fd00:99:1::100 too-big mtu=1280 quote=#8
c udp 10.99.1.100:5000 > 10.99.2.100:53 len=100 frag=48
";
    let s = Scenario::parse("seeds", text).expect("seed scenario parses");
    s.packets.iter().map(|p| p.ip_packet().to_vec()).collect()
}

#[test]
fn valid_packets_have_no_checksum_complaints() {
    for ip in seeds() {
        let d = packet(&ip);
        println!("{d}");
        assert!(!d.contains("badsum") && !d.contains("badipsum"), "{d}");
        assert!(!d.contains("malformed") && !d.contains("trailing"), "{d}");
        assert!(!d.contains('\n'), "{d}");
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4000))]

    #[test]
    fn arbitrary_bytes_never_panic(bytes in proptest::collection::vec(any::<u8>(), 0..200)) {
        let d = packet(&bytes);
        prop_assert!(!d.is_empty() && !d.contains('\n'));
        prop_assert_eq!(d, packet(&bytes));
    }

    #[test]
    fn mutated_packets_never_panic(
        which in 0usize..64,
        edits in proptest::collection::vec((any::<usize>(), any::<u8>()), 1..6),
        cut in any::<usize>(),
        grow in 0usize..24,
    ) {
        let seeds = seeds();
        let mut ip = seeds[which % seeds.len()].clone();
        for (at, value) in edits {
            let len = ip.len();
            ip[at % len] = value;
        }
        let keep = if cut % 3 == 0 { cut % (ip.len() + 1) } else { ip.len() };
        ip.truncate(keep);
        ip.extend(std::iter::repeat_n(0xa5, grow));
        let d = packet(&ip);
        prop_assert!(!d.is_empty() && !d.contains('\n'));
        prop_assert_eq!(d, packet(&ip));
    }

    /// Changing only the IPv4 identification (and the header checksum with it) changes nothing.
    #[test]
    fn the_ipv4_identification_is_left_out(id in any::<u16>(), which in 0usize..8) {
        let seeds = seeds();
        let mut ip = seeds[which % 8].clone();
        let before = packet(&ip);
        ip[4..6].copy_from_slice(&id.to_be_bytes());
        ip[10..12].copy_from_slice(&[0, 0]);
        let ihl = usize::from(ip[0] & 0x0f) * 4;
        let mut sum: u32 = 0;
        for pair in ip[..ihl].chunks(2) {
            sum += u32::from(u16::from_be_bytes([pair[0], pair[1]]));
        }
        while sum > 0xffff {
            sum = (sum & 0xffff) + (sum >> 16);
        }
        ip[10..12].copy_from_slice(&(!(sum as u16)).to_be_bytes());
        prop_assert_eq!(before, packet(&ip));
    }
}
