//! ICMP and ICMPv6: query/response pairs are connections; errors relate to the connection
//! whose packet they quote.

use core::time::Duration;

use crate::sysctl::{Sysctl, secs};

/// The type of the answer to a query type, for the reply tuple.
pub fn inverse_type(v6: bool, ty: u8) -> Option<u8> {
    let pairs: &[(u8, u8)] = if v6 {
        &[(128, 129), (139, 140)]
    } else {
        &[(8, 0), (13, 14), (15, 16), (17, 18)]
    };
    pairs.iter().find_map(|&(a, b)| {
        if ty == a {
            Some(b)
        } else if ty == b {
            Some(a)
        } else {
            None
        }
    })
}

/// Query types that may create a connection.
pub fn valid_new(v6: bool, ty: u8) -> bool {
    if v6 {
        matches!(ty, 128 | 139)
    } else {
        matches!(ty, 8 | 13 | 15 | 17)
    }
}

/// Error types, whose body quotes the packet they answer.
pub fn is_error(v6: bool, ty: u8) -> bool {
    if v6 {
        ty < 128
    } else {
        matches!(ty, 3 | 4 | 5 | 11 | 12)
    }
}

pub fn timeout(v6: bool, sysctl: &Sysctl) -> Duration {
    secs(if v6 {
        sysctl.timeouts.icmpv6
    } else {
        sysctl.timeouts.icmp
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn queries_pair_up_and_errors_do_not() {
        assert_eq!(inverse_type(false, 8), Some(0));
        assert_eq!(inverse_type(false, 0), Some(8));
        assert_eq!(inverse_type(true, 128), Some(129));
        assert_eq!(inverse_type(false, 3), None);
        assert!(valid_new(false, 8) && !valid_new(false, 0));
        assert!(is_error(false, 3) && !is_error(false, 8));
        assert!(is_error(true, 1) && !is_error(true, 128));
        assert_eq!(timeout(false, &Sysctl::default()), Duration::from_secs(30));
    }
}
