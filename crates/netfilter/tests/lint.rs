//! `lint`: each check with a case that trips it and one that does not, and the seed's
//! incident end to end.

use ctguard_conntrack::Sysctl;
use ctguard_conntrack::sysctl::conf;
use ctguard_netfilter::lint::{self, Finding, LintInput, Severity, SysctlInput};
use ctguard_netfilter::rules;

/// CentOS 6's default /etc/sysconfig/iptables as iptables commands, plus the web server's
/// port-80 rule (the seed's site served HTTP).
const CENTOS_FILTER: &str = "\
/sbin/iptables -A INPUT -m state --state ESTABLISHED,RELATED -j ACCEPT
/sbin/iptables -A INPUT -p icmp -j ACCEPT
/sbin/iptables -A INPUT -i lo -j ACCEPT
/sbin/iptables -A INPUT -m state --state NEW -m tcp -p tcp --dport 22 -j ACCEPT
/sbin/iptables -A INPUT -m state --state NEW -m tcp -p tcp --dport 80 -j ACCEPT
/sbin/iptables -A INPUT -j REJECT --reject-with icmp-host-prohibited
/sbin/iptables -A FORWARD -j REJECT --reject-with icmp-host-prohibited
";

/// The seed's fix 3, step 2, exactly as the seed writes it.
const SEED_RAW: &str = "\
# packets coming in to this host
/sbin/iptables -t raw -A PREROUTING -p tcp -m multiport --dports 80 -j NOTRACK
# packets going out of this host
/sbin/iptables -t raw -A OUTPUT -p tcp -m multiport --sports 80 -j NOTRACK
/sbin/iptables -t raw -A PREROUTING -i lo -j NOTRACK
/sbin/iptables -t raw -A OUTPUT -o lo -j NOTRACK
";

/// The seed's fix 1, exactly as the seed writes it.
const SEED_SYSCTL: &str = "\
# raise the maximum number of tracked connections
net.ipv4.ip_conntrack_max = 393216
net.ipv4.netfilter.ip_conntrack_max = 393216
# shorten the timeouts
net.ipv4.netfilter.ip_conntrack_tcp_timeout_established = 300
net.ipv4.netfilter.ip_conntrack_tcp_timeout_time_wait = 120
net.ipv4.netfilter.ip_conntrack_tcp_timeout_close_wait = 60
net.ipv4.netfilter.ip_conntrack_tcp_timeout_fin_wait = 120
";

fn lint_script(text: &str) -> Vec<Finding> {
    lint_script_with(text, |_| {})
}

fn lint_script_with(text: &str, f: impl FnOnce(&mut LintInput<'_>)) -> Vec<Finding> {
    let l = rules::load_script(text, "rules.sh").unwrap_or_else(|e| panic!("{e}"));
    let mut input = LintInput::new(&l.v4, &l.v6);
    f(&mut input);
    lint::run(&input)
}

fn lint_sysctl(text: &str) -> Vec<Finding> {
    lint_sysctl_with(text, None)
}

fn lint_sysctl_with(text: &str, mem_total: Option<u64>) -> Vec<Finding> {
    let parsed = conf::parse("/etc/sysctl.conf", text);
    let mut settings = Sysctl::default();
    settings.apply_conf(&parsed).expect("the file applies");
    let empty = rules::RuleSet::new(ctguard_netfilter::Family::V4);
    let empty6 = rules::RuleSet::new(ctguard_netfilter::Family::V6);
    let mut input = LintInput::new(&empty, &empty6);
    input.sysctl = Some(SysctlInput {
        conf: &parsed,
        settings: &settings,
    });
    input.mem_total = mem_total;
    lint::run(&input)
}

fn with_code<'a>(findings: &'a [Finding], code: &str) -> Vec<&'a Finding> {
    findings.iter().filter(|f| f.code == code).collect()
}

fn line(f: &Finding) -> u32 {
    f.location.as_ref().expect("a location").line
}

fn file(f: &Finding) -> &str {
    &f.location.as_ref().expect("a location").file
}

// ---------------------------------------------------------------------------------------
// The seed, end to end.

#[test]
fn seed_raw_rules_on_a_centos_filter_table_are_the_outage() {
    let script = format!("{CENTOS_FILTER}{SEED_RAW}");
    let findings = lint_script(&script);
    let text = lint::render_text(&findings);
    // Only the port-80 rule breaks anything: lo is accepted by `-i lo -j ACCEPT`, and both
    // directions are covered.
    assert_eq!(
        findings.iter().map(|f| f.code).collect::<Vec<_>>(),
        ["CT001"],
        "{text}"
    );
    let f = &findings[0];
    assert_eq!(f.severity, Severity::Error);
    assert_eq!((file(f), line(f)), ("rules.sh", 9));
    assert_eq!(f.rule.as_deref(), Some("raw PREROUTING rule 1"));
    assert_eq!(
        f.message,
        "untracked packets (tcp dport 80 in !lo) are rejected in filter INPUT: no rule accepts \
         ctstate UNTRACKED for them"
    );
    assert!(
        f.explanation
            .contains("Filter INPUT rule 6 (`-A INPUT -j REJECT --reject-with icmp-host-prohibited` at rules.sh:6) then rejects them"),
        "{text}"
    );
    assert!(
        f.explanation
            .contains("rule 1 only as RELATED,ESTABLISHED, rule 5 only as NEW"),
        "{text}"
    );
    assert!(
        f.explanation
            .contains("Filter INPUT rule 3 (`-A INPUT -i lo -j ACCEPT` at rules.sh:3) accepts only part of them"),
        "{text}"
    );
    assert_eq!(
        f.fix,
        "add UNTRACKED to `-A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT` (rules.sh:1):\n\
         -A INPUT -m state --state RELATED,ESTABLISHED,UNTRACKED -j ACCEPT"
    );
    assert!(
        text.starts_with(
            "rules.sh:9: error[CT001]: untracked packets (tcp dport 80 in !lo) are rejected"
        ),
        "{text}"
    );
    assert!(
        text.ends_with("lint: 1 error, 0 warnings, 0 infos\n"),
        "{text}"
    );
}

#[test]
fn seed_with_untracked_added_is_clean() {
    let fixed = CENTOS_FILTER.replace(
        "--state ESTABLISHED,RELATED -j ACCEPT",
        "--state RELATED,ESTABLISHED,UNTRACKED -j ACCEPT",
    );
    let findings = lint_script(&format!("{fixed}{SEED_RAW}"));
    assert!(findings.is_empty(), "{}", lint::render_text(&findings));
}

#[test]
fn the_recorded_seed_rule_files() {
    let broken = include_str!("../../../conformance/rules/rules-seed-notrack-broken.rules");
    let l = rules::load(broken, "broken.rules").unwrap();
    let findings = lint::run(&LintInput::new(&l.v4, &l.v6));
    assert_eq!(findings.len(), 1, "{}", lint::render_text(&findings));
    assert_eq!(findings[0].code, "CT001");
    assert_eq!(line(&findings[0]), 6);
    assert!(findings[0].fix.contains("(broken.rules:15)"));

    let fixed = include_str!("../../../conformance/rules/rules-seed-notrack-fixed.rules");
    let l = rules::load(fixed, "fixed.rules").unwrap();
    let findings = lint::run(&LintInput::new(&l.v4, &l.v6));
    assert!(findings.is_empty(), "{}", lint::render_text(&findings));
}

#[test]
fn seed_sysctl_conf() {
    let findings = lint_sysctl(SEED_SYSCTL);
    let codes: Vec<(&str, u32)> = findings.iter().map(|f| (f.code, line(f))).collect();
    assert_eq!(
        codes,
        [
            ("CT005", 2),
            ("CT005", 3),
            ("CT006", 3),
            ("CT005", 5),
            ("CT007", 5),
            ("CT005", 6),
            ("CT005", 7),
            ("CT005", 8),
        ],
        "{}",
        lint::render_text(&findings)
    );
}

// ---------------------------------------------------------------------------------------
// CT001

#[test]
fn ct001_output_side_with_a_drop_policy() {
    let script = "\
iptables -P OUTPUT DROP
iptables -A OUTPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
iptables -t raw -A OUTPUT -p udp --sport 53 -j NOTRACK
iptables -t raw -A PREROUTING -p udp --dport 53 -j NOTRACK
";
    let findings = lint_script(script);
    let ct1 = with_code(&findings, "CT001");
    assert_eq!(ct1.len(), 1, "{}", lint::render_text(&findings));
    assert_eq!(line(ct1[0]), 3);
    assert_eq!(ct1[0].rule.as_deref(), Some("raw OUTPUT rule 1"));
    assert!(
        ct1[0]
            .message
            .contains("(udp sport 53) are dropped in filter OUTPUT")
    );
    assert!(
        ct1[0]
            .explanation
            .contains("The DROP policy of filter OUTPUT then drops them")
    );
    assert!(ct1[0].fix.starts_with(
        "add UNTRACKED to `-A OUTPUT -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT` (rules.sh:2):\n\
         -A OUTPUT -m conntrack --ctstate RELATED,ESTABLISHED,UNTRACKED -j ACCEPT"
    ));
}

#[test]
fn ct001_fix_inserts_before_the_deciding_rule_when_no_state_rule_exists() {
    let script = "\
iptables -A INPUT -p tcp --dport 22 -j ACCEPT
iptables -A INPUT -j DROP
iptables -t raw -A PREROUTING -p tcp --dport 80 -j NOTRACK
iptables -t raw -A OUTPUT -p tcp --sport 80 -j NOTRACK
";
    let findings = lint_script(script);
    let ct1 = with_code(&findings, "CT001");
    assert_eq!(ct1.len(), 1, "{}", lint::render_text(&findings));
    assert_eq!(
        ct1[0].fix,
        "insert `-A INPUT -m state --state UNTRACKED -j ACCEPT` before `-A INPUT -j DROP` at \
         rules.sh:2 (`iptables -I INPUT 2 -m state --state UNTRACKED -j ACCEPT`)"
    );
    // A policy decides: append.
    let script = "\
iptables -P INPUT DROP
iptables -A INPUT -p tcp --dport 22 -j ACCEPT
iptables -t raw -A PREROUTING -p tcp --dport 80 -j NOTRACK
iptables -t raw -A OUTPUT -p tcp --sport 80 -j NOTRACK
";
    let findings = lint_script(script);
    let ct1 = with_code(&findings, "CT001");
    assert_eq!(
        ct1[0].fix,
        "add `-A INPUT -m state --state UNTRACKED -j ACCEPT`"
    );
}

#[test]
fn ct001_negative_untracked_accepted_by_a_stateless_port_rule_or_a_user_chain() {
    // A stateless rule accepts every port-80 packet whatever its state.
    let script = "\
iptables -A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT
iptables -A INPUT -p tcp --dport 80 -j ACCEPT
iptables -A INPUT -j REJECT
iptables -t raw -A PREROUTING -p tcp --dport 80 -j NOTRACK
iptables -t raw -A OUTPUT -p tcp --sport 80 -j NOTRACK
";
    assert!(with_code(&lint_script(script), "CT001").is_empty());
    // Accepted in a user chain reached by a jump.
    let script = "\
iptables -N web
iptables -A web -m conntrack --ctstate UNTRACKED -j ACCEPT
iptables -A INPUT -p tcp -j web
iptables -A INPUT -j REJECT
iptables -t raw -A PREROUTING -p tcp --dport 80 -j NOTRACK
iptables -t raw -A OUTPUT -p tcp --sport 80 -j NOTRACK
";
    assert!(with_code(&lint_script(script), "CT001").is_empty());
    // Only part of port 80 is accepted: still the outage for the rest.
    let script = "\
iptables -A INPUT -s 10.0.0.0/8 -p tcp --dport 80 -j ACCEPT
iptables -A INPUT -j REJECT
iptables -t raw -A PREROUTING -p tcp --dport 80 -j NOTRACK
iptables -t raw -A OUTPUT -p tcp --sport 80 -j NOTRACK
";
    let findings = lint_script(script);
    let ct1 = with_code(&findings, "CT001");
    assert_eq!(ct1.len(), 1);
    assert!(
        ct1[0]
            .message
            .contains("(tcp from 0.0.0.0-9.255.255.255,11.0.0.0-255.255.255.255 dport 80)"),
        "{}",
        ct1[0].message
    );
}

#[test]
fn ct001_forward_is_checked_only_on_a_router() {
    let script = "\
iptables -A FORWARD -i eth1 -o eth0 -j ACCEPT
iptables -A FORWARD -m state --state RELATED,ESTABLISHED -j ACCEPT
iptables -A FORWARD -j DROP
iptables -A INPUT -p udp --dport 514 -j ACCEPT
iptables -t raw -A PREROUTING -p udp --dport 514 -j NOTRACK
iptables -t raw -A OUTPUT -p udp --sport 514 -j NOTRACK
";
    let findings = lint_script(script);
    let ct1 = with_code(&findings, "CT001");
    assert_eq!(ct1.len(), 1, "{}", lint::render_text(&findings));
    assert!(ct1[0].message.contains("dropped in filter FORWARD"));
    assert!(
        ct1[0].explanation.contains(
            "Filter FORWARD rule 1 (`-A FORWARD -i eth1 -o eth0 -j ACCEPT` at rules.sh:1) \
             accepts only part of them"
        ),
        "{}",
        ct1[0].explanation
    );
    let findings = lint_script_with(script, |i| i.forwarding = Some(false));
    assert!(with_code(&findings, "CT001").is_empty());
}

// ---------------------------------------------------------------------------------------
// CT002

#[test]
fn ct002_incoming_only() {
    let script = "\
iptables -A INPUT -m state --state RELATED,ESTABLISHED,UNTRACKED -j ACCEPT
iptables -t raw -A PREROUTING -p tcp -m multiport --dports 80,443 -j NOTRACK
";
    let findings = lint_script(script);
    let ct2 = with_code(&findings, "CT002");
    assert_eq!(ct2.len(), 1, "{}", lint::render_text(&findings));
    assert_eq!(ct2[0].severity, Severity::Warning);
    assert_eq!(line(ct2[0]), 2);
    assert_eq!(
        ct2[0].message,
        "NOTRACK in one direction only: incoming tcp dport 80,443 is untracked, but no raw \
         OUTPUT NOTRACK covers the packets going the other way (tcp sport 80,443)"
    );
    assert_eq!(
        ct2[0].fix,
        "add `iptables -t raw -A OUTPUT -p tcp -m multiport --sports 80,443 -j NOTRACK`"
    );
}

#[test]
fn ct002_outgoing_only_and_partial_cover() {
    let script = "\
iptables -t raw -A OUTPUT -o lo -j NOTRACK
iptables -t raw -A PREROUTING -i lo -p tcp -j NOTRACK
";
    let findings = lint_script(script);
    let ct2 = with_code(&findings, "CT002");
    assert_eq!(ct2.len(), 1, "{}", lint::render_text(&findings));
    assert_eq!(line(ct2[0]), 1);
    assert!(
        ct2[0]
            .message
            .contains("no raw PREROUTING NOTRACK covers all of")
    );
    assert_eq!(
        ct2[0].fix,
        "add `iptables -t raw -A PREROUTING -i lo -j NOTRACK`"
    );
}

#[test]
fn ct002_negative_both_directions() {
    let findings = lint_script(SEED_RAW);
    assert!(with_code(&findings, "CT002").is_empty());
    // A wider reverse rule covers too.
    let script = "\
iptables -t raw -A PREROUTING -p udp -s 10.0.0.0/8 --dport 53 -j NOTRACK
iptables -t raw -A OUTPUT -p udp --sport 53 -j NOTRACK
";
    let findings = lint_script(script);
    let ct2 = with_code(&findings, "CT002");
    // Only the OUTPUT rule is one-sided (its replies from outside 10/8 stay tracked).
    assert_eq!(ct2.len(), 1);
    assert_eq!(line(ct2[0]), 2);
}

// ---------------------------------------------------------------------------------------
// CT003

#[test]
fn ct003_notrack_over_dnat() {
    let script = "\
iptables -t nat -A PREROUTING -i eth0 -p tcp --dport 80 -j DNAT --to-destination 192.168.1.10:8080
iptables -t raw -A PREROUTING -p tcp --dport 80 -j NOTRACK
iptables -t raw -A OUTPUT -p tcp --sport 80 -j NOTRACK
iptables -A FORWARD -j ACCEPT
";
    let findings = lint_script(script);
    let ct3 = with_code(&findings, "CT003");
    assert_eq!(ct3.len(), 1, "{}", lint::render_text(&findings));
    assert_eq!(line(ct3[0]), 2);
    assert_eq!(
        ct3[0].message,
        "NOTRACK covers traffic that nat PREROUTING rule 1 (DNAT) would translate: tcp dport 80 \
         in eth0"
    );
    assert!(ct3[0].explanation.contains("at rules.sh:1"));
}

#[test]
fn ct003_negative_nat_on_other_traffic() {
    let script = "\
iptables -t nat -A PREROUTING -p tcp --dport 8080 -j REDIRECT --to-ports 80
iptables -t raw -A PREROUTING -p tcp --dport 80 -j NOTRACK
iptables -t raw -A OUTPUT -p tcp --sport 80 -j NOTRACK
";
    assert!(with_code(&lint_script(script), "CT003").is_empty());
}

// ---------------------------------------------------------------------------------------
// CT004

#[test]
fn ct004_tracking_off() {
    let script = "\
iptables -A INPUT -p tcp --dport 22 -j ACCEPT
iptables -A INPUT -m state --state RELATED,ESTABLISHED -j ACCEPT
";
    let findings = lint_script_with(script, |i| i.tracking = false);
    let ct4 = with_code(&findings, "CT004");
    assert_eq!(ct4.len(), 1, "{}", lint::render_text(&findings));
    assert_eq!(ct4[0].severity, Severity::Error);
    assert_eq!(line(ct4[0]), 2);
    assert_eq!(ct4[0].rule.as_deref(), Some("filter INPUT rule 2"));
    assert_eq!(
        ct4[0].message,
        "state match (xt_state) needs nf_conntrack, and connection tracking is off"
    );
    // Tracking on: no CT004.
    assert!(with_code(&lint_script(script), "CT004").is_empty());
}

#[test]
fn ct004_negative_stateless_rules() {
    let script = "\
iptables -A INPUT -p tcp --dport 22 -j ACCEPT
iptables -A INPUT -p tcp --sport 1024:65535 --dport 80 -j ACCEPT
";
    let findings = lint_script_with(script, |i| i.tracking = false);
    assert!(findings.is_empty(), "{}", lint::render_text(&findings));
}

// ---------------------------------------------------------------------------------------
// CT005

#[test]
fn ct005_legacy_names() {
    let findings = lint_sysctl("net.ipv4.netfilter.ip_conntrack_max = 393216\n");
    let ct5 = with_code(&findings, "CT005");
    assert_eq!(ct5.len(), 1);
    assert_eq!((file(ct5[0]), line(ct5[0])), ("/etc/sysctl.conf", 1));
    assert_eq!(
        ct5[0].message,
        "net.ipv4.netfilter.ip_conntrack_max is the pre-2.6.25 name of \
         net.netfilter.nf_conntrack_max"
    );
    assert_eq!(
        ct5[0].fix,
        "write `net.netfilter.nf_conntrack_max = 393216`"
    );
    assert!(
        ct5[0]
            .explanation
            .contains("/proc/sys/net/ipv4/netfilter/ip_conntrack_max")
    );
}

#[test]
fn ct005_negative_modern_names() {
    let findings =
        lint_sysctl("net.netfilter.nf_conntrack_tcp_timeout_time_wait = 120\nvm.swappiness = 10\n");
    assert!(findings.is_empty(), "{}", lint::render_text(&findings));
}

// ---------------------------------------------------------------------------------------
// CT006

#[test]
fn ct006_long_chains() {
    let findings = lint_sysctl(
        "net.netfilter.nf_conntrack_buckets = 16384\nnet.netfilter.nf_conntrack_max = 393216\n",
    );
    let ct6 = with_code(&findings, "CT006");
    assert_eq!(ct6.len(), 1, "{}", lint::render_text(&findings));
    assert_eq!(ct6[0].severity, Severity::Warning);
    assert_eq!(line(ct6[0]), 2);
    assert_eq!(
        ct6[0].message,
        "nf_conntrack_max 393216 is 24 times the 16384 hash buckets: about 48 entries per bucket \
         when the table is full"
    );
    assert!(
        ct6[0]
            .fix
            .contains("raise the buckets to at least 49152 (max / 8")
    );
}

#[test]
fn ct006_memory() {
    let findings = lint_sysctl(
        "net.netfilter.nf_conntrack_buckets = 1048576\nnet.netfilter.nf_conntrack_max = 8388608\n",
    );
    let ct6 = with_code(&findings, "CT006");
    assert_eq!(ct6.len(), 1);
    assert_eq!(ct6[0].severity, Severity::Warning);
    assert_eq!(
        ct6[0].message,
        "a full table of 8388608 entries needs about 2.0 GiB of kernel memory"
    );
    // The same on a 64 GiB machine is only information.
    let findings = lint_sysctl_with(
        "net.netfilter.nf_conntrack_buckets = 1048576\nnet.netfilter.nf_conntrack_max = 8388608\n",
        Some(64 << 30),
    );
    assert_eq!(with_code(&findings, "CT006")[0].severity, Severity::Info);
}

#[test]
fn ct006_negative_sane_sizes() {
    let findings = lint_sysctl("net.netfilter.nf_conntrack_max = 393216\n");
    let ct6 = with_code(&findings, "CT006");
    assert_eq!(ct6.len(), 1);
    assert_eq!(ct6[0].severity, Severity::Info);
    assert_eq!(
        ct6[0].message,
        "a full table of 393216 entries takes about 98.0 MiB (96.0 MiB of entries, 2.0 MiB of \
         262144 buckets), 3.0 entries per bucket"
    );
    // A file that does not size the table says nothing about it.
    assert!(lint_sysctl("net.netfilter.nf_conntrack_acct = 1\n").is_empty());
}

// ---------------------------------------------------------------------------------------
// CT009

#[test]
fn ct009_ctguard_only_settings() {
    let findings = lint_sysctl(
        "net.netfilter.nf_conntrack_max = 65536\n\
         net.netfilter.nf_conntrack_policy = protect\n\
         net.netfilter.nf_conntrack_protect_source_quota = 5\n",
    );
    let ct9 = with_code(&findings, "CT009");
    assert_eq!(ct9.len(), 2, "{}", lint::render_text(&findings));
    assert_eq!((line(ct9[0]), line(ct9[1])), (2, 3));
    assert_eq!(ct9[0].severity, lint::Severity::Info);
    assert_eq!(
        ct9[0].message,
        "net.netfilter.nf_conntrack_policy is ctguard's own setting"
    );
    assert!(ct9[1].explanation.contains("cannot stat"));
    // The kernel's own keys say nothing of the sort.
    assert!(
        with_code(
            &lint_sysctl("net.netfilter.nf_conntrack_max = 65536\n"),
            "CT009"
        )
        .is_empty()
    );
}

// ---------------------------------------------------------------------------------------
// CT007

#[test]
fn ct007_short_established_timeout() {
    let findings = lint_sysctl("net.netfilter.nf_conntrack_tcp_timeout_established = 300\n");
    let ct7 = with_code(&findings, "CT007");
    assert_eq!(ct7.len(), 1);
    assert_eq!(line(ct7[0]), 1);
    assert_eq!(
        ct7[0].message,
        "nf_conntrack_tcp_timeout_established = 300 s is shorter than TCP keepalive's default \
         7200 s: idle connections lose their entries"
    );
    assert!(
        ct7[0]
            .explanation
            .contains("picks the connection up mid-stream")
    );
    assert!(ct7[0].fix.contains("at or above 7875"));
    let findings = lint_sysctl(
        "net.netfilter.nf_conntrack_tcp_timeout_established = 600\n\
         net.netfilter.nf_conntrack_tcp_loose = 0\n",
    );
    let ct7 = with_code(&findings, "CT007");
    assert!(ct7[0].explanation.contains("the packet is INVALID"));
}

#[test]
fn ct007_negative_long_enough() {
    let findings = lint_sysctl("net.netfilter.nf_conntrack_tcp_timeout_established = 7200\n");
    assert!(findings.is_empty(), "{}", lint::render_text(&findings));
}

// ---------------------------------------------------------------------------------------
// CT008

#[test]
fn ct008_shadowed_by_a_wider_rule() {
    let script = "\
iptables -A INPUT -p tcp -j ACCEPT
iptables -A INPUT -p tcp --dport 22 -j ACCEPT
";
    let findings = lint_script(script);
    let ct8 = with_code(&findings, "CT008");
    assert_eq!(ct8.len(), 1);
    assert_eq!(line(ct8[0]), 2);
    assert_eq!(
        ct8[0].message,
        "filter INPUT rule 2 can never match: rule 1 before it already decides every packet it \
         would match"
    );
}

#[test]
fn ct008_shadowed_by_several_rules_and_a_deciding_chain() {
    let script = "\
iptables -N deny
iptables -A deny -j LOG
iptables -A deny -j DROP
iptables -A INPUT -p tcp --dport 22 -j ACCEPT
iptables -A INPUT -p tcp --dport 80 -j ACCEPT
iptables -A INPUT -p tcp -m multiport --dports 22,80 -j ACCEPT
iptables -A INPUT -s 192.0.2.0/24 -j deny
iptables -A INPUT -s 192.0.2.7 -p udp -j ACCEPT
";
    let findings = lint_script(script);
    let ct8 = with_code(&findings, "CT008");
    let lines: Vec<u32> = ct8.iter().map(|f| line(f)).collect();
    assert_eq!(lines, [6, 8], "{}", lint::render_text(&findings));
    assert!(
        ct8[0]
            .message
            .contains("rules 1 and 2 before it already decide")
    );
    assert!(ct8[1].message.contains("rule 4 before it"));
}

#[test]
fn ct008_negative_stateful_non_terminal_and_narrower() {
    let script = "\
iptables -A INPUT -p tcp --dport 22 -m limit --limit 3/min -j ACCEPT
iptables -A INPUT -p tcp --dport 22 -j ACCEPT
iptables -A INPUT -p tcp -j LOG
iptables -A INPUT -p tcp --dport 80 -j ACCEPT
iptables -A INPUT -p tcp --dport 80 -m mark --mark 1 -j ACCEPT
iptables -A INPUT -p tcp --dport 443 -j ACCEPT
iptables -A INPUT -p tcp -j DROP
";
    let findings = lint_script(script);
    let ct8 = with_code(&findings, "CT008");
    // Only rule 5 (a subset of rule 4); the limit never shadows, LOG does not decide, and
    // rule 7 is wider than everything before it.
    let lines: Vec<u32> = ct8.iter().map(|f| line(f)).collect();
    assert_eq!(lines, [5], "{}", lint::render_text(&findings));
}

// ---------------------------------------------------------------------------------------
// Rendering

#[test]
fn json_rendering() {
    let findings = lint_script(&format!("{CENTOS_FILTER}{SEED_RAW}"));
    let json = lint::render_json(&findings);
    assert!(json.starts_with("[\n  {\"code\": \"CT001\", \"severity\": \"error\", \"file\": \"rules.sh\", \"line\": 9, \"rule\": \"raw PREROUTING rule 1\", \"message\": \"untracked packets"), "{json}");
    assert!(
        json.contains("\\n-A INPUT -m state --state RELATED,ESTABLISHED,UNTRACKED -j ACCEPT\"}")
    );
    assert!(json.ends_with("}\n]\n"));
    assert_eq!(lint::render_json(&[]), "[]\n");
    let findings = lint_script_with(
        "iptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE\n",
        |i| i.tracking = false,
    );
    let json = lint::render_json(&findings);
    assert!(
        json.contains("\"file\": null, \"line\": null, \"rule\": null"),
        "{json}"
    );
}
