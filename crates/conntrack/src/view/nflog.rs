//! The packet part of a kernel netfilter log line, as `nf_log_syslog` prints it.
//!
//! The kernel reads the packet through `skb_header_pointer`: a header that does not fit in
//! the packet is reported (`TRUNCATED`, `INCOMPLETE [N bytes]`) instead of printed, and the
//! byte counts are unsigned 32-bit differences, wrapped when an offset runs past the end. The
//! functions here read `buf` (the whole packet, from the outer IP header) at absolute offsets
//! the same way, so a quoted packet inside an ICMP error sees the same bounds as the kernel.
//!
//! Two entry points: [`packet_fields`] for the conntrack invalid-packet log (no loginfo, so
//! `nf_log_syslog` uses its default flags, [`LogFlags::DEFAULT_MASK`]: TCP sequence numbers,
//! TCP options and IP options, raw `MAC=`), and [`log_line`] for the LOG target (`xt_LOG`),
//! whose flags are the rule's `--log-*` options.
//!
//! Not printed: `UID=`/`GID=` (`--log-uid`: the kernel prints `UID=0 GID=0 ` after the
//! transport fields for a packet that still carries its local socket, i.e. locally generated
//! ones at OUTPUT and POSTROUTING; ctguard's packets have no socket), `MARK=` (the kernel adds
//! `MARK=0x.. ` at the end when `skb->mark` is set; the caller knows the mark, this module does
//! not), `PHYSIN=`/`PHYSOUT=` (bridged packets) and `VPROTO=`/`VID=` (a VLAN tag held out of
//! band, with `--log-macdecode`).
//!
//! The kernel's line ends with a space (every field is written with one); the text here does
//! not, as the recorder trims it.

use core::fmt::Write;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use super::format_ip;

use ctguard_wire::ip::protocol;

/// What the LOG target prints besides the fixed fields: its `--log-*` options, the
/// `XT_LOG_*` bits of `xt_LOG.h`.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq, Hash)]
pub struct LogFlags {
    /// `--log-tcp-sequence` (0x01): `SEQ=.. ACK=..` for TCP.
    pub tcp_seq: bool,
    /// `--log-tcp-options` (0x02): `OPT (..)` with the TCP options in hex.
    pub tcp_opt: bool,
    /// `--log-ip-options` (0x04): `OPT (..)` with the IPv4 options in hex; for IPv6 the
    /// `OPT ( .. )` brackets around each extension header, and the AH and ESP SPIs.
    pub ip_opt: bool,
    /// `--log-uid` (0x08): `UID= GID=` of a local socket (never printed here: see the module
    /// documentation).
    pub uid: bool,
    /// `--log-macdecode` (0x20): `MACSRC= MACDST= MACPROTO=` for Ethernet instead of `MAC=`.
    pub macdecode: bool,
}

impl LogFlags {
    /// No options: what `-j LOG` alone gives.
    pub const NONE: LogFlags = LogFlags {
        tcp_seq: false,
        tcp_opt: false,
        ip_opt: false,
        uid: false,
        macdecode: false,
    };

    /// `NF_LOG_DEFAULT_MASK` (0x0f), used when the logger is given no flags: conntrack's
    /// invalid-packet log. `MAC=` stays raw: decoding is not in the mask.
    pub const DEFAULT_MASK: LogFlags = LogFlags {
        tcp_seq: true,
        tcp_opt: true,
        ip_opt: true,
        uid: true,
        macdecode: false,
    };

    /// From the `XT_LOG_*` bits (`logflags` of `struct xt_log_info`); unknown bits are
    /// ignored.
    pub fn from_bits(bits: u8) -> LogFlags {
        LogFlags {
            tcp_seq: bits & 0x01 != 0,
            tcp_opt: bits & 0x02 != 0,
            ip_opt: bits & 0x04 != 0,
            uid: bits & 0x08 != 0,
            macdecode: bits & 0x20 != 0,
        }
    }

    /// The `XT_LOG_*` bits.
    pub fn bits(self) -> u8 {
        u8::from(self.tcp_seq)
            | u8::from(self.tcp_opt) << 1
            | u8::from(self.ip_opt) << 2
            | u8::from(self.uid) << 3
            | u8::from(self.macdecode) << 5
    }
}

/// Writes a LOG target line after the prefix the caller has written: `IN=.. OUT=.. `, the
/// link-layer header, then the packet's fields, with no trailing space.
///
/// `in_dev` / `out_dev`: the hook's devices (PREROUTING, INPUT: `IN` only; FORWARD: both;
/// OUTPUT: `OUT` only; POSTROUTING: `OUT`, and `IN` too for a forwarded packet). The link
/// header is printed only when there is an input device, as `MAC=` followed by `mac` in hex
/// (`MAC= ` alone when `mac` is None: a device with no link header) or, with
/// [`LogFlags::macdecode`] and a 14-byte (Ethernet) header, as
/// `MACSRC=.. MACDST=.. MACPROTO=....`. `ip`: the IP packet as in [`packet_fields`].
///
/// E.g. `IN=r0 OUT= MACSRC=fe:59:29:93:50:c1 MACDST=5a:db:e6:52:3c:c0 MACPROTO=0800 SRC=10.77.1.1 DST=10.77.1.2 LEN=52 TOS=0x00 PREC=0x00 TTL=61 ID=102 PROTO=TCP SPT=40001 DPT=3003 WINDOW=8192 RES=0x00 SYN URGP=0`.
pub fn log_line(
    out: &mut String,
    in_dev: Option<&str>,
    out_dev: Option<&str>,
    mac: Option<&[u8]>,
    ip: &[u8],
    flags: LogFlags,
) {
    let _ = write!(
        out,
        "IN={} OUT={} ",
        in_dev.unwrap_or(""),
        out_dev.unwrap_or("")
    );
    if in_dev.is_some() {
        match mac {
            Some(m) if flags.macdecode && m.len() == 14 => {
                out.push_str("MACSRC=");
                mac_hex(out, &m[6..12]);
                out.push_str(" MACDST=");
                mac_hex(out, &m[..6]);
                let _ = write!(out, " MACPROTO={:02x}{:02x} ", m[12], m[13]);
            }
            Some(m) => {
                out.push_str("MAC=");
                mac_hex(out, m);
                out.push(' ');
            }
            None => out.push_str("MAC= "),
        }
    }
    fields(out, ip, flags);
}

fn mac_hex(out: &mut String, bytes: &[u8]) {
    for (i, b) in bytes.iter().enumerate() {
        if i > 0 {
            out.push(':');
        }
        let _ = write!(out, "{b:02x}");
    }
}

/// Writes the packet part of a kernel netfilter log line, from `MAC=` to the end, with no
/// trailing space: e.g. `MAC=02:00:00:00:01:01:02:00:00:00:01:64:08:00 SRC=10.99.1.100 DST=10.99.2.100 LEN=40 TOS=0x00 PREC=0x00 TTL=64 ID=1 DF PROTO=TCP SPT=42001 DPT=80 SEQ=1000 ACK=0 WINDOW=64240 RES=0x00 SYN FIN URGP=0`.
/// `mac`: the link-layer header bytes the kernel prints after `MAC=` (None: no MAC= field is printed).
/// `ip`: the IP packet from its IPv4 or IPv6 header on (may be truncated or malformed: never panic, print what the kernel would, e.g. `INCOMPLETE [..]` markers as nf_log_syslog does).
///
/// The IP version is taken from the first nibble (6: IPv6, anything else: IPv4). Bytes past
/// the IP header's length (Ethernet padding) are ignored, as the kernel trims them on input.
pub fn packet_fields(out: &mut String, mac: Option<&[u8]>, ip: &[u8]) {
    if let Some(mac) = mac {
        out.push_str("MAC=");
        mac_hex(out, mac);
        out.push(' ');
    }
    fields(out, ip, LogFlags::DEFAULT_MASK);
}

/// The packet's fields from `SRC=` on, trailing space removed.
fn fields(out: &mut String, ip: &[u8], flags: LogFlags) {
    let start = out.len();
    if ip.first().is_some_and(|b| b >> 4 == 6) {
        ipv6(out, trim_ipv6(ip), 0, true, flags);
    } else {
        ipv4(out, trim_ipv4(ip), 0, flags);
    }
    // Every field ends in a space; the line does not.
    if out.len() > start && out.ends_with(' ') {
        out.pop();
    }
}

/// The packet cut to its total length, as `ip_rcv` does (when that length is plausible).
fn trim_ipv4(ip: &[u8]) -> &[u8] {
    match get(ip, 0, 20) {
        Some(h) => {
            let total = usize::from(be16(h, 2));
            if total >= 20 && total < ip.len() {
                &ip[..total]
            } else {
                ip
            }
        }
        None => ip,
    }
}

/// The packet cut to its payload length plus the header, as `ipv6_rcv` does (a zero payload
/// length with a hop-by-hop header is a jumbogram and is left alone).
fn trim_ipv6(ip: &[u8]) -> &[u8] {
    match get(ip, 0, 40) {
        Some(h) => {
            let payload = usize::from(be16(h, 4));
            let total = 40 + payload;
            if (payload != 0 || h[6] != protocol::HOPOPTS) && total < ip.len() {
                &ip[..total]
            } else {
                ip
            }
        }
        None => ip,
    }
}

/// `n` bytes at `off`, or None when they are not all in `buf` (`skb_header_pointer`).
fn get(buf: &[u8], off: usize, n: usize) -> Option<&[u8]> {
    buf.get(off..off.checked_add(n)?)
}

/// The kernel's `skb->len - offset`, an unsigned 32-bit difference.
fn remaining(buf: &[u8], off: usize) -> u32 {
    (buf.len() as u32).wrapping_sub(off as u32)
}

fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

fn incomplete(out: &mut String, bytes: u32) {
    let _ = write!(out, "INCOMPLETE [{bytes} bytes] ");
}

fn hex_upper(out: &mut String, bytes: &[u8]) {
    for b in bytes {
        let _ = write!(out, "{b:02X}");
    }
}

/// An IPv4 header at `iphoff` and what follows it; `iphoff` is 0 for the packet itself and
/// non-zero for the packet quoted in an ICMP error (which is not recursed into again).
fn ipv4(out: &mut String, buf: &[u8], iphoff: usize, flags: LogFlags) {
    let Some(h) = get(buf, iphoff, 20) else {
        out.push_str("TRUNCATED");
        return;
    };
    let ihl = usize::from(h[0] & 0x0f) * 4;
    let tos = h[1];
    let frag = be16(h, 6);
    let src = Ipv4Addr::new(h[12], h[13], h[14], h[15]);
    let dst = Ipv4Addr::new(h[16], h[17], h[18], h[19]);
    out.push_str("SRC=");
    format_ip(IpAddr::V4(src), out);
    out.push_str(" DST=");
    format_ip(IpAddr::V4(dst), out);
    let _ = write!(
        out,
        " LEN={} TOS=0x{:02X} PREC=0x{:02X} TTL={} ID={} ",
        be16(h, 2),
        tos & 0x1e,
        tos & 0xe0,
        h[8],
        be16(h, 4)
    );
    if frag & 0x8000 != 0 {
        out.push_str("CE ");
    }
    if frag & 0x4000 != 0 {
        out.push_str("DF ");
    }
    if frag & 0x2000 != 0 {
        out.push_str("MF ");
    }
    let offset = frag & 0x1fff;
    if offset != 0 {
        let _ = write!(out, "FRAG:{offset} ");
    }
    if flags.ip_opt && ihl > 20 {
        let Some(opt) = get(buf, iphoff + 20, ihl - 20) else {
            out.push_str("TRUNCATED");
            return;
        };
        out.push_str("OPT (");
        hex_upper(out, opt);
        out.push_str(") ");
    }

    let fragment = offset != 0;
    let l4 = iphoff + ihl;
    match h[9] {
        protocol::TCP => tcp(out, buf, fragment, l4, flags),
        p @ (protocol::UDP | protocol::UDPLITE) => udp(out, buf, p, fragment, l4),
        protocol::ICMP => icmp(out, buf, fragment, iphoff, l4, flags),
        protocol::AH => {
            // Unlike the others, a non-first fragment prints nothing at all here.
            if fragment {
                return;
            }
            out.push_str("PROTO=AH ");
            match get(buf, l4, 12) {
                Some(ah) => {
                    let _ = write!(out, "SPI=0x{:x} ", be32(ah, 4));
                }
                None => incomplete(out, remaining(buf, l4)),
            }
        }
        protocol::ESP => {
            out.push_str("PROTO=ESP ");
            if fragment {
                return;
            }
            match get(buf, l4, 8) {
                Some(esp) => {
                    let _ = write!(out, "SPI=0x{:x} ", be32(esp, 0));
                }
                None => incomplete(out, remaining(buf, l4)),
            }
        }
        p => {
            let _ = write!(out, "PROTO={p} ");
        }
    }
}

fn icmp(out: &mut String, buf: &[u8], fragment: bool, iphoff: usize, l4: usize, flags: LogFlags) {
    out.push_str("PROTO=ICMP ");
    if fragment {
        return;
    }
    let avail = remaining(buf, l4);
    let Some(ic) = get(buf, l4, 8) else {
        incomplete(out, avail);
        return;
    };
    let (kind, code) = (ic[0], ic[1]);
    let _ = write!(out, "TYPE={kind} CODE={code} ");
    // The least each type needs, counted from the ICMP header (errors: 8 + an IP header).
    let required = match kind {
        0 | 8 => 4,
        3 | 4 | 5 | 11 | 12 => 28,
        13 | 14 => 20,
        17 | 18 => 12,
        _ => 0,
    };
    if avail < required {
        incomplete(out, avail);
        return;
    }
    match kind {
        0 | 8 => {
            let _ = write!(out, "ID={} SEQ={} ", be16(ic, 4), be16(ic, 6));
        }
        12 => {
            let _ = write!(out, "PARAMETER={} ", ic[4]);
        }
        3 | 4 | 5 | 11 => {
            if kind == 5 {
                out.push_str("GATEWAY=");
                format_ip(IpAddr::V4(Ipv4Addr::new(ic[4], ic[5], ic[6], ic[7])), out);
                out.push(' ');
            }
            if iphoff == 0 {
                out.push('[');
                ipv4(out, buf, l4 + 8, flags);
                out.push_str("] ");
            }
            if kind == 3 && code == 4 {
                let _ = write!(out, "MTU={} ", be16(ic, 6));
            }
        }
        _ => {}
    }
}

fn tcp(out: &mut String, buf: &[u8], fragment: bool, off: usize, flags: LogFlags) {
    out.push_str("PROTO=TCP ");
    if fragment {
        return;
    }
    let Some(th) = get(buf, off, 20) else {
        incomplete(out, remaining(buf, off));
        return;
    };
    let _ = write!(out, "SPT={} DPT={} ", be16(th, 0), be16(th, 2));
    if flags.tcp_seq {
        let _ = write!(out, "SEQ={} ACK={} ", be32(th, 4), be32(th, 8));
    }
    let _ = write!(
        out,
        "WINDOW={} RES=0x{:02x} ",
        be16(th, 14),
        (be32(th, 12) & 0x0e00_0000) >> 22
    );
    if th[12] & 0x01 != 0 {
        out.push_str("AE ");
    }
    const FLAGS: [(u8, &str); 8] = [
        (0x80, "CWR "),
        (0x40, "ECE "),
        (0x20, "URG "),
        (0x10, "ACK "),
        (0x08, "PSH "),
        (0x04, "RST "),
        (0x02, "SYN "),
        (0x01, "FIN "),
    ];
    for (bit, name) in FLAGS {
        if th[13] & bit != 0 {
            out.push_str(name);
        }
    }
    let _ = write!(out, "URGP={} ", be16(th, 18));
    let doff = usize::from(th[12] >> 4) * 4;
    if flags.tcp_opt && doff > 20 {
        let Some(opt) = get(buf, off + 20, doff - 20) else {
            out.push_str("OPT (TRUNCATED)");
            return;
        };
        out.push_str("OPT (");
        hex_upper(out, opt);
        out.push_str(") ");
    }
}

fn udp(out: &mut String, buf: &[u8], proto: u8, fragment: bool, off: usize) {
    out.push_str(if proto == protocol::UDP {
        "PROTO=UDP "
    } else {
        "PROTO=UDPLITE "
    });
    if fragment {
        return;
    }
    match get(buf, off, 8) {
        Some(uh) => {
            let _ = write!(
                out,
                "SPT={} DPT={} LEN={} ",
                be16(uh, 0),
                be16(uh, 2),
                be16(uh, 4)
            );
        }
        None => incomplete(out, remaining(buf, off)),
    }
}

/// An IPv6 header at `off` and what follows it; `recurse` is false for the packet quoted in
/// an ICMPv6 error.
fn ipv6(out: &mut String, buf: &[u8], off: usize, recurse: bool, flags: LogFlags) {
    let Some(h) = get(buf, off, 40) else {
        out.push_str("TRUNCATED");
        return;
    };
    let addr = |at: usize| {
        let mut a = [0u8; 16];
        a.copy_from_slice(&h[at..at + 16]);
        IpAddr::V6(Ipv6Addr::from(a))
    };
    out.push_str("SRC=");
    format_ip(addr(8), out);
    out.push_str(" DST=");
    format_ip(addr(24), out);
    let word = be32(h, 0);
    let _ = write!(
        out,
        " LEN={} TC={} HOPLIMIT={} FLOWLBL={} ",
        u32::from(be16(h, 4)) + 40,
        (word & 0x0ff0_0000) >> 20,
        h[7],
        word & 0x000f_ffff
    );

    // The extension headers nf_log walks (its list includes NONE, which ends the walk).
    let mut fragment = false;
    let mut ptr = off + 40;
    let mut current = h[6];
    while matches!(
        current,
        protocol::HOPOPTS
            | protocol::ROUTING
            | protocol::FRAGMENT
            | protocol::ESP
            | protocol::AH
            | protocol::DSTOPTS
    ) {
        let Some(hp) = get(buf, ptr, 2) else {
            out.push_str("TRUNCATED");
            return;
        };
        // Without --log-ip-options the brackets and the AH / ESP details are left out, but
        // the fragment header is still printed.
        if flags.ip_opt {
            out.push_str("OPT ( ");
        }
        let len = match current {
            protocol::FRAGMENT => {
                out.push_str("FRAG:");
                let Some(fh) = get(buf, ptr, 8) else {
                    out.push_str("TRUNCATED ");
                    return;
                };
                let frag_off = be16(fh, 2);
                let _ = write!(out, "{} ", frag_off & 0xfff8);
                if frag_off & 0x0001 != 0 {
                    out.push_str("INCOMPLETE ");
                }
                let _ = write!(out, "ID:{:08x} ", be32(fh, 4));
                if frag_off & 0xfff8 != 0 {
                    fragment = true;
                }
                8
            }
            protocol::AH => {
                if flags.ip_opt {
                    out.push_str("AH ");
                    if fragment {
                        out.push(')');
                        return;
                    }
                    let Some(ah) = get(buf, ptr, 12) else {
                        let _ = write!(out, "INCOMPLETE [{} bytes] )", remaining(buf, ptr));
                        return;
                    };
                    let _ = write!(out, "SPI=0x{:x} ", be32(ah, 4));
                }
                (usize::from(hp[1]) + 2) * 4
            }
            protocol::ESP => {
                if flags.ip_opt {
                    out.push_str("ESP ");
                    if fragment {
                        out.push(')');
                        return;
                    }
                    match get(buf, ptr, 8) {
                        Some(esp) => {
                            let _ = write!(out, "SPI=0x{:x} )", be32(esp, 0));
                        }
                        None => {
                            let _ = write!(out, "INCOMPLETE [{} bytes] )", remaining(buf, ptr));
                        }
                    }
                }
                return;
            }
            // Hop-by-hop, routing, destination options.
            _ => {
                if fragment {
                    if flags.ip_opt {
                        out.push(')');
                    }
                    return;
                }
                (usize::from(hp[1]) + 1) * 8
            }
        };
        if flags.ip_opt {
            out.push_str(") ");
        }
        current = hp[0];
        ptr += len;
    }

    match current {
        protocol::TCP => tcp(out, buf, fragment, ptr, flags),
        p @ (protocol::UDP | protocol::UDPLITE) => udp(out, buf, p, fragment, ptr),
        protocol::ICMPV6 => icmpv6(out, buf, fragment, ptr, recurse, flags),
        p => {
            let _ = write!(out, "PROTO={p} ");
        }
    }
}

fn icmpv6(
    out: &mut String,
    buf: &[u8],
    fragment: bool,
    ptr: usize,
    recurse: bool,
    flags: LogFlags,
) {
    out.push_str("PROTO=ICMPv6 ");
    if fragment {
        return;
    }
    let Some(ic) = get(buf, ptr, 8) else {
        incomplete(out, remaining(buf, ptr));
        return;
    };
    let kind = ic[0];
    let _ = write!(out, "TYPE={kind} CODE={} ", ic[1]);
    match kind {
        128 | 129 => {
            let _ = write!(out, "ID={} SEQ={} ", be16(ic, 4), be16(ic, 6));
        }
        1..=4 => {
            if kind == 4 {
                let _ = write!(out, "POINTER={:08x} ", be32(ic, 4));
            }
            if recurse {
                out.push('[');
                ipv6(out, buf, ptr + 8, false, flags);
                out.push_str("] ");
            }
            if kind == 2 {
                let _ = write!(out, "MTU={} ", be32(ic, 4));
            }
        }
        // Multicast listener messages and everything else: type and code only.
        _ => {}
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// An IPv4 header (no options unless given) followed by `payload`, with total length set.
    fn v4(proto: u8, frag: u16, opts: &[u8], payload: &[u8]) -> Vec<u8> {
        let ihl = 20 + opts.len();
        let total = (ihl + payload.len()) as u16;
        let mut p = vec![0x40 | (ihl / 4) as u8, 0x00];
        p.extend_from_slice(&total.to_be_bytes());
        p.extend_from_slice(&0x1234u16.to_be_bytes());
        p.extend_from_slice(&frag.to_be_bytes());
        p.extend_from_slice(&[64, proto, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2]);
        p.extend_from_slice(opts);
        p.extend_from_slice(payload);
        p
    }

    fn v6(next: u8, payload: &[u8]) -> Vec<u8> {
        let mut p = vec![0x60, 0x00, 0x00, 0x00];
        p.extend_from_slice(&(payload.len() as u16).to_be_bytes());
        p.extend_from_slice(&[next, 64]);
        p.extend_from_slice(&[0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1]);
        p.extend_from_slice(&[0xfd, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2]);
        p.extend_from_slice(payload);
        p
    }

    /// A TCP header: ports 1000 > 80, seq 1, ack 0, SYN, window 512, with `opts`.
    fn tcp_hdr(opts: &[u8]) -> Vec<u8> {
        let doff = ((20 + opts.len()) / 4) as u8;
        let mut t = vec![0x03, 0xe8, 0x00, 0x50, 0, 0, 0, 1, 0, 0, 0, 0];
        t.extend_from_slice(&[doff << 4, 0x02, 0x02, 0x00, 0, 0, 0, 0]);
        t.extend_from_slice(opts);
        t
    }

    fn udp_hdr() -> Vec<u8> {
        vec![0x13, 0x88, 0x00, 0x35, 0x00, 0x0c, 0, 0, 1, 2, 3, 4]
    }

    fn show(mac: Option<&[u8]>, ip: &[u8]) -> String {
        let mut s = String::new();
        packet_fields(&mut s, mac, ip);
        s
    }

    #[track_caller]
    fn assert_tail(ip: &[u8], tail: &str) {
        let s = show(None, ip);
        assert!(s.ends_with(tail), "{s}\n does not end with\n{tail}");
    }

    const V4: &str = "SRC=10.0.0.1 DST=10.0.0.2";
    const V6: &str = "SRC=fd00:0000:0000:0000:0000:0000:0000:0001 \
                      DST=fd00:0000:0000:0000:0000:0000:0000:0002";

    #[test]
    fn mac_and_tcp_options() {
        let p = v4(6, 0x4000, &[], &tcp_hdr(&[2, 4, 5, 0xb4]));
        assert_eq!(
            show(Some(&[0x02, 0xab, 0, 0, 0, 1]), &p),
            format!(
                "MAC=02:ab:00:00:00:01 {V4} LEN=44 TOS=0x00 PREC=0x00 TTL=64 ID=4660 DF \
                 PROTO=TCP SPT=1000 DPT=80 SEQ=1 ACK=0 WINDOW=512 RES=0x00 SYN URGP=0 \
                 OPT (020405B4)"
            )
        );
        assert!(show(Some(&[]), &p).starts_with("MAC= SRC="));
    }

    #[test]
    fn tos_reserved_bits_and_ae() {
        let mut t = tcp_hdr(&[]);
        t[12] |= 0x0f; // three reserved bits and AE
        t[13] = 0xff;
        let mut p = v4(6, 0x8000, &[], &t);
        p[1] = 0xff;
        assert_eq!(
            show(None, &p),
            format!(
                "{V4} LEN=40 TOS=0x1E PREC=0xE0 TTL=64 ID=4660 CE PROTO=TCP SPT=1000 DPT=80 \
                 SEQ=1 ACK=0 WINDOW=512 RES=0x38 AE CWR ECE URG ACK PSH RST SYN FIN URGP=0"
            )
        );
    }

    #[test]
    fn ipv4_fragments() {
        // First fragment: MF, the transport header is printed.
        let first = v4(17, 0x2000, &[], &udp_hdr());
        assert_eq!(
            show(None, &first),
            format!(
                "{V4} LEN=32 TOS=0x00 PREC=0x00 TTL=64 ID=4660 MF PROTO=UDP SPT=5000 DPT=53 LEN=12"
            )
        );
        // A later fragment: FRAG: in 8-byte units, the protocol name only.
        for (proto, tail) in [
            (6, "PROTO=TCP"),
            (17, "PROTO=UDP"),
            (136, "PROTO=UDPLITE"),
            (1, "PROTO=ICMP"),
            (50, "PROTO=ESP"),
            (47, "PROTO=47"),
        ] {
            let later = v4(proto, 0x2000 | 185, &[], &[0xaa; 16]);
            assert_eq!(
                show(None, &later),
                format!("{V4} LEN=36 TOS=0x00 PREC=0x00 TTL=64 ID=4660 MF FRAG:185 {tail}")
            );
        }
        let last = v4(6, 0x1fff, &[], &[0; 8]);
        assert_tail(&last, "ID=4660 FRAG:8191 PROTO=TCP");
        // AH in a later fragment prints no protocol at all.
        let ah = v4(51, 3, &[], &[0; 12]);
        assert_tail(&ah, "ID=4660 FRAG:3");
    }

    #[test]
    fn ip_options() {
        let p = v4(17, 0, &[0x94, 0x04, 0x00, 0x00], &udp_hdr());
        assert_eq!(
            show(None, &p),
            format!(
                "{V4} LEN=36 TOS=0x00 PREC=0x00 TTL=64 ID=4660 OPT (94040000) \
                 PROTO=UDP SPT=5000 DPT=53 LEN=12"
            )
        );
        // Options cut short: TRUNCATED ends the line.
        let mut cut = v4(17, 0, &[], &[]);
        cut[0] = 0x46;
        cut.extend_from_slice(&[1, 1]);
        assert_tail(&cut, "ID=4660 TRUNCATED");
    }

    #[test]
    fn icmp_echo_and_others() {
        let echo = v4(1, 0, &[], &[8, 0, 0, 0, 0x00, 0x07, 0x00, 0x01]);
        assert_tail(&echo, "PROTO=ICMP TYPE=8 CODE=0 ID=7 SEQ=1");
        let reply = v4(1, 0, &[], &[0, 0, 0, 0, 0x12, 0x34, 0x00, 0x02]);
        assert_tail(&reply, "PROTO=ICMP TYPE=0 CODE=0 ID=4660 SEQ=2");
        // A timestamp request shorter than 20 bytes.
        let ts = v4(1, 0, &[], &[13, 0, 0, 0, 0, 0, 0, 0, 0, 0]);
        assert_tail(&ts, "PROTO=ICMP TYPE=13 CODE=0 INCOMPLETE [10 bytes]");
        let unknown = v4(1, 0, &[], &[42, 3, 0, 0, 0, 0, 0, 0]);
        assert_tail(&unknown, "PROTO=ICMP TYPE=42 CODE=3");
    }

    #[test]
    fn icmp_errors_quote_the_packet() {
        // The quote keeps the original's length (40) but only 8 bytes of its TCP header.
        let mut inner = v4(6, 0x4000, &[], &tcp_hdr(&[])[..8]);
        inner[3] = 40;
        let mut icmp = vec![3, 4, 0, 0, 0, 0, 0x05, 0xdc];
        icmp.extend_from_slice(&inner);
        let p = v4(1, 0, &[], &icmp);
        assert_eq!(
            show(None, &p),
            format!(
                "{V4} LEN=56 TOS=0x00 PREC=0x00 TTL=64 ID=4660 PROTO=ICMP TYPE=3 CODE=4 \
                 [{V4} LEN=40 TOS=0x00 PREC=0x00 TTL=64 ID=4660 DF PROTO=TCP \
                 INCOMPLETE [8 bytes] ] MTU=1500"
            )
        );

        let inner = v4(17, 0, &[], &udp_hdr());
        let mut icmp = vec![5, 1, 0, 0, 192, 168, 0, 1];
        icmp.extend_from_slice(&inner);
        let p = v4(1, 0, &[], &icmp);
        assert_tail(
            &p,
            &format!(
                "PROTO=ICMP TYPE=5 CODE=1 GATEWAY=192.168.0.1 \
             [{V4} LEN=32 TOS=0x00 PREC=0x00 TTL=64 ID=4660 PROTO=UDP SPT=5000 DPT=53 LEN=12 ]"
            ),
        );

        // A quoted ICMP error is not opened again.
        let mut nested = vec![11, 0, 0, 0, 0, 0, 0, 0];
        nested.extend_from_slice(&p);
        let outer = v4(1, 0, &[], &nested);
        assert_tail(
            &outer,
            &format!(
                "PROTO=ICMP TYPE=11 CODE=0 [{V4} LEN=60 TOS=0x00 PREC=0x00 TTL=64 ID=4660 \
             PROTO=ICMP TYPE=5 CODE=1 GATEWAY=192.168.0.1 ]"
            ),
        );

        let mut param = vec![12, 0, 0, 0, 20, 0, 0, 0];
        param.extend_from_slice(&v4(47, 0, &[], &[]));
        let p = v4(1, 0, &[], &param);
        assert_tail(&p, "PROTO=ICMP TYPE=12 CODE=0 PARAMETER=20");

        // Too short to hold the quoted header.
        let p = v4(1, 0, &[], &[3, 1, 0, 0, 0, 0, 0, 0, 0x45, 0]);
        assert_tail(&p, "PROTO=ICMP TYPE=3 CODE=1 INCOMPLETE [10 bytes]");
    }

    #[test]
    fn ah_esp_and_other_protocols() {
        let ah = v4(
            51,
            0,
            &[],
            &[6, 1, 0, 0, 0xde, 0xad, 0xbe, 0xef, 0, 0, 0, 1],
        );
        assert_tail(&ah, "PROTO=AH SPI=0xdeadbeef");
        let esp = v4(50, 0, &[], &[0, 0, 0x01, 0x00, 0, 0, 0, 1]);
        assert_tail(&esp, "PROTO=ESP SPI=0x100");
        let esp = v4(50, 0, &[], &[0, 0, 0x01]);
        assert_tail(&esp, "PROTO=ESP INCOMPLETE [3 bytes]");
        let sctp = v4(132, 0, &[], &[0; 12]);
        assert_tail(&sctp, "ID=4660 PROTO=132");
    }

    #[test]
    fn padding_is_ignored() {
        let mut p = v4(6, 0x4000, &[], &tcp_hdr(&[])[..10]);
        let exact = show(None, &p);
        assert!(exact.ends_with("PROTO=TCP INCOMPLETE [10 bytes]"));
        p.extend_from_slice(&[0; 16]);
        assert_eq!(show(None, &p), exact);
    }

    #[test]
    fn ipv6_basics() {
        let mut p = v6(17, &udp_hdr());
        p[0] = 0x6a;
        p[1] = 0xbc;
        p[2] = 0xde;
        p[3] = 0xf0;
        assert_eq!(
            show(None, &p),
            format!(
                "{V6} LEN=52 TC=171 HOPLIMIT=64 FLOWLBL=843504 PROTO=UDP SPT=5000 DPT=53 LEN=12"
            )
        );
        let none = v6(59, &[]);
        assert_tail(&none, "FLOWLBL=0 PROTO=59");
        let gre = v6(47, &[]);
        assert_tail(&gre, "FLOWLBL=0 PROTO=47");
    }

    #[test]
    fn ipv6_extension_headers() {
        // Hop-by-hop (8 bytes), then a first fragment with more to come, then TCP.
        let mut ext = vec![protocol::FRAGMENT, 0, 1, 4, 0, 0, 0, 0];
        ext.extend_from_slice(&[6, 0, 0x00, 0x01, 0xca, 0xfe, 0x00, 0x01]);
        ext.extend_from_slice(&tcp_hdr(&[]));
        let p = v6(protocol::HOPOPTS, &ext);
        assert_eq!(
            show(None, &p),
            format!(
                "{V6} LEN=76 TC=0 HOPLIMIT=64 FLOWLBL=0 OPT ( ) OPT ( FRAG:0 INCOMPLETE \
                 ID:cafe0001 ) PROTO=TCP SPT=1000 DPT=80 SEQ=1 ACK=0 WINDOW=512 RES=0x00 SYN \
                 URGP=0"
            )
        );

        // A later fragment: the offset in bytes, the protocol name only.
        let p = v6(
            protocol::FRAGMENT,
            &[17, 0, 0x05, 0xa8, 0, 0, 0, 9, 1, 2, 3, 4],
        );
        assert_tail(&p, "OPT ( FRAG:1448 ID:00000009 ) PROTO=UDP");
        // An options header after a later fragment ends the walk.
        let p = v6(protocol::FRAGMENT, &[60, 0, 0x05, 0xa8, 0, 0, 0, 9, 6, 0]);
        assert_tail(&p, "OPT ( FRAG:1448 ID:00000009 ) OPT ( )");

        let p = v6(
            protocol::AH,
            &[
                protocol::ESP,
                1,
                0,
                0,
                0,
                0,
                1,
                0,
                0,
                0,
                0,
                1,
                0,
                0,
                0,
                2,
                0,
                0,
                0,
                1,
            ],
        );
        assert_tail(&p, "OPT ( AH SPI=0x100 ) OPT ( ESP SPI=0x2 )");
        let p = v6(protocol::ESP, &[0, 0, 0]);
        assert_tail(&p, "OPT ( ESP INCOMPLETE [3 bytes] )");
        let p = v6(protocol::AH, &[6, 1, 0, 0, 0]);
        assert_tail(&p, "OPT ( AH INCOMPLETE [5 bytes] )");
        let p = v6(protocol::FRAGMENT, &[6, 0, 0, 0]);
        assert_tail(&p, "OPT ( FRAG:TRUNCATED");
        let p = v6(protocol::ROUTING, &[6]);
        assert_tail(&p, "FLOWLBL=0 TRUNCATED");
        // A header length pointing past the end: the kernel's unsigned count wraps.
        let p = v6(protocol::DSTOPTS, &[6, 255]);
        assert_tail(&p, "OPT ( ) PROTO=TCP INCOMPLETE [4294965250 bytes]");
    }

    #[test]
    fn icmpv6() {
        let p = v6(58, &[128, 0, 0, 0, 0, 5, 0, 6]);
        assert_tail(&p, "PROTO=ICMPv6 TYPE=128 CODE=0 ID=5 SEQ=6");
        let p = v6(58, &[135, 0, 0, 0, 0, 0, 0, 0]);
        assert_tail(&p, "PROTO=ICMPv6 TYPE=135 CODE=0");
        let p = v6(58, &[1, 0, 0]);
        assert_tail(&p, "PROTO=ICMPv6 INCOMPLETE [3 bytes]");

        let inner = v6(17, &udp_hdr());
        let mut err = vec![2, 0, 0, 0, 0, 0, 0x05, 0x00];
        err.extend_from_slice(&inner[..44]);
        let p = v6(58, &err);
        assert_eq!(
            show(None, &p),
            format!(
                "{V6} LEN=92 TC=0 HOPLIMIT=64 FLOWLBL=0 PROTO=ICMPv6 TYPE=2 CODE=0 \
                 [{V6} LEN=52 TC=0 HOPLIMIT=64 FLOWLBL=0 PROTO=UDP INCOMPLETE [4 bytes] ] \
                 MTU=1280"
            )
        );

        let mut err = vec![4, 0, 0, 0, 0, 0, 0, 6];
        err.extend_from_slice(&inner[..20]);
        let p = v6(58, &err);
        assert_tail(&p, "TYPE=4 CODE=0 POINTER=00000006 [TRUNCATED]");

        // A quoted error is not opened again.
        let mut quoted = vec![1, 3, 0, 0, 0, 0, 0, 0];
        quoted.extend_from_slice(&inner);
        let mut err = vec![3, 0, 0, 0, 0, 0, 0, 0];
        err.extend_from_slice(&v6(58, &quoted));
        let p = v6(58, &err);
        assert_tail(&p, "FLOWLBL=0 PROTO=ICMPv6 TYPE=1 CODE=3 ]");
    }

    /// Every prefix of a few packets: no panic, and the line is well formed.
    #[test]
    fn truncated_packets_never_panic() {
        let mut quoted_tcp = vec![3, 3, 0, 0, 0, 0, 0, 0];
        quoted_tcp.extend_from_slice(&v4(6, 0, &[1, 1, 1, 0], &tcp_hdr(&[1, 1, 4, 2])));
        let mut quoted_v6 = vec![1, 4, 0, 0, 0, 0, 0, 0];
        quoted_v6.extend_from_slice(&v6(protocol::HOPOPTS, &[6, 0, 1, 4, 0, 0, 0, 0]));
        let mut ext = vec![protocol::ROUTING, 0, 1, 4, 0, 0, 0, 0];
        ext.extend_from_slice(&[protocol::FRAGMENT, 0, 0, 0, 0, 0, 0, 0]);
        ext.extend_from_slice(&[protocol::AH, 0, 0, 1, 0, 0, 0, 1]);
        ext.extend_from_slice(&[17, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1]);
        ext.extend_from_slice(&udp_hdr());
        let packets = [
            v4(6, 0x4000, &[1, 1, 1, 0], &tcp_hdr(&[2, 4, 5, 0xb4])),
            v4(1, 0, &[], &quoted_tcp),
            v4(1, 0, &[], &[17, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]),
            v4(51, 0, &[], &[6, 1, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1]),
            v6(58, &quoted_v6),
            v6(protocol::HOPOPTS, &ext),
            v6(protocol::ESP, &[0, 0, 0, 1, 0, 0, 0, 1]),
        ];
        let mac = [0u8; 14];
        for p in &packets {
            for n in 0..=p.len() {
                for bad in [false, true] {
                    let mut cut = p[..n].to_vec();
                    if bad {
                        // Wrong lengths and header sizes too.
                        for b in cut.iter_mut().step_by(3) {
                            *b = !*b;
                        }
                    }
                    let s = show(Some(&mac), &cut);
                    assert!(s.starts_with("MAC=00:"), "{s}");
                    assert!(!s.ends_with(' '), "{s}");
                    let mut appended = String::from("x ");
                    packet_fields(&mut appended, None, &cut);
                    assert!(appended.starts_with("x "));
                }
            }
        }
        assert_eq!(show(None, &[]), "TRUNCATED");
        assert_eq!(show(None, &[0x60; 39]), "TRUNCATED");
    }

    /// Frames and the lines the kernel's LOG target printed for them (Linux 6.18, iptables
    /// 1.8.9 nf_tables), recorded by `crates/netfilter/src/reject/testdata/capture.sh`: the
    /// frames were sent from a client namespace over a veth to a router namespace whose
    /// rules log them; the lines were read with dmesg (with `nf_log_all_netns` 1), the rule's
    /// prefix and the trailing space removed. Each line: the frame's index, the hook's
    /// devices, the rule's flags, the line.
    const LOG_FRAMES: [&str; 9] = [
        "923760af5bf0d626aea01a1708004500001d006400003d1166d00a4d01010a4d01029c400bb90009c94578",
        "923760af5bf0d626aea01a17080047000038006500003d0659b80a4d01010a4d010207070400000000009c410bba000003e80000000570022000a1930000020405b401030307",
        "923760af5bf0d626aea01a17080047000034006600003d0659bb0a4d01010a4d010207070400000000009c410bbb000003e80000000060022000b5a50000020405b4",
        "923760af5bf0d626aea01a17080045000038006700003d0166c20a4d01010a4d01020303d87c0000000045000020123400003d1154fe0a4d01010a4d01019c400035000c87fe",
        "923760af5bf0d626aea01a17080045000024006820003d1145c60a4d01010a4d0201000102030405060708090a0b0c0d0e0f",
        "923760af5bf0d626aea01a17080045000024006800023d1165c40a4d01010a4d0201000102030405060708090a0b0c0d0e0f",
        "923760af5bf0d626aea01a1786dd620000070018063dfd770001000000000000000000000001fd7700010000000000000000000000029c410bc1000000010000000060022000d5420000020405a0",
        "923760af5bf0d626aea01a1786dd6000000000202c3dfd770001000000000000000000000001fd770001000000000000000000000002110000010000cafe00010bc20018c0c6000102030405060708090a0b0c0d0e0f",
        "923760af5bf0d626aea01a1786dd600000000014063dfd770001000000000000000000000001fd7700010000000000000000000000029c410bc3000000010000000050022000ece80000",
    ];

    /// A frame's index, the hook's input and output devices, the rule's flags, the line.
    type Expected = (
        usize,
        (Option<&'static str>, Option<&'static str>),
        LogFlags,
        String,
    );

    const MAC4: &str = "MAC=92:37:60:af:5b:f0:d6:26:ae:a0:1a:17:08:00";
    const MAC6: &str = "MAC=92:37:60:af:5b:f0:d6:26:ae:a0:1a:17:86:dd";
    const A6: &str = "SRC=fd77:0001:0000:0000:0000:0000:0000:0001 \
                      DST=fd77:0001:0000:0000:0000:0000:0000:0002";

    fn unhex(s: &str) -> Vec<u8> {
        (0..s.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
            .collect()
    }

    /// The frame as the hook saw it: a forwarded packet's TTL decremented; a record-route
    /// option with room filled in with the router's address (10.77.1.2) on input, as the
    /// kernel's line shows.
    fn at_hook(index: usize, forwarded: bool) -> Vec<u8> {
        let mut f = unhex(LOG_FRAMES[index]);
        if forwarded {
            f[14 + 8] -= 1;
        }
        if f[12..14] == [8, 0] && f[14] == 0x47 && f[14 + 20] == 7 {
            f[14 + 22] = 8;
            f[14 + 23..14 + 27].copy_from_slice(&[10, 77, 1, 2]);
        }
        f
    }

    #[test]
    fn log_lines_match_the_kernel() {
        let seq_opts = LogFlags {
            tcp_seq: true,
            tcp_opt: true,
            ip_opt: true,
            ..LogFlags::NONE
        };
        let decode = LogFlags {
            macdecode: true,
            ..LogFlags::NONE
        };
        let fwd = (Some("r0"), Some("r1"));
        let input = (Some("r0"), None);
        let cases: [Expected; 10] = [
            (0, input, LogFlags::NONE, format!("IN=r0 OUT= {MAC4} SRC=10.77.1.1 DST=10.77.1.2 LEN=29 TOS=0x00 PREC=0x00 TTL=61 ID=100 PROTO=UDP SPT=40000 DPT=3001 LEN=9")),
            (1, input, seq_opts, format!("IN=r0 OUT= {MAC4} SRC=10.77.1.1 DST=10.77.1.2 LEN=56 TOS=0x00 PREC=0x00 TTL=61 ID=101 OPT (0707080A4D010200) PROTO=TCP SPT=40001 DPT=3002 SEQ=1000 ACK=5 WINDOW=8192 RES=0x00 SYN URGP=0 OPT (020405B401030307)")),
            (1, input, LogFlags::NONE, format!("IN=r0 OUT= {MAC4} SRC=10.77.1.1 DST=10.77.1.2 LEN=56 TOS=0x00 PREC=0x00 TTL=61 ID=101 PROTO=TCP SPT=40001 DPT=3002 WINDOW=8192 RES=0x00 SYN URGP=0")),
            (2, input, decode, "IN=r0 OUT= MACSRC=d6:26:ae:a0:1a:17 MACDST=92:37:60:af:5b:f0 MACPROTO=0800 SRC=10.77.1.1 DST=10.77.1.2 LEN=52 TOS=0x00 PREC=0x00 TTL=61 ID=102 PROTO=TCP SPT=40001 DPT=3003 WINDOW=8192 RES=0x00 SYN URGP=0".to_string()),
            (3, input, LogFlags::NONE, format!("IN=r0 OUT= {MAC4} SRC=10.77.1.1 DST=10.77.1.2 LEN=56 TOS=0x00 PREC=0x00 TTL=61 ID=103 PROTO=ICMP TYPE=3 CODE=3 [SRC=10.77.1.1 DST=10.77.1.1 LEN=32 TOS=0x00 PREC=0x00 TTL=61 ID=4660 PROTO=UDP SPT=40000 DPT=53 LEN=12 ]")),
            (4, fwd, LogFlags::NONE, format!("IN=r0 OUT=r1 {MAC4} SRC=10.77.1.1 DST=10.77.2.1 LEN=36 TOS=0x00 PREC=0x00 TTL=60 ID=104 MF PROTO=UDP SPT=1 DPT=515 LEN=1029")),
            (5, fwd, LogFlags::NONE, format!("IN=r0 OUT=r1 {MAC4} SRC=10.77.1.1 DST=10.77.2.1 LEN=36 TOS=0x00 PREC=0x00 TTL=60 ID=104 FRAG:2 PROTO=UDP")),
            (6, input, LogFlags { tcp_seq: true, tcp_opt: true, macdecode: true, ..LogFlags::NONE }, format!("IN=r0 OUT= MACSRC=d6:26:ae:a0:1a:17 MACDST=92:37:60:af:5b:f0 MACPROTO=86dd {A6} LEN=64 TC=32 HOPLIMIT=61 FLOWLBL=7 PROTO=TCP SPT=40001 DPT=3009 SEQ=1 ACK=0 WINDOW=8192 RES=0x00 SYN URGP=0 OPT (020405A0)")),
            (7, input, LogFlags::NONE, format!("IN=r0 OUT= {MAC6} {A6} LEN=72 TC=0 HOPLIMIT=61 FLOWLBL=0 FRAG:0 INCOMPLETE ID:0000cafe PROTO=UDP SPT=1 DPT=3010 LEN=24")),
            (8, input, LogFlags::NONE, format!("IN=r0 OUT= {MAC6} {A6} LEN=60 TC=0 HOPLIMIT=61 FLOWLBL=0 PROTO=TCP SPT=40001 DPT=3011 WINDOW=8192 RES=0x00 SYN URGP=0")),
        ];
        for (index, (in_dev, out_dev), flags, kernel) in cases {
            let frame = at_hook(index, out_dev.is_some());
            let mut ours = String::new();
            log_line(
                &mut ours,
                in_dev,
                out_dev,
                Some(&frame[..14]),
                &frame[14..],
                flags,
            );
            assert_eq!(ours, kernel, "frame {index}");
        }
    }

    #[test]
    fn locally_generated_lines_have_no_mac() {
        // The kernel's line for a UDP datagram sent from the router itself (OUTPUT, no
        // --log-uid): `IN= OUT=r0 SRC=10.77.1.2 DST=10.77.1.1 LEN=33 TOS=0x00 PREC=0x00 TTL=64
        // ID=52345 DF PROTO=UDP SPT=60057 DPT=3006 LEN=13`; the datagram rebuilt from it.
        let mut p = vec![0x45, 0, 0, 33, 0xcc, 0x79, 0x40, 0, 64, 17, 0, 0];
        p.extend_from_slice(&[10, 77, 1, 2, 10, 77, 1, 1]);
        p.extend_from_slice(&[0xea, 0x99, 0x0b, 0xbe, 0, 13, 0, 0]);
        p.extend_from_slice(b"local");
        let mut ours = String::new();
        log_line(&mut ours, None, Some("r0"), None, &p, LogFlags::NONE);
        assert_eq!(
            ours,
            "IN= OUT=r0 SRC=10.77.1.2 DST=10.77.1.1 LEN=33 TOS=0x00 PREC=0x00 TTL=64 ID=52345 \
             DF PROTO=UDP SPT=60057 DPT=3006 LEN=13"
        );
        // An input device without a link header.
        let mut ours = String::new();
        log_line(&mut ours, Some("tun0"), None, None, &p, LogFlags::NONE);
        assert!(ours.starts_with("IN=tun0 OUT= MAC= SRC="), "{ours}");
    }

    #[test]
    fn flags_round_trip_and_gate_fields() {
        for bits in 0..=0x3fu8 {
            assert_eq!(LogFlags::from_bits(bits).bits(), bits & 0x2f);
        }
        assert_eq!(LogFlags::DEFAULT_MASK.bits(), 0x0f);
        // Without --log-ip-options, IPv6 extension headers lose their brackets and the AH
        // SPI, but a fragment header is still shown.
        let mut ext = vec![protocol::AH, 0, 1, 4, 0, 0, 0, 0];
        ext.extend_from_slice(&[protocol::FRAGMENT, 1, 0, 0, 0, 0, 0, 5, 0, 0, 0, 0]);
        ext.extend_from_slice(&[6, 0, 0x00, 0x01, 0xca, 0xfe, 0x00, 0x01]);
        ext.extend_from_slice(&tcp_hdr(&[2, 4, 5, 0xb4]));
        let p = v6(protocol::HOPOPTS, &ext);
        let mut s = String::new();
        log_line(&mut s, None, Some("eth0"), None, &p, LogFlags::NONE);
        assert!(
            s.ends_with(
                "FLOWLBL=0 FRAG:0 INCOMPLETE ID:cafe0001 PROTO=TCP SPT=1000 DPT=80 \
                 WINDOW=512 RES=0x00 SYN URGP=0"
            ),
            "{s}"
        );
        let mut s = String::new();
        log_line(&mut s, None, Some("eth0"), None, &p, LogFlags::DEFAULT_MASK);
        assert!(
            s.ends_with(
                "FLOWLBL=0 OPT ( ) OPT ( AH SPI=0x5 ) OPT ( FRAG:0 INCOMPLETE ID:cafe0001 ) \
                 PROTO=TCP SPT=1000 DPT=80 SEQ=1 ACK=0 WINDOW=512 RES=0x00 SYN URGP=0 \
                 OPT (020405B4)"
            ),
            "{s}"
        );
        // The same packet through packet_fields: the default mask, no brackets lost.
        let mut fields_only = String::new();
        packet_fields(&mut fields_only, None, &p);
        assert!(s.ends_with(&fields_only));
    }
}
