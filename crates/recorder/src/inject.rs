//! Injecting Ethernet frames exactly as built, through an AF_PACKET socket bound to a veth in
//! the client or server namespace.

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use crate::netns::Netns;
use crate::packet_socket;

/// A raw socket that sends frames out of one interface. It receives nothing (protocol 0).
pub struct Injector {
    fd: OwnedFd,
    interface: String,
}

impl Injector {
    /// Opens the socket inside `ns` and binds it to `interface` there; it keeps sending on that
    /// interface whatever namespace the sending thread is in.
    pub fn open(ns: &Netns, interface: &str) -> io::Result<Injector> {
        let fd = packet_socket::open(ns, interface, 0, 0, |_| Ok(()), "AF_PACKET")?;
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

/// Raw IPv4 and IPv6 sockets in the router namespace that send the router's own (`r`) packets
/// as built (`IPPROTO_RAW`: header included), tagged with the skb priority
/// [`crate::probe::TAG_LOCAL`]. The kernel routes them, fills in the IPv4 header checksum (and
/// the identification when it is 0), and runs them through OUTPUT and POSTROUTING.
pub struct LocalSender {
    v4: OwnedFd,
    v6: OwnedFd,
}

fn raw_socket(family: libc::c_int, priority: u32) -> io::Result<OwnedFd> {
    // SAFETY: plain socket(2); the result is checked before it is wrapped.
    let raw = unsafe {
        libc::socket(
            family,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            libc::IPPROTO_RAW,
        )
    };
    if raw < 0 {
        return Err(io::Error::last_os_error());
    }
    // SAFETY: `raw` is a fresh descriptor that nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    let value = priority as libc::c_int;
    // SAFETY: `value` is a c_int, passed with its size.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            libc::SOL_SOCKET,
            libc::SO_PRIORITY,
            (&raw const value).cast::<libc::c_void>(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(fd)
}

impl LocalSender {
    /// Opens both sockets inside `ns` (they keep sending from there).
    pub fn open(ns: &Netns, priority: u32) -> io::Result<LocalSender> {
        let (v4, v6) = ns.run(|| -> io::Result<(OwnedFd, OwnedFd)> {
            Ok((
                raw_socket(libc::AF_INET, priority)?,
                raw_socket(libc::AF_INET6, priority)?,
            ))
        })??;
        Ok(LocalSender { v4, v6 })
    }

    /// Sends one IP packet (IPv4 or IPv6, header included) to its destination address.
    pub fn send(&self, ip: &[u8]) -> io::Result<()> {
        let bad = || io::Error::other("not an IP packet");
        let sent = match ip.first().map(|b| b >> 4) {
            Some(4) => {
                let dst: [u8; 4] = ip
                    .get(16..20)
                    .ok_or_else(bad)?
                    .try_into()
                    .map_err(|_| bad())?;
                // SAFETY: sockaddr_in is plain data; all-zero is a valid starting value.
                let mut addr: libc::sockaddr_in = unsafe { std::mem::zeroed() };
                addr.sin_family = libc::AF_INET as libc::sa_family_t;
                addr.sin_addr.s_addr = u32::from_ne_bytes(dst);
                // SAFETY: the buffer and the address are valid for the given lengths.
                unsafe {
                    libc::sendto(
                        self.v4.as_raw_fd(),
                        ip.as_ptr().cast::<libc::c_void>(),
                        ip.len(),
                        0,
                        (&raw const addr).cast::<libc::sockaddr>(),
                        size_of::<libc::sockaddr_in>() as libc::socklen_t,
                    )
                }
            }
            Some(6) => {
                let dst: [u8; 16] = ip
                    .get(24..40)
                    .ok_or_else(bad)?
                    .try_into()
                    .map_err(|_| bad())?;
                // SAFETY: sockaddr_in6 is plain data; all-zero is a valid starting value.
                let mut addr: libc::sockaddr_in6 = unsafe { std::mem::zeroed() };
                addr.sin6_family = libc::AF_INET6 as libc::sa_family_t;
                addr.sin6_addr.s6_addr = dst;
                // SAFETY: the buffer and the address are valid for the given lengths.
                unsafe {
                    libc::sendto(
                        self.v6.as_raw_fd(),
                        ip.as_ptr().cast::<libc::c_void>(),
                        ip.len(),
                        0,
                        (&raw const addr).cast::<libc::sockaddr>(),
                        size_of::<libc::sockaddr_in6>() as libc::socklen_t,
                    )
                }
            }
            _ => return Err(bad()),
        };
        if sent < 0 {
            return Err(io::Error::last_os_error());
        }
        if sent as usize != ip.len() {
            return Err(io::Error::other(format!(
                "raw socket: sent {sent} of {} bytes",
                ip.len()
            )));
        }
        Ok(())
    }
}
