//! `ctguard simulate`'s engine: profiles, determinism, the pcap round trip, and what the
//! table does under a flood.

use ctguard_capture::{Capture, PcapWriter, linktype};
use ctguard_conntrack::Instant;
use ctguard_conntrack::intake::{self, LinkType};
use ctguard_replay::simulate::{self, Kind, Profile, TrafficReport};
use ctguard_replay::{Replayer, json};

const FULL: &str = r#"
duration = 60            # seconds
seed = 1
[host]
address = "10.0.0.1"
[settings]
"net.netfilter.nf_conntrack_max" = 65536
[[traffic]]
kind = "web"
rate = 20
port = 80
duration = { min = 0.05, max = 2.0 }
request_bytes = 100
response_bytes = 1000
clients = "198.51.100.0/24"
[[traffic]]
kind = "syn-flood"
rate = 2000
port = 80
sources = "0.0.0.0/0"
synack = true
[[traffic]]
kind = "dns"
rate = 50
server = "10.0.0.53"
[[traffic]]
kind = "scan"
rate = 500
source = "192.0.2.66"
ports = "1-1024"
[[traffic]]
kind = "crowd"
rate = 1500
port = 80
"#;

fn parse(text: &str) -> Profile {
    Profile::parse("test.toml", text).unwrap_or_else(|e| panic!("{e}"))
}

fn error(text: &str) -> String {
    Profile::parse("bad.toml", text)
        .expect_err("should be refused")
        .to_string()
}

fn simulate(p: &Profile) -> (Replayer, Vec<TrafficReport>) {
    let cfg = p.config().expect("config");
    let (r, t) = simulate::run(p, &cfg, false, |_, _| {}).expect("runs");
    (r, t.report())
}

fn pcap(p: &Profile) -> Vec<u8> {
    let mut w = PcapWriter::new(Vec::new(), linktype::ETHERNET, 0).expect("header");
    for pk in p.packets() {
        w.write(pk.time.as_nanos(), &pk.frame).expect("write");
    }
    w.into_inner().expect("flush")
}

#[test]
fn the_documented_profile_parses() {
    let p = parse(FULL);
    assert_eq!(p.duration, 60.0);
    assert_eq!(p.seed, 1);
    assert_eq!(p.host.to_string(), "10.0.0.1");
    let kinds: Vec<Kind> = p.traffic.iter().map(|t| t.kind()).collect();
    assert_eq!(
        kinds,
        [
            Kind::Web,
            Kind::SynFlood,
            Kind::Dns,
            Kind::Scan,
            Kind::Crowd
        ]
    );
    assert_eq!(p.traffic[1].line, 16);
    assert_eq!(p.config().expect("config").sysctl.max, 65536);
    match &p.traffic[3].spec {
        simulate::profile::Spec::Scan { ports, .. } => assert_eq!(ports.len(), 1024),
        s => panic!("{s:?}"),
    }
}

#[test]
fn the_example_profiles_parse() {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../../examples/profiles");
    let mut n = 0;
    for e in std::fs::read_dir(dir).expect("examples/profiles") {
        let path = e.expect("entry").path();
        if path.extension().is_some_and(|x| x == "toml") {
            Profile::load(&path).unwrap_or_else(|e| panic!("{e}"));
            n += 1;
        }
    }
    assert!(n >= 3, "{n} example profiles");
}

#[test]
fn errors_name_file_line_and_column() {
    let base = "duration = 10\n[host]\naddress = \"10.0.0.1\"\n";
    // An unknown key.
    let e = error(&format!(
        "{base}[[traffic]]\nkind = \"web\"\nrate = 1\nrat = 2\n"
    ));
    assert!(
        e.starts_with("bad.toml:7:1: error: unknown field `rat`"),
        "{e}"
    );
    // A key of another kind.
    let e = error(&format!(
        "{base}[[traffic]]\nkind = \"web\"\nrate = 1\nsynack = true\n"
    ));
    assert!(
        e.starts_with("bad.toml:7:10: error: `synack` does not apply to kind \"web\""),
        "{e}"
    );
    // An unknown kind.
    let e = error(&format!("{base}[[traffic]]\nkind = \"webb\"\nrate = 1\n"));
    assert!(
        e.starts_with("bad.toml:5:8: error: unknown variant `webb`"),
        "{e}"
    );
    // A bad value, a bad prefix, a missing rate, a bad port list, a TOML syntax error.
    let e = error(&format!("{base}[[traffic]]\nkind = \"web\"\nrate = -3\n"));
    assert!(
        e.starts_with("bad.toml:6:8: error: rate must be a positive"),
        "{e}"
    );
    let e = error(&format!(
        "{base}[[traffic]]\nkind = \"web\"\nrate = 1\nclients = \"10.0.0.0/40\"\n"
    ));
    assert!(
        e.starts_with("bad.toml:7:11: error: bad prefix length"),
        "{e}"
    );
    let e = error(&format!("{base}[[traffic]]\nkind = \"crowd\"\n"));
    assert!(
        e.starts_with("bad.toml:5:8: error: kind \"crowd\" needs a rate"),
        "{e}"
    );
    let e = error(&format!(
        "{base}[[traffic]]\nkind = \"scan\"\nrate = 1\nports = \"10-1\"\n"
    ));
    assert!(e.starts_with("bad.toml:7:9: error: bad port list"), "{e}");
    let e = error("duration = 10\n[host\n");
    assert!(e.starts_with("bad.toml:2:6: error: "), "{e}");
    // A setting the tracker does not have.
    let e = error(&format!(
        "{base}[settings]\n\"net.netfilter.nf_conntrack_maxx\" = 5\n[[traffic]]\nkind = \"web\"\nrate = 1\n"
    ));
    assert!(
        e.starts_with("bad.toml:5:37: error: settings \"net.netfilter.nf_conntrack_maxx\""),
        "{e}"
    );
    // No traffic at all, no host.
    assert!(error(base).contains("no [[traffic]]"));
    assert!(error("duration = 1\n").contains("missing field `host`"));
}

#[test]
fn same_seed_same_pcap_bytes() {
    let text = FULL.replace("duration = 60 ", "duration = 2 ");
    let a = pcap(&parse(&text));
    let b = pcap(&parse(&text));
    assert!(a.len() > 100_000, "{} bytes", a.len());
    assert_eq!(a, b);
    let c = pcap(&parse(&text.replace("seed = 1", "seed = 2")));
    assert_ne!(a, c);
}

#[test]
fn packets_are_in_time_order_with_good_checksums() {
    let p = parse(&FULL.replace("duration = 60 ", "duration = 1 "));
    let mut last = Instant::ZERO;
    let mut n = 0;
    for pk in p.packets() {
        assert!(pk.time >= last);
        last = pk.time;
        let ip = intake::parse_frame(LinkType::Ethernet, &pk.frame).expect("parses");
        assert!(intake::parse_l4(&ip, true).is_ok(), "checksum");
        n += 1;
    }
    assert!(n > 3000, "{n}");
}

#[test]
fn a_written_pcap_replays_to_the_same_summary() {
    let p = parse(&FULL.replace("duration = 60 ", "duration = 3 ").replace(
        "\"net.netfilter.nf_conntrack_max\" = 65536",
        "\"net.netfilter.nf_conntrack_max\" = 4096",
    ));
    let (direct, _) = simulate(&p);
    let bytes = pcap(&p);
    let path = std::env::temp_dir().join(format!("ctguard-simulate-{}.pcap", std::process::id()));
    std::fs::write(&path, bytes).expect("write the pcap");
    let mut cap = Capture::open(&path).expect("opens");
    let mut r = Replayer::new(&p.config().expect("config"), &[]).expect("replayer");
    while let Some(rec) = cap.next_record() {
        let rec = rec.expect("record");
        let link = LinkType::from_pcap(rec.link_type).expect("ethernet");
        r.packet(Instant::from_nanos(rec.time), link, None, rec.data, false);
    }
    let _ = std::fs::remove_file(&path);
    let (a, b) = (direct.summary(), r.summary());
    assert!(a.first_full.is_some(), "{}", a.render());
    assert_eq!(a.render(), b.render());
    assert_eq!(json::summary(a, &[]), json::summary(b, &[]));
    assert_eq!(a.timeline, b.timeline);
}

const SMALL_MAX: u32 = 512;

fn with_max(traffic: &str) -> Profile {
    parse(&format!(
        "duration = 5\nseed = 3\n[host]\naddress = \"10.0.0.1\"\n[settings]\n\
         \"net.netfilter.nf_conntrack_max\" = {SMALL_MAX}\n\"net.netfilter.nf_conntrack_buckets\" = {SMALL_MAX}\n{traffic}"
    ))
}

const WEB: &str = "[[traffic]]\nkind = \"web\"\nrate = 20\nduration = { min = 0.05, max = 2.0 }\n";

#[test]
fn a_syn_flood_at_ten_times_the_max_fills_the_table() {
    let flood = format!(
        "{WEB}[[traffic]]\nkind = \"syn-flood\"\nrate = {}\n",
        10 * SMALL_MAX
    );
    let (r, rows) = simulate(&with_max(&flood));
    let s = r.summary();
    assert_eq!(s.peak, SMALL_MAX, "{}", s.render());
    assert!(s.peak_at.expect("peak").as_secs_f64() < 0.5);
    assert_eq!(rows[1].kind, Kind::SynFlood);
    assert!(rows[1].started > 20_000, "{rows:?}");
    // The half-open entries are not ASSURED: as in the kernel, early drop evicts them to
    // make room for each new SYN, so the table stays full without a table-full drop.
    assert!(s.early_drops > 20_000, "{}", s.render());
    assert!(s.first_full.is_none(), "{}", s.render());
}

#[test]
fn a_crowd_at_ten_times_the_max_fills_the_table_and_drops() {
    // ASSURED entries cannot be evicted: the table fills and new connections are dropped.
    let crowd = format!(
        "{WEB}[[traffic]]\nkind = \"crowd\"\nrate = {}\n",
        10 * SMALL_MAX
    );
    let (r, rows) = simulate(&with_max(&crowd));
    let s = r.summary();
    assert!(s.first_full.is_some(), "{}", s.render());
    assert_eq!(s.peak, SMALL_MAX);
    assert!(s.full_drops > 1000);
    let web = &rows[0];
    assert!(web.completed.expect("web") < web.started / 2, "{web:?}");
}

#[test]
fn web_alone_does_not_fill_it_and_every_connection_completes() {
    let (r, rows) = simulate(&with_max(WEB));
    let s = r.summary();
    assert!(s.first_full.is_none(), "{}", s.render());
    assert_eq!(s.dropped, 0);
    let web = &rows[0];
    // Poisson arrivals at 20/s over 5 s.
    assert!((60..=140).contains(&web.started), "{web:?}");
    assert_eq!(web.completed, Some(web.started));
    assert_eq!(s.new_conns, web.started);
    let rendered = simulate::render(&rows);
    assert!(rendered.contains("completed (100.0%)"), "{rendered}");
}

#[test]
fn even_arrivals_give_exact_counts_and_a_full_table_fails_new_web_connections() {
    // The seed's incident in small: the crowd's ASSURED entries fill the table, and web
    // connections that start after that cannot get an entry.
    let text = format!(
        "{WEB}arrivals = \"even\"\n[[traffic]]\nkind = \"crowd\"\nrate = 400\narrivals = \"even\"\n"
    );
    let (r, rows) = simulate(&with_max(&text));
    assert_eq!(rows[0].started, 100);
    assert_eq!(rows[1].started, 2000);
    let full = r.summary().first_full.expect("fills").as_secs_f64();
    let web = rows[0].completed.expect("web counts completions");
    // The connections that started before the table filled (and ended before, or kept
    // their entry) completed; few after.
    let before = (full * 20.0).ceil() as u64;
    assert!(
        web <= before + 1 && web + 5 >= before.min(100),
        "{web} of 100, full at {full}"
    );
    assert!(web < 100);
}

#[test]
fn web_completion_counts_a_rule_drop() {
    // Without a flood: every connection completes; with port 80 closed by a rule none do.
    let p = parse(&format!(
        "duration = 2\n[host]\naddress = \"10.0.0.1\"\n{WEB}arrivals = \"even\"\n"
    ));
    let (_, rows) = simulate(&p);
    assert_eq!((rows[0].started, rows[0].completed), (40, Some(40)));
    let mut cfg = p.config().expect("config");
    cfg.rules4 = ctguard_netfilter::rules::load_script(
        "iptables -A INPUT -p tcp --dport 80 -j DROP\n",
        "rules.sh",
    )
    .expect("rules")
    .v4;
    let (_, t) = simulate::run(&p, &cfg, false, |_, _| {}).expect("runs");
    assert_eq!(t.report()[0].completed, Some(0));
}

#[test]
fn dns_scan_and_crowd_make_what_they_say() {
    let p = parse(
        "duration = 2\n[host]\naddress = \"10.0.0.1\"\n\
         [[traffic]]\nkind = \"dns\"\nrate = 10\narrivals = \"even\"\nserver = \"10.0.0.53\"\n\
         [[traffic]]\nkind = \"scan\"\nrate = 100\nports = \"20-29\"\nopen = \"22\"\n\
         [[traffic]]\nkind = \"crowd\"\nrate = 5\narrivals = \"even\"\n",
    );
    let (r, rows) = simulate(&p);
    assert_eq!((rows[0].started, rows[0].completed), (20, Some(20)));
    assert_eq!(rows[0].packets, 40);
    assert_eq!(rows[1].started, 10);
    assert_eq!(rows[1].packets, 9 * 2 + 3);
    assert_eq!((rows[2].started, rows[2].packets), (10, 40));
    let s = r.summary();
    assert_eq!(s.dropped, 0);
    assert_eq!(s.new_conns, 20 + 10 + 10, "{}", s.render());
}

#[test]
fn the_tracker_finds_every_simulated_packet_valid() {
    // Big responses (many segments), short and long connections, the crowd, the scan (open
    // and closed ports), dns: nothing the tracker would call INVALID, and every web
    // connection ends in TIME_WAIT.
    let p = parse(
        "duration = 3\nseed = 9\n[host]\naddress = \"10.0.0.1\"\n\
         [[traffic]]\nkind = \"web\"\nrate = 30\nresponse_bytes = 100000\nrequest_bytes = 0\n\
         duration = { dist = \"exp\", mean = 0.3 }\n\
         [[traffic]]\nkind = \"web\"\nrate = 30\nport = 8080\nresponse_bytes = 0\n\
         [[traffic]]\nkind = \"crowd\"\nrate = 50\n\
         [[traffic]]\nkind = \"scan\"\nrate = 100\nports = \"1-200\"\nopen = \"22,80\"\n\
         [[traffic]]\nkind = \"dns\"\nrate = 20\n\
         [[traffic]]\nkind = \"syn-flood\"\nrate = 100\nsynack = false\n",
    );
    let cfg = p.config().expect("config");
    let mut states = std::collections::BTreeMap::new();
    let (mut r, t) = simulate::run(&p, &cfg, false, |pk, v| {
        let s = v.decision.ctstate.map_or("none", |s| s.name());
        *states.entry((pk.traffic, s)).or_insert(0u32) += 1;
        assert_ne!(
            v.decision.ctstate,
            Some(ctguard_conntrack::CtState::Invalid),
            "traffic {} conn {} at {:?}",
            pk.traffic,
            pk.conn,
            pk.time
        );
    })
    .expect("runs");
    let rows = t.report();
    assert!(rows.iter().all(|r| r.dropped == 0), "{rows:?}");
    // Every web connection ended: after its last packet its entry is TIME_WAIT.
    let end = r.summary().last_time.expect("packets");
    let web_entries: Vec<String> = r
        .table_at(end)
        .into_iter()
        .filter(|l| l.contains("dport=80 ") || l.contains("dport=8080 "))
        .filter(|l| l.contains(" src=198.51.100."))
        .collect();
    let web = rows[0].started + rows[1].started;
    assert_eq!(web_entries.len() as u64, web, "{states:?}");
    assert!(
        web_entries.iter().all(|l| l.contains("TIME_WAIT")),
        "{web_entries:?}"
    );
}
