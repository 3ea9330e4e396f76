//! sysctl.conf files: the seed's block, every syntax feature, every error with its FILE:LINE,
//! all-or-nothing application, and arbitrary text never panicking.

use ctguard_conntrack::Sysctl;
use ctguard_conntrack::sysctl::conf::{self, Diagnostic, Severity};

/// Parses and applies `text` as `f.conf` to the defaults.
fn load(text: &str) -> (Sysctl, Result<Vec<Diagnostic>, Vec<Diagnostic>>) {
    let mut s = Sysctl::default();
    let r = s.apply_conf(&conf::parse("f.conf", text));
    (s, r)
}

fn lines(diags: &[Diagnostic]) -> Vec<String> {
    diags.iter().map(ToString::to_string).collect()
}

/// The block from the seed document ("Fix 1"), verbatim.
const SEED: &str = "\
# raise the maximum number of tracked connections
net.ipv4.ip_conntrack_max = 393216
net.ipv4.netfilter.ip_conntrack_max = 393216
# shorten the timeouts
net.ipv4.netfilter.ip_conntrack_tcp_timeout_established = 300
net.ipv4.netfilter.ip_conntrack_tcp_timeout_time_wait = 120
net.ipv4.netfilter.ip_conntrack_tcp_timeout_close_wait = 60
net.ipv4.netfilter.ip_conntrack_tcp_timeout_fin_wait = 120
";

#[test]
fn seed_block_loads_with_legacy_notices() {
    let (s, r) = load(SEED);
    let notes = r.expect("the seed's block applies");
    assert_eq!(s.max, 393_216);
    assert_eq!(s.timeouts.tcp_established, 300);
    assert_eq!(s.timeouts.tcp_time_wait, 120);
    assert_eq!(s.timeouts.tcp_close_wait, 60);
    assert_eq!(s.timeouts.tcp_fin_wait, 120);
    assert_eq!(
        lines(&notes),
        [
            "f.conf:2: notice: net.ipv4.ip_conntrack_max is the pre-2.6.25 name of \
             net.netfilter.nf_conntrack_max; applied as that",
            "f.conf:3: notice: net.ipv4.netfilter.ip_conntrack_max is the pre-2.6.25 name of \
             net.netfilter.nf_conntrack_max; applied as that",
            "f.conf:5: notice: net.ipv4.netfilter.ip_conntrack_tcp_timeout_established is the \
             pre-2.6.25 name of net.netfilter.nf_conntrack_tcp_timeout_established; applied as that",
            "f.conf:6: notice: net.ipv4.netfilter.ip_conntrack_tcp_timeout_time_wait is the \
             pre-2.6.25 name of net.netfilter.nf_conntrack_tcp_timeout_time_wait; applied as that",
            "f.conf:7: notice: net.ipv4.netfilter.ip_conntrack_tcp_timeout_close_wait is the \
             pre-2.6.25 name of net.netfilter.nf_conntrack_tcp_timeout_close_wait; applied as that",
            "f.conf:8: notice: net.ipv4.netfilter.ip_conntrack_tcp_timeout_fin_wait is the \
             pre-2.6.25 name of net.netfilter.nf_conntrack_tcp_timeout_fin_wait; applied as that",
        ]
    );
    // Everything the block does not name keeps its default.
    let mut expected = Sysctl {
        max: 393_216,
        ..Sysctl::default()
    };
    expected.timeouts.tcp_established = 300;
    expected.timeouts.tcp_close_wait = 60;
    assert_eq!(s, expected);
    let parsed = conf::parse("f.conf", SEED);
    assert_eq!(parsed.settings.len(), 6);
    assert_eq!(
        parsed.settings[2].legacy_name,
        Some("net.ipv4.netfilter.ip_conntrack_tcp_timeout_established")
    );
    assert_eq!(
        parsed.settings[2].key,
        "net.netfilter.nf_conntrack_tcp_timeout_established"
    );
}

#[test]
fn every_legacy_name_maps() {
    let cases = [
        ("ip_conntrack_tcp_timeout_syn_sent", 11),
        ("ip_conntrack_tcp_timeout_syn_recv", 12),
        ("ip_conntrack_tcp_timeout_last_ack", 13),
        ("ip_conntrack_tcp_timeout_close", 14),
        ("ip_conntrack_tcp_timeout_max_retrans", 15),
        ("ip_conntrack_udp_timeout", 16),
        ("ip_conntrack_udp_timeout_stream", 17),
        ("ip_conntrack_icmp_timeout", 18),
        ("ip_conntrack_generic_timeout", 19),
        ("ip_conntrack_checksum", 0),
        ("ip_conntrack_log_invalid", 6),
        ("ip_conntrack_tcp_loose", 0),
        ("ip_conntrack_tcp_be_liberal", 1),
        ("ip_conntrack_tcp_max_retrans", 9),
    ];
    let text: String = cases
        .iter()
        .map(|(k, v)| format!("net.ipv4.netfilter.{k} = {v}\n"))
        .collect();
    let (s, r) = load(&text);
    let notes = r.unwrap();
    assert_eq!(notes.len(), cases.len());
    assert!(notes.iter().all(|d| d.severity == Severity::Notice));
    let t = &s.timeouts;
    assert_eq!(
        [
            t.tcp_syn_sent,
            t.tcp_syn_recv,
            t.tcp_last_ack,
            t.tcp_close,
            t.tcp_max_retrans,
            t.udp,
            t.udp_stream,
            t.icmp,
            t.generic
        ],
        [11, 12, 13, 14, 15, 16, 17, 18, 19]
    );
    assert!(!s.checksum && !s.tcp_loose && s.tcp_be_liberal);
    assert_eq!((s.log_invalid, s.tcp_max_retrans), (6, 9));
}

#[test]
fn syntax_features() {
    let text = "# hash comment\n\
                ; semicolon comment\n\
                \x20  # indented comment\n\
                \t; tabbed comment\n\
                \n\
                \x20  \n\
                net.netfilter.nf_conntrack_udp_timeout=5\n\
                \x20 net.netfilter.nf_conntrack_udp_timeout_stream \t=\t 6  \n\
                net/netfilter/nf_conntrack_icmp_timeout = 7\n\
                /net/netfilter/nf_conntrack_icmpv6_timeout = 8\r\n\
                -net.netfilter.nf_conntrack_acct = 1\n\
                net.nf_conntrack_max = 1000\n\
                net.netfilter.nf_conntrack_generic_timeout = 0x10\n\
                net.netfilter.nf_conntrack_gre_timeout = 010\n";
    let (s, r) = load(text);
    assert_eq!(r.unwrap(), []);
    let t = &s.timeouts;
    assert_eq!((t.udp, t.udp_stream, t.icmp, t.icmpv6), (5, 6, 7, 8));
    assert!(s.acct);
    assert_eq!(s.max, 1000);
    assert_eq!((t.generic, t.gre), (16, 8));
}

#[test]
fn value_with_spaces_keeps_the_first_number_and_warns() {
    let text = "net.netfilter.nf_conntrack_tcp_timeout_time_wait = 122 123\n\
                net.netfilter.nf_conntrack_tcp_timeout_fin_wait = 121 # two minutes\n";
    let parsed = conf::parse("f.conf", text);
    assert_eq!(parsed.settings[0].value, "122 123");
    let (s, r) = load(text);
    assert_eq!(
        lines(&r.unwrap()),
        [
            "f.conf:1: warning: net.netfilter.nf_conntrack_tcp_timeout_time_wait: the kernel \
             reads 122 and ignores the rest, \"123\" (sysctl.conf has no trailing comments)",
            "f.conf:2: warning: net.netfilter.nf_conntrack_tcp_timeout_fin_wait: the kernel \
             reads 121 and ignores the rest, \"# two minutes\" (sysctl.conf has no trailing \
             comments)",
        ]
    );
    assert_eq!(s.timeouts.tcp_time_wait, 122);
    assert_eq!(s.timeouts.tcp_fin_wait, 121);
}

/// procps's rule, checked with `sysctl -p` (procps-ng 4.0.2): the first separator decides, so
/// a key mixing both names a file with a dot in its name.
#[test]
fn mixed_separators_name_other_files() {
    let (s, r) = load(
        "net/netfilter.nf_conntrack_tcp_timeout_last_ack = 31\n\
         net.netfilter/nf_conntrack_tcp_timeout_syn_recv = 62\n",
    );
    let warnings = r.unwrap();
    assert_eq!(
        lines(&warnings),
        [
            "f.conf:1: warning: unknown key net.netfilter/nf_conntrack_tcp_timeout_last_ack \
             (no /proc/sys/net/netfilter.nf_conntrack_tcp_timeout_last_ack); did you mean \
             net.netfilter.nf_conntrack_tcp_timeout_last_ack?; ignored",
            "f.conf:2: warning: unknown key net.netfilter/nf_conntrack_tcp_timeout_syn_recv \
             (no /proc/sys/net/netfilter.nf_conntrack_tcp_timeout_syn_recv); did you mean \
             net.netfilter.nf_conntrack_tcp_timeout_syn_recv?; ignored",
        ]
    );
    assert_eq!(s, Sysctl::default());
}

#[test]
fn unknown_unrelated_and_unmodelled_keys() {
    let text = "net.netfilter.nf_conntrack_bogus = 1\n\
                net.ipv4.ip_forward = 1\n\
                vm.swappiness = 10\n\
                kernel.sysrq = 0\n\
                net.core.somaxconn = 4096\n\
                net.netfilter.nf_conntrack_expect_max = 100\n\
                net.ipv4.netfilter.ip_conntrack_tcp_timeout_syn_sent2 = 5\n\
                foo.bar = 1\n\
                net.ipv4.netfilter.ip_conntrack_tcp_timeout_establised = 300\n";
    let (s, r) = load(text);
    assert_eq!(
        lines(&r.unwrap()),
        [
            "f.conf:1: warning: unknown key net.netfilter.nf_conntrack_bogus \
             (no /proc/sys/net/netfilter/nf_conntrack_bogus); ignored",
            "f.conf:2: notice: net.ipv4.ip_forward ignored: not a connection-tracking setting",
            "f.conf:3: notice: vm.swappiness ignored: not a connection-tracking setting",
            "f.conf:4: notice: kernel.sysrq ignored: not a connection-tracking setting",
            "f.conf:5: notice: net.core.somaxconn ignored: not a connection-tracking setting",
            "f.conf:6: warning: net.netfilter.nf_conntrack_expect_max is a kernel setting that \
             ctguard does not model; ignored",
            "f.conf:7: warning: net.ipv4.netfilter.ip_conntrack_tcp_timeout_syn_sent2: modern \
             kernels have no sysctl for it: the SYN_SENT2 timeout is fixed at 120 s; ignored",
            "f.conf:8: warning: unknown key foo.bar (no /proc/sys/foo/bar); ignored",
            "f.conf:9: warning: unknown key \
             net.ipv4.netfilter.ip_conntrack_tcp_timeout_establised (no \
             /proc/sys/net/ipv4/netfilter/ip_conntrack_tcp_timeout_establised); did you mean \
             net.ipv4.netfilter.ip_conntrack_tcp_timeout_established?; ignored",
        ]
    );
    assert_eq!(s, Sysctl::default());
}

/// Each error kind, alone in a file after a good line, names FILE:LINE, the key and the value,
/// and nothing from the file applies.
#[test]
fn every_error_kind_names_its_line_and_applies_nothing() {
    let cases = [
        (
            "net.netfilter.nf_conntrack_log_invalid = 256",
            "bad value \"256\" for net.netfilter.nf_conntrack_log_invalid: out of range: \
             0..=255, no sign",
        ),
        (
            "net.netfilter.nf_conntrack_max = -1",
            "bad value \"-1\" for net.netfilter.nf_conntrack_max: out of range: 0..=2147483647",
        ),
        (
            "net.ipv4.netfilter.ip_conntrack_max = lots",
            "bad value \"lots\" for net.ipv4.netfilter.ip_conntrack_max: not a number",
        ),
        (
            "net.netfilter.nf_conntrack_tcp_loose = 2",
            "bad value \"2\" for net.netfilter.nf_conntrack_tcp_loose: out of range: 0..=1, no \
             sign",
        ),
        (
            "net.netfilter.nf_conntrack_checksum = -0",
            "bad value \"-0\" for net.netfilter.nf_conntrack_checksum: out of range: 0..=1, no \
             sign",
        ),
        (
            "net.netfilter.nf_conntrack_udp_timeout_stream = 8589935",
            "bad value \"8589935\" for net.netfilter.nf_conntrack_udp_timeout_stream: out of \
             range: at most 8589934 seconds (INT_MAX jiffies at HZ=250)",
        ),
        (
            "net.netfilter.nf_conntrack_tcp_timeout_syn_sent = -5",
            "bad value \"-5\" for net.netfilter.nf_conntrack_tcp_timeout_syn_sent: negative \
             timeout: the kernel stores it as an enormous unsigned timeout; ctguard refuses it",
        ),
        (
            "net.netfilter.nf_conntrack_icmp_timeout =",
            "bad value \"\" for net.netfilter.nf_conntrack_icmp_timeout: empty value",
        ),
        (
            "net.netfilter.nf_conntrack_tcp_loose = 0;x",
            "bad value \"0;x\" for net.netfilter.nf_conntrack_tcp_loose: not a number",
        ),
        (
            "net.netfilter.nf_conntrack_gre_timeout = 08",
            "bad value \"08\" for net.netfilter.nf_conntrack_gre_timeout: not a number",
        ),
        (
            "net.netfilter.nf_conntrack_buckets = 0",
            "bad value \"0\" for net.netfilter.nf_conntrack_buckets: out of range: 1..=268434944",
        ),
        (
            "net.ipv4.ipfrag_high_thresh = 5000000000",
            "bad value \"5000000000\" for net.ipv4.ipfrag_high_thresh: ctguard holds this \
             setting in 32 bits (at most 4294967295); the kernel would take it",
        ),
        (
            "net.netfilter.nf_conntrack_count = 5",
            "permission denied on key 'net.netfilter.nf_conntrack_count': it is read-only",
        ),
        (
            "net.ipv4.netfilter.ip_conntrack_buckets = 65536",
            "permission denied on key 'net.ipv4.netfilter.ip_conntrack_buckets': it is \
             read-only; set net.netfilter.nf_conntrack_buckets instead",
        ),
        (
            "net.netfilter.nf_conntrack_frag6_low_thresh = 5000000",
            "bad value \"5000000\" for net.netfilter.nf_conntrack_frag6_low_thresh: above \
             net.netfilter.nf_conntrack_frag6_high_thresh (4194304); raise it first",
        ),
        (
            "net.ipv4.ipfrag_high_thresh = 100",
            "bad value \"100\" for net.ipv4.ipfrag_high_thresh: below net.ipv4.ipfrag_low_thresh \
             (3145728); lower it first",
        ),
    ];
    for (line, message) in cases {
        let text = format!("net.netfilter.nf_conntrack_max = 100\n# then\n{line}\n");
        let (s, r) = load(&text);
        let diags = r.expect_err(line);
        let errors: Vec<_> = diags
            .iter()
            .filter(|d| d.severity == Severity::Error)
            .map(ToString::to_string)
            .collect();
        assert_eq!(errors, [format!("f.conf:3: error: {message}")], "{line}");
        assert_eq!(s, Sysctl::default(), "{line}: applied despite the error");
    }
}

#[test]
fn a_leading_dash_silences_failures() {
    let text = "-net.netfilter.nf_conntrack_bogus = 1\n\
                -net.netfilter.nf_conntrack_log_invalid = 300\n\
                -net.netfilter.nf_conntrack_count = 3\n\
                -net.netfilter.nf_conntrack_frag6_low_thresh = 9999999\n\
                -net.netfilter.nf_conntrack_tcp_max_retrans = 7\n";
    let (s, r) = load(text);
    let notes = r.expect("no errors under '-'");
    assert!(notes.iter().all(|d| d.severity == Severity::Notice));
    assert_eq!(
        notes.iter().map(|d| d.line).collect::<Vec<_>>(),
        [1, 2, 3, 4]
    );
    assert!(notes[0].to_string().starts_with(
        "f.conf:1: notice: ignored because of the leading '-': unknown key \
         net.netfilter.nf_conntrack_bogus"
    ));
    assert_eq!(s.log_invalid, 0);
    assert_eq!(s.frag6_low_thresh, 3_145_728);
    assert_eq!(s.tcp_max_retrans, 7);
}

#[test]
fn invalid_syntax_is_a_warning() {
    let (s, r) = load(
        "net.netfilter.nf_conntrack_generic_timeout\n= 5\nnet.netfilter.nf_conntrack_acct=1\n",
    );
    assert_eq!(
        lines(&r.unwrap()),
        [
            "f.conf:1: warning: invalid syntax: no '=' in \
             \"net.netfilter.nf_conntrack_generic_timeout\"; line ignored",
            "f.conf:2: warning: invalid syntax: no key before '='; line ignored",
        ]
    );
    assert!(s.acct);
}

#[test]
fn thresholds_apply_in_file_order() {
    let (s, r) = load(
        "net.netfilter.nf_conntrack_frag6_high_thresh = 6000000\n\
         net.netfilter.nf_conntrack_frag6_low_thresh = 5000000\n",
    );
    assert_eq!(r.unwrap(), []);
    assert_eq!(
        (s.frag6_high_thresh, s.frag6_low_thresh),
        (6_000_000, 5_000_000)
    );
    let (_, r) = load(
        "net.netfilter.nf_conntrack_frag6_low_thresh = 5000000\n\
         net.netfilter.nf_conntrack_frag6_high_thresh = 6000000\n",
    );
    assert_eq!(r.unwrap_err()[0].line, 1);
}

#[test]
fn buckets_round_up_like_the_kernel() {
    let (s, r) = load("net.netfilter.nf_conntrack_buckets = 1000\n");
    assert_eq!(
        lines(&r.unwrap()),
        [
            "f.conf:1: notice: net.netfilter.nf_conntrack_buckets: the kernel rounds 1000 up to \
          1024 (whole pages of buckets)"
        ]
    );
    assert_eq!(s.buckets, 1024);
}

#[test]
fn a_key_set_twice_keeps_the_later_value() {
    let (s, r) =
        load("net.netfilter.nf_conntrack_max = 100\nnet.ipv4.netfilter.ip_conntrack_max = 200\n");
    let notes = lines(&r.unwrap());
    assert_eq!(
        notes[1],
        "f.conf:2: notice: net.netfilter.nf_conntrack_max was also set on line 1 (100); the \
         later value, 200, wins"
    );
    assert_eq!(s.max, 200);
}

/// The contract for reloads: a conf touches only the keys it names.
#[test]
fn applying_touches_only_named_keys() {
    let mut s = Sysctl {
        tcp_be_liberal: true,
        buckets: 4096,
        ..Sysctl::default()
    };
    s.timeouts.udp = 7;
    let before = s.clone();
    s.apply_conf(&conf::parse("f.conf", SEED)).unwrap();
    let mut expected = before;
    expected.max = 393_216;
    expected.timeouts.tcp_established = 300;
    expected.timeouts.tcp_time_wait = 120;
    expected.timeouts.tcp_close_wait = 60;
    expected.timeouts.tcp_fin_wait = 120;
    assert_eq!(s, expected);
}

/// A small xorshift generator: the crate has no property-testing dependency, so this plays
/// proptest's part with a fixed seed (reproducible) and many cases.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0
    }
    fn pick<'a>(&mut self, items: &[&'a str]) -> &'a str {
        items[(self.next() % items.len() as u64) as usize]
    }
}

const PIECES: &[&str] = &[
    "net",
    ".",
    "/",
    "netfilter",
    "nf_conntrack_max",
    "ipv4",
    "ip_conntrack_max",
    "nf_conntrack_tcp_timeout_established",
    "nf_conntrack_frag6_low_thresh",
    "nf_conntrack_buckets",
    "nf_conntrack_log_invalid",
    "=",
    " ",
    "\t",
    "-",
    "#",
    ";",
    "\r",
    "\n",
    "0",
    "1",
    "255",
    "256",
    "0x",
    "ff",
    "99999999999999999999999",
    "-1",
    "é",
    "\u{0}",
    "\u{a0}",
    "*",
    "vm",
    "swappiness",
];

#[test]
fn arbitrary_text_never_panics_and_errors_apply_nothing() {
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    for case in 0..20_000 {
        let text: String = if case % 4 == 0 {
            let bytes: Vec<u8> = (0..rng.next() % 64).map(|_| rng.next() as u8).collect();
            String::from_utf8_lossy(&bytes).into_owned()
        } else {
            (0..rng.next() % 40).map(|_| rng.pick(PIECES)).collect()
        };
        let parsed = conf::parse("p.conf", &text);
        let line_count = text.split('\n').count();
        for d in &parsed.diagnostics {
            assert!(d.line >= 1 && d.line <= line_count, "{text:?}: {d}");
        }
        let mut s = Sysctl::default();
        match s.apply_conf(&parsed) {
            Ok(diags) => assert!(diags.iter().all(|d| d.severity != Severity::Error)),
            Err(diags) => {
                assert!(diags.iter().any(|d| d.severity == Severity::Error));
                assert_eq!(s, Sysctl::default(), "{text:?}");
            }
        }
    }
}
