//! Parsing scenario text: what good input gives, and that bad input gives a located error.

use ctguard_scenario::{ProcMode, Scenario, Side};

const HANDSHAKE: &str = "\
# Three-way handshake.
# Second line of the description.

sysctl net.netfilter.nf_conntrack_tcp_loose=0
sysctl net.netfilter.nf_conntrack_log_invalid=255   # log reasons
proc each

c tcp 10.99.1.100:41000 > 10.99.2.100:80 S seq=1000 win=64240 mss=1460 wscale=7 sackok
s tcp 10.99.2.100:80 > 10.99.1.100:41000 SA seq=5000 ack=1001 win=65160
sleep 2.5
c tcp 10.99.1.100:41000 > 10.99.2.100:80 A seq=1001 ack=5001
";

#[test]
fn parses_settings_packets_and_times() {
    let s = Scenario::parse("handshake", HANDSHAKE).unwrap();
    assert_eq!(s.name, "handshake");
    assert_eq!(
        s.description,
        "Three-way handshake.\nSecond line of the description."
    );
    assert_eq!(s.sysctl.len(), 2);
    assert_eq!(s.sysctl[1].1, "255");
    assert_eq!(s.proc_mode, ProcMode::Each);
    assert_eq!(s.runs, 1);
    let times: Vec<f64> = s.packets.iter().map(|p| p.time).collect();
    assert_eq!(times, vec![0.0, 0.05, 2.6]);
    let p = &s.packets[1];
    assert_eq!((p.index, p.line, p.side), (1, 9, Side::Server));
    assert!(p.text.starts_with("s tcp 10.99.2.100:80"));
    // Ethernet: server MAC → router MAC, IPv4.
    assert_eq!(&p.frame[0..6], &[2, 0, 0, 0, 2, 1]);
    assert_eq!(&p.frame[6..12], &[2, 0, 0, 0, 2, 0x64]);
    assert_eq!(&p.frame[12..14], &[0x08, 0x00]);
}

#[test]
fn expands_repeats_and_fragments() {
    let text = "\
global net.netfilter.nf_conntrack_max=64
proc final
repeat-runs 5
spacing 0.02
repeat 300 c tcp 10.98.{i/256}.{i%256}:{1024+i} > 10.99.2.100:80 S seq=1
c udp [fd00:99:1::100]:5000 > [fd00:99:2::100]:53 len=100 frag=64 order=1,0
";
    let s = Scenario::parse("flood", text).unwrap();
    assert_eq!(s.global_sysctl[0].1, "64");
    assert_eq!((s.proc_mode, s.runs), (ProcMode::Final, 5));
    assert_eq!(s.packets.len(), 302);
    assert_eq!(
        s.packets[299].text,
        "c tcp 10.98.1.43:1323 > 10.99.2.100:80 S seq=1"
    );
    let last = &s.packets[301];
    assert_eq!(last.fragment.unwrap().number, 0);
    assert!((last.time - 301.0 * 0.02).abs() < 1e-9);
    assert!(last.label().contains("[fragment 1/2 offset=0 MF]"));
}

#[test]
fn quotes_earlier_packets_and_defines() {
    let text = "\
define ghost udp 10.99.1.100:6000 > 10.99.2.100:53 len=10
c udp 10.99.1.100:5000 > 10.99.2.100:53 len=30
s icmp 10.99.2.100 > 10.99.1.100 unreach code=3 quote=#0
s icmp 10.99.2.100 > 10.99.1.100 unreach code=3 quote=ghost
";
    let s = Scenario::parse("icmp", text).unwrap();
    assert_eq!(s.packets.len(), 3);
    // 14 Ethernet + 20 IP + 8 ICMP + 20 quoted IP + 8 quoted UDP.
    assert_eq!(s.packets[1].frame.len(), 14 + 20 + 8 + 28);
    assert_eq!(&s.packets[1].frame[42..62], &s.packets[0].frame[14..34]);
}

#[test]
fn errors_name_the_file_and_line() {
    for (text, line, words) in [
        (
            "c tcp 10.0.0.1:1 > 10.0.0.2:2 S\nc tcp 10.0.0.1:1 > 10.0.0.2:2 Q\n",
            2,
            "TCP flags",
        ),
        (
            "c tcp 10.0.0.1:1 > 10.0.0.2:2 S\nproc final\n",
            2,
            "before the first packet",
        ),
        ("sysctl net.netfilter.nf_conntrack_max=64\n", 1, "global"),
        (
            "global net.netfilter.nf_conntrack_tcp_loose=0\n",
            1,
            "per namespace",
        ),
        ("sysctl ../../etc=1\n", 1, "sysctl keys"),
        ("proc sometimes\n", 1, "proc each"),
        ("repeat-runs 0\n", 1, "repeat-runs"),
        ("spacing 0.001\n", 1, "spacing"),
        ("\n\nsleep soon\n", 3, "seconds"),
        ("sleep 1.1234567\n", 1, "decimals"),
        ("x tcp\n", 1, "unknown line"),
        (
            "c icmp 10.0.0.1 > 10.0.0.2 unreach quote=#0\n",
            1,
            "no earlier packet",
        ),
        (
            "c icmp 10.0.0.1 > 10.0.0.2 unreach quote=nobody\n",
            1,
            "define nobody",
        ),
        (
            "repeat 3 c udp 10.0.0.{i/0}:1 > 10.0.0.2:2\n",
            1,
            "division by zero",
        ),
        (
            "repeat 0 c udp 10.0.0.1:1 > 10.0.0.2:2\n",
            1,
            "repeat count",
        ),
        ("repeat 2 sleep 1\n", 1, "packet line"),
        ("c udp 10.0.0.{1}:1 > 10.0.0.2:2\n", 1, "repeat"),
        ("c udp 10.0.0.1:1 > 10.0.0.2:2 len=1600\n", 1, "MTU"),
        (
            "c udp 10.0.0.1:1 > 10.0.0.2:2 len=100 frag=64 order=0,5\n",
            1,
            "fragment 5",
        ),
        (
            "define a udp 10.0.0.1:1 > 10.0.0.2:2\ndefine a udp 10.0.0.1:1 > 10.0.0.2:2\n",
            2,
            "already",
        ),
    ] {
        let err = Scenario::parse("bad", text).unwrap_err();
        assert_eq!(
            (err.file.as_str(), err.line),
            ("bad", line),
            "{text:?}: {err}"
        );
        assert!(err.message.contains(words), "{text:?}: {err}");
        assert!(err.to_string().starts_with(&format!("bad:{line}: ")));
    }
}

#[test]
fn load_names_the_path() {
    let err = Scenario::load("/nonexistent/x.scn").unwrap_err();
    assert_eq!(err.file, "/nonexistent/x.scn");
    assert_eq!(err.line, 0);
}

/// Cheap deterministic fuzzing: mutated scenarios must give Ok or Err, never a panic.
#[test]
fn mutated_input_never_panics() {
    let seed_text = format!(
        "{HANDSHAKE}repeat 4 c udp 10.98.0.{{i}}:{{1000+i*7}} > 10.99.2.100:53 len=20 frag=8 order=1,0,2\n\
         c icmp 10.99.1.100 > 10.99.2.100 echo-request id=7 seq=1\n\
         s icmp 10.99.2.100 > 10.99.1.100 unreach code=3 quote=#3 quote-len=500\n\
         c proto 253 [fd00:99:1::100] > [fd00:99:2::100] len=20\n"
    );
    let alphabet: Vec<char> = " \n#={}[]:>.,-0123456789abcxSAFRiq+*/%é\u{0}"
        .chars()
        .collect();
    let mut state: u64 = 0x2545_f491_4f6c_dd1d;
    let mut rand = move |n: usize| {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        (state % n as u64) as usize
    };
    for _ in 0..3000 {
        let mut chars: Vec<char> = seed_text.chars().collect();
        for _ in 0..1 + rand(4) {
            let at = rand(chars.len());
            match rand(3) {
                0 => chars[at] = alphabet[rand(alphabet.len())],
                1 => {
                    chars.remove(at);
                }
                _ => chars.insert(at, alphabet[rand(alphabet.len())]),
            }
        }
        let text: String = chars.into_iter().collect();
        let _ = Scenario::parse("fuzz", &text);
    }
}

#[test]
fn reads_rule_files_and_router_packets() {
    let dir = std::env::temp_dir().join(format!("ctguard-scn-{}", std::process::id()));
    std::fs::create_dir_all(dir.join("rules")).unwrap();
    let rules = "*filter\n-A INPUT -p tcp -j LOG --log-prefix \"x: \"\nCOMMIT\n";
    std::fs::write(dir.join("rules/a.rules"), rules).unwrap();
    std::fs::write(dir.join("rules/a.rules6"), "*filter\nCOMMIT\n").unwrap();
    let text = "\
# Rules and the router's own packets.
rules rules/a.rules
rules6 rules/a.rules6
c tcp 10.99.1.100:41000 > 10.99.1.1:22 S seq=1
r tcp 10.99.1.1:22 > 10.99.1.100:41000 SA seq=9 ack=2
repeat 2 r udp [fd00:99:1::1]:{53+i} > [fd00:99:1::100]:5000 len=4
";
    let s = Scenario::parse_in("local", text, &dir).unwrap();
    let r = s.rules.as_ref().unwrap();
    assert_eq!(r.path, dir.join("rules/a.rules"));
    assert_eq!(r.text, rules);
    assert!(s.rules6.is_some() && s.uses_log_target() && s.needs_pipeline());
    assert!(s.packets[0].to_router());
    assert_eq!(s.packets[1].side, Side::Router);
    assert_eq!(s.packets[1].ip_packet()[0] >> 4, 4);
    assert_eq!(
        s.packets[3].text,
        "r udp [fd00:99:1::1]:54 > [fd00:99:1::100]:5000 len=4"
    );
    assert!(!s.packets[3].to_router());

    for (bad, words) in [
        ("rules rules/a.rules\nrules rules/a.rules\n", "given twice"),
        ("rules /etc/hosts\n", "relative"),
        ("rules rules/none.rules\n", "none.rules"),
        ("rules rules\n", "not a regular file"),
        (
            "c tcp 10.0.0.1:1 > 10.0.0.2:2 S\nrules rules/a.rules\n",
            "must come before",
        ),
        ("r udp 10.0.0.1:1 > 10.0.0.2:2 badipsum\n", "badipsum"),
        ("r udp 10.0.0.1:1 > 10.0.0.2:2 len=100 frag=16\n", "frag="),
    ] {
        let err = Scenario::parse_in("bad", bad, &dir).unwrap_err();
        assert!(err.to_string().contains(words), "{bad}: {err}");
    }
    std::fs::remove_dir_all(&dir).unwrap();

    // Old-style scenarios need no pipeline.
    let plain = Scenario::parse("plain", "c udp 10.99.1.100:1 > 10.99.2.100:2\n").unwrap();
    assert!(plain.rules.is_none() && !plain.needs_pipeline() && !plain.uses_log_target());
}
