#!/usr/bin/env bash
# Records the kernel's default conntrack settings, as a fresh child network namespace sees
# them, into conformance/goldens/sysctl-defaults.txt (`key = value` lines, `sysctl -a` style),
# and that namespace's `conntrack -S` output, byte for byte, into conntrack-S.txt.
# Needs root. Creates one namespace and always deletes it.
set -euo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
ns=ctg-sysctl-$$
trap 'ip netns del "$ns" 2>/dev/null || true' EXIT
ip netns add "$ns"
# A conntrack match makes the namespace load its tracker (and its sysctls).
ip netns exec "$ns" iptables -A INPUT -m conntrack --ctstate INVALID
{
    echo "# recorded on Linux $(uname -r) in a fresh child namespace; do not edit"
    ip netns exec "$ns" sysctl -a 2>/dev/null |
        grep -E '^net\.netfilter\.nf_conntrack_|^net\.ipv4\.ipfrag_(time|high_thresh|low_thresh) ' |
        grep -vE 'nf_conntrack_count|nf_conntrack_(dccp|sctp)_|nf_conntrack_(events|expect_max|helper|timestamp|hooks)' |
        sort
} > "$here/goldens/sysctl-defaults.txt"
ip netns exec "$ns" conntrack -S > "$here/goldens/conntrack-S.txt"
echo "wrote $here/goldens/sysctl-defaults.txt and $here/goldens/conntrack-S.txt"
