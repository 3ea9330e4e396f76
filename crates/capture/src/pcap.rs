//! Classic pcap: a 24-byte file header, then 16-byte record headers each followed by the
//! packet bytes. Four magic numbers: microsecond or nanosecond timestamps, either byte order.

use core::ops::Range;

use crate::error::ErrorKind;
use crate::source::{Fault, Source, u16_at, u32_at};
use crate::{Frame, MAX_PACKET};

/// The file header's magic numbers, as bytes in file order.
pub(crate) const MAGIC_US_LE: [u8; 4] = [0xd4, 0xc3, 0xb2, 0xa1];
pub(crate) const MAGIC_US_BE: [u8; 4] = [0xa1, 0xb2, 0xc3, 0xd4];
pub(crate) const MAGIC_NS_LE: [u8; 4] = [0x4d, 0x3c, 0xb2, 0xa1];
pub(crate) const MAGIC_NS_BE: [u8; 4] = [0xa1, 0xb2, 0x3c, 0x4d];
/// Kuznetzov's modified pcap (longer record headers): recognised only to be refused by name.
pub(crate) const MAGIC_KUZNETZOV_LE: [u8; 4] = [0x34, 0xcd, 0xb2, 0xa1];
pub(crate) const MAGIC_KUZNETZOV_BE: [u8; 4] = [0xa1, 0xb2, 0xcd, 0x34];

const FILE_HEADER: usize = 24;
const RECORD_HEADER: usize = 16;

/// A classic pcap file's header.
#[derive(Copy, Clone, Debug)]
pub(crate) struct PcapHeader {
    pub big: bool,
    pub nanosecond: bool,
    pub version: (u16, u16),
    pub snaplen: u32,
    pub link_type: u32,
}

impl PcapHeader {
    /// Reads the file header; the magic has been checked to be one of the four.
    pub fn read(src: &mut Source, buf: &mut Vec<u8>) -> Result<PcapHeader, Fault> {
        let got = src
            .fill(buf, 0, FILE_HEADER)
            .map_err(|e| Fault::new(0, ErrorKind::Read(e)))?;
        if got < FILE_HEADER {
            return Err(Fault::truncated(
                0,
                "pcap file header",
                got,
                FILE_HEADER as u64,
            ));
        }
        let magic = [buf[0], buf[1], buf[2], buf[3]];
        let big = magic == MAGIC_US_BE || magic == MAGIC_NS_BE;
        let nanosecond = magic == MAGIC_NS_LE || magic == MAGIC_NS_BE;
        let version = (u16_at(buf, 4, big), u16_at(buf, 6, big));
        if version.0 != 2 {
            return Err(Fault::new(
                4,
                ErrorKind::UnsupportedVersion {
                    format: "pcap",
                    major: version.0,
                    minor: version.1,
                },
            ));
        }
        Ok(PcapHeader {
            big,
            nanosecond,
            version,
            snaplen: u32_at(buf, 16, big),
            // The upper bits carry FCS information (as libpcap's LT_LINKTYPE masks them).
            link_type: u32_at(buf, 20, big) & 0x03ff_ffff,
        })
    }

    /// The next record, or `None` at a clean end of the stream.
    pub fn next(&self, src: &mut Source, buf: &mut Vec<u8>) -> Result<Option<Frame>, Fault> {
        let start = src.pos;
        let got = src
            .fill(buf, 0, RECORD_HEADER)
            .map_err(|e| Fault::new(start, ErrorKind::Read(e)))?;
        if got == 0 {
            return Ok(None);
        }
        if got < RECORD_HEADER {
            return Err(Fault::truncated(
                start,
                "packet record header",
                got,
                RECORD_HEADER as u64,
            ));
        }
        let secs = u32_at(buf, 0, self.big) as u64;
        let frac = u32_at(buf, 4, self.big) as u64;
        let caplen = u32_at(buf, 8, self.big);
        let orig_len = u32_at(buf, 12, self.big);
        // A captured length above the header's snaplen is taken (some writers put a small or
        // zero snaplen in the header), but not above what any capture can hold.
        if caplen > MAX_PACKET {
            return Err(Fault::new(
                start,
                ErrorKind::PacketTooLarge {
                    caplen: caplen as u64,
                    max: MAX_PACKET,
                },
            ));
        }
        let got = src
            .fill(buf, RECORD_HEADER, caplen as usize)
            .map_err(|e| Fault::new(start, ErrorKind::Read(e)))?;
        if got < caplen as usize {
            return Err(Fault::truncated(start, "packet record", got, caplen as u64));
        }
        let scale = if self.nanosecond { 1 } else { 1_000 };
        // At most 2^32 s and 2^32 of the fraction's unit: no overflow.
        let time = secs * 1_000_000_000 + frac * scale;
        Ok(Some(Frame {
            data: data_range(RECORD_HEADER, caplen),
            time: Some(time),
            interface: None,
            link_type: self.link_type,
            orig_len,
        }))
    }
}

fn data_range(at: usize, len: u32) -> Range<usize> {
    at..at + len as usize
}
