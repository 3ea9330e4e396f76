//! Which timeout an accepted segment gives the entry.

use core::time::Duration;

use super::state_table::PacketClass;
use super::{TcpConn, TcpState};
use crate::sysctl::{Sysctl, Timeouts, secs};

/// SYN_SENT2 has a timeout in the kernel's table (2 minutes) but no sysctl.
const SYN_SENT2_SECS: u32 = 120;

/// The timeout of a state, in seconds. NONE shares SYN_SENT's, as in the kernel.
pub(crate) fn of_state(state: TcpState, t: &Timeouts) -> u32 {
    match state {
        TcpState::None | TcpState::SynSent => t.tcp_syn_sent,
        TcpState::SynRecv => t.tcp_syn_recv,
        TcpState::Established => t.tcp_established,
        TcpState::FinWait => t.tcp_fin_wait,
        TcpState::CloseWait => t.tcp_close_wait,
        TcpState::LastAck => t.tcp_last_ack,
        TcpState::TimeWait => t.tcp_time_wait,
        TcpState::Close => t.tcp_close,
        TcpState::SynSent2 => SYN_SENT2_SECS,
    }
}

impl TcpConn {
    /// The timeout for an accepted segment of `class` that moved the entry to `state`, first
    /// rule that applies:
    ///
    /// 1. `tcp_max_retrans` or more retransmissions: at most `tcp_timeout_max_retrans`;
    /// 2. a RST: `tcp_timeout_close`, even when the state stays;
    /// 3. data unacknowledged in either direction: at most `tcp_timeout_unacknowledged`;
    /// 4. the last counted segment advertised a zero window: at most `tcp_timeout_max_retrans`;
    /// 5. the state's own timeout.
    pub(super) fn timeout_for(
        &self,
        class: PacketClass,
        state: TcpState,
        sysctl: &Sysctl,
    ) -> Duration {
        let t = &sysctl.timeouts;
        let own = of_state(state, t);
        let chosen = if self.retrans >= sysctl.tcp_max_retrans && own > t.tcp_max_retrans {
            t.tcp_max_retrans
        } else if class == PacketClass::Rst {
            t.tcp_close
        } else if self.window.data_unacknowledged() && own > t.tcp_unacknowledged {
            t.tcp_unacknowledged
        } else if self.last_win == 0 && own > t.tcp_max_retrans {
            t.tcp_max_retrans
        } else {
            own
        };
        secs(chosen)
    }
}

impl TcpConn {
    /// A REJECT `tcp-reset` answered this connection: it goes to CLOSE. Returns the new
    /// timeout, or None when it was CLOSE already (the kernel then leaves the timeout).
    pub(crate) fn set_closing(&mut self, t: &Timeouts) -> Option<Duration> {
        if self.state == TcpState::Close {
            return None;
        }
        self.state = TcpState::Close;
        Some(secs(t.tcp_close))
    }
}
