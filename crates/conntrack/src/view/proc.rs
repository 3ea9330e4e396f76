//! `/proc/net/nf_conntrack` lines.

use core::fmt::Write;
use ctguard_wire::ip::protocol;
use std::net::IpAddr;

use crate::Instant;
use crate::entry::{Conn, ProtoState, Status};
use crate::proto::generic::proto_name;
use crate::tuple::{Dir, Tuple};

/// An address as the kernel's `%pI4` / `%pI6` print it: IPv6 in full, eight groups of four
/// hex digits, no `::` compression.
pub fn format_ip(ip: IpAddr, out: &mut String) {
    match ip {
        IpAddr::V4(a) => {
            let _ = write!(out, "{a}");
        }
        IpAddr::V6(a) => {
            for (i, g) in a.segments().iter().enumerate() {
                if i > 0 {
                    out.push(':');
                }
                let _ = write!(out, "{g:04x}");
            }
        }
    }
}

fn tuple(t: &Tuple, out: &mut String) {
    out.push_str("src=");
    format_ip(t.src_ip(), out);
    out.push_str(" dst=");
    format_ip(t.dst_ip(), out);
    out.push(' ');
    match t.proto {
        protocol::TCP | protocol::UDP | protocol::UDPLITE => {
            let _ = write!(out, "sport={} dport={} ", t.sport, t.dport);
        }
        protocol::ICMP | protocol::ICMPV6 => {
            let _ = write!(
                out,
                "type={} code={} id={} ",
                t.icmp_type(),
                t.icmp_code(),
                t.sport
            );
        }
        protocol::GRE => {
            let _ = write!(out, "srckey={:#x} dstkey={:#x} ", t.sport, t.dport);
        }
        _ => {}
    }
}

/// A zone that applies to both directions is always printed, `zone=0` included (recorded on
/// Linux 6.18); per-direction zones are not modelled.
fn zone(c: &Conn, out: &mut String) {
    let _ = write!(out, "zone={} ", c.zone);
}

/// One line of /proc/net/nf_conntrack for `c` at `now`, without the newline. `use=` is
/// always 1 and `id=` is not printed (the kernel prints neither meaningfully for a copy).
pub fn proc_line(c: &Conn, now: Instant, acct: bool, out: &mut String) {
    let o = c.original();
    let _ = write!(
        out,
        "{:<8} {} {:<8} {} ",
        o.l3.name(),
        o.l3.number(),
        proto_name(o.proto),
        o.proto
    );
    let _ = write!(out, "{} ", now.until(c.expires).as_secs());
    match &c.proto {
        ProtoState::Tcp(t) => {
            let _ = write!(out, "{} ", t.state().name());
        }
        ProtoState::Gre(g) => {
            let _ = write!(out, "timeout={}, stream_timeout={} ", g.unreplied, g.stream);
        }
        _ => {}
    }
    tuple(&o, out);
    let counters = |d: Dir, out: &mut String| {
        if acct {
            let a = c.acct(d);
            let _ = write!(out, "packets={} bytes={} ", a.packets, a.bytes);
        }
    };
    counters(Dir::Original, out);
    if !c.status.has(Status::SEEN_REPLY) {
        out.push_str("[UNREPLIED] ");
    }
    tuple(&c.reply(), out);
    counters(Dir::Reply, out);
    if c.status.has(Status::ASSURED) {
        out.push_str("[ASSURED] ");
    }
    let _ = write!(out, "mark={} ", c.mark);
    zone(c, out);
    out.push_str("use=1");
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tuple::{L3, addr_bytes};

    #[test]
    fn udp_line_with_accounting() {
        let o = Tuple {
            src: addr_bytes("10.99.1.100".parse().unwrap()),
            dst: addr_bytes("10.99.2.100".parse().unwrap()),
            sport: 5000,
            dport: 53,
            proto: 17,
            l3: L3::V4,
        };
        let r = Tuple {
            src: o.dst,
            dst: o.src,
            sport: 53,
            dport: 5000,
            ..o
        };
        let mut status = Status::default();
        status.set(Status::SEEN_REPLY);
        let mut c = Conn::new(&o, &r, 0, ProtoState::Generic, Instant::from_secs_f64(30.5));
        c.status = status;
        c.enable_acct();
        c.account(Dir::Original, 58);
        c.account(Dir::Reply, 58);
        let mut s = String::new();
        proc_line(&c, Instant::from_secs_f64(1.0), true, &mut s);
        assert_eq!(
            s,
            "ipv4     2 udp      17 29 src=10.99.1.100 dst=10.99.2.100 sport=5000 dport=53 packets=1 bytes=58 src=10.99.2.100 dst=10.99.1.100 sport=53 dport=5000 packets=1 bytes=58 mark=0 zone=0 use=1"
        );
    }

    #[test]
    fn ipv6_is_printed_uncompressed() {
        let mut s = String::new();
        format_ip("fd00:99:1::100".parse().unwrap(), &mut s);
        assert_eq!(s, "fd00:0099:0001:0000:0000:0000:0000:0100");
    }
}
