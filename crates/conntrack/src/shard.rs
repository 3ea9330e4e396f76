//! Spreading connections over independent trackers, one per core, with no shared lock: a
//! symmetric hash sends both directions of a connection to the same shard (as a NIC's
//! symmetric RSS would), so each shard sees whole connections.

use ctguard_wire::ip::protocol;

use crate::intake::Ip;

/// Which of `shards` shards owns the connection `ip` belongs to. Both directions of a
/// connection get the same answer; fragments after the first carry no ports and are hashed
/// by address alone, so with ports in play they need reassembly before dispatch.
pub fn shard_of(ip: &Ip<'_>, shards: usize) -> usize {
    if shards <= 1 {
        return 0;
    }
    let ports = match ip.proto {
        protocol::TCP | protocol::UDP | protocol::UDPLITE | protocol::SCTP | protocol::DCCP
            if ip.fragment.is_none_or(|f| f.offset == 0) =>
        {
            match ip.l4() {
                [a, b, c, d, ..] => {
                    let (s, d) = (u16::from_be_bytes([*a, *b]), u16::from_be_bytes([*c, *d]));
                    u64::from(s.min(d)) << 16 | u64::from(s.max(d))
                }
                _ => 0,
            }
        }
        _ => 0,
    };
    let word = |a: &[u8; 16], i: usize| u64::from_ne_bytes(a[i..i + 8].try_into().expect("8"));
    let (lo, hi) = if ip.src <= ip.dst {
        (&ip.src, &ip.dst)
    } else {
        (&ip.dst, &ip.src)
    };
    let mut h = ports ^ u64::from(ip.proto) << 40;
    for v in [word(lo, 0), word(lo, 8), word(hi, 0), word(hi, 8)] {
        h = (h ^ v).wrapping_mul(0x9e37_79b9_7f4a_7c15).rotate_left(29);
    }
    (((h >> 32) * shards as u64) >> 32) as usize
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::intake::testpkt::{TcpSpec, V4, tcp_v4};

    fn tcp(src: [u8; 4], dst: [u8; 4], sport: u16, dport: u16) -> Vec<u8> {
        let mut ip = V4::new(6);
        (ip.src, ip.dst) = (src, dst);
        let seg = TcpSpec {
            sport,
            dport,
            ..TcpSpec::default()
        };
        ip.build(&tcp_v4(&ip, &seg))
    }

    #[test]
    fn both_directions_land_on_one_shard_and_shards_share_the_load() {
        let mut counts = [0u32; 4];
        for i in 0..4000u16 {
            let a = [10, 0, (i >> 8) as u8, i as u8];
            let out = tcp(a, [10, 9, 9, 9], 1024 + i, 80);
            let back = tcp([10, 9, 9, 9], a, 80, 1024 + i);
            let o = crate::intake::parse_ip(&out).unwrap();
            let b = crate::intake::parse_ip(&back).unwrap();
            let s = shard_of(&o, 4);
            assert_eq!(s, shard_of(&b, 4), "connection {i}");
            counts[s] += 1;
        }
        assert!(
            counts.iter().all(|&c| (800..1200).contains(&c)),
            "{counts:?}"
        );
        let one = tcp([1, 1, 1, 1], [2, 2, 2, 2], 1, 2);
        assert_eq!(shard_of(&crate::intake::parse_ip(&one).unwrap(), 1), 0);
    }
}
