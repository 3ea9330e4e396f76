//! The TCP tracker: the kernel's state table and window tracking (nf_conntrack_proto_tcp.c,
//! Linux 6.x), reimplemented from its behaviour.
//!
//! - [`TcpConn::check_flags`]: the flag check every segment gets (`tcp_error`), see `flags.rs`.
//! - [`TcpConn::new`]: may a segment with no entry create one (`tcp_new`)?
//! - [`TcpConn::packet`]: one segment through the state table (`state_table.rs`), the special
//!   cases around it (this file) and the window check (`window.rs`), giving a verdict and the
//!   entry's new timeout (`timeout.rs`).

use crate::sysctl::{Sysctl, secs};
use crate::tuple::Dir;

pub mod flags;
mod options;
mod state_table;
mod timeout;
mod verdict;
mod window;

#[cfg(test)]
mod tests;

pub use state_table::PacketClass;
pub use verdict::{TcpInvalid, TcpLowerTimeout, TcpNote, TcpReport, TcpVerdict};

use state_table::Next;
use window::{SideFlags, Window, WindowVerdict, segment_end, seq_before};

/// What the tracker needs of one TCP segment.
#[derive(Copy, Clone, Debug)]
pub struct TcpSegment<'a> {
    pub seq: u32,
    pub ack: u32,
    /// Byte 13 of the header (see [`flags`]).
    pub flags: u8,
    pub window: u16,
    /// Bytes of payload after the TCP header.
    pub payload_len: u32,
    /// The option bytes between the fixed header and the payload.
    pub options: &'a [u8],
}

/// The kernel's TCP conntrack states, in its numbering.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum TcpState {
    None = 0,
    SynSent = 1,
    SynRecv = 2,
    Established = 3,
    FinWait = 4,
    CloseWait = 5,
    LastAck = 6,
    TimeWait = 7,
    Close = 8,
    SynSent2 = 9,
}

impl TcpState {
    /// The name /proc/net/nf_conntrack prints.
    pub fn name(self) -> &'static str {
        match self {
            TcpState::None => "NONE",
            TcpState::SynSent => "SYN_SENT",
            TcpState::SynRecv => "SYN_RECV",
            TcpState::Established => "ESTABLISHED",
            TcpState::FinWait => "FIN_WAIT",
            TcpState::CloseWait => "CLOSE_WAIT",
            TcpState::LastAck => "LAST_ACK",
            TcpState::TimeWait => "TIME_WAIT",
            TcpState::Close => "CLOSE",
            TcpState::SynSent2 => "SYN_SENT2",
        }
    }
}

/// Status bits of the entry that the TCP tracker reads.
#[derive(Copy, Clone, Debug, Default)]
pub struct TcpContext {
    /// IPS_SEEN_REPLY before this packet (the core sets it after the tracker runs).
    pub seen_reply: bool,
    pub assured: bool,
    /// False for the packet that creates the entry.
    pub confirmed: bool,
}

/// Per-connection TCP state (the kernel's `struct ip_ct_tcp`), 56 bytes.
#[derive(Clone, Debug)]
pub struct TcpConn {
    state: TcpState,
    /// Window data of both directions.
    window: Window,
    /// The last segment that moved the entry or was ignored, and how often the same ACK-class
    /// segment has repeated: the kernel's `last_*` fields and `retrans`.
    last_index: PacketClass,
    last_dir: Dir,
    last_seq: u32,
    last_ack: u32,
    last_end: u32,
    last_win: u16,
    /// Window scale and flags of a SYN ignored in a later state, in case its SYN/ACK comes.
    last_wscale: u8,
    last_flags: SideFlags,
    retrans: u8,
}

/// Where the state-table step leaves a segment.
enum Step {
    /// Decided without the window check.
    Done(TcpReport),
    /// Check the window, then move from `old` to `new`.
    Window { old: TcpState, new: TcpState },
    /// Move from `old` to `new` without the window check.
    SkipWindow { old: TcpState, new: TcpState },
}

impl TcpConn {
    /// Header checks that run on every segment: the flag combination.
    pub fn check_flags(tcp_flags: u8) -> Result<(), TcpInvalid> {
        if flags::valid(tcp_flags) {
            Ok(())
        } else {
            Err(TcpInvalid::FlagCombination)
        }
    }

    /// A segment with no entry: may it create one? Called before [`TcpConn::packet`].
    ///
    /// A SYN always may; an ACK (mid-stream pickup) only with `tcp_loose`, and then the entry
    /// starts with SACK assumed and liberal window checks in both directions, as the kernel's.
    pub fn new(seg: &TcpSegment<'_>, sysctl: &Sysctl) -> Result<TcpConn, TcpInvalid> {
        let mut conn = TcpConn::blank();
        let end = segment_end(seg);
        let win = u32::from(seg.window).max(1);
        let orig = &mut conn.window.side[Dir::Original.index()];
        match state_table::next(Dir::Original, PacketClass::of(seg.flags), TcpState::None) {
            Next::To(TcpState::SynSent) => {
                orig.td_end = end;
                orig.td_maxend = end;
                orig.td_maxwin = win;
                conn.window
                    .apply_syn_options(Dir::Original.index(), seg.options);
            }
            Next::To(_) if sysctl.tcp_loose => {
                orig.td_end = end;
                orig.td_maxwin = win;
                orig.td_maxend = end.wrapping_add(win);
                let assumed = SideFlags(SideFlags::SACK_PERM | SideFlags::BE_LIBERAL);
                conn.window.flags = [assumed; 2];
            }
            Next::To(_) => return Err(TcpInvalid::NotLoose),
            Next::Ignore | Next::Invalid => return Err(TcpInvalid::New),
        }
        Ok(conn)
    }

    /// Runs one segment through the state machine and window tracking.
    pub fn packet(
        &mut self,
        dir: Dir,
        seg: &TcpSegment<'_>,
        ctx: TcpContext,
        sysctl: &Sysctl,
    ) -> TcpVerdict {
        self.packet_report(dir, seg, ctx, sysctl).verdict
    }

    /// [`TcpConn::packet`], with the kernel's log line for ignored segments and the timeout
    /// shortening some INVALID ones cause.
    pub fn packet_report(
        &mut self,
        dir: Dir,
        seg: &TcpSegment<'_>,
        ctx: TcpContext,
        sysctl: &Sysctl,
    ) -> TcpReport {
        let class = PacketClass::of(seg.flags);
        let (old, new) = match self.transition(dir, class, seg, ctx, sysctl) {
            Step::Done(report) => return report,
            Step::SkipWindow { old, new } => (old, new),
            Step::Window { old, new } => match self.in_window(dir, class, seg, sysctl) {
                WindowVerdict::Accept => (old, new),
                WindowVerdict::Ignore(note) => return TcpReport::ignore(note),
                WindowVerdict::Invalid(why) => {
                    let lower_timeout = self.handle_invalid(dir, class, ctx, sysctl);
                    return TcpReport {
                        verdict: TcpVerdict::Invalid(why),
                        note: None,
                        lower_timeout,
                    };
                }
            },
        };
        TcpReport::plain(self.advance(dir, class, old, new, ctx, sysctl))
    }

    pub fn state(&self) -> TcpState {
        self.state
    }

    /// Identical ACK-class segments seen in a row (wraps at 256, as the kernel's u8).
    pub fn retrans(&self) -> u8 {
        self.retrans
    }

    /// The window-scale shift of `dir`'s windows: what its SYN announced, reset to 0 for both
    /// sides when the SYN/ACK does not carry the option too.
    pub fn wscale(&self, dir: Dir) -> u8 {
        self.window.scale[dir.index()]
    }

    /// `dir`'s `IP_CT_TCP_FLAG_*` bits, as ctnetlink reports them.
    pub fn seen_flags(&self, dir: Dir) -> u8 {
        self.window.flags[dir.index()].0
    }

    /// May the table evict this entry early even when ASSURED (`tcp_can_early_drop`)? True in
    /// the closing states.
    pub fn can_early_drop(&self) -> bool {
        matches!(
            self.state,
            TcpState::FinWait
                | TcpState::LastAck
                | TcpState::TimeWait
                | TcpState::Close
                | TcpState::CloseWait
        )
    }

    fn blank() -> TcpConn {
        TcpConn {
            state: TcpState::None,
            window: Window::default(),
            last_index: PacketClass::None,
            last_dir: Dir::Original,
            last_seq: 0,
            last_ack: 0,
            last_end: 0,
            last_win: 0,
            last_wscale: 0,
            last_flags: SideFlags::default(),
            retrans: 0,
        }
    }

    /// The state-table step with its special cases (the `switch (new_state)` of
    /// `nf_conntrack_tcp_packet`).
    fn transition(
        &mut self,
        dir: Dir,
        class: PacketClass,
        seg: &TcpSegment<'_>,
        ctx: TcpContext,
        sysctl: &Sysctl,
    ) -> Step {
        let old = self.state;
        match state_table::next(dir, class, old) {
            Next::Invalid => Step::Done(TcpReport::plain(TcpVerdict::Invalid(
                TcpInvalid::Transition {
                    class,
                    dir,
                    state: old,
                },
            ))),
            Next::Ignore => self.ignored(dir, class, seg, old),
            // A SYN on a closed (TIME_WAIT, CLOSE) entry. The numeric test is the kernel's.
            Next::To(TcpState::SynSent) if old as u8 >= TcpState::TimeWait as u8 => {
                if self.reopens(dir) {
                    Step::Done(TcpReport::plain(TcpVerdict::Reopen))
                } else {
                    self.ignored(dir, class, seg, old)
                }
            }
            Next::To(TcpState::TimeWait) if self.is_challenge_ack(dir, class, old) => {
                self.last_flags.clear(SideFlags::EXP_CHALLENGE_ACK);
                Step::Done(TcpReport::ignore(TcpNote::ChallengeAckIgnored))
            }
            Next::To(TcpState::SynSent2) => {
                self.last_flags.set(SideFlags::SIMULTANEOUS_OPEN);
                Step::Window {
                    old,
                    new: TcpState::SynSent2,
                }
            }
            Next::To(TcpState::SynRecv)
                if dir == Dir::Reply
                    && class == PacketClass::Ack
                    && self.last_flags.has(SideFlags::SIMULTANEOUS_OPEN) =>
            {
                // Simultaneous open: the final ACK may come from the reply side.
                Step::Window {
                    old,
                    new: TcpState::Established,
                }
            }
            Next::To(TcpState::Close) if class == PacketClass::Rst => {
                self.rst(dir, seg, ctx, sysctl, old)
            }
            Next::To(new) => Step::Window { old, new },
        }
    }

    /// A closed or aborted connection may be reopened by a SYN: when either side started the
    /// close with a FIN, or the last segment was a RST from the same side as this SYN.
    fn reopens(&self, dir: Dir) -> bool {
        let fin_seen =
            (self.window.flags[0].0 | self.window.flags[1].0) & SideFlags::CLOSE_INIT != 0;
        fin_seen || (self.last_dir == dir && self.last_index == PacketClass::Rst)
    }

    /// An ACK in LAST_ACK from the side that did not send the SYN we just let through: an
    /// RFC 5961 challenge ACK, not the ACK of the last FIN.
    fn is_challenge_ack(&self, dir: Dir, class: PacketClass, old: TcpState) -> bool {
        old == TcpState::LastAck
            && class == PacketClass::Ack
            && self.last_dir != dir
            && self.last_index == PacketClass::Syn
            && self.last_flags.has(SideFlags::EXP_CHALLENGE_ACK)
    }

    /// Segments the table marks sIG: the endpoints may be in sync while we are not. Remember
    /// the segment and let it through; if it is a SYN/ACK answering a SYN remembered so, the
    /// connection is being re-opened and we resynchronise on it.
    fn ignored(
        &mut self,
        dir: Dir,
        class: PacketClass,
        seg: &TcpSegment<'_>,
        old: TcpState,
    ) -> Step {
        if class == PacketClass::SynAck
            && self.last_index == PacketClass::Syn
            && self.last_dir != dir
            && seg.ack == self.last_end
        {
            let syn_dir = self.last_dir.index();
            let side = &mut self.window.side[syn_dir];
            side.td_end = self.last_end;
            side.td_maxend = self.last_end;
            side.td_maxwin = u32::from(self.last_win).max(1);
            self.window.scale[syn_dir] = self.last_wscale;
            self.last_flags.clear(SideFlags::EXP_CHALLENGE_ACK);
            self.window.flags[syn_dir] = self.last_flags;
            self.window.reset(dir.index());
            return Step::Window {
                old: TcpState::SynSent,
                new: TcpState::SynRecv,
            };
        }

        self.last_index = class;
        self.last_dir = dir;
        self.last_seq = seg.seq;
        self.last_end = segment_end(seg);
        self.last_win = seg.window;

        if class == PacketClass::Syn && dir == Dir::Original {
            let mut syn = Window::default();
            syn.apply_syn_options(0, seg.options);
            self.last_flags =
                SideFlags(syn.flags[0].0 & (SideFlags::WINDOW_SCALE | SideFlags::SACK_PERM));
            self.last_wscale = syn.scale[0];
            if old == TcpState::LastAck {
                self.last_flags.set(SideFlags::EXP_CHALLENGE_ACK);
            }
        }
        if old == TcpState::SynSent && class == PacketClass::Ack && dir == Dir::Reply {
            // Perhaps a challenge ACK answering the SYN; a RST with this sequence may follow.
            self.last_ack = seg.ack;
        }
        Step::Done(TcpReport::ignore(TcpNote::Ignored {
            class,
            dir,
            state: old,
        }))
    }

    /// A RST the table would move to CLOSE. Checked against what the other side has
    /// acknowledged: below it, INVALID; inexact but plausible on an established connection,
    /// the state stays (the timeout still drops) so that a challenge ACK can follow.
    fn rst(
        &mut self,
        dir: Dir,
        seg: &TcpSegment<'_>,
        ctx: TcpContext,
        sysctl: &Sysctl,
        old: TcpState,
    ) -> Step {
        let mut new = TcpState::Close;
        // Closing anyway, and the tuple may already be reused: no checks.
        if self.can_early_drop() {
            return Step::SkipWindow { old, new };
        }

        let peer = dir.flip().index();
        if self.window.flags[peer].has(SideFlags::MAXACK_SET) && self.last_index != PacketClass::Syn
        {
            let seq = seg.seq;
            let max_ack = self.window.side[peer].td_maxack;
            let established = self.state == TcpState::Established && ctx.assured;
            // Not established and seq 0: most likely answering a SYN we let through.
            if seq == 0 && !established {
                return Step::Window { old, new };
            }
            if seq_before(seq, max_ack) && !sysctl.tcp_ignore_invalid_rst {
                return Step::Done(TcpReport::plain(TcpVerdict::Invalid(TcpInvalid::Rst)));
            }
            if !established || seq == max_ack {
                return Step::Window { old, new };
            }
            // The RST right after this side's last data ("P seq:end" then "R end:end").
            if self.last_index == PacketClass::Ack && self.last_dir == dir && seq == self.last_end {
                return Step::Window { old, new };
            }
            new = old;
        }

        // RST answering a SYN or ACK we let through as sIG: it may acknowledge data we did not
        // track, so skip the window check.
        let answers_ignored = (ctx.seen_reply && self.last_index == PacketClass::Syn)
            || (!ctx.assured && self.last_index == PacketClass::Ack);
        if answers_ignored && seg.ack == self.last_end {
            return Step::SkipWindow { old, new };
        }
        // RST answering a challenge ACK we let through in SYN_SENT.
        if old == TcpState::SynSent
            && self.last_index == PacketClass::Ack
            && self.last_dir == Dir::Reply
            && seg.seq == self.last_ack
        {
            return Step::SkipWindow { old, new };
        }
        Step::Window { old, new }
    }

    /// An in-window segment moves the entry (the kernel's `in_window:` label onwards).
    fn advance(
        &mut self,
        dir: Dir,
        class: PacketClass,
        old: TcpState,
        new: TcpState,
        ctx: TcpContext,
        sysctl: &Sysctl,
    ) -> TcpVerdict {
        self.last_index = class;
        self.last_dir = dir;
        self.state = new;
        if old != new && new == TcpState::FinWait {
            self.window.flags[dir.index()].set(SideFlags::CLOSE_INIT);
        }
        let mut timeout = self.timeout_for(class, new, sysctl);

        if !ctx.seen_reply {
            // Only a RST in reply: nothing was ever established; drop the entry now.
            if class == PacketClass::Rst {
                return TcpVerdict::AcceptAndKill;
            }
            // A retransmitted SYN does not extend the entry's life.
            if class == PacketClass::Syn && old == TcpState::SynSent {
                return TcpVerdict::Ignore;
            }
            // A picked-up connection nobody has answered yet.
            if new == TcpState::Established {
                timeout = timeout.min(secs(sysctl.timeouts.tcp_unacknowledged));
            }
            return TcpVerdict::Accept {
                timeout,
                assure: false,
            };
        }

        // A valid ACK after SYN_RECV, or an answer on a picked-up connection.
        let assure = !ctx.assured
            && matches!(old, TcpState::SynRecv | TcpState::Established)
            && new == TcpState::Established;
        TcpVerdict::Accept { timeout, assure }
    }

    /// `nf_tcp_handle_invalid`: remembers an out-of-window FIN or RST on an ASSURED entry; if
    /// it answers one from the other side, both ends consider the connection over and the
    /// entry's timeout may be shortened.
    fn handle_invalid(
        &mut self,
        dir: Dir,
        class: PacketClass,
        ctx: TcpContext,
        sysctl: &Sysctl,
    ) -> Option<TcpLowerTimeout> {
        if !ctx.assured || !matches!(class, PacketClass::Fin | PacketClass::Rst) {
            return None;
        }
        if self.last_dir != dir && matches!(self.last_index, PacketClass::Fin | PacketClass::Rst) {
            return Some(TcpLowerTimeout {
                timeout: secs(sysctl.timeouts.tcp_unacknowledged),
                class,
                dir,
                last_class: self.last_index,
            });
        }
        self.last_index = class;
        self.last_dir = dir;
        None
    }
}
