#!/usr/bin/env bash
# Building one Dockerfile (RUN and COPY steps on busybox) with `husk build`,
# `podman build` and `docker build` (a private dockerd, BuildKit), cold (the
# build cache empty: a fresh store with only the base image) and fully cached
# (the same build again), the tools taking turns in a rotating order each
# round; medians are shown, and the ratios to the fastest peer.
# Run by hand, as root (not part of `make test`):
#   bench/build.sh [ROUNDS]        (default 5)
# HUSK picks the husk binary (default target/release/husk, then target/debug/husk).
# BENCH_DIR picks the filesystem of the stores (default /var/tmp). No network is
# used (every build runs with --network none); every process the script starts
# is stopped by its PID, every dir and mount it made goes on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-5}
[ "$(id -u)" = 0 ] || { echo "run as root (stores keep owners and mount overlays)" >&2; exit 1; }
if [ -z "${HUSK:-}" ]; then
  HUSK=$PWD/target/release/husk
  [ -x "$HUSK" ] || HUSK=$PWD/target/debug/husk
fi
[ -x "$HUSK" ] || { echo "build husk first: cargo build --release -p husk -p husk-runtime" >&2; exit 1; }
TOOLS=(husk)
command -v podman >/dev/null && TOOLS+=(podman) || echo "podman missing: left out (apt-get install podman)" >&2
command -v dockerd >/dev/null && TOOLS+=(docker) || echo "dockerd missing: left out (apt-get install docker.io)" >&2
# BENCH_TOOLS="husk docker" picks a subset.
[ -z "${BENCH_TOOLS:-}" ] || read -r -a TOOLS <<< "$BENCH_TOOLS"
DOCKER_BIN=$(dirname "$(command -v dockerd 2>/dev/null || echo /usr/sbin/dockerd)")/../bin/docker
[ -x "$DOCKER_BIN" ] || DOCKER_BIN=$(command -v docker || true)

W=$(mktemp -d "${BENCH_DIR:-/var/tmp}/husk-bench-build.XXXXXX")
RUN=$(mktemp -d /run/hbb.XXXXXX)
PODMAN_RUN_BEFORE=$( (ls -d /run/libpod /run/containers 2>/dev/null || true) | wc -l)
DOCKERD_PID=""
stop() { # PID: SIGTERM, up to 20 s, then SIGKILL; only a process this script started
  local pid=$1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
unmount_all() { # every mount under $W and $RUN, deepest first
  awk -v w="$W" -v r="$RUN" '{ if (index($5, w) == 1 || index($5, r) == 1) print $5 }' /proc/self/mountinfo |
    sort -r | while read -r m; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
}
cleanup() {
  stop "$DOCKERD_PID"
  unmount_all
  rm -rf "$W" "$RUN"
  [ "$PODMAN_RUN_BEFORE" != 0 ] || rm -rf /run/libpod /run/containers
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The base image: Debian's busybox-static, as the tests build it.
mkdir -p "$W/rootfs/bin" "$W/rootfs/etc" "$W/rootfs/tmp" "$W/ctx/src"
cp /bin/busybox "$W/rootfs/bin/"
for a in $(/bin/busybox --list); do [ "$a" = busybox ] || ln -s busybox "$W/rootfs/bin/$a"; done
echo 'root:x:0:0:root:/root:/bin/sh' > "$W/rootfs/etc/passwd"
echo 'root:x:0:' > "$W/rootfs/etc/group"
tar --numeric-owner -C "$W/rootfs" -cf "$W/busybox.tar" .
# The context: a few hundred small files and one larger one.
for i in $(seq 300); do echo "file $i" > "$W/ctx/src/f$i.txt"; done
head -c 20000000 /dev/urandom > "$W/ctx/blob.bin"
cat > "$W/ctx/Dockerfile" <<'EOF'
FROM busybox
RUN mkdir -p /app/data && echo built > /app/stamp
COPY src /app/src
RUN cat /app/src/*.txt | wc -l > /app/count && rm /app/src/f1.txt
COPY blob.bin /app/
ENV APP=/app
WORKDIR /app
RUN md5sum blob.bin > blob.md5
CMD ["sh"]
EOF

H=("$HUSK" --root "$W/husk" --runroot "$RUN/h")
P=(podman --root "$W/podman" --runroot "$RUN/p" --storage-driver overlay --cgroup-manager cgroupfs --events-backend file)
D=(env DOCKER_CONFIG="$W/docker-config" DOCKER_BUILDKIT=1 "$DOCKER_BIN" -H "unix://$RUN/docker.sock")

if [[ " ${TOOLS[*]} " == *" docker "* ]]; then
  mkdir -p "$RUN/d"
  dockerd --data-root "$W/docker" --exec-root "$RUN/d" --pidfile "$RUN/docker.pid" \
    -H "unix://$RUN/docker.sock" --bridge none --iptables=false --ip6tables=false \
    --storage-driver overlay2 --log-level error >"$W/dockerd.log" 2>&1 &
  DOCKERD_PID=$!
  for _ in $(seq 100); do
    "${D[@]}" version >/dev/null 2>&1 && break
    kill -0 "$DOCKERD_PID" 2>/dev/null || { echo "dockerd exited: $(tail -1 "$W/dockerd.log")" >&2; exit 1; }
    sleep 0.2
  done
fi

fresh() { # TOOL: an empty build cache, only the base image
  case $1 in
    husk) unmount_all_h; rm -rf "$W/husk"; "${H[@]}" import "$W/busybox.tar" busybox >/dev/null 2>&1 ;;
    podman) "${P[@]}" system reset -f >/dev/null 2>&1 || true; rm -rf "$W/podman"
            "${P[@]}" import "$W/busybox.tar" busybox >/dev/null 2>&1 ;;
    docker) "${D[@]}" builder prune -af >/dev/null 2>&1 || true
            "${D[@]}" rmi -f b:1 >/dev/null 2>&1 || true
            "${D[@]}" image prune -af >/dev/null 2>&1 || true
            "${D[@]}" import "$W/busybox.tar" busybox >/dev/null 2>&1 ;;
  esac
}
unmount_all_h() { awk -v w="$W/husk" '{ if (index($5, w) == 1) print $5 }' /proc/self/mountinfo |
  sort -r | while read -r m; do umount -l "$m" 2>/dev/null || true; done; }
build() { # TOOL
  case $1 in
    husk) "${H[@]}" build -q --network none -t b:1 "$W/ctx" ;;
    podman) "${P[@]}" build -q --network none -t b:1 "$W/ctx" ;;
    docker) "${D[@]}" build -q --network none -t b:1 "$W/ctx" ;;
  esac
}
now() { date +%s.%N; }
declare -A COLD WARM
order=("${TOOLS[@]}")
for r in $(seq "$N"); do
  for t in "${order[@]}"; do
    fresh "$t"; sync; sleep 2  # what the previous tool left in flight settles
    t0=$(now); build "$t" >/dev/null; t1=$(now)
    COLD[$t]+="$(echo "$t1 - $t0" | bc) "
    t0=$(now); build "$t" >/dev/null; t1=$(now)
    WARM[$t]+="$(echo "$t1 - $t0" | bc) "
  done
  order=("${order[@]:1}" "${order[0]}")
  echo "round $r done" >&2
done
median() { tr ' ' '\n' | grep -v '^$' | sort -g | awk '{ a[NR] = $1 } END { m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.3f", m }'; }
printf '%-8s %10s %10s   (median of %s, seconds)\n' tool cold cached "$N"
best_cold="" best_warm=""
for t in "${TOOLS[@]}"; do
  c=$(echo "${COLD[$t]}" | median); w=$(echo "${WARM[$t]}" | median)
  printf '%-8s %10s %10s\n' "$t" "$c" "$w"
  if [ "$t" != husk ]; then
    if [ -z "$best_cold" ] || (( $(echo "$c < $best_cold" | bc) )); then best_cold=$c; fi
    if [ -z "$best_warm" ] || (( $(echo "$w < $best_warm" | bc) )); then best_warm=$w; fi
  fi
done
if [ -n "$best_cold" ]; then
  hc=$(echo "${COLD[husk]}" | median); hw=$(echo "${WARM[husk]}" | median)
  printf 'husk / fastest peer: cold %.2fx, cached %.2fx (targets: cold <= 0.5x, cached < 0.1 s)\n' \
    "$(echo "$hc / $best_cold" | bc -l)" "$(echo "$hw / $best_warm" | bc -l)"
fi
