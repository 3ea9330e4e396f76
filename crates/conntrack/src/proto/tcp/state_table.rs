//! The TCP state machine as data: direction × packet class × current state → next state.
//!
//! The rows and columns are in the kernel's order (`tcp_conntracks[2][6][TCP_CONNTRACK_MAX]` in
//! nf_conntrack_proto_tcp.c, Linux 6.x), so the table can be compared with it row by row.

use super::{TcpState, flags};
use crate::tuple::Dir;

/// Which of the kernel's six packet classes a segment falls into, with the kernel's index
/// (`enum tcp_bit_set`), which its log lines print as `index %d`.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
#[repr(u8)]
pub enum PacketClass {
    Syn = 0,
    SynAck = 1,
    Fin = 2,
    Ack = 3,
    Rst = 4,
    None = 5,
}

impl PacketClass {
    /// RST wins over SYN, SYN over FIN, FIN over ACK (get_conntrack_index).
    pub fn of(tcp_flags: u8) -> PacketClass {
        let has = |f: u8| tcp_flags & f != 0;
        if has(flags::RST) {
            PacketClass::Rst
        } else if has(flags::SYN) {
            if has(flags::ACK) {
                PacketClass::SynAck
            } else {
                PacketClass::Syn
            }
        } else if has(flags::FIN) {
            PacketClass::Fin
        } else if has(flags::ACK) {
            PacketClass::Ack
        } else {
            PacketClass::None
        }
    }

    /// The kernel's index, as printed in its log lines.
    pub fn index(self) -> u8 {
        self as u8
    }
}

/// One cell of the table.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub(crate) enum Next {
    /// Move to this state (if the window check passes).
    To(TcpState),
    /// sIG: may be valid or not; let it through without touching the entry.
    Ignore,
    /// sIV: invalid in this state.
    Invalid,
}

// Short names, as in the kernel's table, so the rows below line up with it.
const SS: Next = Next::To(TcpState::SynSent);
const SR: Next = Next::To(TcpState::SynRecv);
const ES: Next = Next::To(TcpState::Established);
const FW: Next = Next::To(TcpState::FinWait);
const CW: Next = Next::To(TcpState::CloseWait);
const LA: Next = Next::To(TcpState::LastAck);
const TW: Next = Next::To(TcpState::TimeWait);
const CL: Next = Next::To(TcpState::Close);
const S2: Next = Next::To(TcpState::SynSent2);
const IV: Next = Next::Invalid;
const IG: Next = Next::Ignore;

/// `TABLE[dir][class][state]`.
#[rustfmt::skip]
const TABLE: [[[Next; 10]; 6]; 2] = [
    // ORIGINAL
    [
        //          NO  SS  SR  ES  FW  CW  LA  TW  CL  S2
        /* syn    */ [SS, SS, IG, IG, IG, IG, IG, SS, SS, S2],
        /* synack */ [IV, IV, SR, IV, IV, IV, IV, IV, IV, SR],
        /* fin    */ [IV, IV, FW, FW, LA, LA, LA, TW, CL, IV],
        /* ack    */ [ES, IV, ES, ES, CW, CW, TW, TW, CL, IV],
        /* rst    */ [IV, CL, CL, CL, CL, CL, CL, CL, CL, CL],
        /* none   */ [IV, IV, IV, IV, IV, IV, IV, IV, IV, IV],
    ],
    // REPLY
    [
        //          NO  SS  SR  ES  FW  CW  LA  TW  CL  S2
        /* syn    */ [IV, S2, IV, IV, IV, IV, IV, SS, IV, S2],
        /* synack */ [IV, SR, IG, IG, IG, IG, IG, IG, IG, SR],
        /* fin    */ [IV, IV, FW, FW, LA, LA, LA, TW, CL, IV],
        /* ack    */ [IV, IG, SR, ES, CW, CW, TW, TW, CL, IG],
        /* rst    */ [IV, CL, CL, CL, CL, CL, CL, CL, CL, CL],
        /* none   */ [IV, IV, IV, IV, IV, IV, IV, IV, IV, IV],
    ],
];

/// The table lookup.
pub(crate) fn next(dir: Dir, class: PacketClass, state: TcpState) -> Next {
    TABLE[dir.index()][class as usize][state as usize]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn classes() {
        use flags::*;
        assert_eq!(PacketClass::of(SYN), PacketClass::Syn);
        assert_eq!(PacketClass::of(SYN | ACK), PacketClass::SynAck);
        assert_eq!(PacketClass::of(FIN | ACK), PacketClass::Fin);
        assert_eq!(PacketClass::of(ACK | PSH), PacketClass::Ack);
        assert_eq!(PacketClass::of(RST | ACK), PacketClass::Rst);
        assert_eq!(PacketClass::of(RST | SYN), PacketClass::Rst);
        assert_eq!(PacketClass::of(PSH | URG), PacketClass::None);
    }

    #[test]
    fn no_cell_leads_to_none() {
        for dir in TABLE {
            for row in dir {
                assert!(!row.contains(&Next::To(TcpState::None)));
            }
        }
    }

    #[test]
    fn spot_checks() {
        use TcpState::*;
        assert_eq!(next(Dir::Original, PacketClass::Syn, None), SS);
        assert_eq!(next(Dir::Reply, PacketClass::SynAck, SynSent), SR);
        assert_eq!(next(Dir::Original, PacketClass::Ack, SynRecv), ES);
        assert_eq!(next(Dir::Reply, PacketClass::Syn, TimeWait), SS);
        assert_eq!(next(Dir::Reply, PacketClass::Ack, SynSent), IG);
        assert_eq!(next(Dir::Original, PacketClass::SynAck, Established), IV);
    }
}
