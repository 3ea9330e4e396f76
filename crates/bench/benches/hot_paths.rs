//! The hot paths, one packet at a time, so that a regression shows in `cargo bench`:
//! parsing a frame, tracking a packet of a known UDP flow and of an established TCP
//! connection, a new connection's insert, and a lookup in a table of 100k entries.
//! `ctguard bench` measures whole workloads; these isolate the steps.

use criterion::{BatchSize, Criterion, black_box, criterion_group, criterion_main};
use ctguard_bench::packets::{Segment, tcp_flags, tcp4, udp4};
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

fn seg(
    src: [u8; 4],
    dst: [u8; 4],
    sport: u16,
    dport: u16,
    seq: u32,
    ack: u32,
    flags: u8,
) -> Vec<u8> {
    tcp4(&Segment {
        src,
        dst,
        sport,
        dport,
        seq,
        ack,
        flags,
        window: 65535,
        payload: 0,
    })
}

fn parse(c: &mut Criterion) {
    let frame = udp4([10, 1, 1, 1], [10, 1, 1, 2], 1, 2);
    c.bench_function("parse_frame/udp4", |b| {
        b.iter(|| intake::parse_frame(LinkType::Ethernet, black_box(&frame)).is_ok())
    });
}

fn udp_flow(c: &mut Criterion) {
    let frame = udp4([10, 1, 1, 1], [10, 1, 1, 2], 1, 2);
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
    use tcp_flags::*;
    let (a, s) = ([10, 0, 0, 1], [10, 0, 0, 2]);
    let mut ct = quiet(Sysctl::default());
    for f in [
        seg(a, s, 40000, 80, 1000, 0, SYN),
        seg(s, a, 80, 40000, 5000, 1001, SYN | ACK),
        seg(a, s, 40000, 80, 1001, 5001, ACK),
    ] {
        ct.process(LinkType::Ethernet, &f, now());
    }
    let ack = seg(a, s, 40000, 80, 1001, 5001, ACK);
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
            udp4(
                [10, 1, (i >> 8) as u8, i as u8],
                [10, 2, 0, 1],
                1024 + (i % 50000) as u16,
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
    c.bench_function("process/new-connection-insert", |b| {
        b.iter_batched(
            || {
                n = n.wrapping_add(1);
                udp4(
                    [172, 16, (n >> 8) as u8, n as u8],
                    [10, 2, 0, 1],
                    1024 + (n >> 16) as u16,
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
