//! `ctguard replay` on a spoofed SYN flood made by real tools: hping3 --rand-source against
//! python's http.server in a network namespace, with 20 legitimate curl fetches interleaved,
//! captured with tcpdump on the server's interface (`crates/capture/tests/data/spoofed-flood.pcap`;
//! its README section and make-fixtures.sh tell how). The server is 10.77.0.1, the legitimate
//! client 10.77.0.2.
//!
//! The fixture's facts these tests rely on (tshark): 5943 packets over 3.56 s; 3000 spoofed
//! SYNs to port 80 from 3000 addresses, from 0.394 s to 3.564 s (about 950/s); 2689 SYN-ACKs
//! to them (the server answered with SYN cookies; the 323 SYNs from 127/8 and multicast sources
//! it dropped as martians); no RSTs; 20 curl connections (10.77.0.2 to port 80, 254 packets,
//! each a complete exchange; the real server served all 20). The first three curl connections
//! come before the flood starts.

use std::path::{Path, PathBuf};
use std::process::Command;

const CAPTURE: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../capture/tests/data/spoofed-flood.pcap"
);
const SERVER: [u8; 4] = [10, 77, 0, 1];
const CLIENT: [u8; 4] = [10, 77, 0, 2];

fn tmp(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("ctguard-flood-{}-{name}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    dir
}

/// One packet's verdict line: its time (as the JSONL prints it) and verdict.
struct Verdict {
    time: f64,
    verdict: String,
}

/// `"key":value` from a one-line JSON object, value as text (`null`, a number, "a string").
fn field<'a>(json: &'a str, key: &str) -> &'a str {
    let pat = format!("\"{key}\":");
    let start = json.find(&pat).unwrap_or_else(|| panic!("{key} in {json}")) + pat.len();
    let rest = &json[start..];
    if let Some(s) = rest.strip_prefix('"') {
        return &s[..s.find('"').unwrap()];
    }
    let end = rest.find([',', '}']).unwrap();
    &rest[..end]
}

fn num(json: &str, key: &str) -> f64 {
    field(json, key)
        .parse()
        .unwrap_or_else(|_| panic!("{key} is a number in {json}"))
}

struct Run {
    /// The `--json -` summary.
    json: String,
    verdicts: Vec<Verdict>,
}

/// Replays the fixture with `--local 10.77.0.1` and these sysctl.conf lines.
fn replay(name: &str, sysctl: &str, extra: &[&str]) -> Run {
    let dir = tmp(name);
    let conf = dir.join("sysctl.conf");
    std::fs::write(&conf, sysctl).unwrap();
    let verdicts = dir.join("verdicts.jsonl");
    let out = Command::new(env!("CARGO_BIN_EXE_ctguard"))
        .args(["replay", CAPTURE, "--local", "10.77.0.1", "--sysctl"])
        .arg(&conf)
        .args(["--json", "-", "--verdicts"])
        .arg(&verdicts)
        .args(extra)
        .output()
        .expect("ctguard runs");
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{stderr}");
    let json = String::from_utf8(out.stdout).unwrap().trim().to_owned();
    let verdicts = std::fs::read_to_string(&verdicts)
        .unwrap()
        .lines()
        .enumerate()
        .map(|(i, l)| {
            assert_eq!(num(l, "index") as usize, i, "{l}");
            Verdict {
                time: num(l, "time"),
                verdict: field(l, "verdict").to_owned(),
            }
        })
        .collect();
    std::fs::remove_dir_all(&dir).ok();
    Run { json, verdicts }
}

/// A packet's IPv4 addresses and TCP ports (Ethernet frames, as tcpdump wrote them).
struct Packet {
    src: [u8; 4],
    dst: [u8; 4],
    sport: u16,
    dport: u16,
    flags: u8,
}

fn packets(path: &Path) -> Vec<Packet> {
    let mut cap = ctguard_capture::Capture::open(path).expect("fixture opens");
    let mut all = Vec::new();
    while let Some(rec) = cap.next_record() {
        let rec = rec.expect("fixture reads");
        let d = rec.data;
        assert_eq!(&d[12..14], &[0x08, 0x00], "IPv4 only (tcpdump filter `ip`)");
        let ip = &d[14..];
        assert_eq!(ip[9], 6, "TCP only");
        let tcp = &ip[usize::from(ip[0] & 0x0f) * 4..];
        all.push(Packet {
            src: ip[12..16].try_into().unwrap(),
            dst: ip[16..20].try_into().unwrap(),
            sport: u16::from_be_bytes([tcp[0], tcp[1]]),
            dport: u16::from_be_bytes([tcp[2], tcp[3]]),
            flags: tcp[13],
        });
    }
    all
}

/// The legitimate connections (10.77.0.2 to 10.77.0.1:80), in the order they start: the
/// client's port and the indices of its packets, both directions.
fn legit_connections(pkts: &[Packet]) -> Vec<(u16, Vec<usize>)> {
    let mut conns: Vec<(u16, Vec<usize>)> = Vec::new();
    for (i, p) in pkts.iter().enumerate() {
        let port = if p.src == CLIENT && p.dst == SERVER && p.dport == 80 {
            p.sport
        } else if p.src == SERVER && p.dst == CLIENT && p.sport == 80 {
            p.dport
        } else {
            continue;
        };
        match conns.iter_mut().find(|(c, _)| *c == port) {
            Some((_, idx)) => idx.push(i),
            None => conns.push((port, vec![i])),
        }
    }
    conns
}

/// Per legitimate connection: (start time, every packet accepted).
fn fates(run: &Run, conns: &[(u16, Vec<usize>)]) -> Vec<(f64, bool)> {
    conns
        .iter()
        .map(|(_, idx)| {
            (
                run.verdicts[idx[0]].time,
                idx.iter().all(|&i| run.verdicts[i].verdict == "ACCEPT"),
            )
        })
        .collect()
}

const BIG_HASH: &str =
    "net.netfilter.nf_conntrack_max = 64\nnet.netfilter.nf_conntrack_buckets = 262144\n";
const SMALL_HASH: &str =
    "net.netfilter.nf_conntrack_max = 64\nnet.netfilter.nf_conntrack_buckets = 512\n";
const GENEROUS: &str = "net.netfilter.nf_conntrack_max = 100000\n";

#[test]
fn the_fixture_is_a_spoofed_flood_with_twenty_complete_fetches() {
    let pkts = packets(Path::new(CAPTURE));
    assert_eq!(pkts.len(), 5943);
    let spoofed_syns: Vec<&Packet> = pkts
        .iter()
        .filter(|p| p.flags == 0x02 && p.dst == SERVER && p.dport == 80 && p.src != CLIENT)
        .collect();
    assert_eq!(spoofed_syns.len(), 3000);
    let syn_acks_out = pkts
        .iter()
        .filter(|p| p.flags == 0x12 && p.src == SERVER && p.dst != CLIENT)
        .count();
    assert_eq!(
        syn_acks_out, 2689,
        "SYN cookies to the routable spoofed sources"
    );
    assert_eq!(
        pkts.iter().filter(|p| p.flags & 0x04 != 0).count(),
        0,
        "no RSTs"
    );
    let conns = legit_connections(&pkts);
    assert_eq!(conns.len(), 20);
    assert_eq!(conns.iter().map(|(_, i)| i.len()).sum::<usize>(), 254);
    for (port, idx) in &conns {
        // SYN, SYN-ACK, ACK first; a FIN from each side.
        let f: Vec<u8> = idx.iter().map(|&i| pkts[i].flags).collect();
        assert_eq!(&f[..3], &[0x02, 0x12, 0x10], "port {port}: {f:x?}");
        assert_eq!(
            f.iter().filter(|&&x| x & 0x01 != 0).count(),
            2,
            "port {port}"
        );
    }
}

/// The kernel-recorded case from issue 6: max 64 with 262144 buckets. Early drop looks at 8
/// buckets from the new entry's, and 128 hash nodes in 262144 buckets are almost never there,
/// so once the flood's half-open entries (SYN_RECV, 60 s) fill the table, every new
/// connection is dropped: the legitimate client's too.
///
/// Observed (default seed): the table fills 64 ms into the flood (61 flood entries and the three
/// earlier fetches in TIME_WAIT), at 0.457 s, between the 3rd and 4th fetch; 5727 packets dropped
/// for a full table, 23 early drops, 87 connections ever entered; the 3 fetches before are whole,
/// all 17 after it lose their SYN (and then every later packet, which tries to start an entry).
/// Over 21 seeds, 0 or 1 of the 17 got through.
#[test]
fn a_full_table_with_a_big_hash_turns_the_legitimate_fetches_away() {
    let run = replay("big", BIG_HASH, &[]);
    let j = &run.json;
    assert_eq!(num(j, "packets"), 5943.0, "{j}");
    assert_eq!(num(j, "nf_conntrack_max"), 64.0, "{j}");
    assert_eq!(num(j, "peak_entries"), 64.0, "{j}");
    assert_ne!(field(j, "first_full_time"), "null", "{j}");
    let full = num(j, "first_full_time");
    assert!(num(j, "table_full_drops") > 0.0, "{j}");
    assert!(
        num(j, "early_drops") < 100.0,
        "early drop rarely finds a victim among 262144 buckets: {j}"
    );

    let conns = legit_connections(&packets(Path::new(CAPTURE)));
    let fates = fates(&run, &conns);
    let before: Vec<bool> = fates.iter().filter(|f| f.0 < full).map(|f| f.1).collect();
    let after: Vec<bool> = fates.iter().filter(|f| f.0 >= full).map(|f| f.1).collect();
    assert_eq!(before.len(), 3, "three fetches precede the flood");
    assert!(
        before.iter().all(|&ok| ok),
        "before the table filled: {before:?}"
    );
    assert_eq!(after.len(), 17);
    let failed_after = after.iter().filter(|&&ok| !ok).count();
    assert!(
        failed_after >= 15,
        "most fetches after the table filled fail: {failed_after} of 17 ({j})"
    );
    // With the default (fixed) seed: all 17.
    assert_eq!(failed_after, 17, "{j}");
}

/// The seed's fix 1: a max the flood cannot reach. No packet is dropped for want of room and
/// every legitimate packet is accepted. The only drops are the 323 SYNs from 127/8 and
/// multicast sources, which routing refuses as martians before conntrack confirms them: the
/// real server answered the other 2677 spoofed SYNs (its SYN-ACKs are in the capture), and
/// the peak is exactly those plus the 20 fetches.
#[test]
fn a_generous_max_drops_nothing() {
    let run = replay("generous", GENEROUS, &[]);
    let j = &run.json;
    assert_eq!(num(j, "dropped"), 323.0, "{j}");
    assert_eq!(num(j, "table_full_drops"), 0.0, "{j}");
    assert_eq!(field(j, "first_full_time"), "null", "{j}");
    assert_eq!(num(j, "early_drops"), 0.0, "{j}");
    assert_eq!(num(j, "peak_entries"), 2697.0, "{j}");
    let conns = legit_connections(&packets(Path::new(CAPTURE)));
    assert!(fates(&run, &conns).iter().all(|f| f.1));
}

/// Issue 6's other kernel fact: with 512 buckets (128 hash nodes), early drop finds an unassured
/// victim within 8 buckets most of the time, so most new connections get in, and on the real
/// kernel 15 to 19 of 20 legitimate connections succeeded. A fetch is over in about a
/// millisecond, while the flood adds an entry every millisecond, so a fetch's entry is rarely
/// evicted before its handshake assures it.
///
/// Observed (martian sources dropped by routing, as the kernel does): with the default seed
/// 18 of 20 complete (early drop 2249, 514 table-full drops); with 262144 buckets 3.
#[test]
fn a_small_hash_lets_early_drop_save_most_fetches() {
    let conns = legit_connections(&packets(Path::new(CAPTURE)));
    let completed = |run: &Run| fates(run, &conns).iter().filter(|f| f.1).count();

    let big = replay("big-vs-small", BIG_HASH, &[]);
    let small = replay("small", SMALL_HASH, &[]);
    let j = &small.json;
    assert_eq!(num(j, "peak_entries"), 64.0, "{j}");
    assert_ne!(field(j, "first_full_time"), "null", "{j}");
    assert!(num(j, "early_drops") > 1000.0, "{j}");
    assert!(num(j, "table_full_drops") > 0.0, "{j}");
    let (ok_big, ok_small) = (completed(&big), completed(&small));
    assert!(
        ok_small > ok_big,
        "512 buckets: {ok_small} of 20 complete; 262144 buckets: {ok_big}"
    );
    assert_eq!(ok_small, 18, "default seed: {j}");

    // Early drop's victims depend on the hash seed: across 21 seeds, as conformance does for
    // the kernel's table-full scenarios, the median must fall in the kernel's 15..=19.
    let mut per_seed: Vec<usize> = (1..=21)
        .map(|seed| {
            let s = seed.to_string();
            completed(&replay(
                &format!("small-seed-{seed}"),
                SMALL_HASH,
                &["--seed", &s, "--no-capacity"],
            ))
        })
        .collect();
    per_seed.sort_unstable();
    let median = per_seed[10];
    assert!(
        (15..=19).contains(&median),
        "median {median} of 20 over 21 seeds: {per_seed:?}"
    );
}
