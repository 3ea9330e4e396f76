//! Running code inside a named network namespace (`/run/netns/NAME`, as `ip netns add` makes).
//!
//! Each call runs on a fresh thread that joins the namespace with `setns`; the calling thread
//! stays where it is. Child processes started from that thread inherit the namespace.

use std::fs::File;
use std::io;
use std::os::fd::AsRawFd;
use std::os::unix::fs::MetadataExt;
use std::process::{Command, Output, Stdio};

/// A network namespace, held open.
pub struct Netns {
    pub name: String,
    file: File,
}

impl Netns {
    pub fn open(name: &str) -> io::Result<Netns> {
        let path = format!("/run/netns/{name}");
        let file = File::open(&path).map_err(|e| {
            io::Error::new(
                e.kind(),
                format!("{path}: {e} (was record.sh's setup run?)"),
            )
        })?;
        Ok(Netns {
            name: name.to_string(),
            file,
        })
    }

    /// The namespace's inode number, as the kernel prints it (`table full in netns N`).
    pub fn inode(&self) -> io::Result<u64> {
        Ok(self.file.metadata()?.ino())
    }

    /// Runs `f` on a thread inside this namespace.
    pub fn run<T: Send>(&self, f: impl FnOnce() -> T + Send) -> io::Result<T> {
        let fd = self.file.as_raw_fd();
        std::thread::scope(|scope| {
            scope
                .spawn(move || {
                    // SAFETY: `fd` is an open namespace file owned by `self`, which outlives
                    // this scoped thread; setns changes only this thread's namespace.
                    if unsafe { libc::setns(fd, libc::CLONE_NEWNET) } != 0 {
                        return Err(io::Error::last_os_error());
                    }
                    Ok(f())
                })
                .join()
                .map_err(|_| io::Error::other("a thread in the namespace panicked"))?
        })
    }

    /// Runs a program inside this namespace, `stdin` piped in; fails unless it exits 0.
    pub fn command(&self, program: &str, args: &[&str], stdin: Option<&str>) -> io::Result<Output> {
        let output = self.run(|| -> io::Result<Output> {
            let mut child = Command::new(program)
                .args(args)
                .stdin(if stdin.is_some() {
                    Stdio::piped()
                } else {
                    Stdio::null()
                })
                .stdout(Stdio::piped())
                .stderr(Stdio::piped())
                .spawn()?;
            if let (Some(text), Some(mut pipe)) = (stdin, child.stdin.take()) {
                use std::io::Write;
                pipe.write_all(text.as_bytes())?;
            }
            child.wait_with_output()
        })??;
        if !output.status.success() {
            return Err(io::Error::other(format!(
                "`{program} {}` in {} failed: {}",
                args.join(" "),
                self.name,
                String::from_utf8_lossy(&output.stderr).trim()
            )));
        }
        Ok(output)
    }

    /// Reads a file as this namespace sees it (`/proc/thread-self/net/…`, `/proc/sys/net/…`).
    pub fn read_to_string(&self, path: &str) -> io::Result<String> {
        self.run(|| std::fs::read_to_string(path))?
            .map_err(|e| io::Error::new(e.kind(), format!("{path} in {}: {e}", self.name)))
    }

    /// Writes a file as this namespace sees it.
    pub fn write(&self, path: &str, contents: &str) -> io::Result<()> {
        self.run(|| std::fs::write(path, contents))?
            .map_err(|e| io::Error::new(e.kind(), format!("{path} in {}: {e}", self.name)))
    }
}

/// The inode number of the init network namespace (PROC_NET_INIT_INO in the kernel).
const INIT_NET_INODE: u64 = 0xEFFF_FFF9;

/// Whether this thread is in the init network namespace (global sysctls are writable only
/// there). Compared by inode number, since /proc/1 may be out of reach in a sandbox.
pub fn in_init_namespace() -> io::Result<bool> {
    let own = std::fs::metadata("/proc/thread-self/ns/net")?;
    Ok(own.ino() == INIT_NET_INODE)
}
