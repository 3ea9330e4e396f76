//! AF_PACKET sockets opened inside a namespace and bound to one of its interfaces: the
//! injector's and the capture's, which differ only in protocol, flags and options.

use std::ffi::CString;
use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd};

use crate::netns::Netns;

/// Opens the socket inside `ns` (it stays bound to that namespace's `interface` whatever
/// namespace the calling thread is in later). `protocol` is in network order, as
/// `socket(2)` and `sockaddr_ll` take it; `setup` sets options before the bind; `what`
/// names the socket in errors.
pub fn open(
    ns: &Netns,
    interface: &str,
    protocol: u16,
    flags: libc::c_int,
    setup: impl FnOnce(&OwnedFd) -> io::Result<()> + Send,
    what: &str,
) -> io::Result<OwnedFd> {
    let name = CString::new(interface).map_err(io::Error::other)?;
    ns.run(|| -> io::Result<OwnedFd> {
        // SAFETY: plain socket(2); the result is checked before it is wrapped.
        let raw = unsafe {
            libc::socket(
                libc::AF_PACKET,
                libc::SOCK_RAW | libc::SOCK_CLOEXEC | flags,
                libc::c_int::from(protocol),
            )
        };
        if raw < 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: `raw` is a fresh descriptor that nothing else owns.
        let fd = unsafe { OwnedFd::from_raw_fd(raw) };
        setup(&fd)?;
        // SAFETY: `name` is a valid NUL-terminated string.
        let index = unsafe { libc::if_nametoindex(name.as_ptr()) };
        if index == 0 {
            return Err(io::Error::last_os_error());
        }
        // SAFETY: sockaddr_ll is plain data; all-zero is a valid starting value.
        let mut addr: libc::sockaddr_ll = unsafe { std::mem::zeroed() };
        addr.sll_family = libc::AF_PACKET as u16;
        addr.sll_protocol = protocol;
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
            format!("{what} on {interface} in {}: {e}", ns.name),
        )
    })
}

/// Sets an integer socket option on (level, option) to `value`.
pub fn set_int(
    fd: &OwnedFd,
    level: libc::c_int,
    option: libc::c_int,
    value: libc::c_int,
) -> io::Result<()> {
    // SAFETY: `value` is a c_int, passed with its size.
    let rc = unsafe {
        libc::setsockopt(
            fd.as_raw_fd(),
            level,
            option,
            (&raw const value).cast::<libc::c_void>(),
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc == 0 {
        Ok(())
    } else {
        Err(io::Error::last_os_error())
    }
}
