//! The Internet checksum (RFC 1071): a ones'-complement sum of big-endian 16-bit words.
//!
//! A received header or segment is intact when the sum over it, checksum field included (and
//! pseudo-header, where the protocol has one), folds to `0xffff`.

/// A running ones'-complement sum.
///
/// Feed data with [`Checksum::add_bytes`]; every chunk but the last must have an even length,
/// since an odd chunk shifts the word boundaries of what follows.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub struct Checksum(u64);

impl Checksum {
    pub const fn new() -> Self {
        Checksum(0)
    }

    #[inline]
    pub fn add_u16(&mut self, v: u16) {
        self.0 += u64::from(v);
    }

    #[inline]
    pub fn add_u32(&mut self, v: u32) {
        self.0 += u64::from(v >> 16) + u64::from(v & 0xffff);
    }

    /// Adds bytes as big-endian words; an odd last byte counts as its word's high half.
    #[inline]
    pub fn add_bytes(&mut self, data: &[u8]) {
        // Summing 32-bit words into 64 bits and folding later gives the same result as 16-bit
        // words (2^16 ≡ 1 modulo 2^16 - 1), with a quarter of the additions.
        let mut acc = self.0;
        let mut chunks = data.chunks_exact(8);
        for c in &mut chunks {
            let v = u64::from_be_bytes([c[0], c[1], c[2], c[3], c[4], c[5], c[6], c[7]]);
            acc += (v >> 32) + (v & 0xffff_ffff);
        }
        let mut words = chunks.remainder().chunks_exact(2);
        for w in &mut words {
            acc += u64::from(u16::from_be_bytes([w[0], w[1]]));
        }
        if let [last] = words.remainder() {
            acc += u64::from(*last) << 8;
        }
        self.0 = acc;
    }

    /// The sum folded to 16 bits (not complemented).
    #[inline]
    pub fn fold(self) -> u16 {
        let mut acc = self.0;
        while acc > 0xffff {
            acc = (acc & 0xffff) + (acc >> 16);
        }
        acc as u16
    }

    /// True when the data summed (checksum field included) verifies.
    #[inline]
    pub fn verifies(self) -> bool {
        self.fold() == 0xffff
    }

    /// The value to store in a checksum field that was zero while summing.
    #[inline]
    pub fn checksum(self) -> u16 {
        !self.fold()
    }
}

/// The folded sum of `data`.
pub fn sum(data: &[u8]) -> Checksum {
    let mut c = Checksum::new();
    c.add_bytes(data);
    c
}

/// The IPv4 pseudo-header of TCP, UDP and UDP-Lite: addresses, protocol and upper-layer length.
pub fn pseudo_header_v4(src: &[u8; 4], dst: &[u8; 4], protocol: u8, len: u32) -> Checksum {
    let mut c = Checksum::new();
    c.add_bytes(src);
    c.add_bytes(dst);
    c.add_u16(u16::from(protocol));
    c.add_u32(len);
    c
}

/// The IPv6 pseudo-header (RFC 8200 section 8.1).
pub fn pseudo_header_v6(src: &[u8; 16], dst: &[u8; 16], protocol: u8, len: u32) -> Checksum {
    let mut c = Checksum::new();
    c.add_bytes(src);
    c.add_bytes(dst);
    c.add_u32(len);
    c.add_u16(u16::from(protocol));
    c
}

/// Updates the 16-bit one's-complement checksum stored at `buf[at..at + 2]` for the bytes
/// `from` becoming `to` (equal, even lengths), as RFC 1624 does it: a checksum that was
/// wrong stays wrong by the same amount.
pub fn replace(buf: &mut [u8], at: usize, from: &[u8], to: &[u8]) {
    let check = u16::from_be_bytes([buf[at], buf[at + 1]]);
    let mut sum = u32::from(!check);
    for (f, t) in from.chunks(2).zip(to.chunks(2)) {
        let f = u16::from_be_bytes([f[0], *f.get(1).unwrap_or(&0)]);
        let t = u16::from_be_bytes([t[0], *t.get(1).unwrap_or(&0)]);
        sum += u32::from(!f) + u32::from(t);
    }
    while sum > 0xffff {
        sum = (sum & 0xffff) + (sum >> 16);
    }
    buf[at..at + 2].copy_from_slice(&(!(sum as u16)).to_be_bytes());
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Word-by-word reference, as RFC 1071 describes it.
    fn naive(data: &[u8]) -> u16 {
        let mut acc: u32 = 0;
        for w in data.chunks(2) {
            let v = if w.len() == 2 {
                u16::from_be_bytes([w[0], w[1]])
            } else {
                u16::from(w[0]) << 8
            };
            acc += u32::from(v);
            acc = (acc & 0xffff) + (acc >> 16);
        }
        acc as u16
    }

    #[test]
    fn matches_word_by_word_sum_for_all_lengths() {
        let data: [u8; 37] =
            core::array::from_fn(|i| (i as u8).wrapping_mul(97).wrapping_add(0xf3));
        for len in 0..=data.len() {
            assert_eq!(sum(&data[..len]).fold(), naive(&data[..len]), "len {len}");
        }
    }

    #[test]
    fn rfc1071_example() {
        // The worked example of RFC 1071 section 3: 00 01 f2 03 f4 f5 f6 f7 sums to ddf2.
        assert_eq!(
            sum(&[0x00, 0x01, 0xf2, 0x03, 0xf4, 0xf5, 0xf6, 0xf7]).fold(),
            0xddf2
        );
    }

    #[test]
    fn stored_checksum_verifies() {
        let mut hdr = [
            0x45, 0x00, 0x00, 0x73, 0x00, 0x00, 0x40, 0x00, 0x40, 0x11, 0, 0, 0xc0, 0xa8, 0x00,
            0x01, 0xc0, 0xa8, 0x00, 0xc7,
        ];
        let c = sum(&hdr).checksum();
        assert_eq!(c, 0xb861); // the well-known example header
        hdr[10..12].copy_from_slice(&c.to_be_bytes());
        assert!(sum(&hdr).verifies());
        hdr[3] ^= 1;
        assert!(!sum(&hdr).verifies());
    }

    #[test]
    fn pseudo_headers_sum_their_fields() {
        let v4 = pseudo_header_v4(&[10, 0, 0, 1], &[10, 0, 0, 2], 6, 20);
        assert_eq!(v4.fold(), naive(&[10, 0, 0, 1, 10, 0, 0, 2, 0, 6, 0, 20]));
        let mut src = [0u8; 16];
        src[15] = 1;
        let v6 = pseudo_header_v6(&src, &src, 17, 0x1_0002);
        let mut flat = [0u8; 40];
        flat[..16].copy_from_slice(&src);
        flat[16..32].copy_from_slice(&src);
        flat[32..36].copy_from_slice(&0x1_0002u32.to_be_bytes());
        flat[39] = 17;
        assert_eq!(v6.fold(), naive(&flat));
    }
}
