//! The kernel log lines a scenario causes, read from `/dev/kmsg`.
//!
//! Only lines about the router are kept: nf_log lines naming its interfaces (`IN=rtr-c`, …) and
//! lines naming its namespace (`table full in netns N`, with N replaced by `<netns>`). Other
//! lines (other namespaces, `net_ratelimit: N callbacks suppressed`) are left out.

use std::fs::File;
use std::io::{self, Read, Seek, SeekFrom};
use std::os::unix::fs::OpenOptionsExt;

use ctguard_scenario::topology::{ROUTER_CLIENT_IF, ROUTER_SERVER_IF};

pub struct KernelLog {
    file: File,
    netns: String,
}

impl KernelLog {
    /// Opens the log, positioned at its end; `netns_inode` is the router's.
    pub fn open(netns_inode: u64) -> io::Result<KernelLog> {
        let file = std::fs::OpenOptions::new()
            .read(true)
            .custom_flags(libc::O_NONBLOCK)
            .open("/dev/kmsg")
            .map_err(|e| io::Error::new(e.kind(), format!("/dev/kmsg: {e}")))?;
        let log = KernelLog {
            file,
            netns: format!("netns {netns_inode}"),
        };
        log.skip_to_end()?;
        Ok(log)
    }

    /// Forgets everything logged so far.
    pub fn skip_to_end(&self) -> io::Result<()> {
        (&self.file).seek(SeekFrom::End(0))?;
        Ok(())
    }

    /// The router's lines logged since the last call, normalised.
    pub fn read_new(&self) -> io::Result<Vec<String>> {
        let mut lines = Vec::new();
        let mut buf = vec![0u8; 16 * 1024];
        // Bounded: the ring holds far fewer records than this.
        for _ in 0..1_000_000 {
            match (&self.file).read(&mut buf) {
                Ok(0) => break,
                Ok(n) => {
                    if let Some(line) = self.keep(&String::from_utf8_lossy(&buf[..n])) {
                        lines.push(line);
                    }
                }
                Err(e) if e.kind() == io::ErrorKind::WouldBlock => break,
                // Records were overwritten before we read them; reading goes on after them.
                Err(e) if e.raw_os_error() == Some(libc::EPIPE) => {
                    lines.push("(kernel log records lost: the ring overflowed)".into());
                }
                Err(e) => return Err(e),
            }
        }
        Ok(lines)
    }

    /// `PRI,SEQ,USEC,FLAGS;TEXT\n[ KEY=VALUE\n]…` → TEXT, if it is about the router.
    fn keep(&self, record: &str) -> Option<String> {
        let (_, text) = record.split_once(';')?;
        let text = text.lines().next().unwrap_or_default().trim_end();
        let ours = [ROUTER_CLIENT_IF, ROUTER_SERVER_IF]
            .iter()
            .any(|i| text.contains(&format!("={i} ")));
        if ours {
            Some(text.to_string())
        } else if text.contains(&format!("{} ", self.netns))
            || text.contains(&format!("{},", self.netns))
            || text.ends_with(&self.netns)
        {
            Some(text.replace(&self.netns, "netns <netns>"))
        } else {
            None
        }
    }
}
