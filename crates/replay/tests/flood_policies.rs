//! The flood comparison's ctguard side (conformance/protect-vs-kernel.sh, the README's
//! table): examples/profiles/flood-*.toml through the router of conformance/flood/, under
//! the kernel policy and under protect, counting the clients' connections completed.

use std::path::PathBuf;

use ctguard_conntrack::Sysctl;
use ctguard_conntrack::sysctl::conf;
use ctguard_replay::Config;
use ctguard_replay::simulate::{self, Profile};

fn root() -> PathBuf {
    PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/../.."))
}

fn read(rel: &str) -> String {
    std::fs::read_to_string(root().join(rel)).unwrap_or_else(|e| panic!("{rel}: {e}"))
}

fn with_file(mut s: Sysctl, rel: &str) -> Sysctl {
    s.apply_conf(&conf::parse(rel, &read(rel)))
        .unwrap_or_else(|d| panic!("{d:?}"));
    s
}

/// The router's configuration: forward.rules, flood.conf, nothing local (all forwarded).
fn router(protect: bool) -> Config {
    let mut s = with_file(Sysctl::default(), "conformance/flood/flood.conf");
    if protect {
        s = with_file(s, "examples/protect.conf");
    }
    let mut cfg = Config::new(s);
    cfg.rules4 =
        ctguard_netfilter::rules::load(&read("conformance/flood/forward.rules"), "forward.rules")
            .expect("rules")
            .v4;
    cfg.clients = vec!["10.98.1.0/24".parse().unwrap()];
    cfg
}

fn profile(factor: u32) -> Profile {
    Profile::load(root().join(format!("examples/profiles/flood-{factor}x.toml"))).unwrap()
}

/// (started, completed) of the clients' connections, counted by `--clients` (from the
/// packets) and by the simulator (which knows its web connections): they must agree.
fn clients(factor: u32, protect: bool) -> (u64, u64) {
    let (r, tally) = simulate::run(&profile(factor), &router(protect), false, |_, _| {}).unwrap();
    let c = r.summary().clients.clone().expect("--clients");
    let web = &tally.report()[0];
    assert_eq!(
        (c.started(), Some(c.completed())),
        (web.started, web.completed)
    );
    (c.started(), c.completed())
}

#[test]
fn the_profiles_settings_are_flood_conf() {
    let from_conf = with_file(Sysctl::default(), "conformance/flood/flood.conf");
    for f in [2, 10, 100] {
        assert_eq!(
            profile(f).sysctl(Sysctl::default()).unwrap(),
            from_conf,
            "flood-{f}x"
        );
    }
}

#[test]
fn at_ten_times_the_max_protect_completes_99_percent_and_the_kernel_policy_almost_none() {
    let (started, kernel) = clients(10, false);
    let (_, protect) = clients(10, true);
    assert_eq!(started, 560);
    assert!(
        protect * 100 >= started * 99,
        "protect: {protect} of {started}"
    );
    assert!(
        kernel * 10 < started,
        "kernel policy: {kernel} of {started}"
    );
}

#[test]
fn at_twice_the_max_protect_completes_99_percent() {
    let (started, protect) = clients(2, true);
    assert!(
        protect * 100 >= started * 99,
        "protect: {protect} of {started}"
    );
}
