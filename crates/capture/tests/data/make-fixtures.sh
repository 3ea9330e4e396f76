#!/usr/bin/env bash
# Re-makes the capture fixtures in this directory from real traffic, inside a network namespace
# made for the purpose (loopback only), with the real capture tools. Needs root and Debian's
# tcpdump, tshark (dumpcap, editcap), curl, hping3, dnsmasq-base, bind9-dnsutils (dig).
#
#   sudo crates/capture/tests/data/make-fixtures.sh
#
# Every process it starts is stopped by its PID; the namespace is deleted on exit.
set -euo pipefail

OUT=$(cd "$(dirname "$0")" && pwd)
NS=cap-$$
WORK=$(mktemp -d)
PIDS=()

cleanup() {
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    ip netns del "$NS" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

in_ns() { ip netns exec "$NS" "$@"; }

# Waits (at most 10 s) until FILE contains TEXT.
wait_for() {
    local file=$1 text=$2
    for _ in $(seq 100); do
        grep -q "$text" "$file" 2>/dev/null && return 0
        sleep 0.1
    done
    echo "timed out waiting for '$text' in $file" >&2
    exit 1
}

# Starts a capture in the namespace: start_capture NAME READY-TEXT COMMAND...; its stderr goes to $WORK/NAME.err.
start_capture() {
    local name=$1 ready=$2
    shift 2
    # Not through in_ns: a backgrounded shell function would be a subshell, and $! its PID.
    ip netns exec "$NS" "$@" 2>"$WORK/$name.err" &
    PIDS+=($!)
    wait_for "$WORK/$name.err" "$ready"
}

# Stops every capture started since the last call (SIGTERM, passed on by timeout: tcpdump and
# dumpcap flush and close their files).
stop_captures() {
    sleep 2
    for pid in "${PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    PIDS=()
}

ip netns add "$NS"
ip -n "$NS" link set lo up

# --- HTTP: python's http.server, fetched twice with curl -----------------------------------
mkdir "$WORK/www"
printf 'hello from ctguard\n' >"$WORK/www/hello.txt"
ip netns exec "$NS" timeout 120 python3 -m http.server 8080 --bind 127.0.0.1 --directory "$WORK/www" \
    >"$WORK/http-server.log" 2>&1 &
SERVER=$!
for _ in $(seq 100); do
    grep -q '127.0.0.1:8080' <<<"$(in_ns ss -ltn)" && break
    sleep 0.1
done

start_capture http 'listening on' timeout 60 tcpdump --immediate-mode -i lo -w "$OUT/http.pcap"
start_capture http-ns 'listening on' \
    timeout 60 tcpdump --immediate-mode -i lo --time-stamp-precision=nano -w "$WORK/http-ns.pcap"
start_capture http-ng 'Capturing on' timeout 60 dumpcap -i lo -w "$OUT/http.pcapng"
in_ns curl -s -o /dev/null --max-time 5 http://127.0.0.1:8080/hello.txt
in_ns curl -s -o /dev/null --max-time 5 http://127.0.0.1:8080/hello.txt
stop_captures
kill "$SERVER"
wait "$SERVER" 2>/dev/null || true

cp "$WORK/http-ns.pcap" "$OUT/http-ns.pcap"
editcap -F pcapng "$WORK/http-ns.pcap" "$OUT/http-ns.pcapng"
editcap -F pcapng "$OUT/http.pcap" "$OUT/http-us.pcapng"
gzip -9 -n -c "$OUT/http.pcapng" >"$OUT/http.pcapng.gz"

# --- DNS: dnsmasq answering example.test, asked by dig (UDP) --------------------------------
ip netns exec "$NS" timeout 60 dnsmasq --no-daemon --port 53 --listen-address 127.0.0.1 --bind-interfaces \
    --address=/example.test/10.0.0.1 --no-resolv --no-hosts >"$WORK/dnsmasq.log" 2>&1 &
DNSMASQ=$!
for _ in $(seq 100); do
    grep -q '127.0.0.1:53' <<<"$(in_ns ss -lun)" && break
    sleep 0.1
done
start_capture dns 'listening on' timeout 60 tcpdump --immediate-mode -i lo -w "$OUT/dns.pcap"
in_ns dig +tries=1 +time=2 @127.0.0.1 example.test A >/dev/null
in_ns dig +tries=1 +time=2 @127.0.0.1 example.test AAAA >/dev/null
stop_captures
kill "$DNSMASQ"
wait "$DNSMASQ" 2>/dev/null || true

# --- SYN flood: 100 SYNs from hping3 to a closed port (each answered by a RST) -------------
start_capture syn 'listening on' timeout 60 tcpdump --immediate-mode -i lo -w "$OUT/syn-flood.pcap"
in_ns timeout 30 hping3 -q -S -p 9 -c 100 -i u2000 127.0.0.1 >/dev/null 2>&1 || true
stop_captures

# --- Linux cooked capture: tcpdump -i any (LINKTYPE_LINUX_SLL2), two ICMP echoes from hping3 ---
# and, at the same time, dumpcap on two interfaces (lo: Ethernet, any: SLL2) into one pcapng.
start_capture any 'listening on' timeout 60 tcpdump --immediate-mode -i any -w "$OUT/any-sll2.pcap"
start_capture any-lo 'Capturing on' timeout 60 dumpcap -i lo -i any -w "$OUT/lo-any.pcapng"
in_ns timeout 10 hping3 -q --icmp -c 2 -i u200000 127.0.0.1 >/dev/null 2>&1 || true
stop_captures

chmod 644 "$OUT"/*.pcap "$OUT"/*.pcapng "$OUT"/*.gz
ls -l "$OUT"

# === spoofed-flood.pcap ===================================================================
# A spoofed SYN flood from hping3 against a listening web server, with 20 legitimate curl
# fetches interleaved, captured on the server's interface. Two namespaces of its own, joined by
# a veth: flsrv-$$ (server, 10.77.0.1 on fl-srv) and flatk-$$ (attacker and legitimate client,
# 10.77.0.2 on fl-atk). The server's default route points back through the veth, so its
# SYN-ACKs to the spoofed sources leave toward the attacker side, where a raw-table DROP of
# everything not addressed to 10.77.0.2 makes sure nothing answers them (no RSTs); the client's
# own traffic (to 10.77.0.2) passes. The capture filter `ip` keeps ARP and IPv6 (link-local
# autoconfiguration) out. Only per-namespace state is touched; no global sysctl.
FLOOD_SRV=flsrv-$$
FLOOD_ATK=flatk-$$
FLOOD_PIDS=()

flood_cleanup() {
    for pid in "${FLOOD_PIDS[@]}"; do
        kill "$pid" 2>/dev/null || true
        wait "$pid" 2>/dev/null || true
    done
    ip netns del "$FLOOD_SRV" 2>/dev/null || true
    ip netns del "$FLOOD_ATK" 2>/dev/null || true
}
trap 'flood_cleanup; cleanup' EXIT

make_spoofed_flood() {
    local srv=$FLOOD_SRV atk=$FLOOD_ATK
    ip netns add "$srv"
    ip netns add "$atk"
    ip -n "$srv" link set lo up
    ip -n "$atk" link set lo up
    ip -n "$srv" link add fl-srv type veth peer name fl-atk netns "$atk"
    ip -n "$srv" addr add 10.77.0.1/24 dev fl-srv
    ip -n "$atk" addr add 10.77.0.2/24 dev fl-atk
    # Checksums computed in software on both ends: with a veth's default offload (tx-checksumming
    # on) the capture holds the stacks' partial checksums, which the receiving kernel trusts
    # (CHECKSUM_PARTIAL) but a replay cannot tell from corrupt ones.
    ip netns exec "$srv" ethtool -K fl-srv tx off >/dev/null
    ip netns exec "$atk" ethtool -K fl-atk tx off >/dev/null
    ip -n "$srv" link set fl-srv up
    ip -n "$atk" link set fl-atk up
    ip -n "$srv" route add default via 10.77.0.2
    ip netns exec "$atk" iptables -t raw -A PREROUTING ! -d 10.77.0.2 -j DROP

    # The server: python's http.server (listen backlog 5, so the kernel answers the flood with
    # SYN cookies once its SYN queue holds 5 requests; tcp_syncookies is 1, the default).
    mkdir -p "$WORK/www-flood"
    printf 'ok\n' >"$WORK/www-flood/index.html"
    ip netns exec "$srv" timeout 120 python3 -m http.server 80 --bind 10.77.0.1 \
        --directory "$WORK/www-flood" >"$WORK/flood-server.log" 2>&1 &
    FLOOD_PIDS+=($!)
    for _ in $(seq 100); do
        grep -q '10.77.0.1:80' <<<"$(ip netns exec "$srv" ss -ltn)" && break
        sleep 0.1
    done

    # Whole packets (tcpdump's default snaplen): the flood's packets are 54 and 58 bytes anyway,
    # and a replay cannot track a connection whose data segments were cut (IP total length
    # beyond the captured bytes is an unreadable packet, and the tracker then loses the window).
    ip netns exec "$srv" timeout 60 tcpdump --immediate-mode -i fl-srv -w "$OUT/spoofed-flood.pcap" ip \
        2>"$WORK/flood-tcpdump.err" &
    FLOOD_PIDS+=($!)
    local tcpdump=$!
    wait_for "$WORK/flood-tcpdump.err" 'listening on'

    # 20 legitimate fetches from 10.77.0.2, one every 0.15 s (each curl bounded to 2 s), started
    # 0.4 s before the flood so the first few precede it.
    ip netns exec "$atk" timeout 60 bash -c 'for i in $(seq 20); do
            curl -s -m 2 -o /dev/null -w "%{http_code} %{local_port} %{time_total}\n" http://10.77.0.1/ || true
            sleep 0.15
        done' >"$WORK/flood-curl.txt" 2>&1 &
    FLOOD_PIDS+=($!)
    local curls=$!
    sleep 0.4
    # The flood: 3000 SYNs to port 80 from random sources, one every 1000 us.
    ip netns exec "$atk" timeout 30 hping3 -q -S -p 80 --rand-source -c 3000 -i u1000 10.77.0.1 \
        >"$WORK/flood-hping3.txt" 2>&1 || true
    wait "$curls" || true
    sleep 2
    kill "$tcpdump" 2>/dev/null || true
    wait "$tcpdump" 2>/dev/null || true

    echo "--- spoofed-flood: curl (http_code local_port time_total) ---"
    cat "$WORK/flood-curl.txt"
    echo "--- spoofed-flood: hping3 ---"
    cat "$WORK/flood-hping3.txt"
    echo "--- spoofed-flood: tcpdump ---"
    cat "$WORK/flood-tcpdump.err"
    echo "--- spoofed-flood: the server's TCP counters (nstat, namespace $srv) ---"
    ip netns exec "$srv" nstat -asz TcpPassiveOpens TcpInSegs TcpOutSegs TcpExtSyncookiesSent \
        TcpExtSyncookiesRecv TcpExtSyncookiesFailed TcpExtListenOverflows TcpExtListenDrops \
        TcpExtTCPReqQFullDoCookies TcpExtTCPReqQFullDrop
    echo "--- spoofed-flood: GETs served ---"
    grep -c '"GET / ' "$WORK/flood-server.log" || true
    chmod 644 "$OUT/spoofed-flood.pcap"
    ls -l "$OUT/spoofed-flood.pcap"
}

make_spoofed_flood
