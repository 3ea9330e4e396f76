#!/usr/bin/env bash
# The three-way flood comparison in the README: legitimate connections completed under a
# spoofed SYN flood of 2x, 10x and 100x nf_conntrack_max per SYN timeout, by the real
# kernel, by ctguard's kernel policy and by ctguard's protect policy, on the same packets.
#
#   sudo conformance/protect-vs-kernel.sh [--runs N] [--seeds N] [--out DIR] [FACTOR ...]
#
# For each factor (default 2 10 100): `ctguard simulate examples/profiles/flood-Fx.toml`
# writes the pcap; conformance/record-pcap.sh plays it through the kernel's router N times
# (default 3, fresh namespaces and hash seed each time); `ctguard replay` plays it under the
# kernel policy with N hash seeds and once under protect (examples/protect.conf). All count
# the clients' (10.98.1.0/24) connections whose every packet passed the router
# (conformance/flood/forward.rules, conformance/flood/flood.conf). Prints the table as
# Markdown and writes it, with every run's files, to DIR (default target/protect-vs-kernel).
# Needs root, iproute2, iptables, conntrack, python3 (for the table) and about 50 s a run.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
root=$(cd "$here/.." && pwd)
runs=3 seeds=3 out="$root/target/protect-vs-kernel"
factors=()
while [ $# -gt 0 ]; do
    case $1 in
        --runs) runs=$2; shift 2 ;;
        --seeds) seeds=$2; shift 2 ;;
        --out) out=$2; shift 2 ;;
        -h|--help) sed -n '2,16p' "$0"; exit 0 ;;
        -*) echo "protect-vs-kernel.sh: unknown option $1" >&2; exit 2 ;;
        *) factors+=("$1"); shift ;;
    esac
done
[ ${#factors[@]} -gt 0 ] || factors=(2 10 100)
[ "$(id -u)" = 0 ] || { echo "protect-vs-kernel.sh: needs root" >&2; exit 1; }
command -v python3 >/dev/null || { echo "protect-vs-kernel.sh: python3 is missing" >&2; exit 1; }

(cd "$root" && cargo build --quiet --release -p ctguard)
ctguard="${CARGO_TARGET_DIR:-$root/target}/release/ctguard"
rules="$here/flood/forward.rules" conf="$here/flood/flood.conf"
clients=10.98.1.0/24
mkdir -p "$out"

for f in "${factors[@]}"; do
    profile="$root/examples/profiles/flood-${f}x.toml"
    [ -f "$profile" ] || { echo "protect-vs-kernel.sh: no $profile" >&2; exit 1; }
    pcap="$out/flood-${f}x.pcap"
    "$ctguard" simulate "$profile" --write-pcap "$pcap" --no-capacity >"$out/simulate-${f}x.txt"
    "$here/record-pcap.sh" --runs "$runs" --server 10.99.2.0/24 --rules "$rules" \
        --sysctl "$conf" --clients "$clients" --out "$out/kernel-${f}x" "$pcap"
    for s in $(seq 1 "$seeds"); do
        "$ctguard" replay "$pcap" --rules "$rules" --sysctl "$conf" --clients "$clients" \
            --seed "$s" --no-capacity --json "$out/ctguard-kernel-${f}x-seed$s.json" >/dev/null
    done
    "$ctguard" replay "$pcap" --rules "$rules" --sysctl "$conf" \
        --sysctl "$root/examples/protect.conf" --clients "$clients" --no-capacity \
        --json "$out/ctguard-protect-${f}x.json" >/dev/null 2>&1
done

python3 - "$out" "${factors[@]}" <<'PY' | tee "$out/table.md"
import glob, json, sys
out, factors = sys.argv[1], sys.argv[2:]
def pct(c, s): return 100.0 * c / s if s else 100.0
def span(vals):
    lo, hi = min(vals), max(vals)
    return f"{lo:.1f}%" if lo == hi else f"{lo:.1f}–{hi:.1f}%"
print("| flood (per SYN timeout) | Linux kernel | ctguard, kernel policy | ctguard, protect |")
print("|---|---|---|---|")
for f in factors:
    k = [json.load(open(p)) for p in sorted(glob.glob(f"{out}/kernel-{f}x/kernel-run-*.json"))]
    kp = [pct(r["clients_completed"], r["clients_started"]) for r in k]
    c = [json.load(open(p))["clients"] for p in sorted(glob.glob(f"{out}/ctguard-kernel-{f}x-seed*.json"))]
    cp = [pct(r["completed"], r["started"]) for r in c]
    p = json.load(open(f"{out}/ctguard-protect-{f}x.json"))["clients"]
    started = p["started"]
    print(f"| {f}x nf_conntrack_max | {span(kp)} ({len(kp)} runs) | {span(cp)} ({len(cp)} seeds) "
          f"| {pct(p['completed'], started):.1f}% |")
print()
print(f"Legitimate connections completed (every packet forwarded), of {started} per run.")
PY
