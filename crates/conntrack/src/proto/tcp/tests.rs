//! Scenarios driven straight through [`TcpConn`], with the expected states, timeouts and
//! verdicts worked out from the kernel's nf_conntrack_proto_tcp.c (Linux 6.x).
//!
//! The client is the original direction (ISN 1000, window 64240); the server the reply
//! direction (ISN 5000, window 65160). A small [`Sim`] plays the core: it creates the entry,
//! keeps SEEN_REPLY and ASSURED, and drops the entry on a kill or reopen.

use core::time::Duration;

use super::flags::{ACK, CWR, ECE, FIN, PSH, RST, SYN, URG};
use super::*;

const C: Dir = Dir::Original;
const S: Dir = Dir::Reply;
const C_WIN: u16 = 64240;
const S_WIN: u16 = 65160;

fn seg(flags: u8, seq: u32, ack: u32, window: u16, payload_len: u32) -> TcpSegment<'static> {
    TcpSegment {
        seq,
        ack,
        flags,
        window,
        payload_len,
        options: &[],
    }
}

fn accept(secs: u64) -> TcpVerdict {
    TcpVerdict::Accept {
        timeout: Duration::from_secs(secs),
        assure: false,
    }
}

fn assure(secs: u64) -> TcpVerdict {
    TcpVerdict::Accept {
        timeout: Duration::from_secs(secs),
        assure: true,
    }
}

fn invalid(why: TcpInvalid) -> TcpVerdict {
    TcpVerdict::Invalid(why)
}

/// The part of the core the tracker relies on.
struct Sim {
    conn: Option<TcpConn>,
    seen_reply: bool,
    assured: bool,
    sysctl: Sysctl,
}

impl Sim {
    fn new() -> Sim {
        Sim::with(Sysctl::default())
    }

    fn with(sysctl: Sysctl) -> Sim {
        Sim {
            conn: None,
            seen_reply: false,
            assured: false,
            sysctl,
        }
    }

    fn report(&mut self, dir: Dir, seg: TcpSegment<'_>) -> TcpReport {
        let invalid = |why| TcpReport {
            verdict: TcpVerdict::Invalid(why),
            note: None,
            lower_timeout: None,
        };
        if let Err(why) = TcpConn::check_flags(seg.flags) {
            return invalid(why);
        }
        let confirmed = self.conn.is_some();
        if !confirmed {
            assert_eq!(
                dir,
                Dir::Original,
                "a new entry starts with an original-direction packet"
            );
            match TcpConn::new(&seg, &self.sysctl) {
                Ok(conn) => {
                    self.conn = Some(conn);
                    self.seen_reply = false;
                    self.assured = false;
                }
                Err(why) => return invalid(why),
            }
        }
        let ctx = TcpContext {
            seen_reply: self.seen_reply,
            assured: self.assured,
            confirmed,
        };
        let conn = self.conn.as_mut().unwrap();
        let report = conn.packet_report(dir, &seg, ctx, &self.sysctl);
        match report.verdict {
            TcpVerdict::Accept { assure, .. } => {
                self.assured |= assure;
                self.seen_reply |= dir == Dir::Reply;
            }
            TcpVerdict::Ignore => self.seen_reply |= dir == Dir::Reply,
            TcpVerdict::AcceptAndKill | TcpVerdict::Reopen => self.conn = None,
            TcpVerdict::Invalid(_) => {
                if !confirmed {
                    self.conn = None;
                }
            }
        }
        report
    }

    fn send(&mut self, dir: Dir, seg: TcpSegment<'_>) -> TcpVerdict {
        self.report(dir, seg).verdict
    }

    fn state(&self) -> Option<TcpState> {
        self.conn.as_ref().map(TcpConn::state)
    }

    fn conn(&self) -> &TcpConn {
        self.conn.as_ref().unwrap()
    }

    /// SYN, SYN/ACK, ACK: client next sends 1001, server 5001.
    fn handshake(&mut self) {
        assert_eq!(self.send(C, seg(SYN, 1000, 0, C_WIN, 0)), accept(120));
        assert_eq!(self.state(), Some(TcpState::SynSent));
        assert_eq!(
            self.send(S, seg(SYN | ACK, 5000, 1001, S_WIN, 0)),
            accept(60)
        );
        assert_eq!(self.state(), Some(TcpState::SynRecv));
        assert_eq!(
            self.send(C, seg(ACK, 1001, 5001, C_WIN, 0)),
            assure(432_000)
        );
        assert_eq!(self.state(), Some(TcpState::Established));
        assert!(self.assured);
    }
}

#[test]
fn three_way_handshake() {
    Sim::new().handshake();
}

#[test]
fn tcp_conn_is_compact() {
    assert!(
        core::mem::size_of::<TcpConn>() <= 56,
        "{}",
        core::mem::size_of::<TcpConn>()
    );
}

#[test]
fn unacknowledged_data_lowers_the_timeout_until_acked() {
    let mut sim = Sim::new();
    sim.handshake();
    assert_eq!(
        sim.send(C, seg(PSH | ACK, 1001, 5001, C_WIN, 100)),
        accept(300)
    );
    assert_eq!(sim.send(S, seg(ACK, 5001, 1101, S_WIN, 0)), accept(432_000));
    assert_eq!(
        sim.send(S, seg(PSH | ACK, 5001, 1101, S_WIN, 1000)),
        accept(300)
    );
    assert_eq!(
        sim.send(C, seg(ACK, 1101, 5501, C_WIN, 0)),
        accept(300),
        "half acknowledged"
    );
    assert_eq!(sim.send(C, seg(ACK, 1101, 6001, C_WIN, 0)), accept(432_000));
    assert_eq!(sim.state(), Some(TcpState::Established));
}

#[test]
fn client_first_close() {
    let mut sim = Sim::new();
    sim.handshake();
    assert_eq!(
        sim.send(C, seg(FIN | ACK, 1001, 5001, C_WIN, 0)),
        accept(120)
    );
    assert_eq!(sim.state(), Some(TcpState::FinWait));
    assert_eq!(sim.send(S, seg(ACK, 5001, 1002, S_WIN, 0)), accept(60));
    assert_eq!(sim.state(), Some(TcpState::CloseWait));
    assert_eq!(
        sim.send(S, seg(FIN | ACK, 5001, 1002, S_WIN, 0)),
        accept(30)
    );
    assert_eq!(sim.state(), Some(TcpState::LastAck));
    assert_eq!(sim.send(C, seg(ACK, 1002, 5002, C_WIN, 0)), accept(120));
    assert_eq!(sim.state(), Some(TcpState::TimeWait));
    // A retransmitted last ACK stays in TIME_WAIT.
    assert_eq!(sim.send(C, seg(ACK, 1002, 5002, C_WIN, 0)), accept(120));
    assert_eq!(sim.state(), Some(TcpState::TimeWait));
}

#[test]
fn server_first_close() {
    let mut sim = Sim::new();
    sim.handshake();
    assert_eq!(
        sim.send(S, seg(FIN | ACK, 5001, 1001, S_WIN, 0)),
        accept(120)
    );
    assert_eq!(sim.state(), Some(TcpState::FinWait));
    assert_eq!(sim.send(C, seg(ACK, 1001, 5002, C_WIN, 0)), accept(60));
    assert_eq!(sim.state(), Some(TcpState::CloseWait));
    assert_eq!(
        sim.send(C, seg(FIN | ACK, 1001, 5002, C_WIN, 0)),
        accept(30)
    );
    assert_eq!(sim.state(), Some(TcpState::LastAck));
    assert_eq!(sim.send(S, seg(ACK, 5002, 1002, S_WIN, 0)), accept(120));
    assert_eq!(sim.state(), Some(TcpState::TimeWait));
}

#[test]
fn simultaneous_close() {
    let mut sim = Sim::new();
    sim.handshake();
    assert_eq!(
        sim.send(C, seg(FIN | ACK, 1001, 5001, C_WIN, 0)),
        accept(120)
    );
    assert_eq!(sim.state(), Some(TcpState::FinWait));
    // The server's FIN crosses the client's: it does not acknowledge it.
    assert_eq!(
        sim.send(S, seg(FIN | ACK, 5001, 1001, S_WIN, 0)),
        accept(30)
    );
    assert_eq!(sim.state(), Some(TcpState::LastAck));
    assert_eq!(sim.send(C, seg(ACK, 1002, 5002, C_WIN, 0)), accept(120));
    assert_eq!(sim.state(), Some(TcpState::TimeWait));
    assert_eq!(sim.send(S, seg(ACK, 5002, 1002, S_WIN, 0)), accept(120));
    assert_eq!(sim.state(), Some(TcpState::TimeWait));
}

#[test]
fn rst_closes() {
    let mut sim = Sim::new();
    sim.handshake();
    assert_eq!(sim.send(S, seg(RST | ACK, 5001, 1001, 0, 0)), accept(10));
    assert_eq!(sim.state(), Some(TcpState::Close));
}

#[test]
fn refused_connection_is_removed_at_once() {
    let mut sim = Sim::new();
    assert_eq!(sim.send(C, seg(SYN, 1000, 0, C_WIN, 0)), accept(120));
    // Linux answers a SYN to a closed port with seq 0, ack ISN+1.
    assert_eq!(
        sim.send(S, seg(RST | ACK, 0, 1001, 0, 0)),
        TcpVerdict::AcceptAndKill
    );
    assert!(sim.conn.is_none());
}

#[test]
fn syn_retransmission_does_not_refresh() {
    let mut sim = Sim::new();
    assert_eq!(sim.send(C, seg(SYN, 1000, 0, C_WIN, 0)), accept(120));
    assert_eq!(sim.send(C, seg(SYN, 1000, 0, C_WIN, 0)), TcpVerdict::Ignore);
    assert_eq!(sim.state(), Some(TcpState::SynSent));
    // A new ISN (the client restarted) re-initialises the window, still without refresh.
    assert_eq!(sim.send(C, seg(SYN, 7000, 0, C_WIN, 0)), TcpVerdict::Ignore);
    assert_eq!(
        sim.send(S, seg(SYN | ACK, 5000, 7001, S_WIN, 0)),
        accept(60)
    );
    assert_eq!(sim.send(C, seg(ACK, 7001, 5001, C_WIN, 0)), assure(432_000));
}

#[test]
fn syn_ack_retransmission_is_ignored() {
    let mut sim = Sim::new();
    sim.send(C, seg(SYN, 1000, 0, C_WIN, 0));
    assert_eq!(
        sim.send(S, seg(SYN | ACK, 5000, 1001, S_WIN, 0)),
        accept(60)
    );
    let r = sim.report(S, seg(SYN | ACK, 5000, 1001, S_WIN, 0));
    assert_eq!(r.verdict, TcpVerdict::Ignore);
    assert_eq!(
        r.note.unwrap().to_string(),
        "packet (index 1) in dir 1 ignored, state SYN_RECV"
    );
    assert_eq!(sim.state(), Some(TcpState::SynRecv));
}

#[test]
fn repeated_ack_is_capped_after_max_retrans() {
    let mut sim = Sim::new();
    sim.handshake();
    // The third ACK again, three times: retrans 1, 2, 3.
    assert_eq!(sim.send(C, seg(ACK, 1001, 5001, C_WIN, 0)), accept(432_000));
    assert_eq!(sim.send(C, seg(ACK, 1001, 5001, C_WIN, 0)), accept(432_000));
    assert_eq!(sim.send(C, seg(ACK, 1001, 5001, C_WIN, 0)), accept(300));
    assert_eq!(sim.conn().retrans(), 3);
    // Anything else resets the count.
    assert_eq!(sim.send(S, seg(ACK, 5001, 1001, S_WIN, 0)), accept(432_000));
    assert_eq!(sim.conn().retrans(), 0);
}

#[test]
fn data_retransmissions_up_to_max_retrans() {
    let mut sysctl = Sysctl::default();
    // Tell the two caps apart.
    sysctl.timeouts.tcp_max_retrans = 200;
    let mut sim = Sim::with(sysctl);
    sim.handshake();
    let data = seg(PSH | ACK, 1001, 5001, C_WIN, 100);
    assert_eq!(sim.send(C, data), accept(300), "first send: unacknowledged");
    assert_eq!(sim.send(C, data), accept(300), "retrans 1");
    assert_eq!(sim.send(C, data), accept(300), "retrans 2");
    assert_eq!(
        sim.send(C, data),
        accept(200),
        "retrans 3 = tcp_max_retrans"
    );
    assert_eq!(sim.send(C, data), accept(200), "retrans 4");
    // The ACK resets the count and acknowledges the data.
    assert_eq!(sim.send(S, seg(ACK, 5001, 1101, S_WIN, 0)), accept(432_000));
}

#[test]
fn max_retrans_cap_never_raises_a_timeout() {
    let mut sim = Sim::new();
    sim.handshake();
    sim.send(C, seg(FIN | ACK, 1001, 5001, C_WIN, 0));
    sim.send(S, seg(ACK, 5001, 1002, S_WIN, 0));
    for _ in 0..5 {
        assert_eq!(sim.send(S, seg(ACK, 5001, 1002, S_WIN, 0)), accept(60));
    }
    assert_eq!(sim.state(), Some(TcpState::CloseWait));
}

#[test]
fn zero_window_caps_the_timeout() {
    let mut sim = Sim::new();
    sim.handshake();
    assert_eq!(sim.send(S, seg(ACK, 5001, 1001, 0, 0)), accept(300));
    assert_eq!(sim.send(S, seg(ACK, 5001, 1001, 100, 0)), accept(432_000));
}

#[test]
fn out_of_window_data_is_invalid() {
    let mut sim = Sim::new();
    sim.handshake();
    // The server offered 1001 + 65160 = 66161 as the right edge.
    let r = sim.report(C, seg(PSH | ACK, 201_001, 5001, C_WIN, 100));
    let why = TcpInvalid::SeqOverUpperBound { bound: 66_162 };
    assert_eq!(
        why.to_string(),
        "SEQ is over upper bound 66162 (over the window of the receiver)"
    );
    assert_eq!(
        r,
        TcpReport {
            verdict: invalid(why),
            note: None,
            lower_timeout: None
        }
    );
    assert_eq!(sim.state(), Some(TcpState::Established));
    // Nothing was learnt from it: the connection goes on.
    assert_eq!(
        sim.send(C, seg(PSH | ACK, 1001, 5001, C_WIN, 100)),
        accept(300)
    );
}

#[test]
fn slight_overrun_is_ignored_but_remembered() {
    let mut sim = Sim::new();
    sim.handshake();
    let r = sim.report(C, seg(PSH | ACK, 66_170, 5001, C_WIN, 100));
    assert_eq!(r.verdict, TcpVerdict::Ignore);
    assert_eq!(r.note.unwrap().to_string(), "110 bytes more than expected");
    // td_end moved, so the ACK of that data is not over the upper bound.
    assert_eq!(
        sim.send(S, seg(ACK, 5001, 66_270, S_WIN, 0)),
        accept(432_000)
    );
}

#[test]
fn ack_of_unsent_data_is_invalid() {
    let mut sim = Sim::new();
    sim.handshake();
    let v = sim.send(C, seg(ACK, 1001, 15_001, C_WIN, 0));
    let why = TcpInvalid::AckOverUpperBound { bound: 5002 };
    assert_eq!(
        why.to_string(),
        "ACK is over upper bound 5002 (ACKed data not seen yet)"
    );
    assert_eq!(v, invalid(why));
}

#[test]
fn old_retransmission_below_the_window_is_ignored() {
    let mut sim = Sim::new();
    sim.handshake();
    // Lower bound for data: td_end - receiver max window - 1 = 1001 - 65160 - 1.
    let r = sim.report(
        C,
        seg(PSH | ACK, 1001u32.wrapping_sub(200_000), 5001, C_WIN, 10),
    );
    assert_eq!(r.verdict, TcpVerdict::Ignore);
    assert_eq!(
        r.note.unwrap().to_string(),
        format!(
            "SEQ is under lower bound {} (already ACKed data retransmitted)",
            1001u32.wrapping_sub(65_161)
        )
    );
}

#[test]
fn overly_delayed_ack_is_ignored() {
    let mut sim = Sim::new();
    sim.handshake();
    let r = sim.report(C, seg(ACK, 1001, 5001u32.wrapping_sub(100_000), C_WIN, 0));
    assert_eq!(r.verdict, TcpVerdict::Ignore);
    assert_eq!(
        r.note.unwrap().to_string(),
        format!(
            "ignored ACK under lower bound {} (possible overly delayed)",
            5001u32.wrapping_sub(66_001)
        )
    );
}

#[test]
fn rst_below_acknowledged_data_is_invalid() {
    let mut sim = Sim::new();
    sim.handshake();
    // The client has acknowledged up to 5001; a server RST at 4000 is stale or forged.
    assert_eq!(
        sim.send(S, seg(RST, 4000, 0, 0, 0)),
        invalid(TcpInvalid::Rst)
    );
    assert_eq!(TcpInvalid::Rst.to_string(), "invalid rst");
    assert_eq!(sim.state(), Some(TcpState::Established));
}

#[test]
fn rst_beyond_the_window_is_invalid() {
    let mut sim = Sim::new();
    sim.handshake();
    // The client offered 5001 + 64240 = 69241.
    let r = sim.report(S, seg(RST, 1_005_001, 0, 0, 0));
    assert_eq!(
        r.verdict,
        invalid(TcpInvalid::SeqOverUpperBound { bound: 69_242 })
    );
    assert_eq!(r.lower_timeout, None);
    assert_eq!(sim.state(), Some(TcpState::Established));
    // An out-of-window FIN the other way, answering that RST: the kernel shortens the timeout.
    let r = sim.report(C, seg(FIN | ACK, 201_001, 5001, C_WIN, 0));
    assert_eq!(
        r.verdict,
        invalid(TcpInvalid::SeqOverUpperBound { bound: 66_162 })
    );
    let lower = r.lower_timeout.unwrap();
    assert_eq!(
        lower,
        TcpLowerTimeout {
            timeout: Duration::from_secs(300),
            class: PacketClass::Fin,
            dir: C,
            last_class: PacketClass::Rst
        }
    );
    assert!(lower.applies(Duration::from_secs(431_000)));
    assert!(!lower.applies(Duration::from_secs(300)));
    assert!(!lower.applies(Duration::from_secs(119)));
    assert_eq!(
        lower.message(250),
        "packet (index 2, dir 0) response for index 4 lower timeout to 75000"
    );
}

#[test]
fn inexact_rst_keeps_the_state_then_exact_rst_closes() {
    let mut sim = Sim::new();
    sim.handshake();
    // In the window, but not at the sequence the client acknowledged (5001).
    assert_eq!(sim.send(S, seg(RST, 5101, 0, 0, 0)), accept(10));
    assert_eq!(sim.state(), Some(TcpState::Established));
    assert_eq!(sim.send(S, seg(RST, 5001, 0, 0, 0)), accept(10));
    assert_eq!(sim.state(), Some(TcpState::Close));
}

#[test]
fn rst_right_after_data_closes() {
    let mut sim = Sim::new();
    sim.handshake();
    assert_eq!(
        sim.send(S, seg(PSH | ACK, 5001, 1001, S_WIN, 19)),
        accept(300)
    );
    // The RST follows the server's own data, at its end: a train, not a stray.
    assert_eq!(sim.send(S, seg(RST, 5020, 0, 0, 0)), accept(10));
    assert_eq!(sim.state(), Some(TcpState::Close));
}

#[test]
fn ignore_invalid_rst() {
    let sysctl = Sysctl {
        tcp_ignore_invalid_rst: true,
        ..Sysctl::default()
    };
    let mut sim = Sim::with(sysctl);
    sim.handshake();
    // Below the acknowledged sequence but inside the window: treated as an inexact RST.
    assert_eq!(sim.send(S, seg(RST, 4000, 0, 0, 0)), accept(10));
    assert_eq!(sim.state(), Some(TcpState::Established));
}

#[test]
fn every_invalid_flag_combination() {
    let invalid = [
        (0, "none"),
        (FIN, "FIN without ACK"),
        (SYN | FIN, "SYN+FIN"),
        (SYN | RST, "SYN+RST"),
        (FIN | RST, "FIN+RST"),
        (FIN | RST | ACK, "FIN+RST+ACK"),
        (SYN | FIN | ACK, "SYN+FIN+ACK"),
        (SYN | ACK | URG, "SYN+ACK+URG"),
        (RST | URG, "RST+URG"),
        (URG, "URG alone"),
        (PSH, "PSH alone"),
        (FIN | PSH | URG, "XMAS"),
        (0xff, "all"),
    ];
    for (flags, name) in invalid {
        assert_eq!(
            TcpConn::check_flags(flags),
            Err(TcpInvalid::FlagCombination),
            "{name}"
        );
    }
    assert_eq!(
        TcpInvalid::FlagCombination.to_string(),
        "invalid tcp flag combination"
    );

    let valid = [
        SYN,
        SYN | ECE | CWR,
        SYN | URG,
        SYN | ACK,
        SYN | ACK | ECE,
        RST,
        RST | ACK,
        RST | ACK | PSH,
    ];
    let valid2 = [
        FIN | ACK,
        FIN | ACK | PSH | URG,
        ACK,
        ACK | PSH,
        ACK | URG,
        ACK | CWR | ECE | PSH,
    ];
    for flags in valid.into_iter().chain(valid2) {
        assert_eq!(TcpConn::check_flags(flags), Ok(()), "{flags:#04x}");
    }
    // 9 base combinations, each with any of PSH, ECE and CWR.
    assert_eq!(
        (0..=u8::MAX)
            .filter(|f| TcpConn::check_flags(*f).is_ok())
            .count(),
        72
    );
}

#[test]
fn invalid_new() {
    let sysctl = Sysctl::default();
    for flags in [SYN | ACK, RST, RST | ACK, FIN | ACK] {
        let e = TcpConn::new(&seg(flags, 1, 1, 1, 0), &sysctl).unwrap_err();
        assert_eq!(e, TcpInvalid::New);
        assert_eq!(e.to_string(), "invalid new");
    }
}

#[test]
fn transitions_the_table_forbids() {
    let mut sim = Sim::new();
    sim.send(C, seg(SYN, 1000, 0, C_WIN, 0));
    let why = TcpInvalid::Transition {
        class: PacketClass::Ack,
        dir: C,
        state: TcpState::SynSent,
    };
    assert_eq!(
        why.to_string(),
        "packet (index 3) in dir 0 invalid, state SYN_SENT"
    );
    assert_eq!(sim.send(C, seg(ACK, 1001, 0, C_WIN, 0)), invalid(why));
    let fin = TcpInvalid::Transition {
        class: PacketClass::Fin,
        dir: S,
        state: TcpState::SynSent,
    };
    assert_eq!(
        sim.send(S, seg(FIN | ACK, 5000, 1001, S_WIN, 0)),
        invalid(fin)
    );
    assert_eq!(sim.state(), Some(TcpState::SynSent));

    let mut sim = Sim::new();
    sim.handshake();
    let syn = TcpInvalid::Transition {
        class: PacketClass::Syn,
        dir: S,
        state: TcpState::Established,
    };
    assert_eq!(sim.send(S, seg(SYN, 9000, 0, S_WIN, 0)), invalid(syn));
}

#[test]
fn mid_stream_pickup_with_loose() {
    let mut sim = Sim::new();
    assert_eq!(sim.send(C, seg(ACK, 1001, 5001, 502, 0)), accept(300));
    assert_eq!(sim.state(), Some(TcpState::Established));
    // The first answer: still unreplied before it, so still capped.
    assert_eq!(sim.send(S, seg(ACK, 5001, 1001, 509, 0)), accept(300));
    // The next packet assures the entry.
    assert_eq!(sim.send(C, seg(ACK, 1001, 5001, 502, 0)), assure(432_000));
    // Picked-up connections are checked liberally: far out of window still passes.
    assert_eq!(
        sim.send(C, seg(PSH | ACK, 900_000, 5001, 502, 10)),
        accept(432_000)
    );
}

#[test]
fn mid_stream_pickup_with_data_and_without_loose() {
    let mut sim = Sim::new();
    assert_eq!(
        sim.send(C, seg(PSH | ACK, 1001, 5001, 502, 100)),
        accept(300)
    );
    assert_eq!(sim.state(), Some(TcpState::Established));

    let sysctl = Sysctl {
        tcp_loose: false,
        ..Sysctl::default()
    };
    let mut sim = Sim::with(sysctl);
    assert_eq!(
        sim.send(C, seg(ACK, 1001, 5001, 502, 0)),
        invalid(TcpInvalid::NotLoose)
    );
    assert!(!TcpInvalid::NotLoose.logged());
    assert!(sim.conn.is_none());
    // SYNs still create entries.
    assert_eq!(sim.send(C, seg(SYN, 1000, 0, C_WIN, 0)), accept(120));
}

#[test]
fn pickup_answered_by_rst_is_removed() {
    let mut sim = Sim::new();
    assert_eq!(sim.send(C, seg(ACK, 1001, 5001, 502, 0)), accept(300));
    assert_eq!(
        sim.send(S, seg(RST, 5001, 0, 0, 0)),
        TcpVerdict::AcceptAndKill
    );
}

#[test]
fn be_liberal_accepts_out_of_window_but_not_stale_rst() {
    let sysctl = Sysctl {
        tcp_be_liberal: true,
        ..Sysctl::default()
    };
    let mut sim = Sim::with(sysctl);
    sim.handshake();
    // Accepted without learning anything from it (no unacknowledged data recorded).
    assert_eq!(
        sim.send(C, seg(PSH | ACK, 201_001, 5001, C_WIN, 100)),
        accept(432_000)
    );
    assert_eq!(
        sim.send(C, seg(ACK, 1001, 15_001, C_WIN, 0)),
        accept(432_000)
    );
    assert_eq!(
        sim.send(S, seg(RST, 4000, 0, 0, 0)),
        invalid(TcpInvalid::Rst)
    );
    assert_eq!(sim.state(), Some(TcpState::Established));
}

#[test]
fn syn_on_time_wait_reopens() {
    let mut sim = Sim::new();
    sim.handshake();
    sim.send(C, seg(FIN | ACK, 1001, 5001, C_WIN, 0));
    sim.send(S, seg(FIN | ACK, 5001, 1002, S_WIN, 0));
    sim.send(C, seg(ACK, 1002, 5002, C_WIN, 0));
    assert_eq!(sim.state(), Some(TcpState::TimeWait));
    assert_eq!(
        sim.send(C, seg(SYN, 90_000, 0, C_WIN, 0)),
        TcpVerdict::Reopen
    );
    assert!(sim.conn.is_none());
    // The core then tracks the SYN as a new connection.
    assert_eq!(sim.send(C, seg(SYN, 90_000, 0, C_WIN, 0)), accept(120));
    assert_eq!(sim.state(), Some(TcpState::SynSent));
}

#[test]
fn server_syn_on_time_wait_reopens() {
    let mut sim = Sim::new();
    sim.handshake();
    sim.send(C, seg(FIN | ACK, 1001, 5001, C_WIN, 0));
    sim.send(S, seg(FIN | ACK, 5001, 1002, S_WIN, 0));
    sim.send(C, seg(ACK, 1002, 5002, C_WIN, 0));
    assert_eq!(
        sim.send(S, seg(SYN, 70_000, 0, S_WIN, 0)),
        TcpVerdict::Reopen
    );
}

#[test]
fn syn_after_own_rst_reopens_after_peer_rst_resyncs() {
    // The client aborted: its next SYN reopens.
    let mut sim = Sim::new();
    sim.handshake();
    assert_eq!(sim.send(C, seg(RST | ACK, 1001, 5001, 0, 0)), accept(10));
    assert_eq!(
        sim.send(C, seg(SYN, 30_000, 0, C_WIN, 0)),
        TcpVerdict::Reopen
    );

    // The server aborted: the client's SYN is let through untracked, and the SYN/ACK
    // answering it brings the entry back in sync.
    let mut sim = Sim::new();
    sim.handshake();
    assert_eq!(sim.send(S, seg(RST | ACK, 5001, 1001, 0, 0)), accept(10));
    let r = sim.report(C, seg(SYN, 30_000, 0, C_WIN, 0));
    assert_eq!(r.verdict, TcpVerdict::Ignore);
    assert_eq!(
        r.note.unwrap().to_string(),
        "packet (index 0) in dir 0 ignored, state CLOSE"
    );
    assert_eq!(sim.state(), Some(TcpState::Close));
    assert_eq!(
        sim.send(S, seg(SYN | ACK, 80_000, 30_001, S_WIN, 0)),
        accept(60)
    );
    assert_eq!(sim.state(), Some(TcpState::SynRecv));
    // Assured already, so no second assure.
    assert_eq!(
        sim.send(C, seg(ACK, 30_001, 80_001, C_WIN, 0)),
        accept(432_000)
    );
    assert_eq!(sim.state(), Some(TcpState::Established));
}

#[test]
fn syn_in_established_then_syn_ack_resyncs() {
    let mut sim = Sim::new();
    sim.handshake();
    // The client restarted without our seeing a RST.
    let r = sim.report(C, seg(SYN, 40_000, 0, C_WIN, 0));
    assert_eq!(r.verdict, TcpVerdict::Ignore);
    assert_eq!(
        r.note.unwrap().to_string(),
        "packet (index 0) in dir 0 ignored, state ESTABLISHED"
    );
    // A SYN/ACK for something else is ignored too.
    assert_eq!(
        sim.send(S, seg(SYN | ACK, 60_000, 12_345, S_WIN, 0)),
        TcpVerdict::Ignore
    );
    assert_eq!(
        sim.send(C, seg(SYN, 40_000, 0, C_WIN, 0)),
        TcpVerdict::Ignore
    );
    assert_eq!(
        sim.send(S, seg(SYN | ACK, 60_000, 40_001, S_WIN, 0)),
        accept(60)
    );
    assert_eq!(sim.state(), Some(TcpState::SynRecv));
}

#[test]
fn challenge_ack_in_last_ack_is_ignored() {
    let mut sim = Sim::new();
    sim.handshake();
    sim.send(C, seg(FIN | ACK, 1001, 5001, C_WIN, 0));
    sim.send(S, seg(ACK, 5001, 1002, S_WIN, 0));
    sim.send(S, seg(FIN | ACK, 5001, 1002, S_WIN, 0));
    assert_eq!(sim.state(), Some(TcpState::LastAck));
    // A new SYN from the client in LAST_ACK is let through...
    assert_eq!(
        sim.send(C, seg(SYN, 50_000, 0, C_WIN, 0)),
        TcpVerdict::Ignore
    );
    // ...and the server's challenge ACK does not count as the last ACK.
    let r = sim.report(S, seg(ACK, 5002, 1002, S_WIN, 0));
    assert_eq!(r.verdict, TcpVerdict::Ignore);
    assert_eq!(r.note, Some(TcpNote::ChallengeAckIgnored));
    assert_eq!(sim.state(), Some(TcpState::LastAck));
    // The client's real last ACK still closes.
    assert_eq!(sim.send(C, seg(ACK, 1002, 5002, C_WIN, 0)), accept(120));
    assert_eq!(sim.state(), Some(TcpState::TimeWait));
}

#[test]
fn challenge_ack_in_syn_sent_then_rst_then_new_syn() {
    let mut sim = Sim::new();
    assert_eq!(sim.send(C, seg(SYN, 1000, 0, C_WIN, 0)), accept(120));
    // The server still holds an old connection on this tuple and answers with a challenge ACK.
    let r = sim.report(S, seg(ACK, 7000, 12_345, S_WIN, 0));
    assert_eq!(r.verdict, TcpVerdict::Ignore);
    assert_eq!(
        r.note.unwrap().to_string(),
        "packet (index 3) in dir 1 ignored, state SYN_SENT"
    );
    assert_eq!(sim.state(), Some(TcpState::SynSent));
    // The client's RST answers it (seq = that ACK): accepted without a window check.
    assert_eq!(sim.send(C, seg(RST, 12_345, 0, 0, 0)), accept(10));
    assert_eq!(sim.state(), Some(TcpState::Close));
    // The client's SYN retry then replaces the entry.
    assert_eq!(sim.send(C, seg(SYN, 1000, 0, C_WIN, 0)), TcpVerdict::Reopen);
}

#[test]
fn simultaneous_open_via_syn_sent2() {
    let mut sim = Sim::new();
    assert_eq!(sim.send(C, seg(SYN, 1000, 0, C_WIN, 0)), accept(120));
    // The other side's own SYN: SYN_SENT2, without refreshing the entry.
    assert_eq!(sim.send(S, seg(SYN, 5000, 0, S_WIN, 0)), TcpVerdict::Ignore);
    assert_eq!(sim.state(), Some(TcpState::SynSent2));
    assert!(sim.seen_reply);
    assert_eq!(
        sim.send(C, seg(SYN | ACK, 1000, 5001, C_WIN, 0)),
        accept(60)
    );
    assert_eq!(sim.state(), Some(TcpState::SynRecv));
    assert_eq!(
        sim.send(S, seg(SYN | ACK, 5000, 1001, S_WIN, 0)),
        TcpVerdict::Ignore
    );
    // The reply side's ACK completes it.
    assert_eq!(sim.send(S, seg(ACK, 5001, 1001, S_WIN, 0)), assure(432_000));
    assert_eq!(sim.state(), Some(TcpState::Established));
}

#[test]
fn simultaneous_open_syn_sent2_timeout() {
    let mut sim = Sim::new();
    sim.send(C, seg(SYN, 1000, 0, C_WIN, 0));
    sim.send(S, seg(SYN, 5000, 0, S_WIN, 0));
    // A late SYN from the client in SYN_SENT2: stays, refreshed to the fixed 120 s.
    assert_eq!(sim.send(C, seg(SYN, 1000, 0, C_WIN, 0)), accept(120));
    assert_eq!(sim.state(), Some(TcpState::SynSent2));
}

/// NOP, window scale `shift`, SACK-permitted, NOP, NOP.
fn wscale_opts(shift: u8) -> [u8; 8] {
    [1, 3, 3, shift, 4, 2, 1, 1]
}

#[test]
fn window_scaling_widens_the_window() {
    let (c_opts, s_opts) = (wscale_opts(7), wscale_opts(7));
    let mut sim = Sim::new();
    let syn = TcpSegment {
        options: &c_opts,
        ..seg(SYN, 1000, 0, C_WIN, 0)
    };
    assert_eq!(sim.send(C, syn), accept(120));
    let syn_ack = TcpSegment {
        options: &s_opts,
        ..seg(SYN | ACK, 5000, 1001, S_WIN, 0)
    };
    assert_eq!(sim.send(S, syn_ack), accept(60));
    assert_eq!(sim.conn().wscale(C), 7);
    assert_eq!(sim.conn().wscale(S), 7);
    assert_eq!(sim.send(C, seg(ACK, 1001, 5001, 502, 0)), assure(432_000));
    // The server opens its window: 2000 << 7 = 256000 bytes.
    assert_eq!(sim.send(S, seg(ACK, 5001, 1001, 2000, 0)), accept(432_000));
    // Data 200000 bytes ahead fits.
    assert_eq!(
        sim.send(C, seg(PSH | ACK, 201_001, 5001, 502, 100)),
        accept(300)
    );
}

#[test]
fn without_scaling_the_same_data_is_out_of_window() {
    let mut sim = Sim::new();
    sim.handshake();
    assert_eq!(sim.send(S, seg(ACK, 5001, 1001, 2000, 0)), accept(432_000));
    assert_eq!(
        sim.send(C, seg(PSH | ACK, 201_001, 5001, 502, 100)),
        invalid(TcpInvalid::SeqOverUpperBound { bound: 66_162 })
    );
}

#[test]
fn scaling_needs_both_sides() {
    let c_opts = wscale_opts(7);
    let mut sim = Sim::new();
    sim.send(
        C,
        TcpSegment {
            options: &c_opts,
            ..seg(SYN, 1000, 0, C_WIN, 0)
        },
    );
    assert_eq!(sim.conn().wscale(C), 7);
    sim.send(S, seg(SYN | ACK, 5000, 1001, S_WIN, 0));
    assert_eq!(sim.conn().wscale(C), 0);
    assert_eq!(sim.conn().wscale(S), 0);
}

#[test]
fn sack_blocks_count_as_acknowledgement() {
    let (c_opts, s_opts) = (wscale_opts(0), wscale_opts(0));
    let mut sim = Sim::new();
    sim.send(
        C,
        TcpSegment {
            options: &c_opts,
            ..seg(SYN, 1000, 0, C_WIN, 0)
        },
    );
    sim.send(
        S,
        TcpSegment {
            options: &s_opts,
            ..seg(SYN | ACK, 5000, 1001, S_WIN, 0)
        },
    );
    sim.send(C, seg(ACK, 1001, 5001, C_WIN, 0));
    sim.send(C, seg(PSH | ACK, 1001, 5001, C_WIN, 1000));
    // SACK of bytes never sent (right edge 3001 > 2001) is an ACK over the upper bound.
    let mut sack = vec![1, 1, 5, 10];
    sack.extend_from_slice(&1501u32.to_be_bytes());
    sack.extend_from_slice(&3001u32.to_be_bytes());
    let v = sim.send(
        S,
        TcpSegment {
            options: &sack,
            ..seg(ACK, 5001, 1001, S_WIN, 0)
        },
    );
    assert_eq!(v, invalid(TcpInvalid::AckOverUpperBound { bound: 2002 }));
}

#[test]
fn can_early_drop_in_closing_states() {
    let mut sim = Sim::new();
    sim.handshake();
    assert!(!sim.conn().can_early_drop());
    sim.send(C, seg(FIN | ACK, 1001, 5001, C_WIN, 0));
    assert!(sim.conn().can_early_drop());
}

#[test]
fn arbitrary_segments_never_panic() {
    // A small linear congruential generator: no dependencies, reproducible.
    let mut x: u64 = 0x2545_f491_4f6c_dd1d;
    let mut next = || {
        x = x
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        (x >> 32) as u32
    };
    let opts = [1u8, 3, 3, 200, 4, 2, 5, 10, 0, 0, 0, 1, 255, 255, 255, 255];
    for round in 0..2000 {
        let sysctl = Sysctl {
            tcp_be_liberal: round % 3 == 0,
            tcp_ignore_invalid_rst: round % 5 == 0,
            ..Sysctl::default()
        };
        let mut sim = Sim::with(sysctl);
        let base = next();
        for _ in 0..40 {
            let r = next();
            let flags = [
                SYN,
                SYN | ACK,
                ACK,
                FIN | ACK,
                RST,
                RST | ACK,
                PSH | ACK,
                r as u8,
            ][(r % 8) as usize];
            let dir = if sim.conn.is_none() || r & 0x100 == 0 {
                C
            } else {
                S
            };
            let near = |v: u32| base.wrapping_add(v % 200_000);
            let cut = (next() % 17) as usize;
            let s = TcpSegment {
                seq: if r & 0x200 == 0 { near(next()) } else { next() },
                ack: if r & 0x400 == 0 { near(next()) } else { next() },
                flags,
                window: next() as u16,
                payload_len: next() % 3000,
                options: &opts[..cut],
            };
            let _ = sim.report(dir, s);
        }
    }
}
