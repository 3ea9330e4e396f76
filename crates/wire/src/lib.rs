//! Zero-copy views of the packet formats ctguard reads.
//!
//! Each module wraps a byte buffer in a `Packet<T: AsRef<[u8]>>`. `new_checked` validates the
//! lengths the accessors rely on once, so the accessors themselves index without further
//! checks; `new_unchecked` skips that and leaves the caller responsible (its accessors may
//! panic on a short buffer). Nothing here allocates, and no input to `new_checked` panics.

#![cfg_attr(not(test), no_std)]
#![forbid(unsafe_code)]

/// Declares a zero-copy view over a buffer that must hold at least a fixed-length header:
/// `new_checked` validates that once, accessors then read from the buffer.
#[macro_export]
#[doc(hidden)]
macro_rules! view {
    ($(#[$doc:meta])* $name:ident, $len:expr) => {
        $(#[$doc])*
        #[derive(Copy, Clone, Debug, PartialEq, Eq)]
        pub struct $name<T: AsRef<[u8]>> {
            buffer: T,
        }

        impl<T: AsRef<[u8]>> $name<T> {
            pub const fn new_unchecked(buffer: T) -> Self {
                $name { buffer }
            }

            /// Checks once that the fixed header is there.
            pub fn new_checked(buffer: T) -> $crate::Result<Self> {
                if buffer.as_ref().len() < $len {
                    return Err($crate::Error::Truncated);
                }
                Ok($name { buffer })
            }

            pub fn into_inner(self) -> T {
                self.buffer
            }
        }
    };
}

/// The 8-byte header ICMP and ICMPv6 share: type, code, checksum, and the identifier and
/// sequence number of queries, then the data (an error's quoted packet).
#[macro_export]
#[doc(hidden)]
macro_rules! icmp_header {
    ($name:ident, $len:expr) => {
        impl<T: AsRef<[u8]>> $name<T> {
            pub fn msg_type(&self) -> u8 {
                self.buffer.as_ref()[0]
            }

            pub fn msg_code(&self) -> u8 {
                self.buffer.as_ref()[1]
            }

            pub fn checksum(&self) -> u16 {
                $crate::be16(self.buffer.as_ref(), 2)
            }

            /// Bytes 4-5: the identifier of queries and replies.
            pub fn ident(&self) -> u16 {
                $crate::be16(self.buffer.as_ref(), 4)
            }

            /// Bytes 6-7: the sequence number of queries and replies.
            pub fn seq_number(&self) -> u16 {
                $crate::be16(self.buffer.as_ref(), 6)
            }

            /// What follows the header: for errors, the quoted packet.
            pub fn data(&self) -> &[u8] {
                &self.buffer.as_ref()[$len..]
            }
        }
    };
}

pub mod checksum;
pub mod ethernet;
pub mod icmpv4;
pub mod icmpv6;
pub mod ip;
pub mod ipv4;
pub mod ipv6;
pub mod ipv6_ext;
pub mod sll;
pub mod tcp;
pub mod udp;

use core::fmt;

/// Why a buffer is not a valid view of a format.
#[derive(Copy, Clone, Debug, PartialEq, Eq, Hash)]
pub enum Error {
    /// The buffer ends before the header (or a length it states) does.
    Truncated,
    /// A field holds a value the format forbids (e.g. an IPv4 header length below 5 words).
    Malformed,
}

impl fmt::Display for Error {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Error::Truncated => "truncated",
            Error::Malformed => "malformed",
        })
    }
}

pub type Result<T> = core::result::Result<T, Error>;

/// Big-endian u16 at `at`; the caller has checked the length.
#[inline(always)]
pub(crate) fn be16(b: &[u8], at: usize) -> u16 {
    u16::from_be_bytes([b[at], b[at + 1]])
}

/// Big-endian u32 at `at`; the caller has checked the length.
#[inline(always)]
pub(crate) fn be32(b: &[u8], at: usize) -> u32 {
    u32::from_be_bytes([b[at], b[at + 1], b[at + 2], b[at + 3]])
}

/// `N` bytes at `at`; the caller has checked the length.
#[inline(always)]
pub(crate) fn array<const N: usize>(b: &[u8], at: usize) -> [u8; N] {
    let mut out = [0u8; N];
    out.copy_from_slice(&b[at..at + N]);
    out
}

#[inline(always)]
pub(crate) fn put16(b: &mut [u8], at: usize, v: u16) {
    b[at..at + 2].copy_from_slice(&v.to_be_bytes());
}
