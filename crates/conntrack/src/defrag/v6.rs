//! IPv6 reassembly: `nf_ct_frag6_gather`, nf_defrag_ipv6's own reassembler.

use ctguard_wire::ip::protocol;
use ctguard_wire::ipv6;
use ctguard_wire::ipv6_ext::{self, End, FRAGMENT_LEN};

use super::queue::{Insert, Queue, Step, ecn_bit, merge_ecn};
use super::{FragDir, Reassembly, over_limit, truesize};
use crate::Instant;
use crate::sysctl::Sysctl;

/// IPV6_MIN_MTU: non-last fragments of smaller packets are refused.

#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub(super) struct Key {
    src: [u8; 16],
    dst: [u8; 16],
    id: u32,
}

pub(super) fn push(
    dir: &mut FragDir<Key>,
    packet: &[u8],
    now: Instant,
    sysctl: &Sysctl,
) -> Reassembly {
    let Ok(h) = ipv6::Packet::new_checked(packet) else {
        return Reassembly::Dropped("not-ipv6");
    };
    // A jumbo payload cannot carry a fragment header: passed through as it is.
    if h.payload_len() == 0 {
        return Reassembly::Complete(packet.to_vec());
    }
    let chain = ipv6_ext::walk(h.next_header(), &packet[ipv6::HEADER_LEN..]);
    let Some(frag) = chain.fragment else {
        if chain.end == End::Truncated && chain.next_header == protocol::FRAGMENT {
            return Reassembly::Dropped("truncated-fragment-header");
        }
        return Reassembly::Complete(packet.to_vec());
    };
    dir.expire(now, |_| {});
    if over_limit(dir.mem, sysctl.frag6_high_thresh) {
        return Reassembly::Dropped("memory-limit");
    }
    let key = Key {
        src: h.src_addr(),
        dst: h.dst_addr(),
        id: frag.ident,
    };
    let q = dir.queue(key, now, sysctl.frag6_timeout, || {});
    let data_at = ipv6::HEADER_LEN + frag.header_at + FRAGMENT_LEN;
    let before = q.charged;
    let step = queue_fragment(q, &h, packet, &frag, data_at);
    let after = q.charged;
    dir.mem = dir.mem - before + after;
    match step {
        Step::Held => Reassembly::Held,
        Step::Drop(why) => Reassembly::Dropped(why),
        Step::Kill(why) => {
            dir.remove(&key);
            Reassembly::Dropped(why)
        }
        Step::Complete => match dir.remove(&key) {
            Some(q) => reassemble(q),
            None => Reassembly::Dropped("lost-queue"),
        },
    }
}

/// `nf_ct_frag6_queue`.
fn queue_fragment(
    q: &mut Queue,
    h: &ipv6::Packet<&[u8]>,
    packet: &[u8],
    frag: &ipv6_ext::Fragment,
    data_at: usize,
) -> Step {
    let offset = u32::from(frag.offset);
    let data = &packet[data_at..];
    let end = offset + data.len() as u32;
    if end > u32::from(u16::MAX) {
        return Step::Drop("offset-too-large");
    }
    if !frag.more {
        if end < q.len || (q.last_in && end != q.len) {
            return Step::Drop("bad-last-fragment");
        }
        q.last_in = true;
        q.len = end;
    } else {
        // RFC 8200: non-last fragments are multiples of 8 bytes.
        if end & 7 != 0 {
            return Step::Kill("unaligned-fragment");
        }
        if end > q.len {
            if q.last_in {
                return Step::Drop("beyond-last-fragment");
            }
            q.len = end;
        }
    }
    if end == offset {
        return Step::Drop("empty-fragment");
    }
    match q.insert(offset, data) {
        Insert::Added => {}
        Insert::Duplicate => return Step::Drop("duplicate"),
        Insert::Overlap => return Step::Kill("overlap"),
    }
    q.ecn |= ecn_bit(h.traffic_class());
    q.charged += truesize(packet.len());
    if offset == 0 {
        q.first_in = true;
        q.head = packet[..ipv6::HEADER_LEN + frag.header_at].to_vec();
        q.nh_at = frag.announced_at.map_or(6, |a| ipv6::HEADER_LEN + a);
        q.next_header = frag.next_header;
    }
    Step::after(q)
}

/// `nf_ct_frag6_reasm`: the first fragment's headers, minus the fragment header, over all the
/// data.
fn reassemble(q: Queue) -> Reassembly {
    let Some(ecn) = merge_ecn(q.ecn) else {
        return Reassembly::Dropped("bad-ecn");
    };
    let payload = q.head.len() - ipv6::HEADER_LEN + q.len as usize;
    let Ok(payload) = u16::try_from(payload) else {
        return Reassembly::Dropped("oversize");
    };
    let (nh_at, next_header) = (q.nh_at, q.next_header);
    let mut out = q.assemble();
    out[nh_at] = next_header;
    let mut h = ipv6::Packet::new_unchecked(&mut out[..]);
    h.set_payload_len(payload);
    h.set_traffic_class(h.traffic_class() | ecn);
    Reassembly::Complete(out)
}
