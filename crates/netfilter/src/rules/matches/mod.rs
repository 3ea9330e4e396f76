//! Match modules (`-m NAME`): one file each, with its options, its evaluation against a
//! [`PacketCtx`] and its `iptables-save` form.
//!
//! Every module has the same shape (the [`Module`] trait): `parse_option` takes one option
//! (with its `!`), `finish` checks what the whole rule needs (required options, `-p`),
//! `matches` evaluates a packet, `save` prints the options exactly as `iptables-save` does.
//! The option wording of errors follows iptables v1.8.9.

mod addrtype;
mod comment;
mod connlimit;
mod connmark;
mod conntrack;
mod hashlimit;
mod hl;
mod icmp;
mod icmp6;
mod iprange;
mod length;
mod limit;
mod mark;
mod multiport;
pub(crate) mod ports;
mod recent;
mod state;
mod tcp;
mod ttl;
mod udp;

pub use addrtype::Addrtype;
pub use comment::Comment;
pub use connlimit::Connlimit;
pub use connmark::Connmark;
pub use conntrack::Conntrack;
pub use hashlimit::{Hashlimit, HashlimitConfig, HashlimitTables};
pub use hl::Hl;
pub use icmp::Icmp;
pub use icmp6::Icmp6;
pub use iprange::Iprange;
pub use length::Length;
pub use limit::Limit;
pub use mark::Mark;
pub use multiport::{Multiport, PortSpec, Side};
pub use ports::PortRange;
pub use recent::{Recent, RecentTables};
pub use state::{State, StateMask};
pub use tcp::Tcp;
pub use ttl::{Ttl, TtlOp};
pub use udp::Udp;

use crate::hook::{Family, Hook};
use crate::packet::PacketCtx;
use crate::rules::names::{IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_TCP, IPPROTO_UDP};
use crate::rules::state::MatchState;
use crate::rules::words::Words;

/// What a module needs to know of the rule while parsing: the family and the `-p` seen so far.
#[derive(Copy, Clone, Debug)]
pub struct ParseCtx {
    pub family: Family,
    /// `-p` (0 for `all`), if given yet.
    pub proto: Option<u8>,
    pub proto_inverted: bool,
}

impl ParseCtx {
    /// The protocol a rule is restricted to: `-p X` without `!`, X not `all`.
    pub fn exact_proto(&self) -> Option<u8> {
        match self.proto {
            Some(p) if p != 0 && !self.proto_inverted => Some(p),
            _ => None,
        }
    }
}

/// The interface each module implements.
pub(crate) trait Module {
    /// Takes `opt` (with its `!` when `invert`) and its arguments from `w`. `Ok(false)`: not an
    /// option of this module.
    fn parse_option(
        &mut self,
        opt: &str,
        invert: bool,
        w: &mut Words<'_>,
        ctx: &ParseCtx,
    ) -> Result<bool, String>;

    /// Checks the module's options once the rule is complete.
    fn finish(&mut self, _ctx: &ParseCtx) -> Result<(), String> {
        Ok(())
    }

    fn matches(&mut self, pkt: &PacketCtx<'_>, state: &mut MatchState) -> bool;

    /// Appends ` --opt value...` in iptables-save's order and spelling.
    fn save(&self, out: &mut String);
}

/// The error for an option given twice.
pub(crate) fn once(module: &str, opt: &str, seen: bool) -> Result<(), String> {
    if seen {
        Err(format!("{module}: option \"{opt}\" can only be used once."))
    } else {
        Ok(())
    }
}

/// The error for `!` before an option that has no inverse.
pub(crate) fn no_invert(module: &str, opt: &str, invert: bool) -> Result<(), String> {
    if invert {
        Err(format!("{module}: option \"{opt}\" cannot be inverted."))
    } else {
        Ok(())
    }
}

/// `" !"` when inverted, for the save form.
pub(crate) fn bang(out: &mut String, invert: bool) {
    if invert {
        out.push_str(" !");
    }
}

/// One `-m` match of a rule.
#[derive(Clone, Debug)]
pub enum Match {
    Tcp(Tcp),
    Udp(Udp),
    Icmp(Icmp),
    Icmp6(Icmp6),
    Multiport(Multiport),
    State(State),
    Conntrack(Conntrack),
    Mark(Mark),
    Connmark(Connmark),
    Comment(Comment),
    Limit(Limit),
    Hashlimit(Hashlimit),
    Connlimit(Connlimit),
    Recent(Recent),
    Iprange(Iprange),
    Addrtype(Addrtype),
    Length(Length),
    Ttl(Ttl),
    Hl(Hl),
}

macro_rules! each {
    ($self:expr, $m:ident => $e:expr) => {
        match $self {
            Match::Tcp($m) => $e,
            Match::Udp($m) => $e,
            Match::Icmp($m) => $e,
            Match::Icmp6($m) => $e,
            Match::Multiport($m) => $e,
            Match::State($m) => $e,
            Match::Conntrack($m) => $e,
            Match::Mark($m) => $e,
            Match::Connmark($m) => $e,
            Match::Comment($m) => $e,
            Match::Limit($m) => $e,
            Match::Hashlimit($m) => $e,
            Match::Connlimit($m) => $e,
            Match::Recent($m) => $e,
            Match::Iprange($m) => $e,
            Match::Addrtype($m) => $e,
            Match::Length($m) => $e,
            Match::Ttl($m) => $e,
            Match::Hl($m) => $e,
        }
    };
}

impl Match {
    /// `-m NAME`: a new, empty match of that module, or iptables' error for an unknown one.
    pub fn load(name: &str, family: Family) -> Result<Match, String> {
        let m = match (name, family) {
            ("tcp", _) => Match::Tcp(Tcp::default()),
            ("udp", _) => Match::Udp(Udp::default()),
            ("icmp", Family::V4) => Match::Icmp(Icmp::default()),
            ("icmp6" | "icmpv6", Family::V6) => Match::Icmp6(Icmp6::default()),
            ("multiport", _) => Match::Multiport(Multiport::default()),
            ("state", _) => Match::State(State::default()),
            ("conntrack", _) => Match::Conntrack(Conntrack::default()),
            ("mark", _) => Match::Mark(Mark::default()),
            ("connmark", _) => Match::Connmark(Connmark::default()),
            ("comment", _) => Match::Comment(Comment::default()),
            ("limit", _) => Match::Limit(Limit::default()),
            ("hashlimit", _) => Match::Hashlimit(Hashlimit::new(family)),
            ("connlimit", _) => Match::Connlimit(Connlimit::new(family)),
            ("recent", _) => Match::Recent(Recent::new(family)),
            ("iprange", _) => Match::Iprange(Iprange::new(family)),
            ("addrtype", _) => Match::Addrtype(Addrtype::new(family)),
            ("length", _) => Match::Length(Length::default()),
            ("ttl", Family::V4) => Match::Ttl(Ttl::default()),
            ("hl", Family::V6) => Match::Hl(Hl::default()),
            _ => {
                return Err(format!(
                    "Couldn't load match `{name}':No such file or directory"
                ));
            }
        };
        Ok(m)
    }

    /// The match `-p PROTO` loads on its own when an option it does not know follows
    /// (`-p tcp --dport 80` is `-p tcp -m tcp --dport 80`).
    pub fn implicit_for(proto: u8, family: Family) -> Option<Match> {
        match (proto, family) {
            (IPPROTO_TCP, _) => Some(Match::Tcp(Tcp::default())),
            (IPPROTO_UDP, _) => Some(Match::Udp(Udp::default())),
            (IPPROTO_ICMP, Family::V4) => Some(Match::Icmp(Icmp::default())),
            (IPPROTO_ICMPV6, Family::V6) => Some(Match::Icmp6(Icmp6::default())),
            _ => None,
        }
    }

    /// The module name iptables-save prints after `-m`.
    pub fn name(&self) -> &'static str {
        match self {
            Match::Tcp(_) => "tcp",
            Match::Udp(_) => "udp",
            Match::Icmp(_) => "icmp",
            Match::Icmp6(_) => "icmp6",
            Match::Multiport(_) => "multiport",
            Match::State(_) => "state",
            Match::Conntrack(_) => "conntrack",
            Match::Mark(_) => "mark",
            Match::Connmark(_) => "connmark",
            Match::Comment(_) => "comment",
            Match::Limit(_) => "limit",
            Match::Hashlimit(_) => "hashlimit",
            Match::Connlimit(_) => "connlimit",
            Match::Recent(_) => "recent",
            Match::Iprange(_) => "iprange",
            Match::Addrtype(_) => "addrtype",
            Match::Length(_) => "length",
            Match::Ttl(_) => "ttl",
            Match::Hl(_) => "hl",
        }
    }

    pub fn parse_option(
        &mut self,
        opt: &str,
        invert: bool,
        w: &mut Words<'_>,
        ctx: &ParseCtx,
    ) -> Result<bool, String> {
        each!(self, m => m.parse_option(opt, invert, w, ctx))
    }

    pub fn finish(&mut self, ctx: &ParseCtx) -> Result<(), String> {
        each!(self, m => m.finish(ctx))
    }

    /// Evaluates the match for one packet. Stateful matches (limit, hashlimit, recent) update
    /// their state, so call it only when the kernel would: after every earlier match of the
    /// rule matched.
    pub fn matches(&mut self, pkt: &PacketCtx<'_>, state: &mut MatchState) -> bool {
        each!(self, m => m.matches(pkt, state))
    }

    /// Appends ` -m NAME --opts...` as iptables-save prints it.
    pub fn save(&self, out: &mut String) {
        out.push_str(" -m ");
        out.push_str(self.name());
        each!(self, m => m.save(out))
    }

    /// Hook restrictions the kernel checks when the rule is loaded (`hooks`: every hook the
    /// rule can be reached from).
    pub fn check_hooks(&self, hooks: &[Hook]) -> Result<(), String> {
        match self {
            Match::Addrtype(a) => a.check_hooks(hooks),
            _ => Ok(()),
        }
    }

    /// True when the kernel module depends on `nf_conntrack` (the match reads connection state).
    pub fn needs_conntrack(&self) -> bool {
        matches!(
            self,
            Match::State(_) | Match::Conntrack(_) | Match::Connmark(_) | Match::Connlimit(_)
        )
    }

    /// A short human name: "state match", "tcp match".
    pub fn feature(&self) -> String {
        format!("{} match", self.name())
    }

    /// The kernel module that provides the match.
    pub fn kernel_module(&self, family: Family) -> &'static str {
        match self {
            Match::Tcp(_) | Match::Udp(_) => "xt_tcpudp",
            Match::Icmp(_) => "ip_tables",
            Match::Icmp6(_) => "ip6_tables",
            Match::Multiport(_) => "xt_multiport",
            Match::State(_) => "xt_state",
            Match::Conntrack(_) => "xt_conntrack",
            Match::Mark(_) => "xt_mark",
            Match::Connmark(_) => "xt_connmark",
            Match::Comment(_) => "xt_comment",
            Match::Limit(_) => "xt_limit",
            Match::Hashlimit(_) => "xt_hashlimit",
            Match::Connlimit(_) => "xt_connlimit",
            Match::Recent(_) => "xt_recent",
            Match::Iprange(_) => "xt_iprange",
            Match::Addrtype(_) => "xt_addrtype",
            Match::Length(_) => "xt_length",
            Match::Ttl(_) => "ipt_ttl",
            Match::Hl(_) => match family {
                Family::V4 => "ipt_ttl",
                Family::V6 => "ip6t_hl",
            },
        }
    }

    /// Folds `next` into `self` when iptables-nft would print them as one match: two `-m tcp`
    /// (or `-m udp`) in a row become one, a later option replacing an earlier one (recorded:
    /// `-m udp --sport 5 -m udp --sport 7` saves as `-m udp --sport 7`).
    pub(crate) fn absorb(&mut self, next: &Match) -> bool {
        match (self, next) {
            (Match::Tcp(a), Match::Tcp(b)) => {
                a.absorb(b);
                true
            }
            (Match::Udp(a), Match::Udp(b)) => {
                a.absorb(b);
                true
            }
            _ => false,
        }
    }
}
