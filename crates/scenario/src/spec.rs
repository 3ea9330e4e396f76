//! One packet line, parsed into what to build (no bytes yet: see `build`).
//!
//! ```text
//! PROTO SRC > DST [FLAGS|KIND] [OPTION]...
//! ```
//! PROTO is `tcp`, `udp`, `udplite`, `icmp`, `icmp6` or `proto N`. TCP and UDP endpoints carry a port
//! (`10.99.1.100:41000`, `[fd00:99:1::100]:41000`); the others are bare addresses. TCP needs its
//! flags next (`S`, `SA`, `PA`, `FA`, `R`, `none`, …); ICMP its kind (`echo-request`, `unreach`,
//! … or `type=N`). Options are `key=value` or bare words; see the crate's README for the list.

use std::net::IpAddr;

/// Everything a packet line says.
#[derive(Clone, Debug, PartialEq)]
pub struct PacketSpec {
    pub src: IpAddr,
    pub dst: IpAddr,
    pub l4: L4,
    pub ip: IpFields,
    /// Corrupt the transport checksum.
    pub bad_sum: bool,
}

/// IP-level fields and how to send the datagram.
#[derive(Clone, Debug, PartialEq)]
pub struct IpFields {
    pub ttl: u8,
    /// IPv4 identification / IPv6 fragment identification; `None` = the default.
    pub id: Option<u32>,
    /// IPv4 don't-fragment; `None` = set unless fragmented.
    pub df: Option<bool>,
    /// IPv4 TOS byte / IPv6 traffic class.
    pub tos: u8,
    /// Split the IP payload into fragments of this many bytes.
    pub frag: Option<usize>,
    /// The fragments to send, in this order (indexes into the split; may omit or repeat).
    pub order: Option<Vec<usize>>,
    /// Corrupt the IPv4 header checksum.
    pub bad_ip_sum: bool,
}

#[derive(Clone, Debug, PartialEq)]
pub enum L4 {
    Tcp(TcpSpec),
    Udp {
        sport: u16,
        dport: u16,
        len: usize,
        /// UDP-Lite (IP protocol 136), with full checksum coverage.
        lite: bool,
    },
    Icmp(IcmpSpec),
    /// Any other IP protocol: a payload of zeros.
    Raw {
        proto: u8,
        len: usize,
    },
}

#[derive(Clone, Debug, PartialEq)]
pub struct TcpSpec {
    pub sport: u16,
    pub dport: u16,
    pub flags: TcpFlags,
    pub seq: u32,
    pub ack: u32,
    pub win: u16,
    pub urp: u16,
    pub options: Vec<TcpOpt>,
    pub len: usize,
}

#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct TcpFlags {
    pub fin: bool,
    pub syn: bool,
    pub rst: bool,
    pub psh: bool,
    pub ack: bool,
    pub urg: bool,
    pub ece: bool,
    pub cwr: bool,
    pub ns: bool,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum TcpOpt {
    Mss(u16),
    Wscale(u8),
    SackOk,
    Ts(u32, u32),
    Sack(Vec<(u32, u32)>),
}

#[derive(Clone, Debug, PartialEq)]
pub struct IcmpSpec {
    pub v6: bool,
    pub icmp_type: u8,
    pub code: u8,
    /// Bytes 5–8 of the message (echo id/seq, MTU, pointer, gateway).
    pub rest: [u8; 4],
    /// The earlier packet whose start this error message carries.
    pub quote: Option<QuoteRef>,
    /// How many bytes of the quoted datagram's IP payload to carry (default: 8 for ICMP, all for
    /// ICMPv6).
    pub quote_len: Option<usize>,
    /// Zero bytes after the quote (the data of an echo).
    pub len: usize,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum QuoteRef {
    /// `#N`: packet N of the scenario.
    Index(usize),
    /// `NAME`: a packet written with `define NAME …`.
    Name(String),
}

/// The largest payload length accepted (the IP length field's limit).
const MAX_LEN: u64 = 65_535;

/// Parses the words of a packet line after its side (or after `define NAME`).
pub fn parse(words: &[&str]) -> Result<PacketSpec, String> {
    let mut pos = 0;
    let proto = next(
        words,
        &mut pos,
        "a protocol (tcp, udp, udplite, icmp, icmp6 or proto N)",
    )?;
    let raw_proto = if proto == "proto" {
        let n = next(words, &mut pos, "an IP protocol number after `proto`")?;
        Some(number::<u8>(n, "protocol number")?)
    } else {
        None
    };
    let with_ports = matches!(proto, "tcp" | "udp" | "udplite");
    if !with_ports && raw_proto.is_none() && !matches!(proto, "icmp" | "icmp6") {
        return Err(format!(
            "unknown protocol `{proto}` (expected tcp, udp, udplite, icmp, icmp6 or proto N)"
        ));
    }
    let src = endpoint(next(words, &mut pos, "a source address")?, with_ports)?;
    let arrow = next(words, &mut pos, "`>` between source and destination")?;
    if arrow != ">" {
        return Err(format!(
            "expected `>` between source and destination, found `{arrow}` (separate it with spaces)"
        ));
    }
    let dst = endpoint(next(words, &mut pos, "a destination address")?, with_ports)?;
    if src.0.is_ipv4() != dst.0.is_ipv4() {
        return Err("source and destination are of different IP versions".into());
    }
    let v6 = src.0.is_ipv6();
    match proto {
        "icmp" if v6 => return Err("icmp with IPv6 addresses: use icmp6".into()),
        "icmp6" if !v6 => return Err("icmp6 with IPv4 addresses: use icmp".into()),
        _ => {}
    }

    let positional = match proto {
        "tcp" => Some(next(
            words,
            &mut pos,
            "TCP flags (e.g. S, SA, A, PA, FA, R, none)",
        )?),
        "icmp" | "icmp6" => Some(next(
            words,
            &mut pos,
            "an ICMP kind (echo-request, echo-reply, unreach, time-exceeded, … or type=N)",
        )?),
        _ => None,
    };
    let mut opts = Options::parse(&words[pos..])?;
    let ip = ip_fields(&mut opts, v6)?;

    let (l4, bad_sum) = match proto {
        "tcp" => {
            let spec = tcp(&mut opts, src.1, dst.1, positional.unwrap_or_default())?;
            (L4::Tcp(spec), opts.flag("badsum")?)
        }
        "udp" | "udplite" => {
            let len = opts.len()?;
            let spec = L4::Udp {
                sport: src.1,
                dport: dst.1,
                len,
                lite: proto == "udplite",
            };
            (spec, opts.flag("badsum")?)
        }
        "icmp" | "icmp6" => {
            let spec = icmp(&mut opts, v6, positional.unwrap_or_default())?;
            (L4::Icmp(spec), opts.flag("badsum")?)
        }
        _ => {
            let len = opts.len()?;
            let proto = raw_proto.unwrap_or_default();
            (L4::Raw { proto, len }, false)
        }
    };
    opts.finish(proto)?;
    Ok(PacketSpec {
        src: src.0,
        dst: dst.0,
        l4,
        ip,
        bad_sum,
    })
}

fn next<'a>(words: &[&'a str], pos: &mut usize, what: &str) -> Result<&'a str, String> {
    let word = words
        .get(*pos)
        .ok_or_else(|| format!("line ends where {what} was expected"))?;
    *pos += 1;
    Ok(word)
}

/// An address, with a port when `with_port`: `10.0.0.1:80`, `[fd00::1]:80`, `10.0.0.1`, `fd00::1`.
fn endpoint(word: &str, with_port: bool) -> Result<(IpAddr, u16), String> {
    if !with_port {
        let addr = word
            .parse::<IpAddr>()
            .map_err(|_| format!("`{word}` is not an IP address"))?;
        return Ok((addr, 0));
    }
    let (addr, port) = if let Some(rest) = word.strip_prefix('[') {
        let (a, p) = rest
            .split_once("]:")
            .ok_or_else(|| format!("`{word}`: write an IPv6 endpoint as [ADDR]:PORT"))?;
        let addr = a
            .parse::<std::net::Ipv6Addr>()
            .map_err(|_| format!("`{a}` is not an IPv6 address"))?;
        (IpAddr::V6(addr), p)
    } else {
        let (a, p) = word
            .rsplit_once(':')
            .ok_or_else(|| format!("`{word}`: expected ADDR:PORT"))?;
        if a.contains(':') {
            return Err(format!("`{word}`: write an IPv6 endpoint as [ADDR]:PORT"));
        }
        let addr = a
            .parse::<std::net::Ipv4Addr>()
            .map_err(|_| format!("`{a}` is not an IPv4 address"))?;
        (IpAddr::V4(addr), p)
    };
    Ok((addr, number::<u16>(port, "port")?))
}

/// A number in decimal or `0x` hex, in the range of `T`.
pub fn number<T: TryFrom<u64>>(word: &str, what: &str) -> Result<T, String> {
    let parsed = match word.strip_prefix("0x") {
        Some(hex) => u64::from_str_radix(hex, 16),
        None => word.parse::<u64>(),
    };
    let value = parsed.map_err(|_| format!("{what} `{word}` is not a number"))?;
    T::try_from(value).map_err(|_| format!("{what} {value} is out of range"))
}

fn ip_fields(opts: &mut Options<'_>, v6: bool) -> Result<IpFields, String> {
    let ttl_key = if v6 { "hlim" } else { "ttl" };
    let ttl = opts.num::<u8>(ttl_key)?.unwrap_or(64);
    let id = opts.num::<u32>("id")?;
    let (df, nodf) = (opts.flag("df")?, opts.flag("nodf")?);
    let bad_ip_sum = opts.flag("badipsum")?;
    if v6 && (df || nodf || bad_ip_sum) {
        return Err("df, nodf and badipsum are IPv4 options".into());
    }
    if !v6 && id.is_some_and(|id| id > u32::from(u16::MAX)) {
        return Err("id: an IPv4 identification is at most 65535".into());
    }
    if df && nodf {
        return Err("both df and nodf".into());
    }
    let frag = opts.num::<usize>("frag")?;
    if let Some(size) = frag
        && (size == 0 || size % 8 != 0)
    {
        return Err(format!(
            "frag={size}: the fragment size must be a positive multiple of 8"
        ));
    }
    let order = match opts.value("order")? {
        None => None,
        Some(list) => {
            if frag.is_none() {
                return Err("order= needs frag=".into());
            }
            let order = list
                .split(',')
                .map(|n| number::<usize>(n, "fragment index"))
                .collect::<Result<Vec<_>, _>>()?;
            Some(order)
        }
    };
    Ok(IpFields {
        ttl,
        id,
        df: if df {
            Some(true)
        } else if nodf {
            Some(false)
        } else {
            None
        },
        tos: opts.num::<u8>("tos")?.unwrap_or(0),
        frag,
        order,
        bad_ip_sum,
    })
}

fn tcp(opts: &mut Options<'_>, sport: u16, dport: u16, flags: &str) -> Result<TcpSpec, String> {
    let flags = tcp_flags(flags)?;
    let mut spec = TcpSpec {
        sport,
        dport,
        flags,
        seq: opts.num("seq")?.unwrap_or(0),
        ack: opts.num("ack")?.unwrap_or(0),
        win: opts.num("win")?.unwrap_or(64_240),
        urp: opts.num("urp")?.unwrap_or(0),
        options: Vec::new(),
        len: opts.len()?,
    };
    for (key, value) in opts.take_in_order(&["mss", "wscale", "sackok", "ts", "sack"])? {
        let option = match (key, value) {
            ("mss", Some(v)) => TcpOpt::Mss(number(v, "mss")?),
            ("wscale", Some(v)) => TcpOpt::Wscale(number(v, "wscale")?),
            ("sackok", None) => TcpOpt::SackOk,
            ("ts", Some(v)) => {
                let (val, ecr) = v
                    .split_once(':')
                    .ok_or_else(|| format!("ts={v}: expected ts=VALUE:ECHO"))?;
                TcpOpt::Ts(number(val, "ts value")?, number(ecr, "ts echo")?)
            }
            ("sack", Some(v)) => {
                let blocks = v
                    .split(',')
                    .map(|block| {
                        let (l, r) = block
                            .split_once('-')
                            .ok_or_else(|| format!("sack block `{block}`: expected LEFT-RIGHT"))?;
                        Ok((number(l, "sack left edge")?, number(r, "sack right edge")?))
                    })
                    .collect::<Result<Vec<_>, String>>()?;
                if blocks.len() > 4 {
                    return Err("sack= takes at most 4 blocks".into());
                }
                TcpOpt::Sack(blocks)
            }
            ("sackok", Some(_)) => return Err("sackok takes no value".into()),
            (k, None) => return Err(format!("{k} needs a value ({k}=…)")),
            (k, Some(_)) => return Err(format!("unexpected option {k}")),
        };
        spec.options.push(option);
    }
    Ok(spec)
}

fn tcp_flags(word: &str) -> Result<TcpFlags, String> {
    let mut flags = TcpFlags::default();
    if word == "none" {
        return Ok(flags);
    }
    for c in word.chars() {
        let slot = match c {
            'F' => &mut flags.fin,
            'S' => &mut flags.syn,
            'R' => &mut flags.rst,
            'P' => &mut flags.psh,
            'A' => &mut flags.ack,
            'U' => &mut flags.urg,
            'E' => &mut flags.ece,
            'C' => &mut flags.cwr,
            'N' => &mut flags.ns,
            _ => {
                return Err(format!(
                    "TCP flags `{word}`: use the letters S A F R P U E C N, or `none`"
                ));
            }
        };
        if *slot {
            return Err(format!("TCP flags `{word}`: `{c}` twice"));
        }
        *slot = true;
    }
    Ok(flags)
}

/// ICMP kinds by name: (name, ICMP type, ICMPv6 type).
pub(crate) const ICMP_KINDS: &[(&str, Option<u8>, Option<u8>)] = &[
    ("echo-reply", Some(0), Some(129)),
    ("unreach", Some(3), Some(1)),
    ("source-quench", Some(4), None),
    ("redirect", Some(5), Some(137)),
    ("echo-request", Some(8), Some(128)),
    ("time-exceeded", Some(11), Some(3)),
    ("param-problem", Some(12), Some(4)),
    ("timestamp-request", Some(13), None),
    ("timestamp-reply", Some(14), None),
    ("too-big", None, Some(2)),
];

fn icmp(opts: &mut Options<'_>, v6: bool, kind: &str) -> Result<IcmpSpec, String> {
    let icmp_type = if let Some(n) = kind.strip_prefix("type=") {
        number::<u8>(n, "ICMP type")?
    } else {
        let found = ICMP_KINDS.iter().find(|(name, _, _)| *name == kind);
        let names: Vec<&str> = ICMP_KINDS
            .iter()
            .filter(|(_, t4, t6)| if v6 { t6.is_some() } else { t4.is_some() })
            .map(|(name, _, _)| *name)
            .collect();
        let t = found.and_then(|(_, t4, t6)| if v6 { *t6 } else { *t4 });
        t.ok_or_else(|| {
            format!(
                "unknown ICMP kind `{kind}` (known: {}, type=N)",
                names.join(", ")
            )
        })?
    };
    let mut rest = [0u8; 4];
    if let Some(id) = opts.num::<u16>("id")? {
        rest[..2].copy_from_slice(&id.to_be_bytes());
    }
    if let Some(seq) = opts.num::<u16>("seq")? {
        rest[2..].copy_from_slice(&seq.to_be_bytes());
    }
    if let Some(mtu) = opts.num::<u32>("mtu")? {
        if v6 {
            rest = mtu.to_be_bytes();
        } else {
            let mtu = u16::try_from(mtu).map_err(|_| "mtu: at most 65535 for ICMP")?;
            rest[2..].copy_from_slice(&mtu.to_be_bytes());
        }
    }
    if let Some(pointer) = opts.num::<u32>("pointer")? {
        if v6 {
            rest = pointer.to_be_bytes();
        } else {
            rest[0] = u8::try_from(pointer).map_err(|_| "pointer: at most 255 for ICMP")?;
        }
    }
    if let Some(gw) = opts.value("gateway")? {
        let addr = gw
            .parse::<std::net::Ipv4Addr>()
            .map_err(|_| format!("gateway `{gw}` is not an IPv4 address"))?;
        rest = addr.octets();
    }
    let quote = match opts.value("quote")? {
        None => None,
        Some(q) => Some(match q.strip_prefix('#') {
            Some(n) => QuoteRef::Index(number(n, "quoted packet number")?),
            None if !q.is_empty() => QuoteRef::Name(q.to_string()),
            None => return Err("quote= needs #N or a defined name".into()),
        }),
    };
    let quote_len = opts.num::<usize>("quote-len")?;
    if quote_len.is_some() && quote.is_none() {
        return Err("quote-len= needs quote=".into());
    }
    Ok(IcmpSpec {
        v6,
        icmp_type,
        code: opts.num("code")?.unwrap_or(0),
        rest,
        quote,
        quote_len,
        len: opts.len()?,
    })
}

/// The options of a line: `key=value` or bare words, each at most once.
struct Options<'a> {
    items: Vec<(&'a str, Option<&'a str>)>,
    used: Vec<bool>,
}

impl<'a> Options<'a> {
    fn parse(words: &[&'a str]) -> Result<Self, String> {
        let mut items: Vec<(&'a str, Option<&'a str>)> = Vec::new();
        for word in words {
            let (key, value) = match word.split_once('=') {
                Some((k, v)) => (k, Some(v)),
                None => (*word, None),
            };
            if key.is_empty() {
                return Err(format!("`{word}`: option without a name"));
            }
            if items.iter().any(|(k, _)| *k == key) {
                return Err(format!("option `{key}` given twice"));
            }
            items.push((key, value));
        }
        let used = vec![false; items.len()];
        Ok(Options { items, used })
    }

    fn find(&mut self, key: &str) -> Option<Option<&'a str>> {
        let at = self.items.iter().position(|(k, _)| *k == key)?;
        self.used[at] = true;
        Some(self.items[at].1)
    }

    fn value(&mut self, key: &str) -> Result<Option<&'a str>, String> {
        match self.find(key) {
            None => Ok(None),
            Some(None) => Err(format!("{key} needs a value ({key}=…)")),
            Some(Some(v)) => Ok(Some(v)),
        }
    }

    fn flag(&mut self, key: &str) -> Result<bool, String> {
        match self.find(key) {
            None => Ok(false),
            Some(None) => Ok(true),
            Some(Some(_)) => Err(format!("{key} takes no value")),
        }
    }

    fn num<T: TryFrom<u64>>(&mut self, key: &str) -> Result<Option<T>, String> {
        self.value(key)?.map(|v| number(v, key)).transpose()
    }

    /// `len=N`, the payload length (at most 65535).
    fn len(&mut self) -> Result<usize, String> {
        let len = self.num::<u64>("len")?.unwrap_or(0);
        if len > MAX_LEN {
            return Err(format!("len={len}: at most {MAX_LEN}"));
        }
        Ok(len as usize)
    }

    /// The given keys, in the order the line wrote them.
    fn take_in_order(&mut self, keys: &[&str]) -> Result<Vec<(&'a str, Option<&'a str>)>, String> {
        let mut taken = Vec::new();
        for (at, (key, value)) in self.items.iter().enumerate() {
            if keys.contains(key) {
                self.used[at] = true;
                taken.push((*key, *value));
            }
        }
        Ok(taken)
    }

    fn finish(self, proto: &str) -> Result<(), String> {
        let unknown: Vec<&str> = self
            .items
            .iter()
            .zip(&self.used)
            .filter(|(_, used)| !**used)
            .map(|((k, _), _)| *k)
            .collect();
        if unknown.is_empty() {
            Ok(())
        } else {
            Err(format!(
                "unknown option(s) for {proto}: {} (see conformance/README.md)",
                unknown.join(", ")
            ))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn words(s: &str) -> Vec<&str> {
        s.split_whitespace().collect()
    }

    #[test]
    fn parses_a_syn_with_options() {
        let spec = parse(&words(
            "tcp 10.99.1.100:41000 > 10.99.2.100:80 S seq=1000 win=64240 mss=1460 wscale=7 sackok",
        ))
        .unwrap();
        let L4::Tcp(tcp) = spec.l4 else { panic!() };
        assert!(tcp.flags.syn && !tcp.flags.ack);
        assert_eq!((tcp.sport, tcp.dport, tcp.seq), (41000, 80, 1000));
        assert_eq!(
            tcp.options,
            vec![TcpOpt::Mss(1460), TcpOpt::Wscale(7), TcpOpt::SackOk]
        );
    }

    #[test]
    fn parses_ipv6_endpoints_and_icmp() {
        let spec = parse(&words(
            "udp [fd00:99:1::100]:5000 > [fd00:99:2::100]:53 len=30",
        ))
        .unwrap();
        assert!(spec.src.is_ipv6());
        let spec = parse(&words(
            "icmp6 fd00:99:2::100 > fd00:99:1::100 unreach code=4 quote=#3",
        ))
        .unwrap();
        let L4::Icmp(icmp) = spec.l4 else { panic!() };
        assert_eq!((icmp.icmp_type, icmp.code), (1, 4));
        assert_eq!(icmp.quote, Some(QuoteRef::Index(3)));
    }

    #[test]
    fn explains_mistakes() {
        for (line, expected) in [
            ("tcp 10.0.0.1:1 > 10.0.0.2:2 X", "TCP flags"),
            ("tcp 10.0.0.1:1 10.0.0.2:2 S", "expected `>`"),
            ("tcp 10.0.0.1 > 10.0.0.2:2 S", "ADDR:PORT"),
            ("tcp 10.0.0.1:1 > 10.0.0.2:99999 S", "out of range"),
            ("tcp 10.0.0.1:1 > 10.0.0.2:2 S bogus=1", "unknown option"),
            ("tcp 10.0.0.1:1 > 10.0.0.2:2 S seq=1 seq=2", "twice"),
            ("tcp 10.0.0.1:1 > 10.0.0.2:2", "line ends"),
            ("udp 10.0.0.1:1 > [fd00::1]:2", "different IP versions"),
            ("icmp fd00::1 > fd00::2 echo-request", "use icmp6"),
            ("icmp 10.0.0.1 > 10.0.0.2 too-big", "unknown ICMP kind"),
            ("udp 10.0.0.1:1 > 10.0.0.2:2 frag=10", "multiple of 8"),
            ("udp 10.0.0.1:1 > 10.0.0.2:2 order=1,0", "needs frag"),
            ("sctp 10.0.0.1 > 10.0.0.2", "unknown protocol"),
            ("proto 300 10.0.0.1 > 10.0.0.2", "out of range"),
            ("udp 10.0.0.1:1 > 10.0.0.2:2 len=70000", "at most"),
        ] {
            let err = parse(&words(line)).unwrap_err();
            assert!(err.contains(expected), "{line}: {err}");
        }
    }
}
