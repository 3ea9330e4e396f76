//! The hot paths, one packet at a time, so that a regression shows in `cargo bench`:
//! parsing a frame, tracking a packet of a known UDP flow and of an established TCP
//! connection, a lookup in a table of 100k entries, and new connections into that table as
//! it grows (every iteration adds one, so long runs reach its max and early drop: the figure
//! depends on how long criterion runs, and is for spotting regressions only).
//! `ctguard bench` measures whole workloads; these isolate the steps.

use criterion::{BatchSize, Criterion, black_box, criterion_group, criterion_main};
use ctguard_bench::packets::{F_ACK, F_SYN, TcpConn, tcp, udp};
use ctguard_conntrack::intake::{self, LinkType};
use ctguard_conntrack::{Conntrack, Instant, Sysctl};

fn now() -> Instant {
    Instant::from_secs_f64(1000.0)
}

fn quiet(sysctl: Sysctl) -> Conntrack {
    let mut ct = Conntrack::new(sysctl);
    ct.set_record_events(false);
    ct
}

fn parse(c: &mut Criterion) {
    let frame = udp([10, 1, 1, 1], 1, [10, 1, 1, 2], 2);
    c.bench_function("parse_frame/udp", |b| {
        b.iter(|| intake::parse_frame(LinkType::Ethernet, black_box(&frame)).is_ok())
    });
}

fn udp_flow(c: &mut Criterion) {
    let frame = udp([10, 1, 1, 1], 1, [10, 1, 1, 2], 2);
    let mut ct = quiet(Sysctl::default());
    ct.process(LinkType::Ethernet, &frame, now());
    c.bench_function("process/udp-known-flow", |b| {
        b.iter(|| {
            ct.process(LinkType::Ethernet, black_box(&frame), now())
                .verdict
        })
    });
}

fn tcp_established(c: &mut Criterion) {
    let k = TcpConn::new(0);
    let (c0, s0) = k.isn;
    let mut ct = quiet(Sysctl::default());
    for (to_server, seq, ack, flags) in [
        (true, c0, 0, F_SYN),
        (false, s0, c0 + 1, F_SYN | F_ACK),
        (true, c0 + 1, s0 + 1, F_ACK),
    ] {
        ct.process(
            LinkType::Ethernet,
            &tcp(&k.seg(to_server, seq, ack, flags, 0), to_server),
            now(),
        );
    }
    let ack = tcp(&k.seg(true, c0 + 1, s0 + 1, F_ACK, 0), true);
    c.bench_function("process/tcp-established-ack", |b| {
        b.iter(|| {
            ct.process(LinkType::Ethernet, black_box(&ack), now())
                .verdict
        })
    });
}

fn big_table(c: &mut Criterion) {
    let mut ct = quiet(Sysctl {
        max: 1 << 20,
        buckets: 1 << 17,
        ..Sysctl::default()
    });
    let frames: Vec<Vec<u8>> = (0..100_000u32)
        .map(|i| {
            udp(
                [10, 1, (i >> 8) as u8, i as u8],
                1024 + (i % 50000) as u16,
                [10, 2, 0, 1],
                53,
            )
        })
        .collect();
    for f in &frames {
        ct.process(LinkType::Ethernet, f, now());
    }
    let mut i = 0usize;
    c.bench_function("process/udp-lookup-100k-table", |b| {
        b.iter(|| {
            i = (i + 7919) % frames.len();
            ct.process(LinkType::Ethernet, &frames[i], now()).verdict
        })
    });
    let mut n = 0u32;
    c.bench_function("process/new-connections-growing-table", |b| {
        b.iter_batched(
            || {
                n = n.wrapping_add(1);
                udp(
                    [172, 16, (n >> 8) as u8, n as u8],
                    1024 + (n >> 16) as u16,
                    [10, 2, 0, 1],
                    53,
                )
            },
            |f| ct.process(LinkType::Ethernet, &f, now()).verdict,
            BatchSize::SmallInput,
        )
    });
}

criterion_group! {
    name = hot;
    config = Criterion::default().sample_size(20).warm_up_time(core::time::Duration::from_millis(300)).measurement_time(core::time::Duration::from_secs(1));
    targets = parse, udp_flow, tcp_established, big_table
}
criterion_main!(hot);
