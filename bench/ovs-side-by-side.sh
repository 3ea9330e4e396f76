#!/usr/bin/env bash
# Side-by-side benchmark: Open vSwitch's userspace conntrack vs ctguard.
#
# Builds OVS (Debian's openvswitch-source package, userspace only) under
# target/ovs/ and ctguard (release), then runs the two alternately, A B A B,
# and prints each pair's Mpps, the medians and the median per-pair ratio.
#
#   UDP (default): A = ovstest test-conntrack benchmark T N B
#                  B = ctguard bench ovs-udp-1flow --threads T --packets N --batch B
#   TCP (--tcp):   A = target/ovs/tcp_mix --conns C --batch B  (bench/ovs/tcp_mix.c)
#                  B = ctguard bench tcp-lifecycle --conns C --json
#
# See bench/README.md. Nothing of OVS is kept in the repository: its sources
# are extracted into target/ (git-ignored).
set -euo pipefail

usage() {
    cat <<'EOF'
usage: bench/ovs-side-by-side.sh [options]
  --pairs N     A/B pairs to run (default 5)
  --packets N   UDP: packets per thread, as OVS counts them (default 3000000)
  --batch B     packets per conntrack_execute() call, 1..32 (default 32)
  --threads T   UDP: threads (default 1)
  --tcp         run the TCP connection-lifecycle mix instead of UDP
  --conns C     TCP: connections, 10 packets each (default 100000)
  -h, --help    this text
EOF
}

pairs=5 packets=3000000 batch=32 threads=1 tcp=0 conns=100000
while [ $# -gt 0 ]; do
    case "$1" in
        --pairs) pairs=${2:?--pairs needs a value}; shift 2 ;;
        --packets) packets=${2:?--packets needs a value}; shift 2 ;;
        --batch) batch=${2:?--batch needs a value}; shift 2 ;;
        --threads) threads=${2:?--threads needs a value}; shift 2 ;;
        --conns) conns=${2:?--conns needs a value}; shift 2 ;;
        --tcp) tcp=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "unknown option: $1" >&2; usage >&2; exit 2 ;;
    esac
done
for v in pairs packets batch threads conns; do
    if ! [[ ${!v} =~ ^[1-9][0-9]*$ ]]; then
        echo "--$v must be a positive integer" >&2
        exit 2
    fi
done
if [ "$batch" -gt 32 ]; then
    echo "--batch must be 1..32 (OVS's NETDEV_MAX_BURST)" >&2
    exit 2
fi
if [ "$tcp" = 1 ] && [ "$threads" != 1 ]; then
    echo "--tcp runs single-threaded on both sides; --threads is for the UDP run" >&2
    exit 2
fi

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$ROOT"
OVS_DIR=$ROOT/target/ovs
OVS_SRC=$OVS_DIR/src
OVSTEST=$OVS_SRC/tests/ovstest
TCP_MIX=$OVS_DIR/tcp_mix
BUILD_LOG=$OVS_DIR/build.log
CTGUARD=${CARGO_TARGET_DIR:-$ROOT/target}/release/ctguard

log() { echo "==> $*" >&2; }

# --- 1. Packages -------------------------------------------------------------
# The tarball ships a generated ./configure and Makefile.in, so autotools are
# not needed; python3 generates some sources (IDL, odp-netlink.h).
PKGS=(openvswitch-source build-essential python3)
missing=()
for p in "${PKGS[@]}"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'ok installed'; then
        missing+=("$p")
    fi
done
if [ ${#missing[@]} -gt 0 ]; then
    if [ "$(id -u)" != 0 ]; then
        echo "missing packages (${missing[*]}); run as root to install them" >&2
        exit 1
    fi
    # Refresh the package lists only when apt does not know the package yet.
    if ! apt-cache policy openvswitch-source 2>/dev/null | grep -q 'Candidate: [0-9]'; then
        log "apt-get update"
        apt-get update
    fi
    log "apt-get install -y ${missing[*]}"
    DEBIAN_FRONTEND=noninteractive apt-get install -y "${missing[@]}"
fi

# --- 2. OVS (userspace only) -------------------------------------------------
if [ ! -x "$OVSTEST" ]; then
    start=$(date +%s)
    if [ ! -f "$OVS_SRC/Makefile" ]; then
        tarball=$(ls /usr/src/openvswitch/openvswitch.tar.* /usr/src/openvswitch.tar.* 2>/dev/null | head -n1 || true)
        if [ -z "$tarball" ]; then
            echo "no OVS tarball found in /usr/src (dpkg -L openvswitch-source)" >&2
            exit 1
        fi
        log "extracting $tarball into $OVS_SRC"
        rm -rf "$OVS_SRC"
        mkdir -p "$OVS_SRC"
        : >"$BUILD_LOG"
        tar xf "$tarball" -C "$OVS_SRC" --strip-components=1
        log "configuring OVS (userspace only, -g -O2, output in $BUILD_LOG)"
        # OVS >= 3.0 has no kernel module; DPDK and AF_XDP are off by default.
        # SSL and libcap-ng are not used by conntrack: disabled so the build
        # does not depend on which -dev packages happen to be installed.
        py3=()
        [ -x /usr/bin/python3 ] && py3=(PYTHON3=/usr/bin/python3)
        (cd "$OVS_SRC" && ./configure --disable-ssl --disable-libcapng \
            --disable-afxdp CFLAGS="-g -O2" "${py3[@]}") >"$BUILD_LOG" 2>&1 ||
            { tail -n 30 "$BUILD_LOG" >&2; echo "configure failed, see $BUILD_LOG" >&2; exit 1; }
    fi
    log "building tests/ovstest (make -j2, output in $BUILD_LOG)"
    # Generated headers (BUILT_SOURCES) are only made by `make all`; make them
    # first, then the one program we need.
    built=$(cd "$OVS_SRC" && printf 'print-built-sources:\n\t@echo $(BUILT_SOURCES)\n' \
        | make -s -f Makefile -f - print-built-sources)
    # shellcheck disable=SC2086
    { make -C "$OVS_SRC" -j2 $built && make -C "$OVS_SRC" -j2 tests/ovstest; } >>"$BUILD_LOG" 2>&1 ||
        { tail -n 30 "$BUILD_LOG" >&2; echo "OVS build failed, see $BUILD_LOG" >&2; exit 1; }
    log "OVS built in $(( $(date +%s) - start ))s"
fi
ovs_version="Open vSwitch $(sed -n 's/^#define PACKAGE_VERSION "\(.*\)"$/\1/p' "$OVS_SRC/config.h")"
ovs_version+=" (Debian openvswitch-source $(dpkg-query -W -f='${Version}' openvswitch-source 2>/dev/null || echo '?'))"

# --- 3. Our TCP driver -------------------------------------------------------
if [ "$tcp" = 1 ]; then
    src=$ROOT/bench/ovs/tcp_mix.c
    lib=$OVS_SRC/lib/.libs/libopenvswitch.a
    if [ ! -x "$TCP_MIX" ] || [ "$src" -nt "$TCP_MIX" ] || [ "$lib" -nt "$TCP_MIX" ]; then
        log "compiling $TCP_MIX"
        libs=("$lib")
        [ -f "$OVS_SRC/lib/.libs/libopenvswitchavx512.a" ] &&
            libs+=("$OVS_SRC/lib/.libs/libopenvswitchavx512.a")
        # The libraries OVS itself links with (whatever configure found).
        deps=$(cd "$OVS_SRC" && printf 'print-libs:\n\t@echo $(lib_libopenvswitch_la_LIBADD) $(LIBS)\n' \
            | make -s -f Makefile -f - print-libs | tr ' ' '\n' | { grep '^-l' || true; } | tr '\n' ' ')
        # shellcheck disable=SC2086
        gcc -g -O2 -Wall -Wextra -Wno-sign-compare -Wno-unused-parameter \
            -I"$OVS_SRC" -I"$OVS_SRC/include" -I"$OVS_SRC/lib" \
            -o "$TCP_MIX" "$src" "${libs[@]}" $deps -lpthread -lrt -lm
    fi
fi

# --- 4. ctguard --------------------------------------------------------------
log "cargo build --release -p ctguard"
cargo build --release -p ctguard

# --- 5. Run, alternating -----------------------------------------------------
# Each run prints one line "MPPS" (and a note on stderr); OVS's benchmark
# prints only "conntrack:  NNN ms", at millisecond resolution.
run_ovs_udp() {
    local out ms
    out=$("$OVSTEST" test-conntrack benchmark "$threads" "$packets" "$batch")
    ms=$(sed -n 's/^conntrack: *\([0-9][0-9]*\) ms$/\1/p' <<<"$out")
    if [ -z "$ms" ]; then
        echo "unexpected ovstest output: $out" >&2
        return 1
    elif [ "$ms" = 0 ]; then
        echo "ovstest took 0 ms (it times in whole ms); use more --packets" >&2
        return 1
    fi
    # Each of the T threads loops i = 0, B, 2B, ... < N, B packets per call.
    python3 -c 'import sys
t, n, b, ms = map(int, sys.argv[1:])
print("%.4f" % (t * ((n + b - 1) // b) * b / (ms * 1e3)))' "$threads" "$packets" "$batch" "$ms"
}

json_mpps() {
    python3 -c 'import json, sys
lines = [l for l in sys.stdin.read().splitlines() if l.startswith("{")]
if not lines:
    sys.exit("no JSON line in output")
r = json.loads(lines[-1])
if r.get("invalid", 0) or r.get("untracked", 0):
    print("warning: OVS marked %s packets invalid, %s untracked"
          % (r.get("invalid"), r.get("untracked")), file=sys.stderr)
print("%.4f" % r["mpps"])'
}

# tcp_mix exits 1 when OVS marked packets invalid; json_mpps warns about that.
run_ovs_tcp() { { "$TCP_MIX" --conns "$conns" --batch "$batch" || true; } | json_mpps; }

run_ctguard_udp() {
    "$CTGUARD" bench ovs-udp-1flow --threads "$threads" --packets "$packets" \
        --batch "$batch" --json | json_mpps
}

run_ctguard_tcp() { "$CTGUARD" bench tcp-lifecycle --conns "$conns" --json | json_mpps; }

if [ "$tcp" = 1 ]; then
    mode=tcp
    echo "TCP lifecycle mix: $conns connections x 10 packets, batch $batch (OVS side), 1 thread"
    echo "  A: $TCP_MIX --conns $conns --batch $batch"
    echo "  B: $CTGUARD bench tcp-lifecycle --conns $conns --json"
else
    mode=udp
    echo "UDP 1 flow per thread: $threads thread(s) x $packets packets, batch $batch"
    echo "  A: $OVSTEST test-conntrack benchmark $threads $packets $batch"
    echo "  B: $CTGUARD bench ovs-udp-1flow --threads $threads --packets $packets --batch $batch --json"
fi
echo "  OVS: $ovs_version"

ovs_all=() ct_all=()
for i in $(seq 1 "$pairs"); do
    a=$(run_ovs_$mode)
    b=$(run_ctguard_$mode)
    ovs_all+=("$a") ct_all+=("$b")
    python3 -c 'import sys
i, a, b = sys.argv[1], float(sys.argv[2]), float(sys.argv[3])
print("pair %s: ovs %.2f Mpps, ctguard %.2f Mpps, ratio %.2fx" % (i, a, b, b / a))' "$i" "$a" "$b"
done

python3 - "${ovs_all[*]}" "${ct_all[*]}" <<'EOF'
import statistics, sys
ovs = [float(x) for x in sys.argv[1].split()]
ct = [float(x) for x in sys.argv[2].split()]
ratios = [b / a for a, b in zip(ovs, ct)]
print("median: ovs %.2f Mpps, ctguard %.2f Mpps, ratio %.2fx (%d pairs)"
      % (statistics.median(ovs), statistics.median(ct), statistics.median(ratios), len(ovs)))
EOF
