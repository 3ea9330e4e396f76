#!/usr/bin/env bash
# Records the real kernel's conntrack behaviour for the conformance scenarios.
#
#   conformance/record.sh [--prefix P] [--out DIR] [NAME|PATH.scn ...]
#
# With no names, records every conformance/scenarios/*.scn. Needs root. Builds ctguard-record,
# creates three network namespaces (P-c, P-r, P-s; P defaults to ctg, or $CTG_PREFIX), records,
# and always tears them down and restores the global sysctls it may change
# (nf_conntrack_max, nf_conntrack_buckets, nf_log_all_netns), on success, error or Ctrl-C.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
prefix=${CTG_PREFIX:-ctg}
out="$here/goldens"
names=()
while [ $# -gt 0 ]; do
    case $1 in
        --prefix) prefix=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        -h|--help) sed -n '2,10p' "$0"; exit 0 ;;
        -*) echo "record.sh: unknown option $1" >&2; exit 2 ;;
        *) names+=("$1"); shift ;;
    esac
done
[ "$(id -u)" = 0 ] || { echo "record.sh: needs root" >&2; exit 1; }
for tool in ip nft iptables ip6tables conntrack cargo; do
    command -v "$tool" >/dev/null || { echo "record.sh: $tool is missing" >&2; exit 1; }
done

scenarios=()
if [ ${#names[@]} -eq 0 ]; then
    scenarios=("$here"/scenarios/*.scn)
else
    for n in "${names[@]}"; do
        if [ -f "$n" ]; then scenarios+=("$n")
        elif [ -f "$here/scenarios/$n.scn" ]; then scenarios+=("$here/scenarios/$n.scn")
        else echo "record.sh: no scenario $n" >&2; exit 1
        fi
    done
fi

(cd "$root" && cargo build --quiet --release -p ctguard-recorder)
bin="${CARGO_TARGET_DIR:-$root/target}/release/ctguard-record"

C=$prefix-c R=$prefix-r S=$prefix-s
globals=(nf_conntrack_max nf_conntrack_buckets nf_log_all_netns)
declare -A saved
for g in "${globals[@]}"; do saved[$g]=$(cat /proc/sys/net/netfilter/$g); done

cleanup() {
    local rc=$?
    trap - EXIT INT TERM HUP
    for g in "${globals[@]}"; do
        if [ "$(cat /proc/sys/net/netfilter/$g)" != "${saved[$g]}" ]; then
            echo "record.sh: restoring net.netfilter.$g=${saved[$g]}" >&2
            echo "${saved[$g]}" > /proc/sys/net/netfilter/$g || echo "record.sh: FAILED to restore $g" >&2
        fi
    done
    for ns in "$C" "$R" "$S"; do ip netns del "$ns" 2>/dev/null || true; done
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

for ns in "$C" "$R" "$S"; do
    if ip netns list | grep -qw "^$ns"; then
        echo "record.sh: namespace $ns exists: another recording? use --prefix" >&2
        trap - EXIT; exit 1
    fi
done

nsx() { ip netns exec "$@"; }
for ns in "$C" "$R" "$S"; do ip netns add "$ns"; ip -n "$ns" link set lo up; done

# Client and server: no IPv6 (no DAD, MLD or router solicitations), no addresses, and drop
# everything that arrives so that their own stacks never answer.
for ns in "$C" "$S"; do
    nsx "$ns" sysctl -qw net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
# Router: no link-local addresses, no DAD, no router advertisements taken.
nsx "$R" sysctl -qw net.ipv6.conf.default.addr_gen_mode=1 net.ipv6.conf.default.accept_dad=0 \
    net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_ra=0 net.ipv6.conf.all.accept_ra=0

ip -n "$R" link add rtr-c address 02:00:00:00:01:01 type veth peer name cli0 address 02:00:00:00:01:64 netns "$C"
ip -n "$R" link add rtr-s address 02:00:00:00:02:01 type veth peer name srv0 address 02:00:00:00:02:64 netns "$S"
ip -n "$C" link set cli0 up
ip -n "$S" link set srv0 up
for ns in "$C" "$S"; do
    nsx "$ns" iptables -t raw -A PREROUTING -j DROP
    nsx "$ns" ip6tables -t raw -A PREROUTING -j DROP
done

nsx "$R" sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1 \
    net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.default.rp_filter=0 \
    net.ipv4.conf.all.send_redirects=0 net.ipv4.conf.default.send_redirects=0
for side in c s; do
    dev=rtr-$side
    nsx "$R" sysctl -qw "net.ipv4.conf.$dev.rp_filter=0" "net.ipv4.conf.$dev.send_redirects=0" \
        "net.ipv6.conf.$dev.accept_dad=0"
done
ip -n "$R" addr add 10.99.1.1/24 dev rtr-c
ip -n "$R" addr add 10.99.2.1/24 dev rtr-s
ip -n "$R" -6 addr add fd00:99:1::1/64 dev rtr-c nodad
ip -n "$R" -6 addr add fd00:99:2::1/64 dev rtr-s nodad
ip -n "$R" link set rtr-c up
ip -n "$R" link set rtr-s up
for i in $(seq 100 109); do
    ip -n "$R" neigh replace 10.99.1.$i lladdr 02:00:00:00:01:64 dev rtr-c nud permanent
    ip -n "$R" neigh replace 10.99.2.$i lladdr 02:00:00:00:02:64 dev rtr-s nud permanent
    ip -n "$R" -6 neigh replace fd00:99:1::$i lladdr 02:00:00:00:01:64 dev rtr-c nud permanent
    ip -n "$R" -6 neigh replace fd00:99:2::$i lladdr 02:00:00:00:02:64 dev rtr-s nud permanent
done
# Spoofed sources: replies to them go back out the side they came from.
ip -n "$R" route add 10.98.0.0/16 via 10.99.1.100 dev rtr-c
ip -n "$R" route add 10.97.0.0/16 via 10.99.2.100 dev rtr-s
ip -n "$R" -6 route add fd00:98::/32 via fd00:99:1::100 dev rtr-c
ip -n "$R" -6 route add fd00:97::/32 via fd00:99:2::100 dev rtr-s
# Let the router's own link-up chatter (MLD reports) pass before recording.
sleep 1

mkdir -p "$out"
"$bin" --prefix "$prefix" --out "$out" "${scenarios[@]}"
