#!/usr/bin/env bash
# The recorder's topology: client —veth— router —veth— server, in three network namespaces.
#
#   conformance/topology.sh up PREFIX     create PREFIX-c, PREFIX-r, PREFIX-s
#   conformance/topology.sh down PREFIX   delete them
#
# record.sh calls this; so does ctguard-record between the runs of a repeat-runs scenario (a
# fresh router namespace has a fresh conntrack hash seed). Needs root. The names, MACs and
# addresses must match crates/scenario/src/topology.rs.
set -euo pipefail

[ $# -eq 2 ] || { sed -n '4,5p' "$0" >&2; exit 2; }
action=$1 prefix=$2
C=$prefix-c R=$prefix-r S=$prefix-s

if [ "$action" = down ]; then
    for ns in "$C" "$R" "$S"; do ip netns del "$ns" 2>/dev/null || true; done
    exit 0
fi
[ "$action" = up ] || { echo "topology.sh: up or down, not $action" >&2; exit 2; }

for ns in "$C" "$R" "$S"; do
    if [ -e "/run/netns/$ns" ]; then
        echo "topology.sh: namespace $ns exists: another recording? use another prefix" >&2
        exit 1
    fi
done
trap 'rc=$?; [ $rc -eq 0 ] || "$0" down "$prefix"; exit $rc' EXIT

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
