//! Target options: their parsed form and the mark arithmetic.

use super::*;
use crate::rules::{ConnmarkTarget, CtTarget, Log, MarkTarget, NatRange, RejectWith, Target};

fn target(table: &str, chain: &str, spec: &str) -> Target {
    let l = load4(&format!("*{table}\n-A {chain} {spec}\nCOMMIT\n"));
    let t = TableName::from_name(table).unwrap();
    l.v4.table(t).chain(chain).unwrap().rules[0].target.clone()
}

#[test]
fn mark_options_reduce_to_xmark() {
    // Recorded: --set-mark 0x10/0xf saves as --set-xmark 0x10/0x1f, --and-mark 0xf as
    // 0x0/0xfffffff0, --or-mark 0x10 as 0x10/0x10, --xor-mark 0x3 as 0x3/0x0.
    let m = |spec| match target("mangle", "PREROUTING", spec) {
        Target::Mark(m) => m,
        t => panic!("{t:?}"),
    };
    assert_eq!(
        m("-j MARK --set-mark 0x10/0xf"),
        MarkTarget {
            value: 0x10,
            mask: 0x1f
        }
    );
    assert_eq!(
        m("-j MARK --and-mark 0xf"),
        MarkTarget {
            value: 0,
            mask: 0xffff_fff0
        }
    );
    assert_eq!(
        m("-j MARK --or-mark 0x10"),
        MarkTarget {
            value: 0x10,
            mask: 0x10
        }
    );
    assert_eq!(
        m("-j MARK --xor-mark 0x3"),
        MarkTarget { value: 3, mask: 0 }
    );
    assert_eq!(
        m("-j MARK --set-mark 0x10/0xf").apply(0xffff_ff0f),
        0xffff_ff10
    );
    assert_eq!(m("-j MARK --and-mark 0xf").apply(0x1234), 0x4);
    assert_eq!(m("-j MARK --or-mark 0x10").apply(0x1), 0x11);
    assert_eq!(m("-j MARK --xor-mark 0x3").apply(0x1), 0x2);
}

#[test]
fn connmark_modes() {
    let c = |spec| match target("mangle", "PREROUTING", spec) {
        Target::Connmark(c) => c,
        t => panic!("{t:?}"),
    };
    let save = c("-j CONNMARK --save-mark --mask 0xff");
    assert_eq!(
        save,
        ConnmarkTarget::Save {
            nfmask: 0xff,
            ctmask: 0xff
        }
    );
    assert_eq!(save.apply(0x1234, 0xabcd), (0x1234, 0xab34));
    let restore = c("-j CONNMARK --restore-mark --nfmask 0xf0 --ctmask 0xff");
    // mark = (0x1234 & !0xf0) ^ (0xabcd & 0xff) = 0x1204 ^ 0xcd (the kernel's restore).
    assert_eq!(restore.apply(0x1234, 0xabcd), (0x12c9, 0xabcd));
    let set = c("-j CONNMARK --set-mark 5/0xf");
    assert_eq!(
        set,
        ConnmarkTarget::Set {
            value: 5,
            mask: 0xf
        }
    );
    assert_eq!(set.apply(0, 0xab), (0, 0xa5));
}

#[test]
fn reject_log_ct_and_nat_options() {
    assert_eq!(
        target("filter", "INPUT", "-j REJECT"),
        Target::Reject(RejectWith::IcmpPortUnreachable)
    );
    assert_eq!(
        target("filter", "INPUT", "-j REJECT --reject-with host-prohib"),
        Target::Reject(RejectWith::IcmpHostProhibited)
    );
    assert_eq!(
        RejectWith::IcmpAdminProhibited.icmp_type_code(),
        Some((3, 13))
    );
    let l6 = load6(
        "*filter\n-A INPUT -j REJECT --reject-with adm-prohibited\n-A INPUT -j REJECT\nCOMMIT\n",
    );
    let r6 = l6.v6.builtin_rules(TableName::Filter, Hook::Input);
    assert_eq!(r6[0].target, Target::Reject(RejectWith::Icmp6AdmProhibited));
    assert_eq!(
        r6[1].target,
        Target::Reject(RejectWith::Icmp6PortUnreachable)
    );
    assert_eq!(
        target(
            "filter",
            "INPUT",
            "-j LOG --log-prefix \"in: \" --log-level info --log-uid"
        ),
        Target::Log(Log {
            prefix: "in: ".into(),
            level: 6,
            uid: true,
            ..Log::default()
        })
    );
    assert_eq!(
        target("raw", "PREROUTING", "-j CT --notrack --zone 3"),
        Target::Ct(CtTarget {
            notrack: true,
            zone: Some(3),
            ..CtTarget::default()
        })
    );
    assert_eq!(
        target(
            "nat",
            "PREROUTING",
            "-p tcp -j DNAT --to-destination 10.0.0.1-10.0.0.5:1000-2000 --random"
        ),
        Target::Dnat(NatRange {
            addrs: Some(("10.0.0.1".parse().unwrap(), "10.0.0.5".parse().unwrap())),
            ports: Some((1000, 2000)),
            random: true,
            ..NatRange::default()
        })
    );
    let l6 =
        load6("*nat\n-A PREROUTING -p tcp -j DNAT --to-destination [2001:db8::1]:8080\nCOMMIT\n");
    assert_eq!(
        l6.v6.builtin_rules(TableName::Nat, Hook::Prerouting)[0].target,
        Target::Dnat(NatRange {
            addrs: Some((
                "2001:db8::1".parse().unwrap(),
                "2001:db8::1".parse().unwrap()
            )),
            ports: Some((8080, 8080)),
            ..NatRange::default()
        })
    );
    assert_eq!(
        target("nat", "PREROUTING", "-p tcp -j REDIRECT --to-ports 8080"),
        Target::Redirect(NatRange {
            ports: Some((8080, 8080)),
            ..NatRange::default()
        })
    );
}

#[test]
fn conntrack_needs_and_module_names() {
    let t = |table: &str, chain: &str, spec: &str| target(table, chain, spec);
    for (target, needs, module, name) in [
        (
            t("raw", "PREROUTING", "-j NOTRACK"),
            true,
            "xt_NOTRACK",
            "NOTRACK target",
        ),
        (
            t("raw", "PREROUTING", "-j CT --notrack"),
            true,
            "xt_CT",
            "CT target",
        ),
        (
            t("nat", "POSTROUTING", "-j SNAT --to-source 1.2.3.4"),
            true,
            "xt_nat",
            "NAT target SNAT",
        ),
        (
            t("mangle", "PREROUTING", "-j CONNMARK --save-mark"),
            true,
            "xt_connmark",
            "CONNMARK target",
        ),
        (
            t("mangle", "PREROUTING", "-j MARK --set-mark 1"),
            false,
            "xt_mark",
            "MARK target",
        ),
        (
            t("filter", "INPUT", "-j REJECT"),
            false,
            "ipt_REJECT",
            "REJECT target",
        ),
        (
            t("filter", "INPUT", "-j LOG"),
            false,
            "xt_LOG",
            "LOG target",
        ),
    ] {
        assert_eq!(target.needs_conntrack(), needs, "{name}");
        assert_eq!(target.kernel_module(Family::V4), module);
        assert_eq!(target.feature(), name);
    }
    let r = rule4("-m conntrack --ctstate NEW -m connlimit --connlimit-above 1 -m recent --set");
    let f: Vec<_> = r.features();
    assert_eq!(
        f,
        [
            ("conntrack match".to_string(), "xt_conntrack", true),
            ("connlimit match".to_string(), "xt_connlimit", true),
            ("recent match".to_string(), "xt_recent", false),
        ]
    );
}
