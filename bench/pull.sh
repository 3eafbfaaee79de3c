#!/usr/bin/env bash
# Pulling one multi-layer Debian image (bench/lib/debian-image.sh: 5 gzip
# layers, about 110 MB compressed, 320 MB unpacked) from a local registry:
#   husk pull, podman pull, docker pull (a private dockerd), skopeo copy to an
#   OCI directory, and the floor: `tar -xf` of the same layers uncompressed,
#   one after another (and the same followed by `sync -f`: husk syncs its store).
# Every run starts from an empty store (a fresh root / dir of its own; docker:
# the image removed with `docker rmi` since its last pull, so its overlay2
# layers are gone), the tools take turns in a rotating order each round, and
# the median counts. The stores are deleted after each round (see reset_round).
# Page cache: everything is warm. One untimed pull per tool first; the registry's
# blobs and the layer tars stay cached (430 MB of data), and a `sync` after each
# timed run writes its dirty pages back so they are not charged to the next
# tool. Dropping caches is not required.
# Wall time is what counts; the cpu column (user + system of the tool and its
# children; for docker, of dockerd) is shown too: on a shared machine other
# load stretches wall times, CPU time much less.
# Run by hand, as root (not part of `make test`):
#   bench/pull.sh [ROUNDS]          (default 5; `make bench-pull`)
# HUSK picks the husk binary (default target/static/husk, then target/release/husk);
# without a `pull` command there it is left out. HUSK2=PATH adds a second husk
# binary to the same rounds (e.g. before and after a change), shown as "husk2".
# The stores (and dockerd's data root) live on an ext4 filesystem of their own,
# made by the script in a loop device (direct I/O, 8 GB sparse file in /var/tmp):
# this machine's root fs has no journal, and ext4 without one skips every inode
# deleted in the last 60-360 s when it allocates (recently_deleted() in
# fs/ext4/ialloc.c): after the other tools' stores were deleted `tar -xf` took
# 10-20x longer (perf: recently_deleted, find_get_block_common). A fs of its
# own also keeps a `syncfs` (husk's, `sync -f`) from flushing other processes'
# writes. BENCH_DIR=DIR puts the stores in DIR instead (e.g. /dev/shm: no disk).
# Only 127.0.0.1 is used; every server the script starts is stopped by its
# PID, and every dir, mount and loop device it made goes on exit.
set -euo pipefail
cd "$(dirname "$0")/.."
N=${1:-5}
[ "$(id -u)" = 0 ] || { echo "run as root (stores keep owners and mount overlays)" >&2; exit 1; }
if [ -z "${HUSK:-}" ]; then
  HUSK=$PWD/target/static/husk
  [ -x "$HUSK" ] || HUSK=$PWD/target/release/husk
fi
missing=""
for t in skopeo docker-registry dockerd podman curl jq python3 bc; do
  command -v "$t" >/dev/null || missing="$missing $t"
done
if [ -n "$missing" ]; then
  echo "missing:$missing: apt-get install -y skopeo docker-registry docker.io podman curl jq python3 bc" >&2
  exit 1
fi
# The client that comes with dockerd (another one earlier in PATH may be newer).
DOCKER_BIN=$(dirname "$(command -v dockerd)")/../bin/docker
[ -x "$DOCKER_BIN" ] || DOCKER_BIN=$(command -v docker)

IMG=$(bench/lib/debian-image.sh)
mapfile -t LAYERS < <(ls "$IMG"/layers/*.tar | sort -V)

W=$(mktemp -d /var/tmp/husk-bench-pull.XXXXXX)
# Sockets live here: short paths (a unix socket path has 108 bytes).
RUN=$(mktemp -d /run/hbp.XXXXXX)
PODMAN_RUN_BEFORE=$( (ls -d /run/libpod /run/containers 2>/dev/null || true) | wc -l)
KEY_BEFORE=$([ -e /etc/docker/key.json ] && echo 1 || echo 0)
REGISTRY_PID="" DOCKERD_PID="" LOOP=""
stop() { # PID: SIGTERM, up to 20 s, then SIGKILL; only a process this script started
  local pid=$1
  [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
  kill "$pid" 2>/dev/null || true
  for _ in $(seq 200); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -9 "$pid" 2>/dev/null || true
  wait "$pid" 2>/dev/null || true
}
unmount_all() { # every mount under $W, $M and $RUN, deepest first
  awk -v w="$W" -v m="${M:-$W}" -v r="$RUN" \
    '{ if (index($5, w) == 1 || index($5, m) == 1 || index($5, r) == 1) print $5 }' /proc/self/mountinfo |
    sort -r | while read -r m; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
}
cleanup() {
  stop "$DOCKERD_PID"
  stop "$REGISTRY_PID"
  unmount_all
  [ -z "$LOOP" ] || losetup -d "$LOOP" 2>/dev/null || true
  [ -z "${M:-}" ] || [ "$M" = "$W/m" ] || rm -rf "$M"
  rm -rf "$W" "$RUN"
  [ "$PODMAN_RUN_BEFORE" != 0 ] || rm -rf /run/libpod /run/containers
  [ "$KEY_BEFORE" = 1 ] || rm -f /etc/docker/key.json
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# The stores' filesystem: $M.
if [ -n "${BENCH_DIR:-}" ]; then
  M=$(mktemp -d "$BENCH_DIR/husk-bench-pull.XXXXXX")
  FS_NOTE="$BENCH_DIR ($(stat -f -c %T "$BENCH_DIR"))"
else
  truncate -s 8G "$W/fs.img"
  LOOP=$(losetup -f --show --direct-io=on "$W/fs.img")
  # Inode tables and journal written now, not by a lazy-init thread during the runs.
  mkfs.ext4 -q -F -E lazy_itable_init=0,lazy_journal_init=0 "$LOOP"
  M=$W/m
  mkdir -p "$M"
  mount "$LOOP" "$M"
  FS_NOTE="a fresh ext4 with a journal on $LOOP (direct I/O to $W/fs.img)"
fi

# The registry, on a free loopback port, with storage of its own.
PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat > "$W/registry.yml" <<EOF
version: 0.1
log:
  level: error
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $W/registry
http:
  addr: 127.0.0.1:$PORT
EOF
docker-registry serve "$W/registry.yml" >"$W/registry.log" 2>&1 &
REGISTRY_PID=$!
for _ in $(seq 100); do
  curl -fsS -o /dev/null "http://127.0.0.1:$PORT/v2/" 2>/dev/null && break
  kill -0 "$REGISTRY_PID" 2>/dev/null || { echo "docker-registry exited: $(tail -1 "$W/registry.log")" >&2; exit 1; }
  sleep 0.1
done
REF=127.0.0.1:$PORT/bench/debian:bookworm

# podman and skopeo keep a blob-info cache in /var/lib/containers/cache: each
# runs in a mount namespace of its own with an empty one bound there (which
# also takes podman's overlay mounts away when it exits).
mkdir -p "$W/cache-empty" /var/lib/containers/cache
private() { # DIR COMMAND...: COMMAND with DIR as /var/lib/containers/cache
  local dir=$1; shift
  mkdir -p "$dir"
  unshare -m --propagation private sh -c 'mount --bind "$0" /var/lib/containers/cache && exec "$@"' "$dir" "$@"
}
private "$W/cache-push" skopeo copy -q --dest-tls-verify=false --format v2s2 \
  "oci:$IMG/oci:bookworm" "docker://$REF" >/dev/null

# The private dockerd: its own roots and socket, no bridge, no firewall rules.
mkdir -p "$W/docker-config"
dockerd --data-root "$M/docker" --exec-root "$RUN/d" --pidfile "$RUN/docker.pid" \
  -H "unix://$RUN/docker.sock" --bridge=none --iptables=false --ip6tables=false \
  --storage-driver overlay2 --log-level error >"$W/dockerd.log" 2>&1 &
DOCKERD_PID=$!
DOCKER=(env DOCKER_CONFIG="$W/docker-config" "$DOCKER_BIN" -H "unix://$RUN/docker.sock")
for _ in $(seq 300); do
  "${DOCKER[@]}" version >/dev/null 2>&1 && break
  kill -0 "$DOCKERD_PID" 2>/dev/null || { echo "dockerd exited: $(tail -1 "$W/dockerd.log")" >&2; exit 1; }
  sleep 0.1
done

: > "$W/config.toml"
HAVE_HUSK=0
if [ -x "$HUSK" ] && "$HUSK" pull --help >/dev/null 2>&1; then HAVE_HUSK=1; fi
HUSK2=${HUSK2:-}
[ -z "$HUSK2" ] || "$HUSK2" pull --help >/dev/null 2>&1 || { echo "HUSK2=$HUSK2 has no pull command" >&2; exit 1; }

# One run of CASE in round I into a fresh store of its own, $M/s/I/CASE.
run_case() {
  local c=$1 i=$2 d=$M/s/$2/$1
  mkdir -p "$d"
  case $c in
    husk)
      "$HUSK" --root "$d" --runroot "$RUN/husk-$i" --config "$W/config.toml" pull "$REF" ;;
    husk2)
      "$HUSK2" --root "$d" --runroot "$RUN/husk2-$i" --config "$W/config.toml" pull "$REF" ;;
    podman)
      private "$d/cache" podman --root "$d/root" --runroot "$RUN/podman-$i" \
        --tmpdir "$RUN/podman-tmp-$i" --cgroup-manager cgroupfs --events-backend file \
        --storage-driver overlay pull -q --tls-verify=false "$REF" ;;
    docker)
      "${DOCKER[@]}" pull "$REF" ;;
    skopeo)
      private "$d/cache" skopeo copy -q --src-tls-verify=false "docker://$REF" "oci:$d/oci:bookworm" ;;
    floor)
      for l in "${LAYERS[@]}"; do tar --numeric-owner -xf "$l" -C "$d"; done ;;
    floor-sync)
      for l in "${LAYERS[@]}"; do tar --numeric-owner -xf "$l" -C "$d"; done
      sync -f "$d" ;;
  esac
}
# The store a run leaves must hold the image: a fast failure is no result.
check_case() {
  local c=$1 i=$2 d=$M/s/$2/$1
  case $c in
    husk) "$HUSK" --root "$d" --runroot "$RUN/husk-$i" --config "$W/config.toml" images | grep -q bench/debian ;;
    husk2) "$HUSK2" --root "$d" --runroot "$RUN/husk2-$i" --config "$W/config.toml" images | grep -q bench/debian ;;
    podman) [ -n "$(private "$d/cache" podman --root "$d/root" --runroot "$RUN/podman-$i" \
                   --tmpdir "$RUN/podman-tmp-$i" --storage-driver overlay images -q "$REF")" ] ;;
    docker) [ -n "$("${DOCKER[@]}" images -q "$REF")" ] ;;
    skopeo) [ -s "$d/oci/index.json" ] ;;
    floor | floor-sync) [ -x "$d/usr/bin/gcc-12" ] ;;
  esac
}
# Back to empty stores after a round (each run wrote into a dir of its own):
# deleting between rounds, not between runs, keeps a deletion's writeback out
# of the next tool's time. docker's image goes here too.
reset_round() {
  "${DOCKER[@]}" rmi -f "$REF" >/dev/null 2>&1 || true
  [ -z "$("${DOCKER[@]}" images -aq)" ] || { echo "docker still holds images after rmi" >&2; exit 1; }
  unmount_all_store
  rm -rf "$M/s"
  sync
}
unmount_all_store() {
  awk -v w="$M/s" '{ if (index($5, w) == 1) print $5 }' /proc/self/mountinfo |
    sort -r | while read -r m; do umount "$m" 2>/dev/null || umount -l "$m" 2>/dev/null || true; done
}

now() { date +%s%N; }
declare -A T C
CASES=(podman docker skopeo floor floor-sync)
[ "$HAVE_HUSK" = 0 ] || CASES=(husk "${CASES[@]}")
[ -z "$HUSK2" ] || CASES=(husk2 "${CASES[@]}")
# CPU time of the /proc/PID/stat process and its reaped children, in clock ticks.
ticks() { awk '{ print $14 + $15 + $16 + $17 }' "/proc/$1/stat"; }
HZ=$(getconf CLK_TCK)
timed() { # CASE I: one timed run: wall time into T[CASE], CPU time into C[CASE]
  local c=$1 i=$2 s e d0=0 d1=0 cpu
  # docker's client only asks: dockerd pulls and unpacks (its layer unpacker is
  # a re-exec'd child it reaps), so its CPU time counts too.
  [ "$c" != docker ] || d0=$(ticks "$DOCKERD_PID")
  s=$(now)
  ( run_case "$c" "$i" >"$W/out.log" 2>&1 || exit 1; times ) >"$W/times" ||
    { echo "$c failed: $(tail -3 "$W/out.log")" >&2; exit 1; }
  e=$(now)
  [ "$c" != docker ] || d1=$(ticks "$DOCKERD_PID")
  check_case "$c" "$i" || { echo "$c: the store holds no image after the run" >&2; exit 1; }
  # The run's dirty pages go to disk before the next tool's clock starts.
  sync
  # `times`' second line: user and system time of the subshell's children.
  cpu=$(awk -v d=$((d1 - d0)) -v hz="$HZ" 'NR == 2 { t = 0; for (f = 1; f <= 2; f++) { split($f, a, /[ms]/); t += a[1] * 60 + a[2] }
    printf "%.0f", (t + d / hz) * 1e9 }' "$W/times")
  T[$c]+="$((e - s)) "
  C[$c]+="$cpu "
  [ -z "${VERBOSE:-}" ] || printf '%s %-10s %6.2fs wall %6.2fs cpu\n' "$i" "$c" \
    "$(echo "($e - $s) / 1000000000" | bc -l)" "$(echo "$cpu / 1000000000" | bc -l)" >&2
}
cpu_pressure() { awk '/^some/ { sub("avg60=", "", $3); print $3 "%" }' /proc/pressure/cpu 2>/dev/null || echo "n/a"; }

sizes=$(jq -r '.layers[].size' "$IMG/oci/blobs/sha256/$(jq -r '.manifests[0].digest' "$IMG/oci/index.json" | cut -d: -f2)" |
  awk '{ t += $1 } END { printf "%.0f", t / 1e6 }')
untar=$(du -cb "${LAYERS[@]}" | tail -1 | awk '{ printf "%.0f", $1 / 1e6 }')
echo "image: $REF, ${#LAYERS[@]} layers, $sizes MB gzip, $untar MB as tar; stores on $FS_NOTE"
sed 's/^/  /' "$IMG/info"
if [ "$HAVE_HUSK" = 1 ]; then echo "husk: $HUSK${HUSK2:+, husk2: $HUSK2}"; else echo "husk: $HUSK has no pull command: left out"; fi

PRESSURE0=$(cpu_pressure)
# Warm-up: one untimed run each (page cache, dockerd's first pull).
for c in "${CASES[@]}"; do
  run_case "$c" warm >"$W/out.log" 2>&1 || { echo "$c failed: $(tail -3 "$W/out.log")" >&2; exit 1; }
  # docker's image must go before its next pull.
  [ "$c" != docker ] || "${DOCKER[@]}" rmi -f "$REF" >/dev/null
done
reset_round

for ((i = 0; i < N; i++)); do
  k=$((i % ${#CASES[@]}))
  order=("${CASES[@]:$k}" "${CASES[@]:0:$k}")
  for c in "${order[@]}"; do timed "$c" "$i"; done
  reset_round
  [ -n "${VERBOSE:-}" ] || printf '.' >&2
done
echo >&2

stat_of() { # VALUES: "median min max" of the numbers
  echo "$1" | tr ' ' '\n' | grep -v '^$' | sort -n |
    awk '{ a[NR] = $1 } END { m = NR % 2 ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2; printf "%.0f %s %s\n", m, a[1], a[NR] }'
}
declare -A MED MIN MAX CPU
for c in "${CASES[@]}"; do
  read -r "MED[$c]" "MIN[$c]" "MAX[$c]" < <(stat_of "${T[$c]}")
  read -r "CPU[$c]" _ _ < <(stat_of "${C[$c]}")
done
fastest=""
for c in podman docker skopeo; do
  if [ -z "$fastest" ] || [ "${MED[$c]}" -lt "${MED[$fastest]}" ]; then fastest=$c; fi
done
declare -A LABEL=([husk]="husk pull" [husk2]="husk2 pull" [podman]="podman pull" [docker]="docker pull (dockerd)"
  [skopeo]="skopeo copy to oci: dir" [floor]="floor: tar -xf of the layers" [floor-sync]="floor + sync -f")
s() { echo "$1 / 1000000000" | bc -l; }
printf '\npull, %d interleaved rounds, cold store each run, warm page cache\n' "$N"
printf 'cpu pressure (some, avg60) at the start %s, at the end %s: other load on the machine stretches wall times\n' \
  "$PRESSURE0" "$(cpu_pressure)"
printf '  %-30s %8s %8s %8s %10s %8s %9s\n' "" median min max "/$fastest" /floor "cpu(med)"
for c in "${CASES[@]}"; do
  printf '  %-30s %7.2fs %7.2fs %7.2fs %10.2f %8.2f %8.2fs\n' "${LABEL[$c]}" "$(s "${MED[$c]}")" "$(s "${MIN[$c]}")" \
    "$(s "${MAX[$c]}")" "$(echo "${MED[$c]} / ${MED[$fastest]}" | bc -l)" "$(echo "${MED[$c]} / ${MED[floor]}" | bc -l)" \
    "$(s "${CPU[$c]}")"
done
# skopeo only downloads (no unpacking): the issue counts it as a peer, and the
# engines that unpack (docker, podman) are shown beside it.
engine=docker
[ "${MED[podman]}" -ge "${MED[docker]}" ] || engine=podman
if [ "$HAVE_HUSK" = 1 ]; then
  printf '  targets: husk/fastest peer (%s) = %.2f (<= 0.5), husk/floor = %.2f (<= 1.5); husk/fastest engine (%s) = %.2f\n' \
    "$fastest" "$(echo "${MED[husk]} / ${MED[$fastest]}" | bc -l)" "$(echo "${MED[husk]} / ${MED[floor]}" | bc -l)" \
    "$engine" "$(echo "${MED[husk]} / ${MED[$engine]}" | bc -l)"
fi
