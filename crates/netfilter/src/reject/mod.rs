//! Replies that the REJECT target sends, built as the kernel builds them.
//!
//! [`build`] takes the offending packet as the rule saw it (the whole IP datagram, from its IP
//! header on, after the hook's own changes: a forwarded packet has already had its TTL or hop
//! limit decremented) and writes the reply the kernel would send, as a full IP packet, or says
//! why the kernel sends nothing ([`NoReply`]).
//!
//! What the kernel does, per reply type (`nf_reject_ipv4.c`, `nf_reject_ipv6.c`, `icmp.c`):
//!
//! - `tcp-reset` (`nf_send_reset`, `nf_send_reset6`): nothing for a non-TCP packet, a non-first
//!   fragment, a TCP header that is not all there, a RST, a bad TCP checksum, or (IPv4) a
//!   broadcast or multicast destination, (IPv6) a source or destination that is not unicast.
//!   The reply comes from the offending destination (even when forwarded): TOS / traffic class
//!   0, IPv6 flow label 0, IPv4 ID 0 and DF, TTL the route's hop limit (64 by default). If the
//!   offending segment has ACK, the RST's sequence is its acknowledgement number and the RST
//!   has no ACK; otherwise the sequence is 0 and it acknowledges `seq + SYN + FIN + payload`
//!   with RST|ACK. Window 0, data offset 5, no options.
//! - ICMP (`nf_send_unreach` then `icmp_send`): nothing for a non-first fragment, a bad
//!   checksum (see [`Options::verify_checksum`]), an ICMP error (or an unknown ICMP type,
//!   which the kernel counts as an error), a broadcast or multicast destination. The reply is
//!   type 3 with the code of the reject type; TOS `(tos & 0x1e) | 0xc0`; no DF; TTL 64; the
//!   quote is the offending datagram up to 576 bytes in all (548 bytes of quote).
//! - ICMPv6 (`nf_send_unreach6` then `icmp6_send`): nothing when the extension headers cannot
//!   be walked, for a non-first fragment, a bad checksum, an ICMPv6 error, a multicast
//!   destination, an unspecified or multicast source. The reply is type 1 with the code of the
//!   reject type; traffic class 0; hop limit 64; the quote is the offending datagram up to
//!   1280 bytes in all (1232 bytes of quote).
//!
//! The checksum test follows `nf_reject_verify_csum`: TCP, UDP with a non-zero checksum,
//! ICMP, ICMPv6 and any protocol the kernel does not list are verified (over the payload, with
//! a pseudo-header for TCP and UDP in IPv4 and for everything in IPv6); UDP with checksum 0,
//! GRE, AH, ESP, SCTP, UDP-Lite and DCCP are not. An unknown IPv4 protocol whose payload does
//! not sum to `0xffff` therefore gets no reply (checked against the kernel).
//!
//! Fields the kernel picks and this module does not: the IPv4 ID of an ICMP error (the
//! kernel's hashed per-destination counter; here 0, and the IP header checksum is computed
//! over that 0) and the IPv6 flow label of an ICMPv6 error (the kernel's automatic flow label,
//! a keyed hash of the flow; here 0). The conformance comparison ignores both.
//!
//! What the caller decides, because it needs the routing table: the source address of an ICMP
//! error ([`Options::reply_src`]), whether the destination was a subnet or link-layer
//! broadcast ([`Options::broadcast`]), the hop limit of the route back ([`Options::ttl`]),
//! and whether a reply is allowed by the kernel's ICMP rate limits ([`IcmpRateLimit`]).
//!
//! Not modelled: replies to IPv4 packets carrying options the kernel echoes into the ICMP
//! error (record route, timestamp, source routes, CIPSO: `__ip_options_echo`), reported as
//! [`NoReply::Unmodelled`] (the kernel sent nothing in the one such case recorded, a record
//! route option); path MTUs below 576 (IPv4) that shorten the quote; bridged packets (the
//! kernel writes the Ethernet header itself); the packet mark (`IP4_REPLY_MARK`).

mod ratelimit;

pub use ratelimit::IcmpRateLimit;

use core::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use ctguard_wire::checksum::{self, Checksum};
use ctguard_wire::ip::protocol;
use ctguard_wire::{icmpv4, icmpv6, ipv4, ipv6, ipv6_ext, tcp};

use crate::hook::{Family, Hook};

/// IPv4: the largest ICMP error, header included (RFC 1812 4.3.2.3).
const ICMP_MAX_LEN: usize = 576;
/// IPv6: the minimum MTU, the largest ICMPv6 error.
const IPV6_MIN_MTU: usize = 1280;
/// `sysctl_ip_default_ttl` and the IPv6 `hop_limit` default.
pub const DEFAULT_TTL: u8 = 64;

/// A `--reject-with` type.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum RejectWith {
    IcmpNetUnreachable,
    IcmpHostUnreachable,
    IcmpProtoUnreachable,
    IcmpPortUnreachable,
    IcmpNetProhibited,
    IcmpHostProhibited,
    IcmpAdminProhibited,
    /// A TCP RST; valid for both families.
    TcpReset,
    Icmp6NoRoute,
    Icmp6AdmProhibited,
    Icmp6AddrUnreachable,
    Icmp6PortUnreachable,
    Icmp6PolicyFail,
    Icmp6RejectRoute,
}

/// The types in the order of iptables' tables (which matters for abbreviations), with the
/// alias each table lists: `libipt_REJECT.c` then `libip6t_REJECT.c`.
const IPV4_TABLE: [(RejectWith, &str, &str); 8] = [
    (
        RejectWith::IcmpNetUnreachable,
        "icmp-net-unreachable",
        "net-unreach",
    ),
    (
        RejectWith::IcmpHostUnreachable,
        "icmp-host-unreachable",
        "host-unreach",
    ),
    (
        RejectWith::IcmpProtoUnreachable,
        "icmp-proto-unreachable",
        "proto-unreach",
    ),
    (
        RejectWith::IcmpPortUnreachable,
        "icmp-port-unreachable",
        "port-unreach",
    ),
    (
        RejectWith::IcmpNetProhibited,
        "icmp-net-prohibited",
        "net-prohib",
    ),
    (
        RejectWith::IcmpHostProhibited,
        "icmp-host-prohibited",
        "host-prohib",
    ),
    (RejectWith::TcpReset, "tcp-reset", "tcp-rst"),
    (
        RejectWith::IcmpAdminProhibited,
        "icmp-admin-prohibited",
        "admin-prohib",
    ),
];
const IPV6_TABLE: [(RejectWith, &str, &str); 7] = [
    (RejectWith::Icmp6NoRoute, "icmp6-no-route", "no-route"),
    (
        RejectWith::Icmp6AdmProhibited,
        "icmp6-adm-prohibited",
        "adm-prohibited",
    ),
    (
        RejectWith::Icmp6AddrUnreachable,
        "icmp6-addr-unreachable",
        "addr-unreach",
    ),
    (
        RejectWith::Icmp6PortUnreachable,
        "icmp6-port-unreachable",
        "port-unreach",
    ),
    (RejectWith::TcpReset, "tcp-reset", "tcp-reset"),
    (
        RejectWith::Icmp6PolicyFail,
        "icmp6-policy-fail",
        "policy-fail",
    ),
    (
        RejectWith::Icmp6RejectRoute,
        "icmp6-reject-route",
        "reject-route",
    ),
];

impl RejectWith {
    /// Every type, IPv4 ones first.
    pub const ALL: [RejectWith; 14] = [
        RejectWith::IcmpNetUnreachable,
        RejectWith::IcmpHostUnreachable,
        RejectWith::IcmpProtoUnreachable,
        RejectWith::IcmpPortUnreachable,
        RejectWith::IcmpNetProhibited,
        RejectWith::IcmpHostProhibited,
        RejectWith::IcmpAdminProhibited,
        RejectWith::TcpReset,
        RejectWith::Icmp6NoRoute,
        RejectWith::Icmp6AdmProhibited,
        RejectWith::Icmp6AddrUnreachable,
        RejectWith::Icmp6PortUnreachable,
        RejectWith::Icmp6PolicyFail,
        RejectWith::Icmp6RejectRoute,
    ];

    /// The spelling `iptables-save` / `ip6tables-save` prints after `--reject-with`.
    pub fn name(self) -> &'static str {
        IPV4_TABLE
            .iter()
            .chain(IPV6_TABLE.iter())
            .find(|(k, _, _)| *k == self)
            .map(|(_, name, _)| *name)
            .unwrap_or("tcp-reset")
    }

    /// Parses a `--reject-with` argument as iptables (`family` V4) or ip6tables (V6) does:
    /// case-insensitively, the full name or its alias, or any prefix of either, the first
    /// match in the table's order winning (so `icmp-host` is `icmp-host-unreachable`). Both
    /// accept `tcp-reset`; iptables also `tcp-rst`. (Checked with iptables 1.8.9: `icmp-host`,
    /// `HOST-PROHIB`, ip6tables `port`.) The kernel refuses a `tcp-reset` rule that does not
    /// match `-p tcp` (not inverted): `RULE_APPEND failed (Invalid argument)`.
    pub fn from_name(name: &str, family: Family) -> Option<RejectWith> {
        if name.is_empty() {
            return None;
        }
        let table: &[(RejectWith, &str, &str)] = match family {
            Family::V4 => &IPV4_TABLE,
            Family::V6 => &IPV6_TABLE,
        };
        let is_prefix =
            |full: &str| full.len() >= name.len() && full[..name.len()].eq_ignore_ascii_case(name);
        table
            .iter()
            .find(|(_, full, alias)| is_prefix(full) || is_prefix(alias))
            .map(|(k, _, _)| *k)
    }

    /// The family the type belongs to; None for `tcp-reset`, which both have.
    pub fn family(self) -> Option<Family> {
        match self {
            RejectWith::TcpReset => None,
            RejectWith::IcmpNetUnreachable
            | RejectWith::IcmpHostUnreachable
            | RejectWith::IcmpProtoUnreachable
            | RejectWith::IcmpPortUnreachable
            | RejectWith::IcmpNetProhibited
            | RejectWith::IcmpHostProhibited
            | RejectWith::IcmpAdminProhibited => Some(Family::V4),
            _ => Some(Family::V6),
        }
    }

    /// True when the type may be used in `family`'s tables.
    pub fn valid_for(self, family: Family) -> bool {
        self.family().is_none_or(|f| f == family)
    }

    /// REJECT's default: `icmp-port-unreachable` / `icmp6-port-unreachable`.
    pub fn default_for(family: Family) -> RejectWith {
        match family {
            Family::V4 => RejectWith::IcmpPortUnreachable,
            Family::V6 => RejectWith::Icmp6PortUnreachable,
        }
    }

    /// The ICMP (IPv4) or ICMPv6 type and code of the error; None for `tcp-reset`.
    pub fn icmp_type_code(self) -> Option<(u8, u8)> {
        Some(match self {
            RejectWith::TcpReset => return None,
            RejectWith::IcmpNetUnreachable => (3, 0),
            RejectWith::IcmpHostUnreachable => (3, 1),
            RejectWith::IcmpProtoUnreachable => (3, 2),
            RejectWith::IcmpPortUnreachable => (3, 3),
            RejectWith::IcmpNetProhibited => (3, 9),
            RejectWith::IcmpHostProhibited => (3, 10),
            RejectWith::IcmpAdminProhibited => (3, 13),
            RejectWith::Icmp6NoRoute => (1, 0),
            RejectWith::Icmp6AdmProhibited => (1, 1),
            RejectWith::Icmp6AddrUnreachable => (1, 3),
            RejectWith::Icmp6PortUnreachable => (1, 4),
            RejectWith::Icmp6PolicyFail => (1, 5),
            RejectWith::Icmp6RejectRoute => (1, 6),
        })
    }
}

impl fmt::Display for RejectWith {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Why the kernel sends no reply.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum NoReply {
    /// The offending packet is not an IP packet of the reject type's family (ip6tables
    /// never sees IPv4, so the kernel never meets this).
    WrongFamily,
    /// The IP header is short or malformed (the kernel would not have delivered it).
    Malformed,
    /// `tcp-reset` for a packet that is not TCP, or whose TCP header is not all there.
    NotTcp,
    /// No RST answers a RST.
    RstForRst,
    /// A fragment other than the first.
    Fragment,
    /// The transport checksum does not verify.
    BadChecksum,
    /// The destination is broadcast or multicast (or the caller said the packet came as a
    /// broadcast).
    Broadcast,
    /// IPv6: the source is unspecified or multicast (`tcp-reset`: either address is not
    /// unicast).
    NotUnicast,
    /// The packet is an ICMP or ICMPv6 error (or its ICMP type cannot be read).
    IcmpError,
    /// The kernel's reply depends on something not modelled here (IPv4 options it echoes).
    Unmodelled,
}

impl fmt::Display for NoReply {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            NoReply::WrongFamily => "not a packet of the reject type's family",
            NoReply::Malformed => "malformed IP header",
            NoReply::NotTcp => "not a complete TCP header",
            NoReply::RstForRst => "no RST for a RST",
            NoReply::Fragment => "not the first fragment",
            NoReply::BadChecksum => "bad transport checksum",
            NoReply::Broadcast => "broadcast or multicast destination",
            NoReply::NotUnicast => "source or destination not unicast",
            NoReply::IcmpError => "no ICMP error about an ICMP error",
            NoReply::Unmodelled => "IPv4 options the kernel would echo (not modelled)",
        })
    }
}

impl std::error::Error for NoReply {}

/// What the kernel knows beyond the packet bytes.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Options {
    /// The source address of an ICMP or ICMPv6 error. None: the offending packet's
    /// destination, which is what the kernel uses when that address is one of its own
    /// (INPUT). For a forwarded packet (FORWARD) the kernel picks, by routing, the address of
    /// the interface the error leaves through towards the sender (IPv4, with
    /// `icmp_errors_use_inbound_ifaddr` 0, the default: `ip route get <sender>`'s `src`) or
    /// the preferred source address of the incoming interface for the sender (IPv6); for a
    /// locally generated packet (OUTPUT) the error goes back over loopback from the route's
    /// source towards the sender, normally the sender's own address. Ignored for
    /// `tcp-reset`, which always comes from the offending destination.
    pub reply_src: Option<IpAddr>,
    /// The TTL / hop limit: the route's hop limit metric, else the default of 64
    /// (`ip_default_ttl`, the interface's `hop_limit`).
    pub ttl: u8,
    /// Verify the transport checksum. The kernel skips it for packets whose checksum is
    /// still to be filled in by offload (locally generated, OUTPUT) and for packets the NIC
    /// has verified; a packet received with `CHECKSUM_COMPLETE` is only verified at INPUT
    /// (not FORWARD). True suits packets received on interfaces without checksum offload.
    pub verify_checksum: bool,
    /// The packet reached the host as a link-layer broadcast or multicast, or its IPv4
    /// destination is a subnet broadcast address (the kernel's `pkt_type` and route flags).
    /// 255.255.255.255, 224.0.0.0/4 and ff00::/8 are recognised without this.
    pub broadcast: bool,
}

impl Default for Options {
    fn default() -> Self {
        Options {
            reply_src: None,
            ttl: DEFAULT_TTL,
            verify_checksum: true,
            broadcast: false,
        }
    }
}

impl Options {
    /// The defaults for a packet at `hook`: checksums are not verified for locally generated
    /// packets (OUTPUT), as the kernel finds them marked `CHECKSUM_PARTIAL`.
    pub fn at_hook(hook: Hook) -> Self {
        Options {
            verify_checksum: hook != Hook::Output,
            ..Options::default()
        }
    }
}

/// Appends to `out` the reply the kernel's REJECT target sends for `offending` (an IP packet
/// from its header on), with the default [`Options`] and `reply_src`. `out` is left as it
/// was when there is no reply.
pub fn build(
    kind: RejectWith,
    offending: &[u8],
    reply_src: Option<IpAddr>,
    out: &mut Vec<u8>,
) -> Result<(), NoReply> {
    let opts = Options {
        reply_src,
        ..Options::default()
    };
    build_with(kind, offending, &opts, out)
}

/// [`build`] with every option.
pub fn build_with(
    kind: RejectWith,
    offending: &[u8],
    opts: &Options,
    out: &mut Vec<u8>,
) -> Result<(), NoReply> {
    let family = match ctguard_wire::ip::version(offending) {
        Some(4) => Family::V4,
        Some(6) => Family::V6,
        _ => return Err(NoReply::WrongFamily),
    };
    if !kind.valid_for(family) {
        return Err(NoReply::WrongFamily);
    }
    match (family, kind.icmp_type_code()) {
        (Family::V4, None) => reset_v4(offending, opts, out),
        (Family::V4, Some((_, code))) => unreach_v4(code, offending, opts, out),
        (Family::V6, None) => reset_v6(offending, opts, out),
        (Family::V6, Some((_, code))) => unreach_v6(code, offending, opts, out),
    }
}

/// The IPv4 packet cut to its total length (as `ip_rcv` trims it).
fn v4_packet(offending: &[u8]) -> Result<ipv4::Packet<&[u8]>, NoReply> {
    let p = ipv4::Packet::new_checked(offending).map_err(|_| NoReply::Malformed)?;
    let total = usize::from(p.total_len());
    if total < p.header_len() || total > offending.len() {
        return Err(NoReply::Malformed);
    }
    Ok(ipv4::Packet::new_unchecked(&offending[..total]))
}

/// The IPv6 packet cut to its payload length (a zero length, a jumbogram, is left alone).
fn v6_packet(offending: &[u8]) -> Result<&[u8], NoReply> {
    let p = ipv6::Packet::new_checked(offending).map_err(|_| NoReply::Malformed)?;
    let len = usize::from(p.payload_len());
    if len == 0 {
        return Ok(offending);
    }
    offending
        .get(..ipv6::HEADER_LEN + len)
        .ok_or(NoReply::Malformed)
}

fn v4_broadcast(addr: [u8; 4]) -> bool {
    let a = Ipv4Addr::from(addr);
    a.is_broadcast() || a.is_multicast()
}

/// The IPv4 transport checksum as `nf_ip_checksum` verifies it: TCP and UDP with the
/// pseudo-header, anything else over its bytes alone.
fn v4_l4_checksum_ok(p: &ipv4::Packet<&[u8]>, proto: u8) -> bool {
    let l4 = p.payload();
    let mut c = if proto == protocol::TCP || proto == protocol::UDP {
        checksum::pseudo_header_v4(&p.src_addr(), &p.dst_addr(), proto, l4.len() as u32)
    } else {
        Checksum::new()
    };
    c.add_bytes(l4);
    c.verifies()
}

/// `nf_ip6_checksum`: every protocol with the pseudo-header.
fn v6_l4_checksum_ok(src: &[u8; 16], dst: &[u8; 16], proto: u8, l4: &[u8]) -> bool {
    let mut c = checksum::pseudo_header_v6(src, dst, proto, l4.len() as u32);
    c.add_bytes(l4);
    c.verifies()
}

/// `nf_reject_verify_csum`: whether the protocol's checksum is checked before replying.
fn verifies_checksum(proto: u8, l4: &[u8]) -> bool {
    match proto {
        // UDP's checksum is optional: zero means none (IPv6 included, as the kernel has it).
        protocol::UDP => l4.get(6..8).is_none_or(|c| c != [0, 0]),
        protocol::GRE
        | protocol::AH
        | protocol::ESP
        | protocol::SCTP
        | protocol::UDPLITE
        | DCCP => false,
        _ => true,
    }
}

const DCCP: u8 = 33;

/// Writes the RST's TCP header (checksum included) for `oth`, a segment of `otcplen` bytes.
fn rst_header(oth: &tcp::Packet<&[u8]>, otcplen: u32, pseudo: Checksum, out: &mut Vec<u8>) {
    let at = out.len();
    let (seq, ack, flags) = if oth.flags() & tcp::flags::ACK != 0 {
        (oth.ack_number(), 0, tcp::flags::RST)
    } else {
        let syn = u32::from(oth.flags() & tcp::flags::SYN != 0);
        let fin = u32::from(oth.flags() & tcp::flags::FIN != 0);
        let payload = otcplen.wrapping_sub(oth.header_len() as u32);
        let ack = oth
            .seq_number()
            .wrapping_add(syn)
            .wrapping_add(fin)
            .wrapping_add(payload);
        (0, ack, tcp::flags::RST | tcp::flags::ACK)
    };
    out.extend_from_slice(&oth.dst_port().to_be_bytes());
    out.extend_from_slice(&oth.src_port().to_be_bytes());
    out.extend_from_slice(&seq.to_be_bytes());
    out.extend_from_slice(&ack.to_be_bytes());
    out.extend_from_slice(&[(tcp::HEADER_LEN as u8 / 4) << 4, flags, 0, 0, 0, 0, 0, 0]);
    let mut c = pseudo;
    c.add_bytes(&out[at..]);
    out[at + 16..at + 18].copy_from_slice(&c.checksum().to_be_bytes());
}

/// The fields of an IPv4 reply header (no options; the ID is 0, see the module
/// documentation).
struct V4Header {
    tos: u8,
    total: u16,
    df: bool,
    ttl: u8,
    proto: u8,
    src: [u8; 4],
    dst: [u8; 4],
}

impl V4Header {
    /// Appends the header, checksum filled in.
    fn write(&self, out: &mut Vec<u8>) {
        let at = out.len();
        out.extend_from_slice(&[0x45, self.tos]);
        out.extend_from_slice(&self.total.to_be_bytes());
        let frag = if self.df { 0x40 } else { 0 };
        out.extend_from_slice(&[0, 0, frag, 0, self.ttl, self.proto, 0, 0]);
        out.extend_from_slice(&self.src);
        out.extend_from_slice(&self.dst);
        ipv4::Packet::new_unchecked(&mut out[at..at + ipv4::HEADER_LEN]).fill_checksum();
    }
}

/// An IPv6 header with traffic class and flow label 0.
fn ipv6_header(out: &mut Vec<u8>, payload: u16, next: u8, hop: u8, src: &[u8], dst: &[u8]) {
    out.extend_from_slice(&[0x60, 0, 0, 0]);
    out.extend_from_slice(&payload.to_be_bytes());
    out.extend_from_slice(&[next, hop]);
    out.extend_from_slice(src);
    out.extend_from_slice(dst);
}

fn reset_v4(offending: &[u8], opts: &Options, out: &mut Vec<u8>) -> Result<(), NoReply> {
    let p = v4_packet(offending)?;
    if p.frag_offset() != 0 {
        return Err(NoReply::Fragment);
    }
    if p.protocol() != protocol::TCP {
        return Err(NoReply::NotTcp);
    }
    let seg = p.payload();
    let oth = tcp::Packet::new_unchecked(seg);
    if seg.len() < tcp::HEADER_LEN {
        return Err(NoReply::NotTcp);
    }
    if oth.flags() & tcp::flags::RST != 0 {
        return Err(NoReply::RstForRst);
    }
    if opts.verify_checksum && !v4_l4_checksum_ok(&p, protocol::TCP) {
        return Err(NoReply::BadChecksum);
    }
    if opts.broadcast || v4_broadcast(p.dst_addr()) {
        return Err(NoReply::Broadcast);
    }
    let (src, dst) = (p.dst_addr(), p.src_addr());
    V4Header {
        tos: 0,
        total: 40,
        df: true,
        ttl: opts.ttl,
        proto: protocol::TCP,
        src,
        dst,
    }
    .write(out);
    let pseudo = checksum::pseudo_header_v4(&src, &dst, protocol::TCP, tcp::HEADER_LEN as u32);
    rst_header(&oth, seg.len() as u32, pseudo, out);
    Ok(())
}

/// True when `__ip_options_echo` would copy something into the reply: record route,
/// timestamp, loose or strict source route, CIPSO.
fn echoes_options(opts: &[u8]) -> bool {
    let mut i = 0;
    while let Some(&ty) = opts.get(i) {
        match ty {
            0 => return false,
            1 => i += 1,
            7 | 68 | 131 | 137 | 134 => return true,
            _ => match opts.get(i + 1) {
                Some(&len) if len >= 2 => i += usize::from(len),
                _ => return false,
            },
        }
    }
    false
}

fn unreach_v4(
    code: u8,
    offending: &[u8],
    opts: &Options,
    out: &mut Vec<u8>,
) -> Result<(), NoReply> {
    let p = v4_packet(offending)?;
    if p.frag_offset() != 0 {
        return Err(NoReply::Fragment);
    }
    let proto = p.protocol();
    if opts.verify_checksum
        && verifies_checksum(proto, p.payload())
        && !v4_l4_checksum_ok(&p, proto)
    {
        return Err(NoReply::BadChecksum);
    }
    if opts.broadcast || v4_broadcast(p.dst_addr()) {
        return Err(NoReply::Broadcast);
    }
    if proto == protocol::ICMP {
        match p.payload().first() {
            Some(&ty) if ty <= icmpv4::msg_type::ADDRESS_MASK_REPLY => {
                if icmpv4::msg_type::is_error(ty) {
                    return Err(NoReply::IcmpError);
                }
            }
            _ => return Err(NoReply::IcmpError),
        }
    }
    if echoes_options(p.options()) {
        return Err(NoReply::Unmodelled);
    }
    let src = match opts.reply_src {
        Some(IpAddr::V4(a)) => a.octets(),
        Some(IpAddr::V6(_)) => return Err(NoReply::WrongFamily),
        None => p.dst_addr(),
    };
    let whole = p.into_inner();
    let room = ICMP_MAX_LEN - ipv4::HEADER_LEN - icmpv4::HEADER_LEN;
    let quoted = &whole[..whole.len().min(room)];
    V4Header {
        tos: (p.tos() & 0x1e) | 0xc0,
        total: (ipv4::HEADER_LEN + icmpv4::HEADER_LEN + quoted.len()) as u16,
        df: false,
        ttl: opts.ttl,
        proto: protocol::ICMP,
        src,
        dst: p.src_addr(),
    }
    .write(out);
    let at = out.len();
    out.extend_from_slice(&[icmpv4::msg_type::DEST_UNREACHABLE, code, 0, 0, 0, 0, 0, 0]);
    out.extend_from_slice(quoted);
    icmpv4::Packet::new_unchecked(&mut out[at..]).fill_checksum();
    Ok(())
}

/// `ipv6_addr_type(a) & IPV6_ADDR_UNICAST`: not unspecified, multicast or v4-mapped.
fn v6_unicast(a: &[u8; 16]) -> bool {
    let addr = Ipv6Addr::from(*a);
    !(addr.is_unspecified() || ipv6::is_multicast(a) || addr.to_ipv4_mapped().is_some())
}

fn reset_v6(offending: &[u8], opts: &Options, out: &mut Vec<u8>) -> Result<(), NoReply> {
    let pkt = v6_packet(offending)?;
    let h = ipv6::Packet::new_unchecked(pkt);
    let (osrc, odst) = (h.src_addr(), h.dst_addr());
    if !v6_unicast(&osrc) || !v6_unicast(&odst) {
        return Err(NoReply::NotUnicast);
    }
    let rest = &pkt[ipv6::HEADER_LEN..];
    let chain = ipv6_ext::walk(h.next_header(), rest);
    match chain.end {
        ipv6_ext::End::Upper if chain.next_header == protocol::TCP => {}
        ipv6_ext::End::NonFirstFragment => return Err(NoReply::Fragment),
        _ => return Err(NoReply::NotTcp),
    }
    let seg = rest.get(chain.offset..).unwrap_or(&[]);
    if seg.len() < tcp::HEADER_LEN {
        return Err(NoReply::NotTcp);
    }
    let oth = tcp::Packet::new_unchecked(seg);
    if oth.flags() & tcp::flags::RST != 0 {
        return Err(NoReply::RstForRst);
    }
    if opts.verify_checksum && !v6_l4_checksum_ok(&osrc, &odst, protocol::TCP, seg) {
        return Err(NoReply::BadChecksum);
    }
    ipv6_header(
        out,
        tcp::HEADER_LEN as u16,
        protocol::TCP,
        opts.ttl,
        &odst,
        &osrc,
    );
    let pseudo = checksum::pseudo_header_v6(&odst, &osrc, protocol::TCP, tcp::HEADER_LEN as u32);
    rst_header(&oth, seg.len() as u32, pseudo, out);
    Ok(())
}

fn unreach_v6(
    code: u8,
    offending: &[u8],
    opts: &Options,
    out: &mut Vec<u8>,
) -> Result<(), NoReply> {
    let pkt = v6_packet(offending)?;
    let h = ipv6::Packet::new_unchecked(pkt);
    let (osrc, odst) = (h.src_addr(), h.dst_addr());
    let rest = &pkt[ipv6::HEADER_LEN..];
    let chain = ipv6_ext::walk(h.next_header(), rest);
    // reject6_csum_ok: the transport header must be found, in the first fragment.
    match chain.end {
        ipv6_ext::End::Upper => {}
        ipv6_ext::End::NonFirstFragment => return Err(NoReply::Fragment),
        ipv6_ext::End::NoNextHeader | ipv6_ext::End::Truncated => {
            return Err(NoReply::Malformed);
        }
    }
    let l4 = rest.get(chain.offset..).unwrap_or(&[]);
    if l4.is_empty() {
        return Err(NoReply::Malformed);
    }
    let proto = chain.next_header;
    if opts.verify_checksum
        && verifies_checksum(proto, l4)
        && !v6_l4_checksum_ok(&osrc, &odst, proto, l4)
    {
        return Err(NoReply::BadChecksum);
    }
    // icmp6_send.
    if opts.broadcast || ipv6::is_multicast(&odst) {
        return Err(NoReply::Broadcast);
    }
    if Ipv6Addr::from(osrc).is_unspecified() || ipv6::is_multicast(&osrc) {
        return Err(NoReply::NotUnicast);
    }
    if proto == protocol::ICMPV6 {
        // is_ineligible: an error, or no type byte to tell (unless in a fragment).
        match l4.first() {
            Some(&ty) if !icmpv6::msg_type::is_error(ty) => {}
            // `frag_off != 0`: a first fragment with more to come.
            None if chain.fragment.is_some_and(|f| f.more || f.offset != 0) => {}
            _ => return Err(NoReply::IcmpError),
        }
    }
    let src = match opts.reply_src {
        Some(IpAddr::V6(a)) => a.octets(),
        Some(IpAddr::V4(_)) => return Err(NoReply::WrongFamily),
        None => odst,
    };
    let room = IPV6_MIN_MTU - ipv6::HEADER_LEN - icmpv6::HEADER_LEN;
    let quoted = &pkt[..pkt.len().min(room)];
    let len = icmpv6::HEADER_LEN + quoted.len();
    ipv6_header(out, len as u16, protocol::ICMPV6, opts.ttl, &src, &osrc);
    let at = out.len();
    out.extend_from_slice(&[icmpv6::msg_type::DEST_UNREACHABLE, code, 0, 0, 0, 0, 0, 0]);
    out.extend_from_slice(quoted);
    icmpv6::Packet::new_unchecked(&mut out[at..]).fill_checksum(&src, &osrc);
    Ok(())
}

#[cfg(test)]
mod tests;
