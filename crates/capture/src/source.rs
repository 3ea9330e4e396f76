//! The byte stream under a reader: position tracking, reads into the reused record buffer,
//! and the count of raw (compressed) bytes taken from the file for progress reports.

use std::io::{self, BufReader, Read};
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use crate::error::ErrorKind;

/// How much the record buffer grows per read: it is never sized from a length field alone, so
/// a garbage length costs at most what the stream really holds. Also the buffer's first
/// capacity, so that packets up to this size never reallocate it.
pub(crate) const GROW: usize = 64 * 1024;

/// A fault in the stream, before the file's name is attached.
#[derive(Debug)]
pub(crate) struct Fault {
    pub offset: u64,
    pub kind: ErrorKind,
}

impl Fault {
    pub fn new(offset: u64, kind: ErrorKind) -> Self {
        Fault { offset, kind }
    }

    pub fn truncated(offset: u64, what: &'static str, got: usize, need: u64) -> Self {
        Fault::new(
            offset,
            ErrorKind::Truncated {
                what,
                got: got as u64,
                need,
            },
        )
    }
}

/// The decompressed stream and how far into it the reader is.
pub(crate) struct Source {
    inner: BufReader<Box<dyn Read + Send>>,
    /// Bytes consumed so far.
    pub pos: u64,
}

impl Source {
    pub fn new(inner: Box<dyn Read + Send>) -> Self {
        Source {
            inner: BufReader::with_capacity(GROW, inner),
            pos: 0,
        }
    }

    /// Reads up to `n` bytes into `buf[at..at + n]`, growing `buf` as bytes arrive; returns how
    /// many came (fewer than `n` only at the end of the stream). `buf` never shrinks, so once
    /// it has held the largest record no read allocates.
    pub fn fill(&mut self, buf: &mut Vec<u8>, at: usize, n: usize) -> io::Result<usize> {
        let end = at + n;
        let mut got = at;
        while got < end {
            if buf.len() <= got {
                buf.resize((got + GROW).min(end), 0);
            }
            let lim = buf.len().min(end);
            match self.inner.read(&mut buf[got..lim]) {
                Ok(0) => break,
                Ok(k) => {
                    got += k;
                    self.pos += k as u64;
                }
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => return Err(e),
            }
        }
        Ok(got - at)
    }

    /// Reads and drops up to `n` bytes; returns how many there were.
    pub fn skip(&mut self, n: u64) -> io::Result<u64> {
        let k = io::copy(&mut (&mut self.inner).take(n), &mut io::sink())?;
        self.pos += k;
        Ok(k)
    }
}

/// Counts the bytes read from the file itself (before decompression).
pub(crate) struct Counting<R> {
    pub inner: R,
    pub count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let k = self.inner.read(buf)?;
        self.count.fetch_add(k as u64, Ordering::Relaxed);
        Ok(k)
    }
}

/// Reads up to 4 bytes (fewer only at the end of the stream).
pub(crate) fn read_prefix(r: &mut impl Read) -> io::Result<([u8; 4], usize)> {
    let mut b = [0u8; 4];
    let mut n = 0;
    while n < 4 {
        match r.read(&mut b[n..]) {
            Ok(0) => break,
            Ok(k) => n += k,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
            Err(e) => return Err(e),
        }
    }
    Ok((b, n))
}

pub(crate) fn u16_at(b: &[u8], at: usize, big: bool) -> u16 {
    let v = [b[at], b[at + 1]];
    if big {
        u16::from_be_bytes(v)
    } else {
        u16::from_le_bytes(v)
    }
}

pub(crate) fn u32_at(b: &[u8], at: usize, big: bool) -> u32 {
    let v = [b[at], b[at + 1], b[at + 2], b[at + 3]];
    if big {
        u32::from_be_bytes(v)
    } else {
        u32::from_le_bytes(v)
    }
}

pub(crate) fn u64_at(b: &[u8], at: usize, big: bool) -> u64 {
    let mut v = [0u8; 8];
    v.copy_from_slice(&b[at..at + 8]);
    if big {
        u64::from_be_bytes(v)
    } else {
        u64::from_le_bytes(v)
    }
}
