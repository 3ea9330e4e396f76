/* SPDX-License-Identifier: MIT OR Apache-2.0
 *
 * tcp_mix: time Open vSwitch's userspace conntrack (lib/conntrack.c) on the
 * same TCP connection-lifecycle packet sequence as `ctguard bench
 * tcp-lifecycle`.
 *
 * This file is ctguard's own code. It is compiled by
 * bench/ovs-side-by-side.sh against an OVS tree built from Debian's
 * openvswitch-source package and linked with lib/.libs/libopenvswitch.a;
 * nothing of OVS is part of this repository.
 *
 * Sequence: N connections, one after the other, 10 segments each:
 *   1 C->S SYN        seq=c      ack=0
 *   2 S->C SYN|ACK    seq=s      ack=c+1
 *   3 C->S ACK        seq=c+1    ack=s+1
 *   4 C->S PSH|ACK    seq=c+1    ack=s+1    100 bytes of 'a'
 *   5 S->C ACK        seq=s+1    ack=c+101
 *   6 S->C PSH|ACK    seq=s+1    ack=c+101  100 bytes of 'a'
 *   7 C->S ACK        seq=c+101  ack=s+101
 *   8 C->S FIN|ACK    seq=c+101  ack=s+101
 *   9 S->C FIN|ACK    seq=s+101  ack=c+102
 *  10 C->S ACK        seq=c+102  ack=s+102
 * Connection i: client 10.(1+(i>>16)).((i>>8)&255).(i&255) port
 * 40000+(i%20000), server 10.2.0.1 port 80, c = 1000+i, s = 5000+i.
 * Window 64240, an MSS option (1460) on SYNs only, TTL 64, DF, IP id 0,
 * valid checksums: the frames of ctguard's simulator
 * (crates/replay/src/simulate/frame.rs), which `ctguard bench` uses.
 *
 * All packets are built (and parsed by flow_extract(), which sets the
 * l3/l4 offsets as the datapath's miniflow_extract() would) before the
 * clock starts; only the loop of conntrack_execute() calls, B packets per
 * call, commit=true, zone 0, is timed.  Afterwards every packet's
 * md.ct_state is checked: packets OVS marked invalid are counted.
 *
 * Output: one JSON object on stdout, e.g.
 *   {"workload":"ovs-tcp-lifecycle","conns":100000,"packets":1000000,
 *    "batch":32,"seconds":0.2,"mpps":5.0,"ns_per_packet":200.0,
 *    "invalid":0,"new":100000,"entries":100000}
 */

#include <config.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "conntrack.h"
#include "dp-packet.h"
#include "flow.h"
#include "netdev.h"
#include "packets.h"
#include "timeval.h"

#define PAYLOAD_LEN 100
#define SEGS_PER_CONN 10

enum { F_FIN = 0x01, F_SYN = 0x02, F_PSH = 0x08, F_ACK = 0x10 };

struct seg {
    int c2s;            /* 1: client -> server, 0: server -> client. */
    uint8_t flags;
    uint32_t seq_off;   /* Added to the sender's ISN (c or s). */
    uint32_t ack_off;   /* Added to the receiver's ISN; ack=0 if !ACK. */
    int payload;
};

static const struct seg segs[SEGS_PER_CONN] = {
    { 1, F_SYN,         0,   0,   0 },
    { 0, F_SYN | F_ACK, 0,   1,   0 },
    { 1, F_ACK,         1,   1,   0 },
    { 1, F_PSH | F_ACK, 1,   1,   PAYLOAD_LEN },
    { 0, F_ACK,         1,   101, 0 },
    { 0, F_PSH | F_ACK, 1,   101, PAYLOAD_LEN },
    { 1, F_ACK,         101, 101, 0 },
    { 1, F_FIN | F_ACK, 101, 101, 0 },
    { 0, F_FIN | F_ACK, 101, 102, 0 },
    { 1, F_ACK,         102, 102, 0 },
};

static void
put16(uint8_t *p, uint16_t v)
{
    p[0] = v >> 8;
    p[1] = v;
}

static void
put32(uint8_t *p, uint32_t v)
{
    p[0] = v >> 24;
    p[1] = v >> 16;
    p[2] = v >> 8;
    p[3] = v;
}

/* Ones'-complement sum of big-endian 16-bit words. */
static uint32_t
sum16(uint32_t acc, const uint8_t *p, size_t len)
{
    size_t i;

    for (i = 0; i + 1 < len; i += 2) {
        acc += ((uint32_t) p[i] << 8) | p[i + 1];
    }
    if (len & 1) {
        acc += (uint32_t) p[len - 1] << 8;
    }
    return acc;
}

static uint16_t
fold(uint32_t acc)
{
    while (acc >> 16) {
        acc = (acc & 0xffff) + (acc >> 16);
    }
    return ~acc & 0xffff;
}

/* Writes one Ethernet/IPv4/TCP frame into 'buf'; returns its length. */
static size_t
build_frame(uint8_t *buf, uint32_t i, const struct seg *sg)
{
    static const uint8_t mac_host[6] = { 2, 0, 0, 0, 0, 1 };
    static const uint8_t mac_peer[6] = { 2, 0, 0, 0, 0, 2 };
    uint8_t cip[4] = { 10, 1 + (i >> 16), (i >> 8) & 255, i & 255 };
    uint8_t sip[4] = { 10, 2, 0, 1 };
    uint16_t cport = 40000 + (i % 20000), sport = 80;
    uint32_t c = 1000 + i, s = 5000 + i;
    size_t opt_len = (sg->flags & F_SYN) ? 4 : 0;
    size_t tcp_len = 20 + opt_len + sg->payload;
    size_t ip_len = 20 + tcp_len;
    uint8_t *eth = buf, *ip = buf + 14, *tcp = buf + 34;
    uint32_t acc;

    memset(buf, 0, 14 + ip_len);

    /* Ethernet: client->server comes from the peer to the host, replies go
     * back. */
    memcpy(eth, sg->c2s ? mac_host : mac_peer, 6);     /* dst */
    memcpy(eth + 6, sg->c2s ? mac_peer : mac_host, 6); /* src */
    put16(eth + 12, 0x0800);

    /* IPv4. */
    ip[0] = 0x45;
    put16(ip + 2, ip_len);
    put16(ip + 4, 0);          /* id */
    put16(ip + 6, 0x4000);     /* DF */
    ip[8] = 64;                /* TTL */
    ip[9] = 6;                 /* TCP */
    memcpy(ip + 12, sg->c2s ? cip : sip, 4);
    memcpy(ip + 16, sg->c2s ? sip : cip, 4);
    put16(ip + 10, fold(sum16(0, ip, 20)));

    /* TCP. */
    put16(tcp, sg->c2s ? cport : sport);
    put16(tcp + 2, sg->c2s ? sport : cport);
    put32(tcp + 4, (sg->c2s ? c : s) + sg->seq_off);
    put32(tcp + 8, (sg->flags & F_ACK) ? (sg->c2s ? s : c) + sg->ack_off : 0);
    tcp[12] = ((20 + opt_len) / 4) << 4;
    tcp[13] = sg->flags;
    put16(tcp + 14, 64240);    /* window */
    if (opt_len) {
        tcp[20] = 2;           /* MSS */
        tcp[21] = 4;
        put16(tcp + 22, 1460);
    }
    memset(tcp + 20 + opt_len, 'a', sg->payload);

    /* Pseudo-header + segment. */
    acc = sum16(0, ip + 12, 8);
    acc += 6;
    acc += tcp_len;
    acc = sum16(acc, tcp, tcp_len);
    put16(tcp + 16, fold(acc));

    return 14 + ip_len;
}

static double
now_sec(void)
{
    struct timespec ts;

    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
usage(const char *prog)
{
    fprintf(stderr,
            "usage: %s [--conns N] [--batch B]\n"
            "  --conns N   connections, 10 packets each (default 100000)\n"
            "  --batch B   packets per conntrack_execute() call, 1..%d"
            " (default 32)\n", prog, NETDEV_MAX_BURST);
    exit(2);
}

static unsigned long
parse_ulong(const char *prog, const char *s)
{
    char *end;
    unsigned long v;

    errno = 0;
    v = strtoul(s, &end, 0);
    if (errno || !*s || *end) {
        usage(prog);
    }
    return v;
}

int
main(int argc, char *argv[])
{
    unsigned long n_conns = 100000, batch_size = 32;
    size_t n_pkts, n_batches, i, b;
    struct dp_packet **pkts;
    struct dp_packet_batch *batches;
    struct conntrack *ct;
    uint8_t frame[14 + 20 + 24 + PAYLOAD_LEN];  /* options only on SYNs */
    size_t n_invalid = 0, n_new = 0, n_untracked = 0;
    uint32_t n_entries = 0;
    ovs_be16 dl_type = htons(ETH_TYPE_IP);
    long long now;
    double t0, t1, secs;
    int a;

    for (a = 1; a < argc; a++) {
        if (!strcmp(argv[a], "--conns") && a + 1 < argc) {
            n_conns = parse_ulong(argv[0], argv[++a]);
        } else if (!strcmp(argv[a], "--batch") && a + 1 < argc) {
            batch_size = parse_ulong(argv[0], argv[++a]);
        } else {
            usage(argv[0]);
        }
    }
    if (!n_conns || n_conns > (1ul << 24) - (1ul << 16)) {
        fprintf(stderr, "%s: --conns must be 1..%lu\n", argv[0],
                (1ul << 24) - (1ul << 16));
        return 2;
    }
    if (!batch_size || batch_size > NETDEV_MAX_BURST) {
        fprintf(stderr, "%s: --batch must be 1..%d\n", argv[0],
                NETDEV_MAX_BURST);
        return 2;
    }

    /* Build every packet up front. */
    n_pkts = n_conns * SEGS_PER_CONN;
    pkts = xmalloc(n_pkts * sizeof *pkts);
    for (i = 0; i < n_conns; i++) {
        int k;

        for (k = 0; k < SEGS_PER_CONN; k++) {
            size_t len = build_frame(frame, i, &segs[k]);
            struct dp_packet *p = dp_packet_new(len);
            struct flow flow;

            dp_packet_put(p, frame, len);
            flow_extract(p, &flow);   /* Sets l3/l4 offsets. */
            pkts[i * SEGS_PER_CONN + k] = p;
        }
    }

    /* Group them into batches of consecutive packets. */
    n_batches = (n_pkts + batch_size - 1) / batch_size;
    batches = xmalloc(n_batches * sizeof *batches);
    for (b = 0; b < n_batches; b++) {
        dp_packet_batch_init(&batches[b]);
        for (i = b * batch_size; i < n_pkts && i < (b + 1) * batch_size;
             i++) {
            dp_packet_batch_add(&batches[b], pkts[i]);
        }
    }

    ct = conntrack_init();
    now = time_msec();

    /* Timed: conntrack_execute() calls only. */
    t0 = now_sec();
    for (b = 0; b < n_batches; b++) {
        conntrack_execute(ct, &batches[b], dl_type, false, true, 0,
                          NULL, NULL, 0, 0, NULL, NULL, now, 0);
    }
    t1 = now_sec();
    secs = t1 - t0;

    for (i = 0; i < n_pkts; i++) {
        uint8_t st = pkts[i]->md.ct_state;

        if (st & CS_INVALID) {
            n_invalid++;
        } else if (!(st & CS_TRACKED)) {
            n_untracked++;
        }
        if (st & CS_NEW) {
            n_new++;
        }
    }
    conntrack_get_nconns(ct, &n_entries);

    printf("{\"workload\":\"ovs-tcp-lifecycle\",\"conns\":%lu,"
           "\"packets\":%zu,\"batch\":%lu,\"seconds\":%.6f,\"mpps\":%.3f,"
           "\"ns_per_packet\":%.2f,\"invalid\":%zu,\"untracked\":%zu,"
           "\"new\":%zu,\"entries\":%u}\n",
           n_conns, n_pkts, batch_size, secs, n_pkts / secs / 1e6,
           secs * 1e9 / n_pkts, n_invalid, n_untracked, n_new, n_entries);
    fflush(stdout);

    /* The process exits here; the OS reclaims the packets and the table. */
    return n_invalid || n_untracked ? 1 : 0;
}
