//! Errors: the file, the byte offset in the (decompressed) stream, and the reason.

use core::fmt;
use std::io;

use crate::pcapng::block_name;

/// Why a capture could not be read, and where.
///
/// Displays as `NAME: byte OFFSET: REASON`, e.g.
/// `capture.pcap: byte 1234: truncated packet record: 60 bytes of 74`; the offset counts bytes
/// of the decompressed stream and is left out when the file could not be opened at all.
#[derive(Debug)]
pub struct CaptureError {
    name: String,
    offset: Option<u64>,
    kind: ErrorKind,
}

impl CaptureError {
    pub(crate) fn new(name: &str, offset: Option<u64>, kind: ErrorKind) -> Self {
        CaptureError {
            name: name.to_string(),
            offset,
            kind,
        }
    }

    /// The file's name as given to [`Capture::open`](crate::Capture::open) or
    /// [`Capture::from_reader`](crate::Capture::from_reader).
    pub fn name(&self) -> &str {
        &self.name
    }

    /// Where in the (decompressed) stream: the first byte of the record or block at fault (of
    /// the option, for a bad option). `None` when the file could not be opened.
    pub fn offset(&self) -> Option<u64> {
        self.offset
    }

    pub fn kind(&self) -> &ErrorKind {
        &self.kind
    }
}

impl fmt::Display for CaptureError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.offset {
            Some(off) => write!(f, "{}: byte {off}: {}", self.name, self.kind),
            None => write!(f, "{}: {}", self.name, self.kind),
        }
    }
}

impl std::error::Error for CaptureError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match &self.kind {
            ErrorKind::Open(e) | ErrorKind::Read(e) => Some(e),
            _ => None,
        }
    }
}

/// The reason part of a [`CaptureError`].
#[derive(Debug)]
#[non_exhaustive]
pub enum ErrorKind {
    /// The file could not be opened.
    Open(io::Error),
    /// Reading failed (for a gzip file this includes a corrupt compressed stream).
    Read(io::Error),
    /// No bytes at all (after decompression, for a gzip file).
    Empty,
    /// The first bytes are no pcap, pcapng or gzip magic number.
    UnknownFormat { start: [u8; 4], len: usize },
    /// A known format this reader does not take (Kuznetzov's modified pcap).
    UnsupportedFormat(&'static str),
    UnsupportedVersion {
        format: &'static str,
        major: u16,
        minor: u16,
    },
    /// The stream ends inside a header, record or block: `got` of its `need` bytes are there
    /// (for a pcap packet record, the bytes of its packet data).
    Truncated {
        what: &'static str,
        got: u64,
        need: u64,
    },
    /// A captured length above [`MAX_PACKET`](crate::MAX_PACKET): garbage, not a packet.
    PacketTooLarge { caplen: u64, max: u32 },
    /// A pcapng section header whose byte-order magic is neither 0x1A2B3C4D nor its swap.
    BadByteOrderMagic(u32),
    /// A pcapng block total length that is not a multiple of 4.
    BlockLengthNotMultipleOf4 { block_type: u32, len: u32 },
    /// A pcapng block total length too small for the block's fixed fields.
    BlockTooShort { block_type: u32, len: u32, min: u32 },
    /// A pcapng block total length above [`MAX_BLOCK`](crate::MAX_BLOCK).
    BlockTooLong { block_type: u32, len: u32, max: u32 },
    /// The trailing copy of a pcapng block total length differs from the leading one.
    BlockLengthMismatch {
        block_type: u32,
        leading: u32,
        trailing: u32,
    },
    /// A packet block names an interface its section has not described.
    UnknownInterface { id: u32, count: usize },
    /// A packet's captured length runs past the end of its block.
    CaplenPastBlock { caplen: u32, room: u32 },
    /// An interface description option that is malformed.
    BadOption { code: u16, reason: &'static str },
}

impl fmt::Display for ErrorKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            ErrorKind::Open(e) => write!(f, "cannot open: {e}"),
            ErrorKind::Read(e) => write!(f, "read failed: {e}"),
            ErrorKind::Empty => write!(f, "empty: no capture header"),
            ErrorKind::UnknownFormat { start, len } => {
                write!(f, "not a pcap, pcapng or gzip file (it starts with")?;
                for b in &start[..*len] {
                    write!(f, " {b:02x}")?;
                }
                write!(f, ")")
            }
            ErrorKind::UnsupportedFormat(what) => write!(f, "unsupported format: {what}"),
            ErrorKind::UnsupportedVersion {
                format,
                major,
                minor,
            } => write!(f, "unsupported {format} version {major}.{minor}"),
            ErrorKind::Truncated { what, got, need } => {
                write!(f, "truncated {what}: {got} bytes of {need}")
            }
            ErrorKind::PacketTooLarge { caplen, max } => write!(
                f,
                "captured length {caplen} is above the {max}-byte limit for a packet"
            ),
            ErrorKind::BadByteOrderMagic(m) => write!(
                f,
                "section header block with bad byte-order magic 0x{m:08x}"
            ),
            ErrorKind::BlockLengthNotMultipleOf4 { block_type, len } => write!(
                f,
                "{} with length {len}, not a multiple of 4",
                BlockName(*block_type)
            ),
            ErrorKind::BlockTooShort {
                block_type,
                len,
                min,
            } => write!(
                f,
                "{} with length {len}, below its minimum of {min}",
                BlockName(*block_type)
            ),
            ErrorKind::BlockTooLong {
                block_type,
                len,
                max,
            } => write!(
                f,
                "{} with length {len}, above the limit of {max}",
                BlockName(*block_type)
            ),
            ErrorKind::BlockLengthMismatch {
                block_type,
                leading,
                trailing,
            } => write!(
                f,
                "{} with length {leading} at its start but {trailing} at its end",
                BlockName(*block_type)
            ),
            ErrorKind::UnknownInterface { id, count } => write!(
                f,
                "packet on interface {id}, but its section describes {count} interface(s)"
            ),
            ErrorKind::CaplenPastBlock { caplen, room } => write!(
                f,
                "captured length {caplen} runs past the end of its block ({room} bytes of room)"
            ),
            ErrorKind::BadOption { code, reason } => {
                write!(f, "interface description option {code}: {reason}")
            }
        }
    }
}

/// A pcapng block type by name, or in hex.
struct BlockName(u32);

impl fmt::Display for BlockName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match block_name(self.0) {
            Some(name) => f.write_str(name),
            None => write!(f, "block of type 0x{:08x}", self.0),
        }
    }
}
