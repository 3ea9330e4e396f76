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
for tool in ip nft iptables ip6tables iptables-restore ip6tables-restore iptables-save ip6tables-save conntrack cargo; do
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
    [ -z "${topology_up:-}" ] || "$here/topology.sh" down "$prefix"
    exit "$rc"
}
trap cleanup EXIT
trap 'exit 130' INT TERM HUP

"$here/topology.sh" up "$prefix"
topology_up=1
mkdir -p "$out"
"$bin" --prefix "$prefix" --out "$out" --topology "$here/topology.sh" "${scenarios[@]}"
