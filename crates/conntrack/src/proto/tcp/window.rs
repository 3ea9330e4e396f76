//! Window tracking (the kernel's `tcp_in_window`), after Guido van Rooij's "Real Stateful TCP
//! Packet Filtering in IP Filter", as Linux does it.
//!
//! For each direction the tracker keeps what that side has sent and what the other side has
//! allowed it to send:
//!
//! - `td_end`: the highest `seq + len` sent;
//! - `td_maxend`: the highest right edge of the window the receiver has offered (`sack + win`);
//! - `td_maxwin`: the largest window (scaled) the sender has offered, grown when data overshoots;
//! - `td_maxack`: the highest ACK the sender has sent (valid once `MAXACK_SET`).
//!
//! A segment passes when:
//!
//! 1. `seq <= sender.td_maxend` (upper bound for data),
//! 2. `seq + len >= sender.td_end - receiver.td_maxwin` (lower bound for data),
//! 3. `sack <= receiver.td_end` (upper bound for the ACK),
//! 4. `sack >= receiver.td_end - max(66000, sender.td_maxwin)` (lower bound for the ACK),
//!
//! where `sack` is the highest SACK right edge, or the ACK. Sequence arithmetic wraps.

use super::options::{highest_sack, syn_options};
use super::state_table::PacketClass;
use super::{TcpConn, TcpInvalid, TcpNote, TcpSegment, TcpState, flags};
use crate::sysctl::Sysctl;
use crate::tuple::Dir;

/// `a` comes before `b` in sequence space (the kernel's `before()`).
pub(crate) fn seq_before(a: u32, b: u32) -> bool {
    (a.wrapping_sub(b) as i32) < 0
}

/// `a` comes after `b` in sequence space (the kernel's `after()`).
pub(crate) fn seq_after(a: u32, b: u32) -> bool {
    seq_before(b, a)
}

/// The lowest ACK window the lower-bound check allows, whatever the sender's window.
const MAX_ACK_WINDOW_MIN: u32 = 66_000;

/// What the tracker has seen of one direction (the kernel's `ip_ct_tcp_state`, less the scale and
/// flags, which [`Window`] keeps beside it so the whole fits in 36 bytes).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Side {
    pub td_end: u32,
    pub td_maxend: u32,
    pub td_maxwin: u32,
    pub td_maxack: u32,
}

/// Per-direction flag bits, with the kernel's values (`IP_CT_TCP_FLAG_*`; the last two are the
/// bits it keeps in `last_flags`).
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct SideFlags(pub u8);

impl SideFlags {
    pub const WINDOW_SCALE: u8 = 0x01;
    pub const SACK_PERM: u8 = 0x02;
    /// This side sent the first FIN.
    pub const CLOSE_INIT: u8 = 0x04;
    pub const BE_LIBERAL: u8 = 0x08;
    /// This side has sent data the other has not acknowledged yet.
    pub const DATA_UNACKNOWLEDGED: u8 = 0x10;
    /// `td_maxack` holds a value.
    pub const MAXACK_SET: u8 = 0x20;
    /// In `last_flags`: the ignored SYN came in LAST_ACK, so an ACK may be a challenge ACK.
    pub const EXP_CHALLENGE_ACK: u8 = 0x40;
    /// In `last_flags`: both sides sent a SYN.
    pub const SIMULTANEOUS_OPEN: u8 = 0x80;

    pub fn has(self, bit: u8) -> bool {
        self.0 & bit != 0
    }

    pub fn set(&mut self, bit: u8) {
        self.0 |= bit;
    }

    pub fn clear(&mut self, bit: u8) {
        self.0 &= !bit;
    }
}

/// Both directions' window data, indexed by [`Dir::index`].
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct Window {
    pub side: [Side; 2],
    /// Window-scale shift of each side (0..=14).
    pub scale: [u8; 2],
    pub flags: [SideFlags; 2],
}

impl Window {
    /// Reads window scale and SACK-permitted from a SYN's options into `dir`'s flags
    /// (`tcp_options`). With no options at all nothing changes.
    pub fn apply_syn_options(&mut self, dir: usize, options: &[u8]) {
        if options.is_empty() {
            return;
        }
        let found = syn_options(options);
        self.scale[dir] = 0;
        self.flags[dir].0 &= SideFlags::BE_LIBERAL;
        if found.sack_perm {
            self.flags[dir].set(SideFlags::SACK_PERM);
        }
        if let Some(shift) = found.wscale {
            self.scale[dir] = shift;
            self.flags[dir].set(SideFlags::WINDOW_SCALE);
        }
    }

    /// Forgets what `dir` has sent (`nf_ct_tcp_state_reset`); only BE_LIBERAL survives.
    pub fn reset(&mut self, dir: usize) {
        self.side[dir] = Side::default();
        self.scale[dir] = 0;
        self.flags[dir].0 &= SideFlags::BE_LIBERAL;
    }

    /// Either side has data in flight.
    pub fn data_unacknowledged(&self) -> bool {
        (self.flags[0].0 | self.flags[1].0) & SideFlags::DATA_UNACKNOWLEDGED != 0
    }

    /// Starts tracking the sender of a SYN or SYN/ACK (`tcp_init_sender`).
    fn init_sender(&mut self, dir: Dir, seg: &TcpSegment<'_>, end: u32, win: u32) {
        let (s, r) = (dir.index(), dir.flip().index());
        self.side[s].td_end = end;
        self.side[s].td_maxend = end;
        self.side[s].td_maxwin = win.max(1);
        self.apply_syn_options(s, seg.options);
        // RFC 7323: scaling is on only if both SYNs carried the option.
        if dir == Dir::Reply
            && !(self.flags[s].has(SideFlags::WINDOW_SCALE)
                && self.flags[r].has(SideFlags::WINDOW_SCALE))
        {
            self.scale[s] = 0;
            self.scale[r] = 0;
        }
    }
}

/// `seq + payload + SYN + FIN`: the sequence number after this segment.
pub(crate) fn segment_end(seg: &TcpSegment<'_>) -> u32 {
    let syn = u32::from(seg.flags & flags::SYN != 0);
    let fin = u32::from(seg.flags & flags::FIN != 0);
    seg.seq
        .wrapping_add(seg.payload_len)
        .wrapping_add(syn)
        .wrapping_add(fin)
}

fn scaled(win: u32, shift: u8) -> u32 {
    win.wrapping_shl(u32::from(shift))
}

/// The outcome of the window check.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum WindowVerdict {
    Accept,
    /// Let through without touching state or timeout; the note is what the kernel logs.
    Ignore(TcpNote),
    Invalid(TcpInvalid),
}

impl TcpConn {
    /// The kernel's `tcp_in_window`. Updates the window data of both sides and the
    /// retransmission counter; the state itself is the caller's business.
    pub(super) fn in_window(
        &mut self,
        dir: Dir,
        class: PacketClass,
        seg: &TcpSegment<'_>,
        sysctl: &Sysctl,
    ) -> WindowVerdict {
        let (s, r) = (dir.index(), dir.flip().index());
        let has = |bit: u8| seg.flags & bit != 0;
        let (syn, ack_set, rst) = (has(flags::SYN), has(flags::ACK), has(flags::RST));

        let mut seq = seg.seq;
        let mut ack = seg.ack;
        let mut sack = ack;
        let mut win = u32::from(seg.window);
        let mut end = segment_end(seg);

        if self.window.flags[r].has(SideFlags::SACK_PERM) {
            sack = highest_sack(seg.options, sack);
        }

        if self.window.side[s].td_maxwin == 0 {
            if syn {
                // SYN/ACK answering a SYN, or a SYN from the reply side (simultaneous open).
                self.window.init_sender(dir, seg, end, win);
                if !ack_set {
                    return WindowVerdict::Accept;
                }
            } else {
                // The first segment seen from this side of a picked-up connection: take the
                // window from the packet.
                let swin = scaled(win, self.window.scale[s]);
                let sender = &mut self.window.side[s];
                sender.td_end = end;
                sender.td_maxwin = swin.max(1);
                sender.td_maxend = end.wrapping_add(sender.td_maxwin);
                let receiver = &mut self.window.side[r];
                if receiver.td_maxwin == 0 {
                    // Nothing seen the other way yet: let checks 3 and 4 pass until then.
                    receiver.td_end = sack;
                    receiver.td_maxend = sack;
                } else if sack == receiver.td_end.wrapping_add(1) {
                    // Probably the answer to a keepalive.
                    receiver.td_end = receiver.td_end.wrapping_add(1);
                }
            }
        } else if syn
            && seq_after(end, self.window.side[s].td_end)
            && matches!(self.state, TcpState::SynSent | TcpState::SynRecv)
        {
            // A SYN (or SYN/ACK) with a newer sequence: the peer restarted; start over for
            // this side.
            self.window.init_sender(dir, seg, end, win);
            if dir == Dir::Reply && !ack_set {
                return WindowVerdict::Accept;
            }
        }

        if !ack_set || (rst && ack == 0) {
            // No ACK (or a RST/ACK with a zero ACK from a broken stack): pretend it ACKs
            // everything seen.
            ack = self.window.side[r].td_end;
            sack = ack;
        }

        if rst && seq == 0 && self.state == TcpState::SynSent {
            // RST answering a SYN.
            seq = self.window.side[s].td_end;
            end = seq;
        }

        let sender = self.window.side[s];
        let receiver = self.window.side[r];
        let max_ack_window = sender.td_maxwin.max(MAX_ACK_WINDOW_MIN);
        let ack_lower_bound = receiver.td_end.wrapping_sub(max_ack_window).wrapping_sub(1);
        let data_lower_bound = sender
            .td_end
            .wrapping_sub(receiver.td_maxwin)
            .wrapping_sub(1);

        // 1. Upper bound for data.
        if !seq_before(seq, sender.td_maxend.wrapping_add(1)) {
            let overshot = end.wrapping_sub(sender.td_maxend).wrapping_add(1);
            let ack_ok = seq_after(sack, ack_lower_bound);
            let in_recv_win = receiver.td_maxwin != 0 && seq_after(end, data_lower_bound);
            if in_recv_win
                && ack_ok
                && overshot <= receiver.td_maxwin
                && seq_before(sack, receiver.td_end.wrapping_add(1))
            {
                // A sender overrunning the offered window. Keep td_end, so that the ACK for
                // this data does not later fail check 3.
                self.window.side[s].td_end = end;
                self.window.flags[s].set(SideFlags::DATA_UNACKNOWLEDGED);
                return self.complain(
                    s,
                    sysctl,
                    WindowVerdict::Ignore(TcpNote::BytesMoreThanExpected(overshot)),
                );
            }
            let bound = sender.td_maxend.wrapping_add(1);
            return self.complain(
                s,
                sysctl,
                WindowVerdict::Invalid(TcpInvalid::SeqOverUpperBound { bound }),
            );
        }

        // 3. Upper bound for the ACK.
        if !seq_before(sack, receiver.td_end.wrapping_add(1)) {
            let bound = receiver.td_end.wrapping_add(1);
            return self.complain(
                s,
                sysctl,
                WindowVerdict::Invalid(TcpInvalid::AckOverUpperBound { bound }),
            );
        }

        // 2. Lower bound for data.
        if receiver.td_maxwin != 0 && !seq_after(end, data_lower_bound) {
            let note = TcpNote::SeqUnderLowerBound(data_lower_bound);
            return self.complain(s, sysctl, WindowVerdict::Ignore(note));
        }

        // 4. Lower bound for the ACK.
        if !seq_after(sack, ack_lower_bound) {
            let note = TcpNote::AckUnderLowerBound(ack_lower_bound);
            return self.complain(s, sysctl, WindowVerdict::Ignore(note));
        }

        // In window: learn from it. A SYN's window is never scaled (RFC 7323).
        if !syn {
            win = scaled(win, self.window.scale[s]);
        }

        let w = &mut self.window;
        let swin = win.wrapping_add(sack.wrapping_sub(ack));
        if w.side[s].td_maxwin < swin {
            w.side[s].td_maxwin = swin;
        }
        if seq_after(end, w.side[s].td_end) {
            w.side[s].td_end = end;
            w.flags[s].set(SideFlags::DATA_UNACKNOWLEDGED);
        }
        if ack_set {
            if !w.flags[s].has(SideFlags::MAXACK_SET) {
                w.side[s].td_maxack = ack;
                w.flags[s].set(SideFlags::MAXACK_SET);
            } else if seq_after(ack, w.side[s].td_maxack) {
                w.side[s].td_maxack = ack;
            }
        }

        if w.side[r].td_maxwin != 0 && seq_after(end, w.side[s].td_maxend) {
            let grow = end.wrapping_sub(w.side[s].td_maxend);
            w.side[r].td_maxwin = w.side[r].td_maxwin.wrapping_add(grow);
        }
        let right_edge = sack.wrapping_add(win);
        if seq_after(right_edge, w.side[r].td_maxend.wrapping_sub(1)) {
            // A zero window still lets one byte (a probe) through.
            w.side[r].td_maxend = if win == 0 {
                right_edge.wrapping_add(1)
            } else {
                right_edge
            };
        }
        if ack == w.side[r].td_end {
            w.flags[r].clear(SideFlags::DATA_UNACKNOWLEDGED);
        }

        if class == PacketClass::Ack {
            self.count_retransmission(dir, seq, ack, end, seg.window);
        }
        WindowVerdict::Accept
    }

    /// `nf_tcp_log_invalid`: with be_liberal (the sysctl, or a picked-up connection) every
    /// complaint becomes an accept, and the rest of the window update is skipped.
    fn complain(&self, sender: usize, sysctl: &Sysctl, verdict: WindowVerdict) -> WindowVerdict {
        if sysctl.tcp_be_liberal || self.window.flags[sender].has(SideFlags::BE_LIBERAL) {
            WindowVerdict::Accept
        } else {
            verdict
        }
    }

    /// Counts an ACK-class segment identical to the previous one (same direction, sequence,
    /// ACK, end and raw window) as a retransmission; any other resets the count.
    fn count_retransmission(&mut self, dir: Dir, seq: u32, ack: u32, end: u32, win: u16) {
        if self.last_dir == dir
            && self.last_seq == seq
            && self.last_ack == ack
            && self.last_end == end
            && self.last_win == win
        {
            self.retrans = self.retrans.wrapping_add(1);
        } else {
            self.last_dir = dir;
            self.last_seq = seq;
            self.last_ack = ack;
            self.last_end = end;
            self.last_win = win;
            self.retrans = 0;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sequence_comparisons_wrap() {
        assert!(seq_before(1, 2));
        assert!(!seq_before(2, 2));
        assert!(seq_before(u32::MAX, 0));
        assert!(seq_after(5, u32::MAX - 5));
        assert!(!seq_after(7, 7));
    }

    #[test]
    fn window_is_36_bytes() {
        assert_eq!(core::mem::size_of::<Window>(), 36);
    }
}
