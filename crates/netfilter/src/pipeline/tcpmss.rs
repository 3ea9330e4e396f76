//! The TCPMSS target on a SYN: lower the MSS option (never raise it), or add one when the
//! segment has none and no payload, as the kernel's xt_TCPMSS does. Recorded: `--set-mss`
//! lowering an option (rules-counters); the rest is from the kernel source.

/// TCP option kinds and the MSS option's length.
use ctguard_wire::checksum::replace;

const NOP: u8 = 1;
const MSS: u8 = 2;
const MSS_LEN: usize = 4;
/// What a peer assumes without an MSS option (RFC 879; RFC 8200 for IPv6).
const DEFAULT_MSS_V4: u16 = 536;
const DEFAULT_MSS_V6: u16 = 1220;

/// Applies `--set-mss new_mss` (or the value `--clamp-mss-to-pmtu` worked out) to the IP
/// packet in `buf`. Returns false when the kernel would drop the packet (a TCP header that
/// does not fit).
pub fn apply(buf: &mut Vec<u8>, new_mss: u16) -> bool {
    let v6 = buf.first().is_some_and(|b| b >> 4 == 6);
    let Ok(ip) = ctguard_conntrack::intake::parse_ip(buf) else {
        return false;
    };
    if ip.fragment.is_some_and(|f| f.offset != 0) {
        return true;
    }
    let at = ip.l4_offset;
    let len = buf.len() - at;
    if len < 20 {
        return false;
    }
    let hdr = usize::from(buf[at + 12] >> 4) * 4;
    if hdr < 20 || len < hdr {
        return false;
    }
    let mut i = 20;
    while i + MSS_LEN <= hdr {
        let kind = buf[at + i];
        if kind == MSS && buf[at + i + 1] == MSS_LEN as u8 {
            let old = u16::from_be_bytes([buf[at + i + 2], buf[at + i + 3]]);
            if old <= new_mss {
                return true;
            }
            let new = new_mss.to_be_bytes();
            buf[at + i + 2..at + i + 4].copy_from_slice(&new);
            replace(buf, at + 16, &old.to_be_bytes(), &new);
            return true;
        }
        if kind <= NOP || buf[at + i + 1] == 0 {
            i += 1;
        } else {
            i += usize::from(buf[at + i + 1]);
        }
    }
    // No MSS option: add one, unless data follows the header or the header is full.
    if len > hdr || hdr >= 15 * 4 {
        return true;
    }
    let mss = new_mss.min(if v6 { DEFAULT_MSS_V6 } else { DEFAULT_MSS_V4 });
    let opt = [MSS, MSS_LEN as u8, (mss >> 8) as u8, mss as u8];
    buf.splice(at + 20..at + 20, opt);
    // The shifted options keep their sum (shifted by 4 bytes); add the new option, the new
    // data offset and the longer pseudo-header length.
    replace(buf, at + 16, &[0, 0, 0, 0], &opt);
    let old_off = [buf[at + 12], buf[at + 13]];
    buf[at + 12] = buf[at + 12].wrapping_add(1 << 4);
    let new_off = [buf[at + 12], buf[at + 13]];
    replace(buf, at + 16, &old_off, &new_off);
    let old_len = (len as u16).to_be_bytes();
    let new_len = (len as u16 + 4).to_be_bytes();
    replace(buf, at + 16, &old_len, &new_len);
    if v6 {
        let pl = u16::from_be_bytes([buf[4], buf[5]]) + 4;
        buf[4..6].copy_from_slice(&pl.to_be_bytes());
    } else {
        let old = [buf[2], buf[3]];
        let tl = (u16::from_be_bytes(old) + 4).to_be_bytes();
        buf[2..4].copy_from_slice(&tl);
        replace(buf, 10, &old, &tl);
    }
    true
}

#[cfg(test)]
mod tests {
    use super::*;
    use ctguard_wire::checksum;

    fn syn(options: &[u8], payload: usize) -> Vec<u8> {
        let hdr = 20 + options.len();
        let total = 20 + hdr + payload;
        let mut p = vec![
            0x45, 0, 0, 0, 0, 1, 0x40, 0, 64, 6, 0, 0, 10, 0, 0, 1, 10, 0, 0, 2,
        ];
        p[2..4].copy_from_slice(&(total as u16).to_be_bytes());
        p.extend_from_slice(&[0x9c, 0x40, 0, 80, 0, 0, 3, 0xe8, 0, 0, 0, 0]);
        p.push(((hdr / 4) as u8) << 4);
        p.extend_from_slice(&[0x02, 0xfa, 0xf0, 0, 0, 0, 0]);
        p.extend_from_slice(options);
        p.resize(total, 0);
        fill(&mut p);
        p
    }

    fn fill(p: &mut [u8]) {
        p[10] = 0;
        p[11] = 0;
        let c = checksum::sum(&p[..20]).checksum();
        p[10..12].copy_from_slice(&c.to_be_bytes());
        p[36] = 0;
        p[37] = 0;
        let src: [u8; 4] = p[12..16].try_into().unwrap();
        let dst: [u8; 4] = p[16..20].try_into().unwrap();
        let mut s = checksum::pseudo_header_v4(&src, &dst, 6, (p.len() - 20) as u32);
        s.add_bytes(&p[20..]);
        p[36..38].copy_from_slice(&s.checksum().to_be_bytes());
    }

    fn valid(p: &[u8]) -> bool {
        let mut q = p.to_vec();
        fill(&mut q);
        q == p
    }

    #[test]
    fn lowers_never_raises() {
        let mut p = syn(&[2, 4, 0x05, 0xb4, 1, 3, 3, 7], 0);
        assert!(apply(&mut p, 1400));
        assert_eq!(u16::from_be_bytes([p[42], p[43]]), 1400);
        assert!(valid(&p));
        let before = p.clone();
        assert!(apply(&mut p, 1450));
        assert_eq!(p, before, "never raised");
    }

    #[test]
    fn adds_an_option_capped_at_536() {
        let mut p = syn(&[], 0);
        assert!(apply(&mut p, 1400));
        assert_eq!(p.len(), 44);
        assert_eq!(&p[40..44], &[2, 4, 0x02, 0x18]);
        assert_eq!(p[32] >> 4, 6);
        assert!(valid(&p));
        let mut q = syn(&[], 10);
        let before = q.clone();
        assert!(apply(&mut q, 1400));
        assert_eq!(q, before, "data after the header: left alone");
    }
}
