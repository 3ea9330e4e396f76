//! Protocol, service and ICMP names, and the numbers they stand for.
//!
//! iptables asks the C library (`/etc/protocols`, `/etc/services`) for names it does not know
//! itself. ctguard does not read those files, so that a rule set means the same on every
//! machine: it carries the protocol names of Debian's netbase 6.4 `/etc/protocols` (IANA's
//! numbers) and the common service names below. A service name missing here is refused with
//! iptables' message for an unknown service; write the port number instead.

/// The names iptables knows without `/etc/protocols` (its built-in list).
const BUILTIN_PROTOS: &[(&str, u8)] = &[
    ("tcp", 6),
    ("sctp", 132),
    ("udp", 17),
    ("udplite", 136),
    ("icmp", 1),
    ("icmpv6", 58),
    ("ipv6-icmp", 58),
    ("esp", 50),
    ("ah", 51),
    ("mh", 135),
    ("all", 0),
];

/// netbase 6.4 `/etc/protocols`: the first name of each number.
const ETC_PROTOCOLS: &[(&str, u8)] = &[
    ("ip", 0),
    ("icmp", 1),
    ("igmp", 2),
    ("ggp", 3),
    ("ipencap", 4),
    ("st", 5),
    ("tcp", 6),
    ("egp", 8),
    ("igp", 9),
    ("pup", 12),
    ("udp", 17),
    ("hmp", 20),
    ("xns-idp", 22),
    ("rdp", 27),
    ("iso-tp4", 29),
    ("dccp", 33),
    ("xtp", 36),
    ("ddp", 37),
    ("idpr-cmtp", 38),
    ("ipv6", 41),
    ("ipv6-route", 43),
    ("ipv6-frag", 44),
    ("idrp", 45),
    ("rsvp", 46),
    ("gre", 47),
    ("esp", 50),
    ("ah", 51),
    ("skip", 57),
    ("ipv6-icmp", 58),
    ("ipv6-nonxt", 59),
    ("ipv6-opts", 60),
    ("rspf", 73),
    ("vmtp", 81),
    ("eigrp", 88),
    ("ospf", 89),
    ("ax.25", 93),
    ("ipip", 94),
    ("etherip", 97),
    ("encap", 98),
    ("pim", 103),
    ("ipcomp", 108),
    ("vrrp", 112),
    ("l2tp", 115),
    ("isis", 124),
    ("sctp", 132),
    ("fc", 133),
    ("mobility-header", 135),
    ("udplite", 136),
    ("mpls-in-ip", 137),
    ("manet", 138),
    ("hip", 139),
    ("shim6", 140),
    ("wesp", 141),
    ("rohc", 142),
    ("ethernet", 143),
];

pub const IPPROTO_ICMP: u8 = 1;
pub const IPPROTO_TCP: u8 = 6;
pub const IPPROTO_UDP: u8 = 17;
pub const IPPROTO_ICMPV6: u8 = 58;
pub const IPPROTO_UDPLITE: u8 = 136;
pub const IPPROTO_SCTP: u8 = 132;
pub const IPPROTO_DCCP: u8 = 33;

/// `-p` argument: a number 0-255 or a name, case-insensitive (`-p TCP` is tcp).
pub fn parse_protocol(s: &str) -> Result<u8, String> {
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return match s.parse::<u32>() {
            Ok(n) if n <= 255 => Ok(n as u8),
            _ => Err(format!("unknown protocol \"{s}\" specified")),
        };
    }
    let lower = s.to_ascii_lowercase();
    BUILTIN_PROTOS
        .iter()
        .chain(ETC_PROTOCOLS)
        .find(|(n, _)| *n == lower)
        .map(|&(_, p)| p)
        .ok_or_else(|| format!("unknown protocol \"{s}\" specified"))
}

/// How iptables-save prints a protocol number (`-p 47` prints `-p gre`, 200 prints `200`).
pub fn protocol_name(p: u8) -> String {
    ETC_PROTOCOLS
        .iter()
        .find(|&&(n, num)| num == p && n != "ip")
        .map(|&(n, _)| n.to_string())
        .unwrap_or_else(|| p.to_string())
}

/// Service names (IANA), with the transports they are registered for.
const SERVICES: &[(&str, u16, bool, bool)] = &[
    // name, port, tcp, udp
    ("ftp-data", 20, true, false),
    ("ftp", 21, true, false),
    ("ssh", 22, true, false),
    ("telnet", 23, true, false),
    ("smtp", 25, true, false),
    ("domain", 53, true, true),
    ("bootps", 67, false, true),
    ("bootpc", 68, false, true),
    ("tftp", 69, false, true),
    ("http", 80, true, false),
    ("www", 80, true, false),
    ("kerberos", 88, true, true),
    ("pop3", 110, true, false),
    ("sunrpc", 111, true, true),
    ("ntp", 123, false, true),
    ("netbios-ns", 137, false, true),
    ("netbios-dgm", 138, false, true),
    ("netbios-ssn", 139, true, false),
    ("imap2", 143, true, false),
    ("imap", 143, true, false),
    ("snmp", 161, true, true),
    ("ldap", 389, true, true),
    ("https", 443, true, true),
    ("microsoft-ds", 445, true, false),
    ("submissions", 465, true, false),
    ("smtps", 465, true, false),
    ("isakmp", 500, false, true),
    ("syslog", 514, false, true),
    ("submission", 587, true, false),
    ("ldaps", 636, true, true),
    ("rsync", 873, true, false),
    ("imaps", 993, true, false),
    ("pop3s", 995, true, false),
    ("openvpn", 1194, true, true),
    ("ms-sql-s", 1433, true, false),
    ("nfs", 2049, true, true),
    ("mysql", 3306, true, false),
    ("ms-wbt-server", 3389, true, false),
    ("ipsec-nat-t", 4500, false, true),
    ("sip", 5060, true, true),
    ("postgresql", 5432, true, false),
    ("http-alt", 8080, true, false),
];

/// A port number or a service name for the given transport ("tcp" or "udp"; other
/// protocols look names up as tcp, as iptables' multiport does for sctp/dccp).
pub fn parse_port(s: &str, proto: u8) -> Result<u16, String> {
    let bad = || format!("invalid port/service `{s}' specified");
    if !s.is_empty() && s.bytes().all(|b| b.is_ascii_digit()) {
        return s.parse::<u16>().map_err(|_| bad());
    }
    SERVICES
        .iter()
        .find(|&&(n, _, tcp, udp)| {
            n == s
                && match proto {
                    IPPROTO_UDP | IPPROTO_UDPLITE => udp,
                    _ => tcp,
                }
        })
        .map(|&(_, p, _, _)| p)
        .ok_or_else(bad)
}

/// An ICMP or ICMPv6 type name: (name, type, code range).
pub type IcmpName = (&'static str, u8, u8, u8);

/// The names iptables' icmp match knows (type, code min, code max).
pub const ICMP_NAMES: &[IcmpName] = &[
    ("any", 0xff, 0, 0xff),
    ("echo-reply", 0, 0, 0xff),
    ("pong", 0, 0, 0xff),
    ("destination-unreachable", 3, 0, 0xff),
    ("network-unreachable", 3, 0, 0),
    ("host-unreachable", 3, 1, 1),
    ("protocol-unreachable", 3, 2, 2),
    ("port-unreachable", 3, 3, 3),
    ("fragmentation-needed", 3, 4, 4),
    ("source-route-failed", 3, 5, 5),
    ("network-unknown", 3, 6, 6),
    ("host-unknown", 3, 7, 7),
    ("network-prohibited", 3, 9, 9),
    ("host-prohibited", 3, 10, 10),
    ("TOS-network-unreachable", 3, 11, 11),
    ("TOS-host-unreachable", 3, 12, 12),
    ("communication-prohibited", 3, 13, 13),
    ("host-precedence-violation", 3, 14, 14),
    ("precedence-cutoff", 3, 15, 15),
    ("source-quench", 4, 0, 0xff),
    ("redirect", 5, 0, 0xff),
    ("network-redirect", 5, 0, 0),
    ("host-redirect", 5, 1, 1),
    ("TOS-network-redirect", 5, 2, 2),
    ("TOS-host-redirect", 5, 3, 3),
    ("echo-request", 8, 0, 0xff),
    ("ping", 8, 0, 0xff),
    ("router-advertisement", 9, 0, 0xff),
    ("router-solicitation", 10, 0, 0xff),
    ("time-exceeded", 11, 0, 0xff),
    ("ttl-exceeded", 11, 0, 0xff),
    ("ttl-zero-during-transit", 11, 0, 0),
    ("ttl-zero-during-reassembly", 11, 1, 1),
    ("parameter-problem", 12, 0, 0xff),
    ("ip-header-bad", 12, 0, 0),
    ("required-option-missing", 12, 1, 1),
    ("timestamp-request", 13, 0, 0xff),
    ("timestamp-reply", 14, 0, 0xff),
    ("address-mask-request", 17, 0, 0xff),
    ("address-mask-reply", 18, 0, 0xff),
];

/// The names iptables' icmp6 match knows.
pub const ICMPV6_NAMES: &[IcmpName] = &[
    ("destination-unreachable", 1, 0, 0xff),
    ("no-route", 1, 0, 0),
    ("communication-prohibited", 1, 1, 1),
    ("beyond-scope", 1, 2, 2),
    ("address-unreachable", 1, 3, 3),
    ("port-unreachable", 1, 4, 4),
    ("failed-policy", 1, 5, 5),
    ("reject-route", 1, 6, 6),
    ("packet-too-big", 2, 0, 0xff),
    ("time-exceeded", 3, 0, 0xff),
    ("ttl-exceeded", 3, 0, 0xff),
    ("ttl-zero-during-transit", 3, 0, 0),
    ("ttl-zero-during-reassembly", 3, 1, 1),
    ("parameter-problem", 4, 0, 0xff),
    ("bad-header", 4, 0, 0),
    ("unknown-header-type", 4, 1, 1),
    ("unknown-option", 4, 2, 2),
    ("echo-request", 128, 0, 0xff),
    ("ping", 128, 0, 0xff),
    ("echo-reply", 129, 0, 0xff),
    ("pong", 129, 0, 0xff),
    ("mld-listener-query", 130, 0, 0xff),
    ("mld-listener-report", 131, 0, 0xff),
    ("mld-listener-done", 132, 0, 0xff),
    ("router-solicitation", 133, 0, 0xff),
    ("router-advertisement", 134, 0, 0xff),
    ("neighbour-solicitation", 135, 0, 0xff),
    ("neighbor-solicitation", 135, 0, 0xff),
    ("neighbour-advertisement", 136, 0, 0xff),
    ("neighbor-advertisement", 136, 0, 0xff),
    ("redirect", 137, 0, 0xff),
];

/// `--icmp-type` / `--icmpv6-type`: a name (or an unambiguous prefix of one, as iptables
/// allows), `type` or `type/code`. Returns (type, code min, code max).
pub fn parse_icmp_type(s: &str, names: &[IcmpName], what: &str) -> Result<(u8, u8, u8), String> {
    let mut found: Option<&IcmpName> = None;
    for n in names {
        if n.0.eq_ignore_ascii_case(s) {
            found = Some(n);
            break;
        }
        if s.len() <= n.0.len() && n.0[..s.len()].eq_ignore_ascii_case(s) && !s.is_empty() {
            if let Some(prev) = found
                && (prev.1, prev.2, prev.3) != (n.1, n.2, n.3)
            {
                return Err(format!(
                    "Ambiguous {what} type `{s}': `{}' or `{}'?",
                    prev.0, n.0
                ));
            }
            found = Some(n);
        }
    }
    if let Some(n) = found {
        return Ok((n.1, n.2, n.3));
    }
    let num = |t: &str| -> Option<u8> {
        if t.is_empty() || !t.bytes().all(|b| b.is_ascii_digit()) {
            return None;
        }
        t.parse::<u8>().ok()
    };
    match s.split_once('/') {
        Some((t, c)) => {
            let ty = num(t).ok_or_else(|| format!("Invalid {what} type `{s}'"))?;
            let code = num(c).ok_or_else(|| format!("Unknown {what} code `{s}'"))?;
            Ok((ty, code, code))
        }
        None => {
            let ty = num(s).ok_or_else(|| format!("Invalid {what} type `{s}'"))?;
            Ok((ty, 0, 0xff))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn protocols_parse_by_name_number_and_case() {
        assert_eq!(parse_protocol("tcp"), Ok(6));
        assert_eq!(parse_protocol("TCP"), Ok(6));
        assert_eq!(parse_protocol("icmpv6"), Ok(58));
        assert_eq!(parse_protocol("ipv6-icmp"), Ok(58));
        assert_eq!(parse_protocol("gre"), Ok(47));
        assert_eq!(parse_protocol("all"), Ok(0));
        assert_eq!(parse_protocol("47"), Ok(47));
        assert!(parse_protocol("256").is_err());
        assert!(parse_protocol("nope").is_err());
    }

    #[test]
    fn protocols_print_as_iptables_save_does() {
        // Recorded: -p 47 -> gre, -p 2 -> igmp, -p 4 -> ipencap, -p 41 -> ipv6,
        // -p 136 -> udplite, -p 58 -> ipv6-icmp, -p 43 -> ipv6-route, -p 200 -> 200.
        for (n, name) in [
            (47, "gre"),
            (2, "igmp"),
            (4, "ipencap"),
            (41, "ipv6"),
            (136, "udplite"),
            (58, "ipv6-icmp"),
            (43, "ipv6-route"),
            (200, "200"),
            (255, "255"),
        ] {
            assert_eq!(protocol_name(n), name);
        }
    }

    #[test]
    fn services_depend_on_the_transport() {
        assert_eq!(parse_port("ssh", IPPROTO_TCP), Ok(22));
        assert_eq!(parse_port("domain", IPPROTO_UDP), Ok(53));
        // iptables-restore v1.8.9: `-p udp -m multiport --dports 53,http` -> invalid port/service `http'.
        assert_eq!(
            parse_port("http", IPPROTO_UDP).unwrap_err(),
            "invalid port/service `http' specified"
        );
        assert_eq!(
            parse_port("70000", IPPROTO_TCP).unwrap_err(),
            "invalid port/service `70000' specified"
        );
    }

    #[test]
    fn icmp_names_numbers_and_prefixes() {
        assert_eq!(
            parse_icmp_type("echo-request", ICMP_NAMES, "ICMP"),
            Ok((8, 0, 255))
        );
        assert_eq!(
            parse_icmp_type("port-unreachable", ICMP_NAMES, "ICMP"),
            Ok((3, 3, 3))
        );
        assert_eq!(
            parse_icmp_type("any", ICMP_NAMES, "ICMP"),
            Ok((255, 0, 255))
        );
        assert_eq!(parse_icmp_type("3/3", ICMP_NAMES, "ICMP"), Ok((3, 3, 3)));
        assert_eq!(parse_icmp_type("8", ICMP_NAMES, "ICMP"), Ok((8, 0, 255)));
        assert_eq!(
            parse_icmp_type("echo-req", ICMP_NAMES, "ICMP"),
            Ok((8, 0, 255))
        );
        assert!(
            parse_icmp_type("echo-", ICMP_NAMES, "ICMP")
                .unwrap_err()
                .starts_with("Ambiguous")
        );
        assert_eq!(
            parse_icmp_type("5/", ICMP_NAMES, "ICMP").unwrap_err(),
            "Unknown ICMP code `5/'"
        );
        assert_eq!(
            parse_icmp_type("neighbor-solicitation", ICMPV6_NAMES, "ICMPv6"),
            Ok((135, 0, 255))
        );
    }
}
