//! One-line descriptions of IP packets, in the scenario packet syntax, leaving out what the
//! kernel randomises (the IPv4 identification, the IPv6 flow label and fragment id).
//!
//! The recorder writes what the router emitted as `emit IFACE` + [`packet`]; ctguard's tests
//! describe the packets ctguard emits with the same function and compare the strings. So the
//! description is a pure function of the bytes, never panics, and names every difference that
//! matters: addresses, ports, TCP flags, sequence numbers, window, options, ICMP fields,
//! TTL / hop limit, TOS / traffic class, DF, lengths, and checksums that are wrong.
//!
//! ```text
//! tcp 10.99.1.1:80 > 10.99.1.100:41000 RA seq=0 ack=1001 win=0 len=0 ttl=64 df iplen=40
//! icmp 10.99.1.1 > 10.99.1.100 unreach code=10 len=48 ttl=64 tos=0xc0 iplen=76 quote=[tcp 10.99.1.100:41000 > 10.99.1.1:80 seq=1000 ttl=64 df iplen=60 cut=28]
//! ```
//!
//! The fields, in order:
//!
//! 1. `PROTO SRC > DST`: `tcp`, `udp`, `udplite` with `ADDR:PORT` (`[V6]:PORT`); `icmp`,
//!    `icmp6`, `proto N` with bare addresses (also TCP/UDP fragments other than the first).
//! 2. Transport fields. TCP: flags (letters `FSRPAUECN` in that order, or `none`), `seq=`,
//!    `ack=`, `win=`, `urp=` (if nonzero), `res=` (reserved bits, if nonzero), options in wire
//!    order (`mss=N wscale=N sackok ts=V:E sack=L-R,… nop eol opt=KIND:HEX badopt=HEX`),
//!    `doff=N` if the data offset is impossible. UDP: `udplen=N` if the UDP length field
//!    disagrees with the segment; UDP-Lite: `cov=N`. ICMP / ICMPv6: the kind (`echo-request`,
//!    `unreach`, … or `type=N`), `code=N` (if nonzero), then bytes 5–8 as `id=N seq=N` (echo,
//!    timestamp, information), `mtu=N` (fragmentation needed, packet too big), `pointer=N`
//!    (parameter problem), `gateway=ADDR` (redirect), and `rest=0xHEX` for bytes that none of
//!    these explains and that are not zero. Only the fields present are shown when the packet
//!    is cut short (a quote), and `short-l4` is added when a whole packet's transport header is
//!    incomplete.
//! 3. `len=N`: bytes after the transport header as the IP length declares them (TCP/UDP data;
//!    for ICMP everything after the 8-byte header, a quote included).
//! 4. `badsum` (transport checksum wrong) or `nosum` (UDP over IPv4 without a checksum);
//!    checked only when the whole segment is present (not for quotes cut short or fragments).
//! 5. IPv4: `ttl=N`, `tos=0xNN` (if nonzero), `df`, `mf`, `frag=OFFSET` (bytes, if nonzero),
//!    `evil` (the reserved flag), `iplen=N` (the total length field), `ipopts=HEX`,
//!    `badipsum`. IPv6: `hlim=N`, `tclass=0xNN` (if nonzero), `ext=hop,rt,frag,dst,ah` (extension
//!    headers in order), `frag=OFFSET`, `mf`, `iplen=N` (40 + the payload length field).
//! 6. `cut=N`: only N bytes of the `iplen` are present (a quote); `trailing=N`: N bytes beyond
//!    `iplen`.
//! 7. ICMP errors: `quote=[…]`, the quoted packet described the same way (recursively, at most 4
//!    levels deep).
//!
//! Anything that is not an IP packet is described as `malformed …`.

use std::fmt::Write as _;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use crate::spec::ICMP_KINDS;

/// How deep quotes inside ICMP errors are described.
const MAX_DEPTH: u8 = 4;

/// Describes an IP packet (IPv4 or IPv6, starting at the IP header) in one line. See the
/// module documentation for the fields.
pub fn packet(ip: &[u8]) -> String {
    describe(ip, 0)
}

fn describe(ip: &[u8], depth: u8) -> String {
    match ip.first().map(|b| b >> 4) {
        None => "malformed empty".to_string(),
        Some(4) => ipv4(ip, depth),
        Some(6) => ipv6(ip, depth),
        Some(v) => format!("malformed version={v} bytes={}", ip.len()),
    }
}

fn be16(b: &[u8], at: usize) -> Option<u16> {
    Some(u16::from_be_bytes([*b.get(at)?, *b.get(at + 1)?]))
}

fn be32(b: &[u8], at: usize) -> Option<u32> {
    Some(u32::from_be_bytes([
        *b.get(at)?,
        *b.get(at + 1)?,
        *b.get(at + 2)?,
        *b.get(at + 3)?,
    ]))
}

fn hex(bytes: &[u8]) -> String {
    let mut s = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        let _ = write!(s, "{b:02x}");
    }
    s
}

/// The ones' complement sum of `data`, folded to 16 bits (not inverted).
fn sum16(parts: &[&[u8]]) -> u16 {
    let mut sum: u64 = 0;
    for part in parts {
        let mut chunks = part.chunks_exact(2);
        for pair in &mut chunks {
            sum += u64::from(u16::from_be_bytes([pair[0], pair[1]]));
        }
        if let [last] = chunks.remainder() {
            sum += u64::from(*last) << 8;
        }
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    sum as u16
}

/// Whether a segment with its checksum field in place sums to all ones with the pseudo-header.
/// Every part but the last must have an even length (true of addresses and the 4-byte words).
fn checksum_ok(src: &[u8], dst: &[u8], proto: u8, segment: &[u8]) -> bool {
    let len = segment.len() as u32;
    let pseudo: Vec<u8> = if src.len() == 4 {
        let l = (len as u16).to_be_bytes();
        vec![0, proto, l[0], l[1]]
    } else {
        let mut v = len.to_be_bytes().to_vec();
        v.extend_from_slice(&[0, 0, 0, proto]);
        v
    };
    sum16(&[src, dst, &pseudo, segment]) == 0xffff
}

/// The IP layer's facts, gathered for the transport part.
struct Net<'a> {
    src: IpAddr,
    dst: IpAddr,
    src_bytes: &'a [u8],
    dst_bytes: &'a [u8],
    v6: bool,
    /// The transport protocol (after IPv6 extension headers).
    proto: u8,
    /// The transport segment, as far as present.
    segment: &'a [u8],
    /// The segment's length as the IP header declares it (more than `segment.len()` in a
    /// quote cut short).
    declared: usize,
    /// The whole segment is present (not cut short), so its checksum can be checked.
    complete: bool,
    /// Not the first fragment: no transport header to show.
    later_fragment: bool,
    /// A fragment (first or later): the checksum covers bytes that are not here.
    fragment: bool,
}

fn ipv4(ip: &[u8], depth: u8) -> String {
    if ip.len() < 20 {
        return format!("malformed ipv4 bytes={}", ip.len());
    }
    let ihl = usize::from(ip[0] & 0x0f) * 4;
    if ihl < 20 {
        return format!("malformed ipv4 ihl={ihl} bytes={}", ip.len());
    }
    if ip.len() < ihl {
        return format!("malformed ipv4 ihl={ihl} bytes={}", ip.len());
    }
    let total = usize::from(be16(ip, 2).unwrap_or(0));
    let frag = be16(ip, 6).unwrap_or(0);
    let (evil, df, mf) = (frag & 0x8000 != 0, frag & 0x4000 != 0, frag & 0x2000 != 0);
    let offset = usize::from(frag & 0x1fff) * 8;
    let src_bytes = &ip[12..16];
    let dst_bytes = &ip[16..20];
    let src = IpAddr::V4(Ipv4Addr::new(ip[12], ip[13], ip[14], ip[15]));
    let dst = IpAddr::V4(Ipv4Addr::new(ip[16], ip[17], ip[18], ip[19]));
    // The packet ends at its total length when that is sane, else at the buffer's end.
    let end = if total >= ihl {
        total.min(ip.len())
    } else {
        ip.len()
    };
    let net = Net {
        src,
        dst,
        src_bytes,
        dst_bytes,
        v6: false,
        proto: ip[9],
        segment: ip.get(ihl..end).unwrap_or_default(),
        declared: if total >= ihl { total - ihl } else { end - ihl },
        complete: total >= ihl && ip.len() >= total,
        later_fragment: offset != 0,
        fragment: offset != 0 || mf,
    };
    let mut out = String::new();
    let quote = transport(&mut out, &net, depth);
    let _ = write!(out, " ttl={}", ip[8]);
    if ip[1] != 0 {
        let _ = write!(out, " tos=0x{:02x}", ip[1]);
    }
    for (set, word) in [(df, " df"), (mf, " mf")] {
        if set {
            out.push_str(word);
        }
    }
    if offset != 0 {
        let _ = write!(out, " frag={offset}");
    }
    if evil {
        out.push_str(" evil");
    }
    let _ = write!(out, " iplen={total}");
    if ihl > 20 {
        let _ = write!(out, " ipopts={}", hex(&ip[20..ihl]));
    }
    if sum16(&[&ip[..ihl]]) != 0xffff {
        out.push_str(" badipsum");
    }
    lengths(&mut out, total.max(ihl), ip.len());
    finish(out, quote)
}

fn ipv6(ip: &[u8], depth: u8) -> String {
    if ip.len() < 40 {
        return format!("malformed ipv6 bytes={}", ip.len());
    }
    let tclass = ((ip[0] & 0x0f) << 4) | (ip[1] >> 4);
    let total = 40 + usize::from(be16(ip, 4).unwrap_or(0));
    let end = total.min(ip.len());
    let mut src = [0u8; 16];
    let mut dst = [0u8; 16];
    src.copy_from_slice(&ip[8..24]);
    dst.copy_from_slice(&ip[24..40]);
    // Extension headers.
    let mut next = ip[6];
    let mut at = 40;
    let mut ext = Vec::new();
    let mut frag_offset = 0usize;
    let mut mf = false;
    let mut fragment = false;
    let mut broken_ext = false;
    for _ in 0..8 {
        let name = match next {
            0 => "hop",
            43 => "rt",
            44 => "frag",
            60 => "dst",
            51 => "ah",
            _ => break,
        };
        let Some(&following) = ip.get(at).filter(|_| at < end) else {
            broken_ext = true;
            break;
        };
        let len = match next {
            44 => 8,
            51 => (usize::from(ip.get(at + 1).copied().unwrap_or(0)) + 2) * 4,
            _ => (usize::from(ip.get(at + 1).copied().unwrap_or(0)) + 1) * 8,
        };
        if next == 44 {
            let field = be16(ip, at + 2).unwrap_or(0);
            frag_offset = usize::from(field & 0xfff8);
            mf = field & 1 != 0;
            fragment = true;
        }
        ext.push(name);
        next = following;
        at += len;
        if at > end {
            broken_ext = true;
            break;
        }
    }
    let net = Net {
        src: IpAddr::V6(Ipv6Addr::from(src)),
        dst: IpAddr::V6(Ipv6Addr::from(dst)),
        src_bytes: &ip[8..24],
        dst_bytes: &ip[24..40],
        v6: true,
        proto: next,
        segment: ip.get(at..end).unwrap_or_default(),
        declared: total.saturating_sub(at),
        complete: ip.len() >= total && !broken_ext,
        later_fragment: frag_offset != 0 || broken_ext,
        fragment,
    };
    let mut out = String::new();
    let quote = transport(&mut out, &net, depth);
    let _ = write!(out, " hlim={}", ip[7]);
    if tclass != 0 {
        let _ = write!(out, " tclass=0x{tclass:02x}");
    }
    if !ext.is_empty() {
        let _ = write!(out, " ext={}", ext.join(","));
    }
    if broken_ext {
        out.push_str(" badext");
    }
    if frag_offset != 0 {
        let _ = write!(out, " frag={frag_offset}");
    }
    if mf {
        out.push_str(" mf");
    }
    let _ = write!(out, " iplen={total}");
    lengths(&mut out, total, ip.len());
    finish(out, quote)
}

/// `cut=N` / `trailing=N` when the buffer and the IP length disagree.
fn lengths(out: &mut String, total: usize, have: usize) {
    if have < total {
        let _ = write!(out, " cut={have}");
    } else if have > total {
        let _ = write!(out, " trailing={}", have - total);
    }
}

fn finish(mut out: String, quote: Option<String>) -> String {
    if let Some(q) = quote {
        let _ = write!(out, " quote=[{q}]");
    }
    out
}

fn endpoint(addr: IpAddr, port: Option<u16>) -> String {
    match (addr, port) {
        (IpAddr::V6(a), Some(p)) => format!("[{a}]:{p}"),
        (a, Some(p)) => format!("{a}:{p}"),
        (a, None) => a.to_string(),
    }
}

/// Writes `PROTO SRC > DST`, the transport fields, `len=` and the checksum mark; returns the
/// description of a quoted packet, if any.
fn transport(out: &mut String, net: &Net<'_>, depth: u8) -> Option<String> {
    let seg = net.segment;
    let name = match (net.proto, net.v6) {
        (6, _) => Some("tcp"),
        (17, _) => Some("udp"),
        (136, _) => Some("udplite"),
        (1, false) => Some("icmp"),
        (58, true) => Some("icmp6"),
        _ => None,
    };
    let with_ports = matches!(net.proto, 6 | 17 | 136) && !net.later_fragment && seg.len() >= 4;
    let (sport, dport) = if with_ports {
        (be16(seg, 0), be16(seg, 2))
    } else {
        (None, None)
    };
    match name {
        Some(n) => out.push_str(n),
        None => {
            let _ = write!(out, "proto {}", net.proto);
        }
    }
    let _ = write!(
        out,
        " {} > {}",
        endpoint(net.src, sport),
        endpoint(net.dst, dport)
    );
    if net.later_fragment || name.is_none() {
        let _ = write!(out, " len={}", net.declared);
        return None;
    }
    let checkable = net.complete && !net.fragment;
    let sum_ok = || checksum_ok(net.src_bytes, net.dst_bytes, net.proto, seg);
    match net.proto {
        6 => {
            tcp(out, seg, net.declared, net.complete);
            if checkable && seg.len() >= 20 && !sum_ok() {
                out.push_str(" badsum");
            }
            None
        }
        17 | 136 => {
            if seg.len() < 8 {
                if let Some(n) = be16(seg, 4) {
                    let _ = write!(out, " udplen={n}");
                }
                if net.complete {
                    out.push_str(" short-l4");
                }
                return None;
            }
            let field = usize::from(be16(seg, 4).unwrap_or(0));
            let sum = be16(seg, 6).unwrap_or(0);
            if net.proto == 136 {
                let _ = write!(out, " cov={field}");
            } else if field != net.declared {
                let _ = write!(out, " udplen={field}");
            }
            let _ = write!(out, " len={}", net.declared.saturating_sub(8));
            if net.proto == 17 && !net.v6 && sum == 0 {
                out.push_str(" nosum");
            } else if checkable {
                let ok = if net.proto == 136 {
                    let covered = if field == 0 { seg.len() } else { field };
                    covered >= 8 && covered <= seg.len() && checksum_ok_covered(net, seg, covered)
                } else {
                    sum_ok()
                };
                if !ok {
                    out.push_str(" badsum");
                }
            }
            None
        }
        _ => {
            let quote = icmp(out, seg, net.v6, net.complete, depth);
            if seg.len() >= 8 {
                let _ = write!(out, " len={}", net.declared.saturating_sub(8));
            }
            if checkable && seg.len() >= 4 {
                let ok = if net.v6 {
                    sum_ok()
                } else {
                    sum16(&[seg]) == 0xffff
                };
                if !ok {
                    out.push_str(" badsum");
                }
            }
            quote
        }
    }
}

/// UDP-Lite: the pseudo-header carries the whole length; the sum covers `covered` bytes.
fn checksum_ok_covered(net: &Net<'_>, seg: &[u8], covered: usize) -> bool {
    let len = seg.len() as u32;
    let pseudo: Vec<u8> = if net.v6 {
        let mut v = len.to_be_bytes().to_vec();
        v.extend_from_slice(&[0, 0, 0, net.proto]);
        v
    } else {
        let l = (len as u16).to_be_bytes();
        vec![0, net.proto, l[0], l[1]]
    };
    let data = seg.get(..covered).unwrap_or(seg);
    sum16(&[net.src_bytes, net.dst_bytes, &pseudo, data]) == 0xffff
}

/// TCP fields from the bytes present (`seg`); `declared` is the segment's length per the IP
/// header, `complete` whether all of it is here (else the packet is a quote cut short).
fn tcp(out: &mut String, seg: &[u8], declared: usize, complete: bool) {
    if seg.len() < 20 {
        if let Some(seq) = be32(seg, 4) {
            let _ = write!(out, " seq={seq}");
        }
        if complete {
            out.push_str(" short-l4");
        }
        return;
    }
    let doff = usize::from(seg[12] >> 4) * 4;
    let flags = (u16::from(seg[12] & 1) << 8) | u16::from(seg[13]);
    let letters: String = [
        (0x01, 'F'),
        (0x02, 'S'),
        (0x04, 'R'),
        (0x08, 'P'),
        (0x10, 'A'),
        (0x20, 'U'),
        (0x40, 'E'),
        (0x80, 'C'),
        (0x100, 'N'),
    ]
    .iter()
    .filter(|(bit, _)| flags & bit != 0)
    .map(|(_, c)| *c)
    .collect();
    let _ = write!(
        out,
        " {} seq={} ack={} win={}",
        if letters.is_empty() { "none" } else { &letters },
        be32(seg, 4).unwrap_or(0),
        be32(seg, 8).unwrap_or(0),
        be16(seg, 14).unwrap_or(0)
    );
    let urp = be16(seg, 18).unwrap_or(0);
    if urp != 0 {
        let _ = write!(out, " urp={urp}");
    }
    let reserved = (seg[12] >> 1) & 0x07;
    if reserved != 0 {
        let _ = write!(out, " res={reserved}");
    }
    if doff < 20 || doff > declared {
        let _ = write!(out, " doff={doff}");
        let _ = write!(out, " len={}", declared.saturating_sub(20));
        return;
    }
    tcp_options(
        out,
        seg.get(20..doff.min(seg.len())).unwrap_or_default(),
        complete,
    );
    let _ = write!(out, " len={}", declared - doff);
}

/// The options in wire order; when the packet is cut short, a partial last option is left out.
fn tcp_options(out: &mut String, mut opts: &[u8], complete: bool) {
    while let Some(&kind) = opts.first() {
        match kind {
            0 => {
                out.push_str(" eol");
                let rest = &opts[1..];
                if rest.iter().any(|b| *b != 0) {
                    let _ = write!(out, " optpad={}", hex(rest));
                }
                return;
            }
            1 => {
                out.push_str(" nop");
                opts = &opts[1..];
                continue;
            }
            _ => {}
        }
        let len = usize::from(opts.get(1).copied().unwrap_or(0));
        if !complete && (opts.len() < 2 || len > opts.len()) {
            return;
        }
        if len < 2 || len > opts.len() {
            let _ = write!(out, " badopt={}", hex(opts));
            return;
        }
        let data = &opts[2..len];
        match (kind, len) {
            (2, 4) => {
                let _ = write!(out, " mss={}", be16(data, 0).unwrap_or(0));
            }
            (3, 3) => {
                let _ = write!(out, " wscale={}", data[0]);
            }
            (4, 2) => out.push_str(" sackok"),
            (8, 10) => {
                let _ = write!(
                    out,
                    " ts={}:{}",
                    be32(data, 0).unwrap_or(0),
                    be32(data, 4).unwrap_or(0)
                );
            }
            (5, _) if (len - 2) % 8 == 0 && len > 2 => {
                let blocks: Vec<String> = data
                    .chunks_exact(8)
                    .map(|b| format!("{}-{}", be32(b, 0).unwrap_or(0), be32(b, 4).unwrap_or(0)))
                    .collect();
                let _ = write!(out, " sack={}", blocks.join(","));
            }
            _ => {
                let _ = write!(out, " opt={kind}:{}", hex(data));
            }
        }
        opts = &opts[len..];
    }
}

/// The ICMP kind name for a type, as scenario files write it.
fn icmp_kind(icmp_type: u8, v6: bool) -> String {
    ICMP_KINDS
        .iter()
        .find(|(_, t4, t6)| if v6 { *t6 } else { *t4 } == Some(icmp_type))
        .map_or_else(
            || format!("type={icmp_type}"),
            |(name, _, _)| name.to_string(),
        )
}

/// Writes the ICMP kind, code and bytes 5–8; returns the quote's description for errors.
fn icmp(out: &mut String, seg: &[u8], v6: bool, complete: bool, depth: u8) -> Option<String> {
    let short = |out: &mut String| {
        if complete {
            out.push_str(" short-l4");
        }
    };
    let Some(&icmp_type) = seg.first() else {
        short(out);
        return None;
    };
    let _ = write!(out, " {}", icmp_kind(icmp_type, v6));
    let code = seg.get(1).copied().unwrap_or(0);
    if code != 0 {
        let _ = write!(out, " code={code}");
    }
    let Some(rest) = seg.get(4..8) else {
        short(out);
        return None;
    };
    let echo = if v6 {
        matches!(icmp_type, 128 | 129)
    } else {
        matches!(icmp_type, 0 | 8 | 13 | 14 | 15 | 16 | 17 | 18)
    };
    // Which of bytes 5–8 the named fields explain.
    let mut explained = [false; 4];
    if echo {
        let _ = write!(
            out,
            " id={} seq={}",
            be16(rest, 0).unwrap_or(0),
            be16(rest, 2).unwrap_or(0)
        );
        explained = [true; 4];
    } else if !v6 && icmp_type == 3 && code == 4 {
        let _ = write!(out, " mtu={}", be16(rest, 2).unwrap_or(0));
        explained = [false, false, true, true];
    } else if !v6 && icmp_type == 12 {
        let _ = write!(out, " pointer={}", rest[0]);
        explained = [true, false, false, false];
    } else if !v6 && icmp_type == 5 {
        let _ = write!(
            out,
            " gateway={}",
            Ipv4Addr::new(rest[0], rest[1], rest[2], rest[3])
        );
        explained = [true; 4];
    } else if v6 && icmp_type == 2 {
        let _ = write!(out, " mtu={}", be32(rest, 0).unwrap_or(0));
        explained = [true; 4];
    } else if v6 && icmp_type == 4 {
        let _ = write!(out, " pointer={}", be32(rest, 0).unwrap_or(0));
        explained = [true; 4];
    }
    let unexplained = rest
        .iter()
        .zip(explained)
        .any(|(b, known)| !known && *b != 0);
    if unexplained {
        let _ = write!(out, " rest=0x{}", hex(rest));
    }
    let error = if v6 {
        icmp_type < 128
    } else {
        matches!(icmp_type, 3 | 4 | 5 | 11 | 12)
    };
    if !error {
        return None;
    }
    let quoted = &seg[8..];
    if quoted.is_empty() {
        return None;
    }
    Some(if depth >= MAX_DEPTH {
        format!("… {} bytes", quoted.len())
    } else {
        describe(quoted, depth + 1)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::Scenario;

    fn ip_of(line: &str) -> Vec<u8> {
        let s = Scenario::parse("t", line).unwrap();
        s.packets.last().unwrap().ip_packet().to_vec()
    }

    #[test]
    fn describes_a_tcp_syn() {
        let ip = ip_of(
            "c tcp 10.99.1.100:41000 > 10.99.2.100:80 S seq=1000 win=64240 mss=1460 sackok wscale=7",
        );
        assert_eq!(
            packet(&ip),
            "tcp 10.99.1.100:41000 > 10.99.2.100:80 S seq=1000 ack=0 win=64240 mss=1460 sackok wscale=7 eol len=0 ttl=64 df iplen=52"
        );
    }

    #[test]
    fn marks_bad_checksums() {
        let ip = ip_of("c udp 10.99.1.100:5000 > 10.99.2.100:53 len=4 badsum");
        assert_eq!(
            packet(&ip),
            "udp 10.99.1.100:5000 > 10.99.2.100:53 len=4 badsum ttl=64 df iplen=32"
        );
        let mut ip = ip_of("c udp 10.99.1.100:5000 > 10.99.2.100:53 len=4");
        ip[10] ^= 1;
        assert!(
            packet(&ip).ends_with("iplen=32 badipsum"),
            "{}",
            packet(&ip)
        );
    }

    #[test]
    fn describes_icmp_errors_with_their_quote() {
        let text = "c tcp 10.99.1.100:41000 > 10.99.1.1:80 S seq=1000\n\
                    r icmp 10.99.1.1 > 10.99.1.100 unreach code=10 tos=0xc0 nodf quote=#0\n";
        let s = Scenario::parse("t", text).unwrap();
        assert_eq!(
            packet(s.packets[1].ip_packet()),
            "icmp 10.99.1.1 > 10.99.1.100 unreach code=10 len=28 ttl=64 tos=0xc0 iplen=56 \
             quote=[tcp 10.99.1.100:41000 > 10.99.1.1:80 seq=1000 ttl=64 df iplen=40 cut=28]"
        );
    }

    #[test]
    fn describes_ipv6_and_icmp6() {
        let text = "c tcp [fd00:99:1::100]:41000 > [fd00:99:2::100]:80 RA seq=5 ack=9 win=0 tos=16\n\
                    s icmp6 fd00:99:2::1 > fd00:99:1::100 too-big mtu=1280 quote=#0\n\
                    c icmp6 fd00:99:1::100 > fd00:99:2::100 echo-request id=7 seq=1 len=8\n";
        let s = Scenario::parse("t", text).unwrap();
        let d: Vec<String> = s.packets.iter().map(|p| packet(p.ip_packet())).collect();
        assert_eq!(
            d[0],
            "tcp [fd00:99:1::100]:41000 > [fd00:99:2::100]:80 RA seq=5 ack=9 win=0 len=0 hlim=64 tclass=0x10 iplen=60"
        );
        assert_eq!(
            d[1],
            "icmp6 fd00:99:2::1 > fd00:99:1::100 too-big mtu=1280 len=60 hlim=64 iplen=108 \
             quote=[tcp [fd00:99:1::100]:41000 > [fd00:99:2::100]:80 RA seq=5 ack=9 win=0 len=0 hlim=64 tclass=0x10 iplen=60]"
        );
        assert_eq!(
            d[2],
            "icmp6 fd00:99:1::100 > fd00:99:2::100 echo-request id=7 seq=1 len=8 hlim=64 iplen=56"
        );
    }

    #[test]
    fn describes_fragments_without_ports() {
        let s = Scenario::parse(
            "t",
            "c udp 10.99.1.100:5000 > 10.99.2.100:53 len=100 frag=64",
        )
        .unwrap();
        let d: Vec<String> = s.packets.iter().map(|p| packet(p.ip_packet())).collect();
        assert_eq!(
            d[0],
            "udp 10.99.1.100:5000 > 10.99.2.100:53 udplen=108 len=56 ttl=64 mf iplen=84"
        );
        assert_eq!(
            d[1],
            "udp 10.99.1.100 > 10.99.2.100 len=44 ttl=64 frag=64 iplen=64"
        );
    }

    #[test]
    fn ignores_the_identification_only() {
        let a = ip_of("c udp 10.99.1.100:5000 > 10.99.2.100:53 len=4 id=1");
        let b = ip_of("c udp 10.99.1.100:5000 > 10.99.2.100:53 len=4 id=2");
        // Same description once the header checksum is fixed up for the new id.
        assert_eq!(packet(&a), packet(&b));
        let c = ip_of("c udp 10.99.1.100:5000 > 10.99.2.100:53 len=4 id=2 ttl=63");
        assert_ne!(packet(&a), packet(&c));
    }

    #[test]
    fn survives_garbage() {
        for bytes in [
            &[][..],
            &[0x45],
            &[0x60; 40],
            &[0x4f; 64],
            &[0x41, 0, 0, 0],
            &[0x12, 0x34],
        ] {
            let _ = packet(bytes);
        }
        assert_eq!(packet(&[]), "malformed empty");
    }
}
