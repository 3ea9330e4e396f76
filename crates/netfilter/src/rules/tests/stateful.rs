//! limit, hashlimit, recent and connlimit: state across packets, with the kernel's arithmetic.

use ctguard_conntrack::{Instant, L3, Status, Tuple, addr_bytes};

use super::*;
use crate::rules::MatchState;

fn at(p: &mut TestPkt, ms: u64) -> &TestPkt {
    // 1000 s is a whole number of jiffies, so `ms` lands on jiffy ms/4.
    p.now = Instant::from_nanos(1_000_000_000_000 + ms * 1_000_000);
    p
}

#[test]
fn limit_follows_the_kernel_credit_arithmetic() {
    // --limit 3/s --limit-burst 2: avg = 10000/3 = 3333, cost = 3333*32000/10000 = 10665,
    // cap = 6666*32000/10000 = 21331, 128 credits per 4 ms jiffy.
    let mut r = rule4("-m limit --limit 3/s --limit-burst 2");
    let mut st = MatchState::new();
    let mut p = TestPkt::tcp();
    let mut go = |r: &mut Rule, p: &mut TestPkt, ms| r.matches(&at(p, ms).ctx(), &mut st);
    assert!(go(&mut r, &mut p, 0)); // 21331 -> 10666
    assert!(go(&mut r, &mut p, 0)); // 10666 -> 1
    assert!(!go(&mut r, &mut p, 0)); // 1 < 10665
    assert!(!go(&mut r, &mut p, 332)); // 83 jiffies: 1 + 83*128 = 10625 < 10665
    assert!(go(&mut r, &mut p, 336)); // one more jiffy: 10753 -> 88
    assert!(!go(&mut r, &mut p, 336));
    // A long pause refills to the cap only.
    assert!(go(&mut r, &mut p, 60_000));
    assert!(go(&mut r, &mut p, 60_000));
    assert!(!go(&mut r, &mut p, 60_000));
    let crate::rules::Match::Limit(l) = &r.matches[0] else {
        panic!()
    };
    assert_eq!(l.credit(), Some(1));
}

#[test]
fn limit_default_rate_is_3_per_hour_burst_5() {
    let mut r = rule4("-m limit");
    let mut st = MatchState::new();
    let mut p = TestPkt::tcp();
    for _ in 0..5 {
        assert!(r.matches(&at(&mut p, 0).ctx(), &mut st));
    }
    assert!(!r.matches(&at(&mut p, 0).ctx(), &mut st));
    // One packet per 1200 s: not yet after 1199 s, yes at 1200 s.
    assert!(!r.matches(&at(&mut p, 1_199_000).ctx(), &mut st));
    assert!(r.matches(&at(&mut p, 1_200_000).ctx(), &mut st));
}

#[test]
fn hashlimit_keeps_one_bucket_per_source() {
    // 1/sec burst 2, rev 3: cost = 10^6 * 137438953, 2^39 credits per jiffy, so a new credit
    // takes 137438953*10^6 / 2^39 = 249.99.. jiffies: 250 jiffies (1 s).
    let mut r = rule4(
        "-m hashlimit --hashlimit-upto 1/sec --hashlimit-burst 2 --hashlimit-mode srcip --hashlimit-name h",
    );
    let mut st = MatchState::new();
    let mut a = TestPkt::tcp();
    let mut b = TestPkt::tcp();
    b.src = "10.0.0.9".parse().unwrap();
    assert!(r.matches(&at(&mut a, 0).ctx(), &mut st));
    assert!(r.matches(&at(&mut a, 0).ctx(), &mut st));
    assert!(!r.matches(&at(&mut a, 0).ctx(), &mut st));
    assert!(r.matches(&at(&mut b, 0).ctx(), &mut st));
    assert!(!r.matches(&at(&mut a, 996).ctx(), &mut st));
    assert!(r.matches(&at(&mut a, 1000).ctx(), &mut st));
    assert_eq!(st.hashlimit.get(Family::V4, "h").unwrap().len(), 2);
}

#[test]
fn hashlimit_above_inverts_and_shares_the_named_table() {
    let l = load4(
        "*filter\n-A INPUT -m hashlimit --hashlimit-upto 1/min --hashlimit-burst 1 --hashlimit-name s\n\
         -A INPUT -m hashlimit --hashlimit-above 100/sec --hashlimit-name s\nCOMMIT\n",
    );
    let mut rules = l.v4.builtin_rules(TableName::Filter, Hook::Input).to_vec();
    let mut st = MatchState::new();
    st.register(&l.v4);
    let mut p = TestPkt::tcp();
    assert!(rules[0].matches(&at(&mut p, 0).ctx(), &mut st)); // takes the only credit
    // The second rule uses the table created by the first (1/min, burst 1): over the limit.
    assert!(rules[1].matches(&at(&mut p, 10).ctx(), &mut st));
}

#[test]
fn recent_set_rcheck_update_remove() {
    let l = load4(
        "*filter\n-A INPUT -m recent --name ssh --set\n\
         -A INPUT -m recent --name ssh --rcheck --seconds 60 --hitcount 3\n\
         -A INPUT -m recent --name ssh --update --seconds 10\n\
         -A INPUT -m recent --name ssh --remove\n\
         -A INPUT -m recent --name ssh ! --rcheck\nCOMMIT\n",
    );
    let mut r = l.v4.builtin_rules(TableName::Filter, Hook::Input).to_vec();
    let mut st = MatchState::new();
    st.register(&l.v4);
    let mut p = TestPkt::tcp();
    assert!(r[4].matches(&at(&mut p, 0).ctx(), &mut st)); // not in the list yet
    assert!(r[0].matches(&at(&mut p, 0).ctx(), &mut st)); // --set always matches
    assert!(r[0].matches(&at(&mut p, 1000).ctx(), &mut st));
    assert!(!r[1].matches(&at(&mut p, 2000).ctx(), &mut st)); // 2 hits < 3
    assert!(r[0].matches(&at(&mut p, 3000).ctx(), &mut st));
    assert!(r[1].matches(&at(&mut p, 4000).ctx(), &mut st)); // 3 hits within 60 s
    assert!(!r[1].matches(&at(&mut p, 61_500).ctx(), &mut st)); // the stamp at 0 s and 1 s are older than 60 s
    assert!(!r[2].matches(&at(&mut p, 20_000).ctx(), &mut st)); // newest stamp 17 s ago > 10 s
    assert!(r[2].matches(&at(&mut p, 10_000).ctx(), &mut st)); // 7 s ago: match and update
    assert_eq!(
        st.recent.addresses("ssh"),
        ["10.0.0.1".parse::<IpAddr>().unwrap()]
    );
    assert!(r[3].matches(&at(&mut p, 11_000).ctx(), &mut st)); // removed
    assert!(st.recent.addresses("ssh").is_empty());
    assert!(!r[3].matches(&at(&mut p, 12_000).ctx(), &mut st)); // nothing to remove
    // Another source is not in the list.
    let mut q = TestPkt::tcp();
    q.src = "10.0.0.7".parse().unwrap();
    assert!(!r[1].matches(&at(&mut q, 0).ctx(), &mut st));
}

#[test]
fn recent_rdest_mask_and_list_size() {
    let mut r = rule4("-m recent --name m --set --rdest --mask 255.255.255.0");
    let mut st = MatchState::new();
    let mut p = TestPkt::tcp();
    for i in 0..101u32 {
        p.dst = IpAddr::V4(std::net::Ipv4Addr::from(0x0a00_0000 + (i << 8) + 7));
        assert!(r.matches(&at(&mut p, u64::from(i)).ctx(), &mut st));
    }
    let list = st.recent.addresses("m");
    // 100 addresses per list; the least recently updated (10.0.0.0) went.
    assert_eq!(list.len(), 100);
    assert_eq!(list[0], "10.0.1.0".parse::<IpAddr>().unwrap());
}

fn tuple(src: &str, dst: &str) -> Tuple {
    Tuple {
        src: addr_bytes(src.parse().unwrap()),
        dst: addr_bytes(dst.parse().unwrap()),
        sport: 1,
        dport: 80,
        proto: 6,
        l3: L3::V4,
    }
}

#[test]
fn connlimit_counts_live_connections_plus_the_new_one() {
    let mut p = TestPkt::tcp();
    p.conns = Conns(vec![
        tuple("10.0.0.1", "10.0.0.2"),
        tuple("10.0.0.1", "10.0.0.3"),
        tuple("10.0.0.77", "10.0.0.2"),
        tuple("10.9.0.1", "10.0.0.2"),
    ]);
    // A NEW connection's first packet (not yet confirmed): 2 listed + itself = 3.
    assert!(hits("-m connlimit --connlimit-above 2", &p));
    assert!(!hits("-m connlimit --connlimit-above 3", &p));
    assert!(hits("-m connlimit --connlimit-upto 3", &p));
    assert!(!hits("-m connlimit ! --connlimit-upto 3", &p));
    // /24: 10.0.0.1 and 10.0.0.77 share it: 3 listed + itself.
    assert!(hits(
        "-m connlimit --connlimit-above 3 --connlimit-mask 24",
        &p
    ));
    // By destination: three to 10.0.0.2 + itself.
    assert!(hits(
        "-m connlimit --connlimit-above 3 --connlimit-daddr",
        &p
    ));
    // An already confirmed connection is among the listed ones: not counted twice.
    p.ct.status = Status::CONFIRMED;
    assert!(!hits("-m connlimit --connlimit-above 2", &p));
}
