//! pcapng: a sequence of blocks, each `type, total length, body, total length`, in sections
//! that each open with a Section Header Block giving the section's byte order. Interfaces are
//! described per section; packets come in Enhanced, Simple or (obsolete) Packet Blocks, and
//! every other block is skipped by its length.

use crate::error::ErrorKind;
use crate::source::{Fault, Source, u16_at, u32_at, u64_at};
use crate::{Frame, InterfaceInfo, MAX_BLOCK, MAX_PACKET};

pub(crate) const SHB: u32 = 0x0a0d_0d0a;
pub(crate) const SHB_BYTES: [u8; 4] = [0x0a, 0x0d, 0x0d, 0x0a];
const IDB: u32 = 1;
const PB: u32 = 2;
const SPB: u32 = 3;
const NRB: u32 = 4;
const ISB: u32 = 5;
const EPB: u32 = 6;
const SJE: u32 = 9;
const DSB: u32 = 0x0a;
const CB_COPY: u32 = 0x0000_0bad;
const CB_NOCOPY: u32 = 0x4000_0bad;

const BYTE_ORDER_MAGIC: u32 = 0x1a2b_3c4d;

/// Options of an Interface Description Block that the reader uses.
const OPT_ENDOFOPT: u16 = 0;
const IF_NAME: u16 = 2;
const IF_TSRESOL: u16 = 9;
const IF_TSOFFSET: u16 = 14;

pub(crate) fn block_name(block_type: u32) -> Option<&'static str> {
    Some(match block_type {
        SHB => "section header block",
        IDB => "interface description block",
        PB => "packet block",
        SPB => "simple packet block",
        NRB => "name resolution block",
        ISB => "interface statistics block",
        EPB => "enhanced packet block",
        SJE => "systemd journal export block",
        DSB => "decryption secrets block",
        CB_COPY | CB_NOCOPY => "custom block",
        _ => return None,
    })
}

/// How an interface's timestamps turn into nanoseconds since the epoch.
#[derive(Copy, Clone, Debug)]
struct Clock {
    /// Timestamp units per second: 10^n or 2^n (if_tsresol; 10^6 without it).
    units: u128,
    /// Seconds added to every timestamp (if_tsoffset).
    offset: i64,
}

impl Clock {
    /// Nanoseconds since the epoch, clamped to `0..=u64::MAX` (before 1970 or after 2554).
    fn nanos(self, ticks: u64) -> u64 {
        let t = ticks as u128;
        let secs = t / self.units;
        let frac = t % self.units;
        // secs < 2^64 and frac < 2^64: neither product overflows u128.
        let ns = secs * 1_000_000_000 + frac * 1_000_000_000 / self.units;
        let ns = ns as i128 + self.offset as i128 * 1_000_000_000;
        ns.clamp(0, u64::MAX as i128) as u64
    }
}

/// Where the reader is in a pcapng stream.
#[derive(Debug, Default)]
pub(crate) struct Pcapng {
    /// The current section's byte order.
    big: bool,
    /// Sections begun so far.
    sections: usize,
    /// Index into the capture's interface list of the current section's interface 0.
    base: usize,
    /// One clock per interface in the capture's list.
    clocks: Vec<Clock>,
}

impl Pcapng {
    /// The next packet, or `None` at a clean end of the stream (a block boundary). Section
    /// headers and interface descriptions on the way are taken in; `ifaces` gains the
    /// interfaces described.
    pub fn next(
        &mut self,
        src: &mut Source,
        buf: &mut Vec<u8>,
        ifaces: &mut Vec<InterfaceInfo>,
    ) -> Result<Option<Frame>, Fault> {
        loop {
            let start = src.pos;
            let read = |e| Fault::new(start, ErrorKind::Read(e));
            let got = src.fill(buf, 0, 8).map_err(read)?;
            if got == 0 {
                return Ok(None);
            }
            if got < 8 {
                return Err(Fault::truncated(start, "block header", got, 8));
            }
            if buf[..4] == SHB_BYTES {
                self.section_header(src, buf, ifaces.len(), start)?;
                continue;
            }
            let block_type = u32_at(buf, 0, self.big);
            let len = u32_at(buf, 4, self.big);
            let bad = |kind| Err(Fault::new(start, kind));
            if !len.is_multiple_of(4) {
                return bad(ErrorKind::BlockLengthNotMultipleOf4 { block_type, len });
            }
            match block_type {
                IDB => {
                    self.read_block(src, buf, start, block_type, len, 20)?;
                    self.interface(buf, len, start, ifaces)?;
                }
                EPB | PB => {
                    self.read_block(src, buf, start, block_type, len, 32)?;
                    return self.packet(buf, block_type, len, start, ifaces).map(Some);
                }
                SPB => {
                    self.read_block(src, buf, start, block_type, len, 16)?;
                    return self.simple_packet(buf, len, start, ifaces).map(Some);
                }
                _ => {
                    if len < 12 {
                        return bad(ErrorKind::BlockTooShort {
                            block_type,
                            len,
                            min: 12,
                        });
                    }
                    let body = (len - 12) as u64;
                    let skipped = src.skip(body).map_err(read)?;
                    let what = block_name(block_type).unwrap_or("block");
                    if skipped < body {
                        return Err(Fault::truncated(
                            start,
                            what,
                            8 + skipped as usize,
                            len as u64,
                        ));
                    }
                    let got = src.fill(buf, 0, 4).map_err(read)?;
                    if got < 4 {
                        return Err(Fault::truncated(
                            start,
                            what,
                            len as usize - 4 + got,
                            len as u64,
                        ));
                    }
                    let trailing = u32_at(buf, 0, self.big);
                    if trailing != len {
                        return bad(ErrorKind::BlockLengthMismatch {
                            block_type,
                            leading: len,
                            trailing,
                        });
                    }
                }
            }
        }
    }

    /// Reads the rest of a block whose first 8 bytes are in `buf`, and checks both lengths.
    fn read_block(
        &self,
        src: &mut Source,
        buf: &mut Vec<u8>,
        start: u64,
        block_type: u32,
        len: u32,
        min: u32,
    ) -> Result<(), Fault> {
        if len < min {
            return Err(Fault::new(
                start,
                ErrorKind::BlockTooShort {
                    block_type,
                    len,
                    min,
                },
            ));
        }
        if len > MAX_BLOCK {
            return Err(Fault::new(
                start,
                ErrorKind::BlockTooLong {
                    block_type,
                    len,
                    max: MAX_BLOCK,
                },
            ));
        }
        let rest = len as usize - 8;
        let got = src
            .fill(buf, 8, rest)
            .map_err(|e| Fault::new(start, ErrorKind::Read(e)))?;
        if got < rest {
            let what = block_name(block_type).unwrap_or("block");
            return Err(Fault::truncated(start, what, 8 + got, len as u64));
        }
        let trailing = u32_at(buf, len as usize - 4, self.big);
        if trailing != len {
            return Err(Fault::new(
                start,
                ErrorKind::BlockLengthMismatch {
                    block_type,
                    leading: len,
                    trailing,
                },
            ));
        }
        Ok(())
    }

    /// A Section Header Block, whose first 8 bytes are in `buf`: a new byte order, and a new,
    /// empty interface list for the section.
    fn section_header(
        &mut self,
        src: &mut Source,
        buf: &mut Vec<u8>,
        iface_count: usize,
        start: u64,
    ) -> Result<(), Fault> {
        let what = "section header block";
        let got = src
            .fill(buf, 8, 4)
            .map_err(|e| Fault::new(start, ErrorKind::Read(e)))?;
        if got < 4 {
            return Err(Fault::truncated(start, what, 8 + got, 12));
        }
        let big = match u32_at(buf, 8, false) {
            BYTE_ORDER_MAGIC => false,
            m if m.swap_bytes() == BYTE_ORDER_MAGIC => true,
            m => return Err(Fault::new(start, ErrorKind::BadByteOrderMagic(m))),
        };
        let len = u32_at(buf, 4, big);
        if !len.is_multiple_of(4) {
            return Err(Fault::new(
                start,
                ErrorKind::BlockLengthNotMultipleOf4 {
                    block_type: SHB,
                    len,
                },
            ));
        }
        if len < 28 {
            return Err(Fault::new(
                start,
                ErrorKind::BlockTooShort {
                    block_type: SHB,
                    len,
                    min: 28,
                },
            ));
        }
        if len > MAX_BLOCK {
            return Err(Fault::new(
                start,
                ErrorKind::BlockTooLong {
                    block_type: SHB,
                    len,
                    max: MAX_BLOCK,
                },
            ));
        }
        let rest = len as usize - 12;
        let got = src
            .fill(buf, 12, rest)
            .map_err(|e| Fault::new(start, ErrorKind::Read(e)))?;
        if got < rest {
            return Err(Fault::truncated(start, what, 12 + got, len as u64));
        }
        let trailing = u32_at(buf, len as usize - 4, big);
        if trailing != len {
            return Err(Fault::new(
                start,
                ErrorKind::BlockLengthMismatch {
                    block_type: SHB,
                    leading: len,
                    trailing,
                },
            ));
        }
        let (major, minor) = (u16_at(buf, 12, big), u16_at(buf, 14, big));
        if major != 1 {
            return Err(Fault::new(
                start,
                ErrorKind::UnsupportedVersion {
                    format: "pcapng",
                    major,
                    minor,
                },
            ));
        }
        self.big = big;
        self.sections += 1;
        self.base = iface_count;
        Ok(())
    }

    /// An Interface Description Block, read whole into `buf`.
    fn interface(
        &mut self,
        buf: &[u8],
        len: u32,
        start: u64,
        ifaces: &mut Vec<InterfaceInfo>,
    ) -> Result<(), Fault> {
        let big = self.big;
        let mut info = InterfaceInfo {
            link_type: u16_at(buf, 8, big) as u32,
            name: None,
            snaplen: u32_at(buf, 12, big),
            section: self.sections - 1,
        };
        let mut clock = Clock {
            units: 1_000_000,
            offset: 0,
        };
        let end = len as usize - 4;
        let mut p = 16;
        while p + 4 <= end {
            let code = u16_at(buf, p, big);
            let olen = u16_at(buf, p + 2, big) as usize;
            if code == OPT_ENDOFOPT {
                break;
            }
            let at = start + p as u64;
            let bad = |reason| Err(Fault::new(at, ErrorKind::BadOption { code, reason }));
            if p + 4 + olen > end {
                return bad("runs past the end of its block");
            }
            let value = &buf[p + 4..p + 4 + olen];
            match code {
                IF_NAME => {
                    let s = String::from_utf8_lossy(value);
                    info.name = Some(s.trim_end_matches('\0').to_string());
                }
                IF_TSRESOL => {
                    let Some(&r) = value.first() else {
                        return bad("if_tsresol with no value");
                    };
                    clock.units = if r & 0x80 != 0 {
                        1u128 << (r & 0x7f)
                    } else if r <= 38 {
                        10u128.pow(r as u32)
                    } else {
                        return bad("if_tsresol finer than 10^-38 s");
                    };
                }
                IF_TSOFFSET => {
                    if olen != 8 {
                        return bad("if_tsoffset not 8 bytes long");
                    }
                    clock.offset = u64_at(value, 0, big) as i64;
                }
                _ => {}
            }
            p += 4 + olen.next_multiple_of(4);
        }
        ifaces.push(info);
        self.clocks.push(clock);
        Ok(())
    }

    /// The global index of interface `id` of the current section.
    fn iface(&self, id: u32, ifaces: &[InterfaceInfo], start: u64) -> Result<usize, Fault> {
        let count = ifaces.len() - self.base;
        if (id as usize) < count {
            Ok(self.base + id as usize)
        } else {
            Err(Fault::new(start, ErrorKind::UnknownInterface { id, count }))
        }
    }

    /// An Enhanced Packet Block or an obsolete Packet Block, read whole into `buf`.
    fn packet(
        &self,
        buf: &[u8],
        block_type: u32,
        len: u32,
        start: u64,
        ifaces: &[InterfaceInfo],
    ) -> Result<Frame, Fault> {
        let big = self.big;
        let id = if block_type == EPB {
            u32_at(buf, 8, big)
        } else {
            u16_at(buf, 8, big) as u32
        };
        let index = self.iface(id, ifaces, start)?;
        let ticks = (u32_at(buf, 12, big) as u64) << 32 | u32_at(buf, 16, big) as u64;
        let caplen = u32_at(buf, 20, big);
        let orig_len = u32_at(buf, 24, big);
        if caplen > MAX_PACKET {
            return Err(Fault::new(
                start,
                ErrorKind::PacketTooLarge {
                    caplen: caplen as u64,
                    max: MAX_PACKET,
                },
            ));
        }
        let room = len - 32;
        if caplen > room {
            return Err(Fault::new(
                start,
                ErrorKind::CaplenPastBlock { caplen, room },
            ));
        }
        Ok(Frame {
            data: 28..28 + caplen as usize,
            time: Some(self.clocks[index].nanos(ticks)),
            interface: Some(index),
            link_type: ifaces[index].link_type,
            orig_len,
        })
    }

    /// A Simple Packet Block, read whole into `buf`: interface 0, no timestamp, and as many
    /// bytes as the original length, the snaplen and the block allow.
    fn simple_packet(
        &self,
        buf: &[u8],
        len: u32,
        start: u64,
        ifaces: &[InterfaceInfo],
    ) -> Result<Frame, Fault> {
        let index = self.iface(0, ifaces, start)?;
        let orig_len = u32_at(buf, 8, self.big);
        let snaplen = match ifaces[index].snaplen {
            0 => u32::MAX,
            s => s,
        };
        let caplen = orig_len.min(snaplen).min(len - 16);
        if caplen > MAX_PACKET {
            return Err(Fault::new(
                start,
                ErrorKind::PacketTooLarge {
                    caplen: caplen as u64,
                    max: MAX_PACKET,
                },
            ));
        }
        Ok(Frame {
            data: 12..12 + caplen as usize,
            time: None,
            interface: Some(index),
            link_type: ifaces[index].link_type,
            orig_len,
        })
    }
}
