#!/usr/bin/env bash
# The engine against podman, interleaved in the same run, same busybox image
# imported into both:
#   1. `run --rm --network none busybox true`, plus husk-runtime's own `run`
#      of the same rootfs (the engine's overhead is husk minus husk-runtime);
#   2. 50 `run -d` then 50 `rm -f` in a row;
#   3. `run --rm busybox true` on each engine's bridge network, inside a
#      network namespace made for the benchmark (both engines' bridges, veths
#      and firewall rules vanish with it);
#   4. the same on a user-defined network of each (`network create`; podman's
#      network configs go to a directory of the benchmark's own).
# Run by hand, as root: bench/engine.sh [ITERATIONS]   (not part of CI)
set -euo pipefail
cd "$(dirname "$0")/.."
. demo/lib.sh
N=${1:-30}
HUSK=${HUSK:-$PWD/target/release/husk}
RT=${HUSK_RUNTIME_BIN:-$(dirname "$HUSK")/husk-runtime}
[ -x "$HUSK" ] && [ -x "$RT" ] || cargo build --release -p husk -p husk-runtime
command -v podman >/dev/null || { echo "podman is not installed: apt-get install -y podman" >&2; exit 1; }

# podman (cgroupfs manager) leaves libpod_parent/ in every hierarchy; the
# benchmark removes it again only when it was not there before.
PODMAN_CG_BEFORE=$( (compgen -G "/sys/fs/cgroup/*/libpod_parent" || true) | wc -l)
# ... and /run/libpod, /run/containers (its network state), whatever --runroot says.
PODMAN_RUN_BEFORE=$( (ls -d /run/libpod /run/containers 2>/dev/null || true) | wc -l)
# husk keeps its /husk cgroup parent as docker keeps /docker: removed again
# (when empty) only if the benchmark made it.
HUSK_CG_BEFORE=$( (compgen -G "/sys/fs/cgroup/*/husk" || true) | wc -l)
W=$(mktemp -d /tmp/husk-bench-engine.XXXXXX)
RUN=$(mktemp -d /run/husk-bench-engine.XXXXXX)
NS=husk-bench-$$
# This machine lacks CAP_SYS_RESOURCE: podman's default rlimits (raising
# nofile/nproc to 1M) fail, so it gets explicit ones within the current limits.
PODMAN=(podman --root "$W/podman" --runroot "$RUN/podman" --cgroup-manager cgroupfs
        --events-backend file --network-config-dir "$W/podman-networks")
PODMAN_RUN=(--ulimit nofile=4096:4096 --ulimit nproc=4096:4096)
# An empty engine config of the benchmark's own: defaults, whatever /etc/husk says.
: > "$W/config.toml"
H=("$HUSK" --root "$W/husk" --runroot "$RUN/husk" --config "$W/config.toml")
cleanup() {
  "${H[@]}" ps -aq 2>/dev/null | xargs -r "${H[@]}" rm -f >/dev/null 2>&1 || true
  nsenter --net=/run/netns/"$NS" "${H[@]}" ps -aq 2>/dev/null | xargs -r nsenter --net=/run/netns/"$NS" "${H[@]}" rm -f >/dev/null 2>&1 || true
  "${PODMAN[@]}" rm -af >/dev/null 2>&1 || true
  nsenter --net=/run/netns/"$NS" "${PODMAN[@]}" rm -af >/dev/null 2>&1 || true
  "$RT" --root "$RUN/rt" delete -f bench-rt >/dev/null 2>&1 || true
  ip netns del "$NS" 2>/dev/null || true
  umount -R "$W/podman" 2>/dev/null || true
  rm -rf "$W" "$RUN"
  if [ "$PODMAN_CG_BEFORE" = 0 ]; then
    for h in /sys/fs/cgroup/*/libpod_parent; do rmdir "$h/conmon" "$h" 2>/dev/null || true; done
  fi
  [ "$PODMAN_RUN_BEFORE" != 0 ] || rm -rf /run/libpod /run/containers
  if [ "$HUSK_CG_BEFORE" = 0 ]; then
    for h in /sys/fs/cgroup/*/husk; do rmdir "$h" 2>/dev/null || true; done
  fi
}
trap cleanup EXIT

# crun (podman's runtime) refuses a hybrid host whose unified hierarchy owns
# a controller (hugetlb on this machine): mount hugetlb as v1 first.
if ! grep -q ' /sys/fs/cgroup/hugetlb ' /proc/self/mountinfo; then
  echo "note: mounting the hugetlb controller as a v1 hierarchy so crun accepts this host"
  echo -hugetlb > /sys/fs/cgroup/unified/cgroup.subtree_control 2>/dev/null || true
  mkdir -p /sys/fs/cgroup/hugetlb
  mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb || echo "warning: could not mount hugetlb; crun may refuse"
fi

HUSK_RUNTIME=$(realpath --relative-to="$PWD" "$RT") make_bundle "$W/bundle" '["/bin/true"]' >/dev/null
tar -C "$W/bundle/rootfs" -cf "$W/busybox.tar" .
"${H[@]}" import "$W/busybox.tar" busybox >/dev/null
"${PODMAN[@]}" import "$W/busybox.tar" localhost/busybox >/dev/null

now() { date +%s%N; }
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {printf "%.0f\n", (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
ms() { echo "$1 / 1000000" | bc -l; }
declare -A T
one() { # NAME COMMAND...: times one run into T[NAME]
  local name=$1; shift
  local s e; s=$(now); "$@" >/dev/null || { echo "$name failed: $*" >&2; exit 1; }; e=$(now)
  T[$name]+="$((e - s)) "
}

# Warm-up: first runs pay for page cache and cgroup creation.
"${H[@]}" run --rm --network none busybox true
"${PODMAN[@]}" run "${PODMAN_RUN[@]}" --rm --network none localhost/busybox true >/dev/null

CASES=(husk podman runtime)
for ((i = 0; i < N; i++)); do
  # Rotate the order: a v1 cgroup migration right after another is cheaper
  # (the kernel's rcu_sync is warm), so a fixed order would favour one.
  order=("${CASES[@]:$((i % 3))}" "${CASES[@]:0:$((i % 3))}")
  for c in "${order[@]}"; do
    case $c in
      husk) one husk "${H[@]}" run --rm --network none busybox true ;;
      podman) one podman "${PODMAN[@]}" run "${PODMAN_RUN[@]}" --rm --network none localhost/busybox true ;;
      runtime) one runtime "$RT" --root "$RUN/rt" run --bundle "$W/bundle" "bench-rt" ;;
    esac
  done
done
mh=$(echo "${T[husk]}" | median); mp=$(echo "${T[podman]}" | median); mr=$(echo "${T[runtime]}" | median)
printf '\nrun --rm --network none busybox true (%d interleaved iterations, median)\n' "$N"
printf '  %-28s %8.1f ms\n' "husk run" "$(ms "$mh")" "podman run" "$(ms "$mp")" "husk-runtime run (bundle)" "$(ms "$mr")"
printf '  husk/podman = %.3f (target <= 0.2)   engine overhead (husk - husk-runtime) = %.1f ms (target < 10)\n' \
  "$(echo "$mh / $mp" | bc -l)" "$(ms "$((mh - mr))")"

# 50 `run -d` then `rm -f` in a row, each engine in turn.
burst() { # NAME ENGINE... ; IMAGE and run flags follow after --
  local name=$1; shift
  local s e ids=()
  s=$(now)
  for ((j = 0; j < 50; j++)); do ids+=("$("$@" sleep 600)"); done
  e=$(now); T[$name-run]=$((e - s))
  s=$(now)
  for id in "${ids[@]}"; do "${RM[@]}" "$id" >/dev/null; done
  e=$(now); T[$name-rm]=$((e - s))
}
RM=("${H[@]}" rm -f); burst husk "${H[@]}" run -d --network none busybox
RM=("${PODMAN[@]}" rm -f -t 0); burst podman "${PODMAN[@]}" run -d "${PODMAN_RUN[@]}" --network none localhost/busybox
printf '\n50 x run -d, then 50 x rm -f (total)\n'
printf '  %-8s run -d %8.0f ms   rm -f %8.0f ms\n' \
  husk "$(ms "${T[husk-run]}")" "$(ms "${T[husk-rm]}")" podman "$(ms "${T[podman-run]}")" "$(ms "${T[podman-rm]}")"
printf '  husk/podman: run -d %.3f   rm -f %.3f\n' \
  "$(echo "${T[husk-run]} / ${T[podman-run]}" | bc -l)" "$(echo "${T[husk-rm]} / ${T[podman-rm]}" | bc -l)"

# Bridge networks, inside a namespace of the benchmark's own with loopback up.
ip netns add "$NS"
ip -n "$NS" link set lo up
# nsenter, not `ip netns exec`: that one remounts /sys for the namespace and
# so hides the cgroup hierarchies mounted under /sys/fs/cgroup.
IN=(nsenter --net=/run/netns/"$NS")
if ! "${IN[@]}" "${H[@]}" run --rm busybox true 2>"$W/bridge.err"; then
  printf '\nbridge: husk run on the bridge failed: %s\n' "$(head -1 "$W/bridge.err")"
  exit 0
fi
"${IN[@]}" "${PODMAN[@]}" run "${PODMAN_RUN[@]}" --rm localhost/busybox true >/dev/null
for ((i = 0; i < N; i++)); do
  if ((i % 2)); then
    one bhusk "${IN[@]}" "${H[@]}" run --rm busybox true
    one bpodman "${IN[@]}" "${PODMAN[@]}" run "${PODMAN_RUN[@]}" --rm localhost/busybox true
  else
    one bpodman "${IN[@]}" "${PODMAN[@]}" run "${PODMAN_RUN[@]}" --rm localhost/busybox true
    one bhusk "${IN[@]}" "${H[@]}" run --rm busybox true
  fi
done
bh=$(echo "${T[bhusk]}" | median); bp=$(echo "${T[bpodman]}" | median)
printf '\nrun --rm busybox true on the bridge network (%d interleaved iterations, median)\n' "$N"
printf '  %-10s %8.1f ms\n' husk "$(ms "$bh")" podman "$(ms "$bp")"
printf '  husk/podman = %.3f (target <= 0.2)\n' "$(echo "$bh / $bp" | bc -l)"

# A user-defined network of each engine, in the same namespace.
"${IN[@]}" "${H[@]}" network create benchnet >/dev/null
"${IN[@]}" "${PODMAN[@]}" network create benchnet >/dev/null
"${IN[@]}" "${H[@]}" run --rm --network benchnet busybox true
"${IN[@]}" "${PODMAN[@]}" run "${PODMAN_RUN[@]}" --rm --network benchnet localhost/busybox true >/dev/null
for ((i = 0; i < N; i++)); do
  if ((i % 2)); then
    one uhusk "${IN[@]}" "${H[@]}" run --rm --network benchnet busybox true
    one upodman "${IN[@]}" "${PODMAN[@]}" run "${PODMAN_RUN[@]}" --rm --network benchnet localhost/busybox true
  else
    one upodman "${IN[@]}" "${PODMAN[@]}" run "${PODMAN_RUN[@]}" --rm --network benchnet localhost/busybox true
    one uhusk "${IN[@]}" "${H[@]}" run --rm --network benchnet busybox true
  fi
done
uh=$(echo "${T[uhusk]}" | median); up=$(echo "${T[upodman]}" | median)
printf '\nrun --rm --network benchnet busybox true, a user-defined network (%d interleaved iterations, median)\n' "$N"
printf '  %-10s %8.1f ms\n' husk "$(ms "$uh")" podman "$(ms "$up")"
printf '  husk/podman = %.3f (target <= 0.2)\n' "$(echo "$uh / $up" | bc -l)"
