//! A classic pcap writer with nanosecond timestamps (magic 0xa1b23c4d), readable by tcpdump,
//! tcpreplay, Wireshark and this crate's reader.

use std::io::{self, Write};

use crate::MAX_PACKET;

/// Writes packets to a classic pcap stream, little-endian, nanosecond timestamps.
#[derive(Debug)]
pub struct PcapWriter<W: Write> {
    out: W,
    snaplen: u32,
}

impl<W: Write> PcapWriter<W> {
    /// Writes the file header. `link_type`: a LINKTYPE_* number ([`crate::linktype`]);
    /// `snaplen`: the most bytes kept per packet, where 0 (or anything above
    /// [`MAX_PACKET`]) means [`MAX_PACKET`].
    pub fn new(mut out: W, link_type: u32, snaplen: u32) -> io::Result<Self> {
        let snaplen = match snaplen {
            0 => MAX_PACKET,
            s => s.min(MAX_PACKET),
        };
        let mut h = [0u8; 24];
        h[0..4].copy_from_slice(&0xa1b2_3c4du32.to_le_bytes());
        h[4..6].copy_from_slice(&2u16.to_le_bytes());
        h[6..8].copy_from_slice(&4u16.to_le_bytes());
        // thiszone and sigfigs: 0.
        h[16..20].copy_from_slice(&snaplen.to_le_bytes());
        h[20..24].copy_from_slice(&link_type.to_le_bytes());
        out.write_all(&h)?;
        Ok(PcapWriter { out, snaplen })
    }

    /// One packet at `time_ns` nanoseconds since the epoch; bytes past the snaplen are cut
    /// (its original length stays `data.len()`).
    pub fn write(&mut self, time_ns: u64, data: &[u8]) -> io::Result<()> {
        let orig_len = u32::try_from(data.len()).unwrap_or(u32::MAX);
        self.write_packet(time_ns, data, orig_len)
    }

    /// One packet whose length on the wire was `orig_len` (at least what is written).
    /// Timestamps past 2106 (beyond pcap's 32-bit seconds) are refused.
    pub fn write_packet(&mut self, time_ns: u64, data: &[u8], orig_len: u32) -> io::Result<()> {
        let secs = u32::try_from(time_ns / 1_000_000_000).map_err(|_| {
            io::Error::new(
                io::ErrorKind::InvalidInput,
                "timestamp past 2106: pcap's seconds field is 32 bits",
            )
        })?;
        let nanos = (time_ns % 1_000_000_000) as u32;
        let caplen = data.len().min(self.snaplen as usize);
        let mut h = [0u8; 16];
        h[0..4].copy_from_slice(&secs.to_le_bytes());
        h[4..8].copy_from_slice(&nanos.to_le_bytes());
        h[8..12].copy_from_slice(&(caplen as u32).to_le_bytes());
        h[12..16].copy_from_slice(&orig_len.max(caplen as u32).to_le_bytes());
        self.out.write_all(&h)?;
        self.out.write_all(&data[..caplen])
    }

    pub fn flush(&mut self) -> io::Result<()> {
        self.out.flush()
    }

    pub fn get_ref(&self) -> &W {
        &self.out
    }

    /// The stream, flushed.
    pub fn into_inner(mut self) -> io::Result<W> {
        self.out.flush()?;
        Ok(self.out)
    }
}
