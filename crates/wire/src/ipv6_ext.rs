//! IPv6 extension headers: the generic next-header/length form, the fragment header, the
//! type-length-value options of hop-by-hop and destination options headers, and a walk down
//! the chain to the upper layer.

use crate::ip::protocol;
use crate::{Error, Result, be16, be32};

/// The fragment header is always 8 bytes.
pub const FRAGMENT_LEN: usize = 8;

/// The next-header values the kernel treats as extension headers when looking for the upper
/// layer (its `ipv6_ext_hdr`): ESP is not one of them, it counts as the upper layer.
pub const fn is_ext_header(nh: u8) -> bool {
    matches!(
        nh,
        protocol::HOPOPTS
            | protocol::ROUTING
            | protocol::FRAGMENT
            | protocol::AH
            | protocol::NONE
            | protocol::DSTOPTS
    )
}

/// Length in bytes of an extension header from its second byte. AH counts 32-bit words less
/// two (RFC 4302); the others count 8-byte units less one (RFC 8200). The fragment header has
/// no length field.
pub const fn header_len(nh: u8, len_field: u8) -> usize {
    match nh {
        protocol::AH => (len_field as usize + 2) * 4,
        protocol::FRAGMENT => FRAGMENT_LEN,
        _ => (len_field as usize + 1) * 8,
    }
}

/// A hop-by-hop, routing, destination options or authentication header.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct ExtHeader<T: AsRef<[u8]>> {
    buffer: T,
    kind: u8,
}

impl<T: AsRef<[u8]>> ExtHeader<T> {
    /// Checks the whole header, as its length field gives it, is in `buffer`. `kind` is the
    /// next-header value that announced it (it decides how the length is counted).
    pub fn new_checked(buffer: T, kind: u8) -> Result<Self> {
        let b = buffer.as_ref();
        let [_, len, ..] = *b else {
            return Err(Error::Truncated);
        };
        if b.len() < header_len(kind, len) {
            return Err(Error::Truncated);
        }
        Ok(ExtHeader { buffer, kind })
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn next_header(&self) -> u8 {
        self.buffer.as_ref()[0]
    }

    pub fn header_len(&self) -> usize {
        header_len(self.kind, self.buffer.as_ref()[1])
    }

    /// The bytes after the next-header and length fields (the options, for option headers).
    pub fn data(&self) -> &[u8] {
        &self.buffer.as_ref()[2..self.header_len()]
    }
}

/// A fragment header.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct FragmentHeader<T: AsRef<[u8]>> {
    buffer: T,
}

impl<T: AsRef<[u8]>> FragmentHeader<T> {
    pub fn new_checked(buffer: T) -> Result<Self> {
        if buffer.as_ref().len() < FRAGMENT_LEN {
            return Err(Error::Truncated);
        }
        Ok(FragmentHeader { buffer })
    }

    pub fn into_inner(self) -> T {
        self.buffer
    }

    pub fn next_header(&self) -> u8 {
        self.buffer.as_ref()[0]
    }

    /// Offset of this fragment's data, in bytes.
    pub fn frag_offset(&self) -> u16 {
        be16(self.buffer.as_ref(), 2) & !0x7
    }

    pub fn more_frags(&self) -> bool {
        be16(self.buffer.as_ref(), 2) & 1 != 0
    }

    pub fn ident(&self) -> u32 {
        be32(self.buffer.as_ref(), 4)
    }
}

/// Option types of hop-by-hop and destination options headers.
pub mod option {
    pub const PAD1: u8 = 0x00;
    pub const PADN: u8 = 0x01;
    pub const ROUTER_ALERT: u8 = 0x05;
    pub const CALIPSO: u8 = 0x07;
    pub const IOAM: u8 = 0x31;
    pub const JUMBO: u8 = 0xc2;

    /// What a node that does not know the option must do, from its two top bits (RFC 8200
    /// section 4.2): 0 skip it, 1 discard, 2 discard and send ICMP, 3 discard and send ICMP
    /// unless the destination is multicast.
    pub const fn unknown_action(ty: u8) -> u8 {
        ty >> 6
    }
}

/// One option. Pad1 comes out with type 0 and no data.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Tlv<'a> {
    pub ty: u8,
    /// Offset of the option's type byte within the options area.
    pub offset: usize,
    pub data: &'a [u8],
}

/// The options of a hop-by-hop or destination options header ([`ExtHeader::data`]). Yields
/// `Err(Truncated)` once, and stops, if an option runs past the end.
#[derive(Clone, Debug)]
pub struct Options<'a> {
    data: &'a [u8],
    at: usize,
}

impl<'a> Options<'a> {
    pub fn new(data: &'a [u8]) -> Self {
        Options { data, at: 0 }
    }
}

impl<'a> Iterator for Options<'a> {
    type Item = Result<Tlv<'a>>;

    fn next(&mut self) -> Option<Self::Item> {
        let rest = self.data.get(self.at..)?;
        let (&ty, after) = rest.split_first()?;
        let offset = self.at;
        if ty == option::PAD1 {
            self.at += 1;
            return Some(Ok(Tlv {
                ty,
                offset,
                data: &[],
            }));
        }
        let len = after.first().map(|&l| usize::from(l));
        match len.and_then(|l| after.get(1..1 + l)) {
            Some(data) => {
                self.at += 2 + data.len();
                Some(Ok(Tlv { ty, offset, data }))
            }
            None => {
                self.at = self.data.len();
                Some(Err(Error::Truncated))
            }
        }
    }
}

/// How a walk down the extension headers ended.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub enum End {
    /// At an upper-layer protocol (anything that is not an extension header, ESP included).
    Upper,
    /// At the fragment header of a fragment other than the first: what follows is data, not a
    /// header. `next_header` is what the fragment header announces.
    NonFirstFragment,
    /// At a "no next header" (59) value.
    NoNextHeader,
    /// An extension header runs past the end of the bytes.
    Truncated,
}

/// A fragment header met on the way.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Fragment {
    /// Offset of the fragment header from the start of the walked bytes.
    pub header_at: usize,
    /// Offset of the byte that announced the fragment header: the next-header field of the
    /// previous extension header, or `None` when it is the fixed IPv6 header's.
    pub announced_at: Option<usize>,
    pub next_header: u8,
    pub offset: u16,
    pub more: bool,
    pub ident: u32,
}

/// Where the walk stopped.
#[derive(Copy, Clone, Debug, PartialEq, Eq)]
pub struct Chain {
    pub end: End,
    /// The protocol at the stop: the upper layer, or the extension header the walk could not
    /// pass.
    pub next_header: u8,
    /// Offset of that header from the start of the walked bytes.
    pub offset: usize,
    /// The first fragment header met, if any.
    pub fragment: Option<Fragment>,
}

/// Walks from the fixed header's next-header value over `bytes` (what follows the fixed
/// header), as the kernel's `ipv6_skip_exthdr` does: hop-by-hop, routing, destination options,
/// AH and the first fragment's fragment header are skipped; the walk stops at anything else,
/// at "no next header", and at the fragment header of a non-first fragment.
pub fn walk(first: u8, bytes: &[u8]) -> Chain {
    let mut nh = first;
    let mut at = 0usize;
    let mut announced_at = None;
    let mut fragment = None;
    loop {
        let stop = |end| Chain {
            end,
            next_header: nh,
            offset: at,
            fragment,
        };
        if !is_ext_header(nh) {
            return stop(End::Upper);
        }
        if nh == protocol::NONE {
            return stop(End::NoNextHeader);
        }
        let Some(rest) = bytes.get(at..) else {
            return stop(End::Truncated);
        };
        let len = if nh == protocol::FRAGMENT {
            let Ok(f) = FragmentHeader::new_checked(rest) else {
                return stop(End::Truncated);
            };
            if fragment.is_none() {
                fragment = Some(Fragment {
                    header_at: at,
                    announced_at,
                    next_header: f.next_header(),
                    offset: f.frag_offset(),
                    more: f.more_frags(),
                    ident: f.ident(),
                });
            }
            if f.frag_offset() != 0 {
                return Chain {
                    end: End::NonFirstFragment,
                    next_header: f.next_header(),
                    offset: at + FRAGMENT_LEN,
                    fragment,
                };
            }
            FRAGMENT_LEN
        } else {
            match ExtHeader::new_checked(rest, nh) {
                Ok(h) => h.header_len(),
                Err(_) => return stop(End::Truncated),
            }
        };
        announced_at = Some(at);
        nh = rest[0];
        at += len;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lengths_by_kind() {
        assert_eq!(header_len(protocol::HOPOPTS, 0), 8);
        assert_eq!(header_len(protocol::DSTOPTS, 2), 24);
        assert_eq!(header_len(protocol::AH, 4), 24);
        assert_eq!(header_len(protocol::FRAGMENT, 99), 8);
        assert!(
            is_ext_header(protocol::NONE)
                && !is_ext_header(protocol::ESP)
                && !is_ext_header(protocol::TCP)
        );
    }

    #[test]
    fn reads_options() {
        // Router alert, then PadN of 2 (2 + 0 data) and a Pad1... in an 8-byte hop-by-hop.
        let hbh = [
            protocol::UDP,
            0,
            option::ROUTER_ALERT,
            2,
            0,
            0,
            option::PADN,
            0,
        ];
        let h = ExtHeader::new_checked(&hbh[..], protocol::HOPOPTS).unwrap();
        assert_eq!((h.next_header(), h.header_len()), (protocol::UDP, 8));
        let opts: Vec<_> = Options::new(h.data()).collect();
        assert_eq!(opts.len(), 2);
        assert_eq!(
            opts[0],
            Ok(Tlv {
                ty: option::ROUTER_ALERT,
                offset: 0,
                data: &[0, 0]
            })
        );
        assert_eq!(
            opts[1],
            Ok(Tlv {
                ty: option::PADN,
                offset: 4,
                data: &[]
            })
        );
        let pad1: Vec<_> = Options::new(&[0, 0]).collect();
        assert_eq!(
            pad1,
            [
                Ok(Tlv {
                    ty: 0,
                    offset: 0,
                    data: &[]
                }),
                Ok(Tlv {
                    ty: 0,
                    offset: 1,
                    data: &[]
                })
            ]
        );
        let cut: Vec<_> = Options::new(&[option::PADN, 3, 0]).collect();
        assert_eq!(cut, [Err(Error::Truncated)]);
        assert_eq!(
            ExtHeader::new_checked(&hbh[..7], protocol::HOPOPTS),
            Err(Error::Truncated)
        );
    }

    #[test]
    fn walks_to_the_upper_layer() {
        // hop-by-hop (8) -> dstopts (16) -> AH (12) -> fragment (first) -> TCP
        let mut b = Vec::new();
        b.extend_from_slice(&[protocol::DSTOPTS, 0, option::PADN, 4, 0, 0, 0, 0]);
        b.extend_from_slice(&[protocol::AH, 1]);
        b.extend_from_slice(&[0; 14]);
        b.extend_from_slice(&[protocol::FRAGMENT, 1, 0, 0]);
        b.extend_from_slice(&[0; 8]);
        b.extend_from_slice(&[protocol::TCP, 0, 0x00, 0x01, 0xde, 0xad, 0xbe, 0xef]);
        b.extend_from_slice(&[0xaa; 20]);
        let c = walk(protocol::HOPOPTS, &b);
        assert_eq!(
            (c.end, c.next_header, c.offset),
            (End::Upper, protocol::TCP, 44)
        );
        let f = c.fragment.unwrap();
        assert_eq!(
            (f.header_at, f.announced_at, f.offset, f.more, f.ident),
            (36, Some(24), 0, true, 0xdeadbeef)
        );
    }

    #[test]
    fn stops_at_non_first_fragment_none_esp_and_truncation() {
        let frag = [protocol::UDP, 0, 0x05, 0xa8, 0, 0, 0, 7]; // offset 1448, last
        let c = walk(protocol::FRAGMENT, &frag);
        assert_eq!(
            (c.end, c.next_header, c.offset),
            (End::NonFirstFragment, protocol::UDP, 8)
        );
        let f = c.fragment.unwrap();
        assert_eq!(
            (f.header_at, f.announced_at, f.offset, f.more, f.ident),
            (0, None, 1448, false, 7)
        );

        let c = walk(protocol::DSTOPTS, &[protocol::NONE, 0, 1, 4, 0, 0, 0, 0]);
        assert_eq!(
            (c.end, c.next_header, c.offset),
            (End::NoNextHeader, protocol::NONE, 8)
        );
        assert_eq!(walk(protocol::ESP, &[]).end, End::Upper);
        let c = walk(protocol::ROUTING, &[protocol::TCP, 1, 0, 0]);
        assert_eq!(
            (c.end, c.next_header, c.offset),
            (End::Truncated, protocol::ROUTING, 0)
        );
        assert_eq!(walk(protocol::FRAGMENT, &[6, 0, 0]).end, End::Truncated);
    }
}
