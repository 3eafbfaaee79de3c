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
#
# Then `compose up -d` + `down` of a three-service app (a web server with a
# published port and a healthcheck, an app that waits until web is healthy,
# a one-shot job): `husk compose` against Debian's docker-compose 1.29.2 on a
# private dockerd the script starts inside the same netns (its data root,
# exec root, socket and containerd under the work dir; both stopped by PID
# on exit). Median of COMPOSE_RUNS each and the ratio husk/docker-compose.
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
DOCKERD_PID=
cleanup() {
    stop_dockerd
    nsenter --net="/run/netns/$NS" "$HUSK" --root "$WORK/root" --runroot "$WORK/run" \
        --config "$WORK/config.toml" ps -aq 2>/dev/null |
        xargs -r nsenter --net="/run/netns/$NS" "$HUSK" --root "$WORK/root" --runroot "$WORK/run" \
            --config "$WORK/config.toml" rm -f >/dev/null 2>&1 || true
    ip netns del "$NS" 2>/dev/null || true
    rm -rf "$WORK"
}
# dockerd by its PID (it stops its containers, then its containerd), then
# its containerd by PID if it outlived it, what they left mounted under the
# work dir, and their cgroup parent (named after the netns).
stop_dockerd() {
    [ -n "$DOCKERD_PID" ] || return 0
    local ctrd
    ctrd=$(cat "$WORK/docker/exec/containerd/containerd.pid" 2>/dev/null || true)
    kill -TERM "$DOCKERD_PID" 2>/dev/null || true
    for _ in $(seq 100); do kill -0 "$DOCKERD_PID" 2>/dev/null || break; sleep 0.2; done
    kill -KILL "$DOCKERD_PID" 2>/dev/null || true
    wait "$DOCKERD_PID" 2>/dev/null || true
    if [ -n "$ctrd" ] && kill -0 "$ctrd" 2>/dev/null; then kill -KILL "$ctrd" 2>/dev/null || true; fi
    awk -v w="$WORK/docker" 'index($5, w) == 1 {print $5}' /proc/self/mountinfo | sort -r |
        while read -r m; do umount -l "$m" 2>/dev/null || true; done
    for h in /sys/fs/cgroup/*/"$NS"; do
        [ -d "$h" ] && { find "$h" -depth -type d -exec rmdir {} \; 2>/dev/null || true; }
    done
    DOCKERD_PID=
}
trap cleanup EXIT

: > "$WORK/config.toml"
mkdir -p "$WORK/rootfs/bin"
cp "$BUSYBOX" "$WORK/rootfs/bin/busybox"
for a in sh true httpd wget sleep mkdir; do ln -s busybox "$WORK/rootfs/bin/$a"; done
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

# --- compose up -d + down: husk compose vs docker-compose on dockerd -------
COMPOSE_RUNS=${COMPOSE_RUNS:-10}
DOCKER_COMPOSE=${DOCKER_COMPOSE:-/usr/bin/docker-compose}
if [ ! -x "$DOCKER_COMPOSE" ] || [ ! -x /usr/sbin/dockerd ]; then
    echo "compose case skipped: needs docker-compose and docker.io (make deps)"
    exit 0
fi
# The health interval is 100ms: `up` waits until web is healthy, and
# dockerd 20.10 runs the first check one interval after the start, so a
# long interval would only measure the wait. SIGKILL as stop signal: httpd
# and sleep as PID 1 ignore SIGTERM, and `down` would measure the timeout.
mkdir -p "$WORK/compose"
cat > "$WORK/compose/compose.yaml" <<'YAML'
services:
  web:
    image: busybox
    command: ["sh", "-c", "mkdir -p /www && echo hi > /www/index.html && exec httpd -f -p 80 -h /www"]
    ports: ["18580:80"]
    stop_signal: SIGKILL
    healthcheck:
      test: ["CMD", "wget", "-q", "-O", "/dev/null", "http://127.0.0.1/"]
      interval: 100ms
      retries: 100
  app:
    image: busybox
    command: ["sleep", "86400"]
    stop_signal: SIGKILL
    depends_on:
      web:
        condition: service_healthy
  job:
    image: busybox
    command: ["sh", "-c", "echo job-done"]
YAML
D=$WORK/docker
mkdir -p "$D/data" "$D/exec" "$D/config"
echo '{}' > "$D/daemon.json"
echo '{}' > "$D/config/config.json"
# No host changes: no docker0, no iptables; compose's bridge network and
# the docker-proxy of the published port live in the netns.
nsenter --net="/run/netns/$NS" /usr/sbin/dockerd --data-root="$D/data" --exec-root="$D/exec" \
    --pidfile="$D/docker.pid" --config-file="$D/daemon.json" -H "unix://$D/docker.sock" \
    --cgroup-parent="/$NS" --bridge=none --iptables=false --ip6tables=false \
    --ip-forward=false --ip-masq=false --shutdown-timeout=5 >"$D/dockerd.log" 2>&1 &
DOCKERD_PID=$!
export DOCKER_HOST="unix://$D/docker.sock" DOCKER_CONFIG="$D/config"
for _ in $(seq 300); do
    /usr/bin/docker version >/dev/null 2>&1 && break
    kill -0 "$DOCKERD_PID" 2>/dev/null || { cat "$D/dockerd.log" >&2; exit 1; }
    sleep 0.2
done
/usr/bin/docker import "$WORK/busybox.tar" busybox >/dev/null

hc() { h compose -f "$WORK/compose/compose.yaml" -p hb "$@"; }
dc() { "$DOCKER_COMPOSE" -f "$WORK/compose/compose.yaml" -p hb "$@"; }
med() { printf '%s\n' "$@" | sort -n | awk '{a[NR]=$1} END {printf "%.1f", a[int((NR+1)/2)] / 1000}'; }
# COMPOSE_RUNS cycles of `up -d` then `down` after a warm-up one; sets
# UP_MS, DOWN_MS and CYCLE_MS to the medians.
compose_cycles() {
    local ups=() downs=() cycles=() t0 t1 t2
    "$@" up -d >/dev/null 2>&1
    "$@" down >/dev/null 2>&1
    for _ in $(seq "$COMPOSE_RUNS"); do
        t0=$(now)
        "$@" up -d >/dev/null 2>&1
        t1=$(now)
        "$@" down >/dev/null 2>&1
        t2=$(now)
        ups+=("$(( (t1 - t0) / 1000 ))")
        downs+=("$(( (t2 - t1) / 1000 ))")
        cycles+=("$(( (t2 - t0) / 1000 ))")
    done
    UP_MS=$(med "${ups[@]}")
    DOWN_MS=$(med "${downs[@]}")
    CYCLE_MS=$(med "${cycles[@]}")
}
echo
echo "compose up -d, then down: web (published port, healthcheck) + app (waits for web"
echo "healthy) + one-shot job; health interval 100ms, so the figures are not wait-bound;"
echo "median of $COMPOSE_RUNS runs each"
compose_cycles hc
H_UP=$UP_MS H_DOWN=$DOWN_MS H_CYCLE=$CYCLE_MS
compose_cycles dc
D_UP=$UP_MS D_DOWN=$DOWN_MS D_CYCLE=$CYCLE_MS
printf '%-40s %10s %10s %10s\n' "" "up -d" "down" "up+down"
printf '%-40s %7.1f ms %7.1f ms %7.1f ms\n' "husk compose" "$H_UP" "$H_DOWN" "$H_CYCLE"
printf '%-40s %7.1f ms %7.1f ms %7.1f ms\n' "docker-compose 1.29.2 + dockerd 20.10" \
    "$D_UP" "$D_DOWN" "$D_CYCLE"
printf '%-40s %10.2f %10.2f %10.2f   (target <= 0.3)\n' "ratio husk/docker-compose" \
    "$(echo "$H_UP / $D_UP" | bc -l)" "$(echo "$H_DOWN / $D_DOWN" | bc -l)" \
    "$(echo "$H_CYCLE / $D_CYCLE" | bc -l)"
