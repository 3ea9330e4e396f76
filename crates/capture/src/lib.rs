//! Packet captures for `ctguard replay`: a streaming reader for pcap and pcapng, plain or
//! gzip-compressed, and a pcap writer.
//!
//! [`Capture`] detects the format from the first bytes and hands out one [`Record`] at a time,
//! borrowed from a buffer it reuses, so reading does not allocate per packet:
//!
//! ```no_run
//! # fn main() -> Result<(), ctguard_capture::CaptureError> {
//! let mut cap = ctguard_capture::Capture::open("traffic.pcapng.gz")?;
//! while let Some(rec) = cap.next_record() {
//!     let rec = rec?;
//!     println!("{} {} bytes, link type {}", rec.time, rec.data.len(), rec.link_type);
//! }
//! # Ok(())
//! # }
//! ```
//!
//! Errors name the file, the byte offset in the (decompressed) stream and the reason, e.g.
//! `capture.pcap: byte 1234: truncated packet record: 60 bytes of 74`. Every complete record
//! before a fault is delivered first; after an error, [`Capture::next_record`] returns `None`.
//! Link types are delivered as the file gives them (LINKTYPE_* numbers, see [`linktype`]); the
//! caller decides which it reads.
//!
//! [`PcapWriter`] writes classic pcap with nanosecond timestamps.

#![forbid(unsafe_code)]

mod error;
pub mod linktype;
mod pcap;
mod pcapng;
mod source;
mod writer;

use core::fmt;
use core::ops::Range;
use std::fs::File;
use std::io::{Cursor, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use flate2::read::MultiGzDecoder;

pub use error::{CaptureError, ErrorKind};
pub use writer::PcapWriter;

use pcap::PcapHeader;
use pcapng::Pcapng;
use source::{Counting, Fault, Source, read_prefix};

/// The largest captured length taken for one packet (libpcap's MAXIMUM_SNAPLEN): a larger one
/// is garbage, and refusing it keeps a bad length field from costing a large allocation.
pub const MAX_PACKET: u32 = 262_144;

/// The largest pcapng block read into memory (Wireshark's limit). Blocks the reader skips
/// (statistics, name resolution, custom ...) may be of any length.
pub const MAX_BLOCK: u32 = 16 * 1024 * 1024;

/// One captured packet, borrowed from the reader's buffer until the next call.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Record<'a> {
    /// 0-based position among the packets of the file.
    pub index: u64,
    /// Nanoseconds since the Unix epoch (the value of `ctguard_conntrack::Instant`), with
    /// pcapng's if_tsresol and if_tsoffset applied; clamped to `0..=u64::MAX` (1970 to 2554).
    /// A pcapng Simple Packet Block has no timestamp and gets the previous packet's (0 for
    /// the first).
    pub time: u64,
    /// The interface, an index into [`Capture::interfaces`]: `None` for classic pcap, which
    /// names none.
    pub interface: Option<usize>,
    /// The LINKTYPE_* number of the frame (see [`linktype`]).
    pub link_type: u32,
    /// The packet's length on the wire; `data` may be shorter (the snaplen cut it).
    pub orig_len: u32,
    /// The captured bytes, starting with the link-layer header.
    pub data: &'a [u8],
}

/// An interface described in a pcapng file.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct InterfaceInfo {
    /// The LINKTYPE_* number of its frames.
    pub link_type: u32,
    /// if_name, e.g. `eth0`.
    pub name: Option<String>,
    /// The most bytes captured per packet; 0 for no limit.
    pub snaplen: u32,
    /// The 0-based section of the file it was described in.
    pub section: usize,
}

/// What the file holds.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum Format {
    /// Classic pcap, with its file header's fields.
    Pcap {
        /// Nanosecond timestamps (magic 0xa1b23c4d) rather than microseconds.
        nanosecond: bool,
        big_endian: bool,
        version: (u16, u16),
        snaplen: u32,
        link_type: u32,
    },
    Pcapng,
}

/// A packet located in the reader's buffer.
#[derive(Clone, Debug)]
pub(crate) struct Frame {
    pub data: Range<usize>,
    /// `None` for a pcapng Simple Packet Block.
    pub time: Option<u64>,
    pub interface: Option<usize>,
    pub link_type: u32,
    pub orig_len: u32,
}

enum Reader {
    Pcap(PcapHeader),
    Pcapng(Pcapng),
}

/// A capture file being read, one record at a time.
pub struct Capture {
    name: String,
    src: Source,
    buf: Vec<u8>,
    reader: Reader,
    format: Format,
    gzip: bool,
    raw: Arc<AtomicU64>,
    total: Option<u64>,
    interfaces: Vec<InterfaceInfo>,
    /// A step taken ahead at open (pcapng: the interfaces before the first packet).
    pending: Option<Result<Option<Frame>, Fault>>,
    index: u64,
    last_time: u64,
    done: bool,
}

impl fmt::Debug for Capture {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Capture")
            .field("name", &self.name)
            .field("format", &self.format)
            .field("gzip", &self.gzip)
            .field("offset", &self.src.pos)
            .field("interfaces", &self.interfaces)
            .field("index", &self.index)
            .finish_non_exhaustive()
    }
}

impl Capture {
    /// Opens a pcap or pcapng file, plain or gzip-compressed, and reads its header (for
    /// pcapng, up to the first packet, so that [`Capture::interfaces`] already lists the
    /// interfaces described before it).
    pub fn open(path: impl AsRef<Path>) -> Result<Capture, CaptureError> {
        let path = path.as_ref();
        let name = path.display().to_string();
        let open_err = |e| CaptureError::new(&name, None, ErrorKind::Open(e));
        let file = File::open(path).map_err(open_err)?;
        let meta = file.metadata().map_err(open_err)?;
        let total = meta.is_file().then_some(meta.len());
        Capture::build(name, Box::new(file), total)
    }

    /// Reads a capture from any byte stream; `name` is used in errors. [`Capture::progress`]
    /// has no total for it.
    pub fn from_reader(
        name: impl Into<String>,
        reader: impl Read + Send + 'static,
    ) -> Result<Capture, CaptureError> {
        Capture::build(name.into(), Box::new(reader), None)
    }

    fn build(
        name: String,
        reader: Box<dyn Read + Send>,
        total: Option<u64>,
    ) -> Result<Capture, CaptureError> {
        let fail = |offset, kind| CaptureError::new(&name, Some(offset), kind);
        let raw = Arc::new(AtomicU64::new(0));
        let mut file = Counting {
            inner: reader,
            count: raw.clone(),
        };
        let (start, n) = read_prefix(&mut file).map_err(|e| fail(0, ErrorKind::Read(e)))?;
        let gzip = n >= 2 && start[..2] == [0x1f, 0x8b];
        let (stream, start, n): (Box<dyn Read + Send>, _, _) = if gzip {
            let mut dec = MultiGzDecoder::new(Cursor::new(start).take(n as u64).chain(file));
            let (start, n) = read_prefix(&mut dec).map_err(|e| fail(0, ErrorKind::Read(e)))?;
            let stream = Cursor::new(start).take(n as u64).chain(dec);
            (Box::new(stream), start, n)
        } else {
            let stream = Cursor::new(start).take(n as u64).chain(file);
            (Box::new(stream), start, n)
        };
        if n == 0 {
            return Err(fail(0, ErrorKind::Empty));
        }
        let mut src = Source::new(stream);
        let mut buf = Vec::with_capacity(source::GROW);
        let reader = match start {
            pcap::MAGIC_US_LE | pcap::MAGIC_US_BE | pcap::MAGIC_NS_LE | pcap::MAGIC_NS_BE
                if n == 4 =>
            {
                let h = PcapHeader::read(&mut src, &mut buf).map_err(|f| fail(f.offset, f.kind))?;
                Reader::Pcap(h)
            }
            pcap::MAGIC_KUZNETZOV_LE | pcap::MAGIC_KUZNETZOV_BE if n == 4 => {
                return Err(fail(
                    0,
                    ErrorKind::UnsupportedFormat("Kuznetzov's modified pcap"),
                ));
            }
            pcapng::SHB_BYTES if n == 4 => Reader::Pcapng(Pcapng::default()),
            _ => return Err(fail(0, ErrorKind::UnknownFormat { start, len: n })),
        };
        let format = match &reader {
            Reader::Pcap(h) => Format::Pcap {
                nanosecond: h.nanosecond,
                big_endian: h.big,
                version: h.version,
                snaplen: h.snaplen,
                link_type: h.link_type,
            },
            Reader::Pcapng(_) => Format::Pcapng,
        };
        let mut cap = Capture {
            name,
            src,
            buf,
            reader,
            format,
            gzip,
            raw,
            total,
            interfaces: Vec::new(),
            pending: None,
            index: 0,
            last_time: 0,
            done: false,
        };
        if let Reader::Pcapng(_) = cap.reader {
            match cap.step() {
                // A bad first section header (at byte 0) is a bad file: refuse it at open.
                Err(f) if f.offset == 0 => {
                    return Err(CaptureError::new(&cap.name, Some(f.offset), f.kind));
                }
                first => cap.pending = Some(first),
            }
        }
        Ok(cap)
    }

    fn step(&mut self) -> Result<Option<Frame>, Fault> {
        match &mut self.reader {
            Reader::Pcap(h) => h.next(&mut self.src, &mut self.buf),
            Reader::Pcapng(ng) => ng.next(&mut self.src, &mut self.buf, &mut self.interfaces),
        }
    }

    /// The next packet, an error (after which there is nothing more), or `None` at the end.
    #[allow(clippy::should_implement_trait)]
    pub fn next_record(&mut self) -> Option<Result<Record<'_>, CaptureError>> {
        if self.done {
            return None;
        }
        let step = match self.pending.take() {
            Some(step) => step,
            None => self.step(),
        };
        match step {
            Ok(Some(frame)) => {
                let time = frame.time.unwrap_or(self.last_time);
                self.last_time = time;
                let index = self.index;
                self.index += 1;
                Some(Ok(Record {
                    index,
                    time,
                    interface: frame.interface,
                    link_type: frame.link_type,
                    orig_len: frame.orig_len,
                    data: &self.buf[frame.data],
                }))
            }
            Ok(None) => {
                self.done = true;
                None
            }
            Err(f) => {
                self.done = true;
                Some(Err(CaptureError::new(&self.name, Some(f.offset), f.kind)))
            }
        }
    }

    /// The interfaces described so far (pcapng; empty for classic pcap). At open, those before
    /// the first packet; a record's `interface` always indexes into this list.
    pub fn interfaces(&self) -> &[InterfaceInfo] {
        &self.interfaces
    }

    pub fn format(&self) -> Format {
        self.format
    }

    /// Whether the file is gzip-compressed.
    pub fn is_gzip(&self) -> bool {
        self.gzip
    }

    /// The name given at open, as used in errors.
    pub fn name(&self) -> &str {
        &self.name
    }

    /// The byte offset reached in the (decompressed) stream.
    pub fn offset(&self) -> u64 {
        self.src.pos
    }

    /// For a progress bar: bytes of the file consumed so far, and the file's size (`None` for
    /// a stream given to [`Capture::from_reader`], or a pipe). For a gzip file both count
    /// compressed bytes, and "done" runs up to one read buffer ahead of the records handed out.
    pub fn progress(&self) -> (u64, Option<u64>) {
        let done = if self.gzip {
            self.raw.load(Ordering::Relaxed)
        } else {
            self.src.pos
        };
        (done, self.total)
    }
}
