#!/usr/bin/env bash
# `husk run --rm busybox true` on the default bridge network against
# `--network none`, in the same run: the cost of a netns, a veth pair, an
# address, the nft table check and their teardown. Median of RUNS each.
# Run by hand as root after `cargo build --release -p husk -p husk-runtime`:
#   bench/network.sh
# (nsenter, not `ip netns exec`: that one remounts /sys and hides the
# cgroup hierarchies.) Everything happens inside a network namespace made for the run (its
# bridge, subnet and nft table go with it) and under a private root and
# runroot on /dev/shm. No assertions: it prints the figures.
set -euo pipefail

ROOT_DIR=$(cd "$(dirname "$0")/.." && pwd)
HUSK=${HUSK:-$ROOT_DIR/target/release/husk}
RUNS=${RUNS:-30}
BUSYBOX=${BUSYBOX:-/bin/busybox}
[ -x "$HUSK" ] || { echo "build first: cargo build --release -p husk -p husk-runtime" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "run as root" >&2; exit 1; }

WORK=$(mktemp -d /dev/shm/husk-netbench.XXXXXX)
NS=husk-netbench-$$
ip netns add "$NS"
ip -n "$NS" link set lo up
cleanup() {
    nsenter --net="/run/netns/$NS" "$HUSK" --root "$WORK/root" --runroot "$WORK/run" \
        --config "$WORK/config.toml" ps -aq 2>/dev/null |
        xargs -r nsenter --net="/run/netns/$NS" "$HUSK" --root "$WORK/root" --runroot "$WORK/run" \
            --config "$WORK/config.toml" rm -f >/dev/null 2>&1 || true
    ip netns del "$NS" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT

: > "$WORK/config.toml"
mkdir -p "$WORK/rootfs/bin"
cp "$BUSYBOX" "$WORK/rootfs/bin/busybox"
for a in sh true; do ln -s busybox "$WORK/rootfs/bin/$a"; done
mkdir -p "$WORK/rootfs/etc" "$WORK/rootfs/proc" "$WORK/rootfs/sys" "$WORK/rootfs/dev" "$WORK/rootfs/tmp"
tar -C "$WORK/rootfs" -cf "$WORK/busybox.tar" .
h() { nsenter --net="/run/netns/$NS" "$HUSK" --root "$WORK/root" --runroot "$WORK/run" --config "$WORK/config.toml" "$@"; }
h import "$WORK/busybox.tar" busybox >/dev/null

now() { date +%s%N; }
median() { # median of RUNS timings (ms) of the command
    local name=$1; shift
    local times=()
    "$@" >/dev/null # warm-up: creates the bridge and the table once
    for _ in $(seq "$RUNS"); do
        local t0 t1; t0=$(now); "$@" >/dev/null; t1=$(now)
        times+=("$(( (t1 - t0) / 1000 ))")
    done
    local m
    m=$(printf '%s\n' "${times[@]}" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    printf '%-40s median %7.1f ms  (%s runs)\n' "$name" "$(echo "$m / 1000" | bc -l)" "$RUNS"
}

median "husk run --rm busybox true (bridge)" h run --rm busybox true
median "husk run --rm --network none busybox true" h run --rm --network none busybox true
median "husk run --rm -p 18080:80 busybox true" h run --rm -p 18080:80 busybox true
