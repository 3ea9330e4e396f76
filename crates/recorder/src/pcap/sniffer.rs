//! Draining both capture sockets on a thread of its own while frames are sent, so that neither
//! socket buffer fills; every packet is stamped with the time it was read.

use std::io;
use std::os::fd::AsRawFd;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use crate::capture::Capture;
use crate::record::STOP;

/// An IP packet the router transmitted, and when it was read.
pub struct Caught {
    pub at: Instant,
    pub ip: Vec<u8>,
}

/// How long one poll waits before looking at the stop flags.
const POLL_MS: libc::c_int = 5;

/// Sets the flag when dropped, so that the sniffer stops however its caller leaves.
pub struct StopOnDrop<'a>(pub &'a AtomicBool);

impl Drop for StopOnDrop<'_> {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Reads both sockets until `stop` (or a signal) is set, or `limit` has passed, then empties
/// them one last time. Returns the packets of each, in arrival order.
pub fn run(
    captures: &[Capture; 2],
    stop: &AtomicBool,
    limit: Duration,
) -> io::Result<[Vec<Caught>; 2]> {
    let mut caught: [Vec<Caught>; 2] = [Vec::new(), Vec::new()];
    let start = Instant::now();
    let drain = |caught: &mut [Vec<Caught>; 2], which: &[bool; 2]| -> io::Result<()> {
        for (i, capture) in captures.iter().enumerate() {
            if which[i] {
                let packets = capture.take()?;
                let at = Instant::now();
                caught[i].extend(packets.into_iter().map(|ip| Caught { at, ip }));
            }
        }
        Ok(())
    };
    while !stop.load(Ordering::Relaxed) && !STOP.load(Ordering::Relaxed) && start.elapsed() < limit
    {
        let mut fds = captures.each_ref().map(|c| libc::pollfd {
            fd: c.as_raw_fd(),
            events: libc::POLLIN,
            revents: 0,
        });
        // SAFETY: `fds` is an array of two initialised pollfd structures.
        let n = unsafe { libc::poll(fds.as_mut_ptr(), fds.len() as libc::nfds_t, POLL_MS) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::Interrupted {
                continue;
            }
            return Err(e);
        }
        if n > 0 {
            drain(&mut caught, &fds.map(|f| f.revents != 0))?;
        }
    }
    drain(&mut caught, &[true, true])?;
    Ok(caught)
}
