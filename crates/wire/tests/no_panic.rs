//! Any bytes given to any `new_checked`, and every accessor of what it accepts, must not panic.

use ctguard_wire::*;
use proptest::prelude::*;

fn all_views(b: &[u8]) {
    if let Ok(p) = ethernet::Packet::new_checked(b) {
        let _ = (
            p.dst_addr(),
            p.src_addr(),
            p.ethertype(),
            p.payload(),
            p.untagged(),
        );
    }
    if let Ok(t) = ethernet::Tag::new_checked(b) {
        let _ = (t.pcp(), t.dei(), t.vid(), t.ethertype());
    }
    let _ = ethernet::skip_vlan_tags(ethernet::ethertype::VLAN, b);
    if let Ok(p) = sll::Packet::new_checked(b) {
        let _ = (
            p.packet_type(),
            p.hardware_type(),
            p.address(),
            p.protocol(),
            p.payload(),
        );
    }
    if let Ok(p) = sll::Packet2::new_checked(b) {
        let _ = (
            p.protocol(),
            p.interface_index(),
            p.hardware_type(),
            p.packet_type(),
            p.address(),
            p.payload(),
        );
    }
    if let Ok(p) = ipv4::Packet::new_checked(b) {
        let _ = (
            p.version(),
            p.tos(),
            p.total_len(),
            p.ident(),
            p.dont_frag(),
            p.more_frags(),
            p.frag_offset(),
        );
        let _ = (
            p.is_fragment(),
            p.ttl(),
            p.protocol(),
            p.checksum(),
            p.src_addr(),
            p.dst_addr(),
        );
        let _ = (p.options(), p.header(), p.verify_checksum(), p.payload());
    }
    if let Ok(p) = ipv6::Packet::new_checked(b) {
        let _ = (
            p.version(),
            p.traffic_class(),
            p.flow_label(),
            p.payload_len(),
            p.next_header(),
        );
        let _ = (p.hop_limit(), p.src_addr(), p.dst_addr(), p.payload());
        let _ = ipv6_ext::walk(p.next_header(), p.payload());
    }
    for kind in [0, 43, 51, 60] {
        if let Ok(h) = ipv6_ext::ExtHeader::new_checked(b, kind) {
            let _ = (h.next_header(), h.header_len());
            for o in ipv6_ext::Options::new(h.data()) {
                let _ = o;
            }
        }
    }
    for o in ipv6_ext::Options::new(b) {
        let _ = o;
    }
    if let Ok(f) = ipv6_ext::FragmentHeader::new_checked(b) {
        let _ = (f.next_header(), f.frag_offset(), f.more_frags(), f.ident());
    }
    if let Some((&first, rest)) = b.split_first() {
        let _ = ipv6_ext::walk(first, rest);
    }
    if let Ok(p) = tcp::Packet::new_checked(b) {
        let _ = (
            p.src_port(),
            p.dst_port(),
            p.seq_number(),
            p.ack_number(),
            p.flags(),
            p.window_len(),
        );
        let _ = (p.checksum(), p.urgent_at(), p.options(), p.payload());
    }
    if let Ok(p) = udp::Packet::new_checked(b) {
        let _ = (
            p.src_port(),
            p.dst_port(),
            p.length(),
            p.checksum(),
            p.payload(),
        );
    }
    if let Ok(p) = icmpv4::Packet::new_checked(b) {
        let _ = (
            p.msg_type(),
            p.msg_code(),
            p.checksum(),
            p.ident(),
            p.seq_number(),
            p.data(),
            p.verify_checksum(),
        );
    }
    if let Ok(p) = icmpv6::Packet::new_checked(b) {
        let _ = (
            p.msg_type(),
            p.msg_code(),
            p.checksum(),
            p.ident(),
            p.seq_number(),
            p.data(),
        );
        let _ = p.verify_checksum(&[0; 16], &[1; 16]);
    }
    if let Ok(r) = icmpv6::Redirect::new_checked(b) {
        let _ = (r.target(), r.destination(), r.options());
    }
    let _ = checksum::sum(b).fold();
    let _ = ip::version(b);
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(4096))]

    #[test]
    fn arbitrary_bytes_never_panic(b in proptest::collection::vec(any::<u8>(), 0..160)) {
        all_views(&b);
    }

    /// Bytes that start like real headers reach deeper into the accessors.
    #[test]
    fn header_like_bytes_never_panic(first in prop_oneof![Just(0x45u8), Just(0x4f), Just(0x60), any::<u8>()],
                                     rest in proptest::collection::vec(any::<u8>(), 0..120)) {
        let mut b = vec![first];
        b.extend_from_slice(&rest);
        all_views(&b);
    }
}
