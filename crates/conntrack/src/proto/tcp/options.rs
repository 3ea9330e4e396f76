//! TCP options the tracker reads: window scale and SACK-permitted on SYNs, SACK blocks on others.
//!
//! The walk stops where the kernel's (`tcp_options` / `tcp_sack`) stops: at End-of-List, at an
//! option whose length byte is missing or below 2, or at one that runs past the end. No
//! allocation, and no input makes it panic.

use super::window::seq_after;

const EOL: u8 = 0;
const NOP: u8 = 1;
const WINDOW: u8 = 3;
const SACK_PERM: u8 = 4;
const SACK: u8 = 5;
const TIMESTAMP: u8 = 8;

/// Largest shift RFC 7323 allows; larger advertised values are clamped to it.
pub(crate) const MAX_WSCALE: u8 = 14;

/// One option: its kind and the bytes after the kind and length bytes.
struct Options<'a> {
    rest: &'a [u8],
}

impl<'a> Iterator for Options<'a> {
    type Item = (u8, &'a [u8]);

    fn next(&mut self) -> Option<Self::Item> {
        loop {
            let (&kind, after_kind) = self.rest.split_first()?;
            match kind {
                EOL => return None,
                NOP => self.rest = after_kind,
                _ => {
                    let &len = after_kind.first()?;
                    let len = usize::from(len);
                    if len < 2 || len > self.rest.len() {
                        return None;
                    }
                    let (option, rest) = self.rest.split_at(len);
                    self.rest = rest;
                    return Some((kind, &option[2..]));
                }
            }
        }
    }
}

fn options(bytes: &[u8]) -> Options<'_> {
    Options { rest: bytes }
}

/// What a SYN or SYN/ACK announces.
#[derive(Copy, Clone, Debug, Default, PartialEq, Eq)]
pub(crate) struct SynOptions {
    /// The window-scale shift, clamped to [`MAX_WSCALE`], if the option is present.
    pub wscale: Option<u8>,
    pub sack_perm: bool,
}

/// Reads window scale and SACK-permitted. Options of the wrong length are skipped.
pub(crate) fn syn_options(bytes: &[u8]) -> SynOptions {
    let mut found = SynOptions::default();
    for (kind, body) in options(bytes) {
        match (kind, body) {
            (SACK_PERM, []) => found.sack_perm = true,
            (WINDOW, [shift]) => found.wscale = Some((*shift).min(MAX_WSCALE)),
            _ => {}
        }
    }
    found
}

/// The highest right edge among the blocks of the first well-formed SACK option, if it is
/// after `ack`; otherwise `ack`.
pub(crate) fn highest_sack(bytes: &[u8], ack: u32) -> u32 {
    // NOP NOP TIMESTAMP(10): the common case, with nothing to find.
    if bytes.len() == 12 && bytes[..4] == [NOP, NOP, TIMESTAMP, 10] {
        return ack;
    }
    let mut sack = ack;
    for (kind, body) in options(bytes) {
        if kind == SACK && !body.is_empty() && body.len() % 8 == 0 {
            for block in body.chunks_exact(8) {
                let right = u32::from_be_bytes([block[4], block[5], block[6], block[7]]);
                if seq_after(right, sack) {
                    sack = right;
                }
            }
            break;
        }
    }
    sack
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn syn_options_of_a_linux_syn() {
        // MSS 1460, SACK-permitted, timestamps, NOP, window scale 7.
        let o = [
            2, 4, 5, 180, 4, 2, 8, 10, 0, 0, 0, 1, 0, 0, 0, 0, 1, 3, 3, 7,
        ];
        assert_eq!(
            syn_options(&o),
            SynOptions {
                wscale: Some(7),
                sack_perm: true
            }
        );
    }

    #[test]
    fn wscale_is_clamped_and_bad_lengths_ignored() {
        assert_eq!(syn_options(&[3, 3, 20]).wscale, Some(14));
        assert_eq!(syn_options(&[3, 4, 5, 0]).wscale, None);
        assert!(!syn_options(&[4, 3, 0]).sack_perm);
    }

    #[test]
    fn walk_stops_like_the_kernel() {
        // EOL ends the list.
        assert_eq!(syn_options(&[0, 4, 2]), SynOptions::default());
        // A length below 2 ends it.
        assert_eq!(syn_options(&[9, 1, 4, 2]), SynOptions::default());
        // An option running past the end is not read.
        assert_eq!(
            syn_options(&[4, 2, 3, 3]),
            SynOptions {
                wscale: None,
                sack_perm: true
            }
        );
        // A lone kind byte with no length.
        assert_eq!(syn_options(&[1, 1, 3]), SynOptions::default());
    }

    #[test]
    fn sack_blocks() {
        let mut o = vec![1, 1, 5, 18];
        for (l, r) in [(100u32, 200u32), (300, 400)] {
            o.extend_from_slice(&l.to_be_bytes());
            o.extend_from_slice(&r.to_be_bytes());
        }
        assert_eq!(highest_sack(&o, 50), 400);
        assert_eq!(highest_sack(&o, 500), 500);
        // Malformed length: skipped.
        assert_eq!(highest_sack(&[5, 9, 0, 0, 0, 0, 0, 0, 1], 1), 1);
        // Wrapping comparison.
        let mut w = vec![5, 10];
        w.extend_from_slice(&u32::MAX.to_be_bytes());
        w.extend_from_slice(&5u32.to_be_bytes());
        assert_eq!(highest_sack(&w, u32::MAX - 10), 5);
    }

    #[test]
    fn never_panics() {
        let mut buf = [0u8; 6];
        for a in 0..=255u8 {
            for b in [0u8, 1, 2, 3, 5, 6, 10, 255] {
                buf[0] = a;
                buf[1] = b;
                buf[2] = b;
                buf[3] = a;
                for n in 0..=buf.len() {
                    let _ = syn_options(&buf[..n]);
                    let _ = highest_sack(&buf[..n], 7);
                }
            }
        }
    }
}
