#!/bin/bash
# Records REJECT replies and LOG lines from the running kernel into this directory.
# Three namespaces: client A -- router R -- server C; the rules are in R. Root needed.
# Usage: sudo ./capture.sh
set -eu
here=$(cd "$(dirname "$0")" && pwd)
p=rjt-$$
A=$p-a R=$p-r C=$p-c
old_all_netns=$(cat /proc/sys/net/netfilter/nf_log_all_netns)
cleanup() {
    ip netns del "$A" 2>/dev/null || true
    ip netns del "$R" 2>/dev/null || true
    ip netns del "$C" 2>/dev/null || true
    echo "$old_all_netns" > /proc/sys/net/netfilter/nf_log_all_netns
}
trap cleanup EXIT
for n in $A $R $C; do ip netns add "$n"; ip -n "$n" link set lo up; done
ip link add a0 netns "$A" type veth peer name r0 netns "$R"
ip link add c0 netns "$C" type veth peer name r1 netns "$R"
inA() { ip netns exec "$A" "$@"; }
inR() { ip netns exec "$R" "$@"; }
inC() { ip netns exec "$C" "$@"; }
for n in $A $R $C; do
    ip netns exec "$n" sysctl -qw net.ipv6.conf.all.accept_dad=0 net.ipv6.conf.default.accept_dad=0
done
inA ip addr add 10.77.1.1/24 dev a0; inA ip addr add fd77:1::1/64 dev a0 nodad
inR ip addr add 10.77.1.2/24 dev r0; inR ip addr add fd77:1::2/64 dev r0 nodad
inR ip addr add 10.77.2.2/24 dev r1; inR ip addr add fd77:2::2/64 dev r1 nodad
inC ip addr add 10.77.2.1/24 dev c0; inC ip addr add fd77:2::1/64 dev c0 nodad
inA ip link set a0 up; inR ip link set r0 up; inR ip link set r1 up; inC ip link set c0 up
inA ip route add default via 10.77.1.2; inA ip -6 route add default via fd77:1::2
inC ip route add default via 10.77.2.2; inC ip -6 route add default via fd77:2::2
inR sysctl -qw net.ipv4.ip_forward=1 net.ipv6.conf.all.forwarding=1
# No per-peer limit while recording replies (the rate-limit phase turns it back on).
inR sysctl -qw net.ipv4.icmp_ratelimit=0 net.ipv6.icmp.ratelimit=0
rmac=$(inR cat /sys/class/net/r0/address)
# Static neighbours, so no reply is held back by ARP / neighbour discovery.
amac=$(inA cat /sys/class/net/a0/address); cmac=$(inC cat /sys/class/net/c0/address)
r1mac=$(inR cat /sys/class/net/r1/address)
inR ip neigh replace 10.77.1.1 lladdr "$amac" dev r0 nud permanent
inR ip neigh replace fd77:1::1 lladdr "$amac" dev r0 nud permanent
inR ip neigh replace 10.77.2.1 lladdr "$cmac" dev r1 nud permanent
inR ip neigh replace fd77:2::1 lladdr "$cmac" dev r1 nud permanent
inA ip neigh replace 10.77.1.2 lladdr "$rmac" dev a0 nud permanent
inA ip neigh replace fd77:1::2 lladdr "$rmac" dev a0 nud permanent
inC ip neigh replace 10.77.2.2 lladdr "$r1mac" dev c0 nud permanent
inC ip neigh replace fd77:2::2 lladdr "$r1mac" dev c0 nud permanent

ipt() { inR iptables "$@"; }
ip6t() { inR ip6tables "$@"; }
# LOG rules first (their ports are not used by the REJECT probes).
ipt -A INPUT -p udp --dport 3001 -j LOG --log-prefix "$p-T1 "
ipt -A INPUT -p tcp --dport 3002 -j LOG --log-prefix "$p-T2 " --log-tcp-sequence --log-tcp-options --log-ip-options
ipt -A INPUT -p tcp --dport 3002 -j LOG --log-prefix "$p-T2b "
ipt -A INPUT -p tcp --dport 3003 -j LOG --log-prefix "$p-T3 " --log-macdecode --log-level 7
ipt -A INPUT -p icmp --icmp-type destination-unreachable -j LOG --log-prefix "$p-T4 "
ipt -A FORWARD -p udp -j LOG --log-prefix "$p-T7 "
ipt -A FORWARD -f -j LOG --log-prefix "$p-T7f "
ipt -A OUTPUT -p udp --dport 3005 -j LOG --log-prefix "$p-T5 " --log-uid
ipt -A OUTPUT -p udp --dport 3006 -j LOG --log-prefix "$p-T6 "
ip6t -A INPUT -p tcp --dport 3009 -j LOG --log-prefix "$p-T9 " --log-tcp-sequence --log-tcp-options --log-macdecode
ip6t -A INPUT -p udp --dport 3010 -j LOG --log-prefix "$p-T10 "
ip6t -A INPUT -m frag -j LOG --log-prefix "$p-T10f "
ip6t -A INPUT -p tcp --dport 3011 -j LOG --log-prefix "$p-T11 "
for t in iptables ip6tables; do inR $t -A INPUT -p udp --dport 3000:3100 -j DROP; inR $t -A INPUT -p tcp --dport 3000:3100 -j DROP; done

ipt -A INPUT -p tcp --dport 81 -j REJECT --reject-with tcp-reset
ipt -A FORWARD -p tcp --dport 81 -j REJECT --reject-with tcp-reset
i=0
for k in icmp-net-unreachable icmp-host-unreachable icmp-proto-unreachable icmp-port-unreachable \
         icmp-net-prohibited icmp-host-prohibited icmp-admin-prohibited; do
    ipt -A INPUT -p udp --dport $((2000 + i)) -j REJECT --reject-with $k; i=$((i + 1))
done
ipt -A INPUT -p icmp --icmp-type echo-request -j REJECT --reject-with icmp-host-prohibited
ipt -A INPUT -p icmp -j REJECT
ipt -A INPUT -p 253 -j REJECT --reject-with icmp-proto-unreachable
ipt -A FORWARD -p udp -j REJECT
ipt -A FORWARD -f -j REJECT
ip6t -A INPUT -p tcp --dport 81 -j REJECT --reject-with tcp-reset
ip6t -A FORWARD -p tcp --dport 81 -j REJECT --reject-with tcp-reset
i=0
for k in icmp6-no-route icmp6-adm-prohibited icmp6-addr-unreachable icmp6-port-unreachable \
         icmp6-policy-fail icmp6-reject-route; do
    ip6t -A INPUT -p udp --dport $((2000 + i)) -j REJECT --reject-with $k; i=$((i + 1))
done
ip6t -A INPUT -p icmpv6 --icmpv6-type echo-request -j REJECT --reject-with icmp6-adm-prohibited
ip6t -A INPUT -p icmpv6 --icmpv6-type destination-unreachable -j REJECT
ip6t -A FORWARD -p udp -j REJECT
ip6t -A FORWARD -m frag -j REJECT

echo 1 > /proc/sys/net/netfilter/nf_log_all_netns
mkdir -p "$here/cases"
timeout 300 ip netns exec "$A" /usr/bin/python3 "$here/capture.py" "$here/cases" a0 "$rmac" reject

# LOG lines.

timeout 60 ip netns exec "$A" /usr/bin/python3 "$here/capture.py" "$here/cases" a0 "$rmac" log
inR /usr/bin/python3 -c 'import socket; s=socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.sendto(b"local", ("10.77.1.1", 3005)); s.sendto(b"local", ("10.77.1.1", 3006))'
sleep 0.5
dmesg | grep -F "$p-T" | sed -e "s/^\[[ 0-9.]*\] //" -e "s/$p-//" > "$here/log-lines.txt"

# Rate limit: per-peer bucket back on (1000 ms, burst 6), ten UDP probes in a row.
inR sysctl -qw net.ipv4.icmp_ratelimit=1000
ip netns exec "$A" timeout 20 tcpdump -q -n -i a0 -w /tmp/$p-rl.pcap "icmp and ether src $rmac" 2>/dev/null & tpid=$!
sleep 1
timeout 60 ip netns exec "$A" /usr/bin/python3 "$here/capture.py" "$here/cases" a0 "$rmac" ratelimit
sleep 1
kill "$tpid"; wait "$tpid" 2>/dev/null || true
echo "ratelimit: $(tcpdump -r /tmp/$p-rl.pcap 2>/dev/null | wc -l) replies to 10 probes" | tee "$here/ratelimit.txt"
rm -f /tmp/$p-rl.pcap
