//! Injecting Ethernet frames exactly as built, through an AF_PACKET socket bound to a veth in
//! the client or server namespace.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use crate::netns::Netns;

/// A raw socket that sends frames out of one interface. It receives nothing (protocol 0).
pub struct Injector {
    fd: OwnedFd,
    interface: String,
}

impl Injector {
    /// Opens the socket inside `ns` and binds it to `interface` there; it keeps sending on that
    /// interface whatever namespace the sending thread is in.
    pub fn open(ns: &Netns, interface: &str) -> io::Result<Injector> {
        let name = CString::new(interface).map_err(io::Error::other)?;
        let fd = ns
            .run(|| -> io::Result<OwnedFd> {
                // SAFETY: plain socket(2); the result is checked before it is wrapped.
                let raw = unsafe {
                    libc::socket(libc::AF_PACKET, libc::SOCK_RAW | libc::SOCK_CLOEXEC, 0)
                };
                if raw < 0 {
                    return Err(io::Error::last_os_error());
                }
                // SAFETY: `raw` is a fresh descriptor that nothing else owns.
                let fd = unsafe { OwnedFd::from_raw_fd(raw) };
                // SAFETY: `name` is a valid NUL-terminated string.
                let index = unsafe { libc::if_nametoindex(name.as_ptr()) };
                if index == 0 {
                    return Err(io::Error::last_os_error());
                }
                // SAFETY: sockaddr_ll is plain data; all-zero is a valid starting value.
                let mut addr: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
                addr.sll_family = libc::AF_PACKET as u16;
                addr.sll_ifindex = index as i32;
                // SAFETY: `addr` is a properly initialised sockaddr_ll of the given length.
                let rc = unsafe {
                    libc::bind(
                        fd.as_raw_fd(),
                        (&raw const addr).cast::<libc::sockaddr>(),
                        size_of::<libc::sockaddr_ll>() as libc::socklen_t,
                    )
                };
                if rc != 0 {
                    return Err(io::Error::last_os_error());
                }
                Ok(fd)
            })?
            .map_err(|e| {
                io::Error::new(
                    e.kind(),
                    format!("AF_PACKET on {interface} in {}: {e}", ns.name),
                )
            })?;
        Ok(Injector {
            fd,
            interface: interface.to_string(),
        })
    }

    /// Sends one frame (Ethernet header included).
    pub fn send(&self, frame: &[u8]) -> io::Result<()> {
        // SAFETY: the buffer is valid for `frame.len()` bytes for the duration of the call.
        let sent = unsafe {
            libc::send(
                self.fd.as_raw_fd(),
                frame.as_ptr().cast::<libc::c_void>(),
                frame.len(),
                0,
            )
        };
        if sent < 0 {
            return Err(io::Error::last_os_error());
        }
        if sent as usize != frame.len() {
            return Err(io::Error::other(format!(
                "{}: sent {sent} of {} bytes",
                self.interface,
                frame.len()
            )));
        }
        Ok(())
    }
}
