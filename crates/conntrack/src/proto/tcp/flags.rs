//! TCP flag bits as they sit in byte 13 of the header, and which combinations of them the
//! tracker accepts at all (the kernel's `tcp_valid_flags`).
//!
//! PSH, ECE and CWR are ignored; URG is not. Everything not listed in
//! [`VALID_COMBINATIONS`] is INVALID with "invalid tcp flag combination".

pub use ctguard_wire::tcp::flags::{ACK, CWR, ECE, FIN, PSH, RST, SYN, URG};

/// The combinations the kernel lets through, once PSH, ECE and CWR are masked off.
pub const VALID_COMBINATIONS: [u8; 9] = [
    SYN,
    SYN | URG,
    SYN | ACK,
    RST,
    RST | ACK,
    FIN | ACK,
    FIN | ACK | URG,
    ACK,
    ACK | URG,
];

/// Flags that never make a combination invalid.
const ALWAYS_VALID: u8 = PSH | ECE | CWR;

/// Is this flag byte one the tracker accepts?
pub fn valid(tcp_flags: u8) -> bool {
    VALID_COMBINATIONS.contains(&(tcp_flags & !ALWAYS_VALID))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exactly_nine_of_the_masked_combinations_are_valid() {
        let valid_masked = (0..=u8::MAX)
            .filter(|f| f & ALWAYS_VALID == 0 && valid(*f))
            .count();
        assert_eq!(valid_masked, 9);
        // Every combination of the ignored bits keeps the verdict.
        for f in 0..=u8::MAX {
            assert_eq!(valid(f), valid(f & !ALWAYS_VALID), "{f:#04x}");
        }
    }
}
