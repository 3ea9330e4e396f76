#!/usr/bin/env bash
# Replays a capture through the real kernel's router and records which frames it forwarded.
#
#   conformance/record-pcap.sh [--prefix P] [--runs N] --server PREFIX --rules FILE
#                              [--sysctl FILE] --out DIR PCAP
#
# Needs root. Builds ctguard-record (release) and runs `ctguard-record pcap`, which makes fresh
# namespaces P-c, P-r, P-s (P defaults to ctg, or $CTG_PREFIX) for every run and deletes them.
# This script also restores the global sysctls (nf_conntrack_max, nf_conntrack_buckets,
# nf_log_all_netns) and deletes the namespaces on exit, error or Ctrl-C, in case the recorder
# could not.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
prefix=${CTG_PREFIX:-ctg}
args=("$@")
for ((i = 0; i < ${#args[@]}; i++)); do
    case ${args[i]} in
        --prefix) prefix=${args[i + 1]:-} ;;
        -h|--help) sed -n '2,11p' "$0"; exit 0 ;;
    esac
done
[ "$(id -u)" = 0 ] || { echo "record-pcap.sh: needs root" >&2; exit 1; }
for tool in ip nft iptables iptables-restore iptables-save conntrack cargo; do
    command -v "$tool" >/dev/null || { echo "record-pcap.sh: $tool is missing" >&2; exit 1; }
done
for ns in "$prefix-c" "$prefix-r" "$prefix-s"; do
    if [ -e "/run/netns/$ns" ]; then
        echo "record-pcap.sh: namespace $ns exists: another recording? use --prefix" >&2
        exit 1
    fi
done

(cd "$root" && cargo build --quiet --release -p ctguard-recorder)
bin="${CARGO_TARGET_DIR:-$root/target}/release/ctguard-record"

globals=(nf_conntrack_max nf_conntrack_buckets nf_log_all_netns)
declare -A saved
for g in "${globals[@]}"; do saved[$g]=$(cat /proc/sys/net/netfilter/$g); done

cleanup() {
    local rc=$?
    trap - EXIT INT TERM HUP
    for g in "${globals[@]}"; do
        if [ "$(cat /proc/sys/net/netfilter/$g)" != "${saved[$g]}" ]; then
            echo "record-pcap.sh: restoring net.netfilter.$g=${saved[$g]}" >&2
            echo "${saved[$g]}" > /proc/sys/net/netfilter/$g || echo "record-pcap.sh: FAILED to restore $g" >&2
        fi
    done
    # The namespaces did not exist before (checked above): they are this recording's.
    "$here/topology.sh" down "$prefix"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

"$bin" pcap --prefix "$prefix" --topology "$here/topology.sh" "$@"
