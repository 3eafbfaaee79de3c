#!/usr/bin/env bash
# Times `run` of /bin/true in a busybox bundle with husk-runtime, crun and
# runc, interleaved in the same run, and prints medians, ratios and peak RSS.
# Run by hand (as root): bench/runtime.sh [ITERATIONS]   (not part of CI)
set -euo pipefail
cd "$(dirname "$0")/.."
. demo/lib.sh
N=${1:-100}
HUSK=${HUSK:-$PWD/target/release/husk-runtime}
[ -x "$HUSK" ] || cargo build --release -p husk-runtime
B=$(mktemp -d /tmp/husk-bench-bundle.XXXXXX)
# State roots on tmpfs, where runtimes keep them by default (/run/runc, /run/crun).
ROOT=$(mktemp -d /run/husk-bench-root.XXXXXX)
trap 'rm -rf "$B" "$ROOT"' EXIT
make_bundle "$B" '["/bin/true"]'
# The same spec for everyone; no cgroup namespace so runc/crun/husk do the same work.
jq '.ociVersion="1.0.2" | .linux.resources={"devices":[{"allow":false,"access":"rwm"}]}' "$B/config.json" > "$B/c" && mv "$B/c" "$B/config.json"

# crun refuses hybrid hosts whose unified hierarchy owns a controller
# (hugetlb here): mount hugetlb as a v1 hierarchy so crun can run at all.
if ! grep -q ' /sys/fs/cgroup/hugetlb ' /proc/self/mountinfo; then
  echo "note: mounting the hugetlb controller as a v1 hierarchy so crun accepts this host"
  echo -hugetlb > /sys/fs/cgroup/unified/cgroup.subtree_control 2>/dev/null || true
  mkdir -p /sys/fs/cgroup/hugetlb
  mount -t cgroup -o hugetlb cgroup /sys/fs/cgroup/hugetlb || echo "warning: could not mount hugetlb; crun may refuse"
fi

declare -A T RSS
RUNTIMES=(husk crun runc)
bin_of() { case $1 in husk) echo "$HUSK";; crun) echo /usr/bin/crun;; runc) echo /usr/sbin/runc;; esac; }
# The order rotates every iteration: a v1 cgroup migration is cheap right
# after another one (the kernel's rcu_sync is still warm) and costs a full
# RCU grace period otherwise, so a fixed order would favour whoever runs
# right after a migration.
for ((i = 0; i < N; i++)); do
  order=("${RUNTIMES[@]:$((i % 3))}" "${RUNTIMES[@]:0:$((i % 3))}")
  for r in "${order[@]}"; do
    b=$(bin_of "$r"); id="bench-$r-$$-$i"
    s=$(date +%s%N)
    "$b" --root "$ROOT/$r" run --bundle "$B" "$id" >/dev/null || { echo "$r run failed" >&2; exit 1; }
    e=$(date +%s%N)
    T[$r]+="$(( (e - s) / 1000 )) "
  done
done
# Peak RSS in a separate pass: wrapping every timed run in time(1) would
# add its own fork and wait to the figures.
for r in "${RUNTIMES[@]}"; do
  for ((i = 0; i < 5; i++)); do
    out=$( { /usr/bin/time -f '%M' "$(bin_of "$r")" --root "$ROOT/$r" run --bundle "$B" "rss-$r-$$-$i" >/dev/null; } 2>&1 )
    RSS[$r]+="$(echo "$out" | tail -1) "
  done
done
median() { tr ' ' '\n' | grep -v '^$' | sort -n | awk '{a[NR]=$1} END {print (NR%2 ? a[(NR+1)/2] : (a[NR/2]+a[NR/2+1])/2)}'; }
printf '%-6s %12s %14s\n' runtime "median (ms)" "peak RSS (MiB)"
for r in "${RUNTIMES[@]}"; do
  m=$(echo "${T[$r]}" | median); k=$(echo "${RSS[$r]}" | median)
  printf '%-6s %12.2f %14.1f\n' "$r" "$(echo "$m / 1000" | bc -l)" "$(echo "$k / 1024" | bc -l)"
  eval "med_$r=$m"
done
printf 'husk/crun = %.2f   husk/runc = %.2f   (%d iterations, interleaved)\n' \
  "$(echo "$med_husk / $med_crun" | bc -l)" "$(echo "$med_husk / $med_runc" | bc -l)" "$N"

# exec latency: one long-running container per runtime, `exec ID /bin/true`.
make_bundle "$B.exec" '["sleep","3600"]'
jq '.ociVersion="1.0.2" | .linux.resources={"devices":[{"allow":false,"access":"rwm"}]}' "$B.exec/config.json" > "$B.exec/c" && mv "$B.exec/c" "$B.exec/config.json"
trap 'for r in "${RUNTIMES[@]}"; do "$(bin_of $r)" --root "$ROOT/$r" delete -f "exec-$r-$$" >/dev/null 2>&1; done; rm -rf "$B" "$B.exec" "$ROOT"' EXIT
for r in "${RUNTIMES[@]}"; do "$(bin_of "$r")" --root "$ROOT/$r" run -d --bundle "$B.exec" "exec-$r-$$" >/dev/null; done
declare -A E
for ((i = 0; i < N; i++)); do
  order=("${RUNTIMES[@]:$((i % 3))}" "${RUNTIMES[@]:0:$((i % 3))}")
  for r in "${order[@]}"; do
    s=$(date +%s%N)
    "$(bin_of "$r")" --root "$ROOT/$r" exec "exec-$r-$$" /bin/true
    e=$(date +%s%N)
    E[$r]+="$(( (e - s) / 1000 )) "
  done
done
printf '\n%-6s %12s\n' runtime "exec median (ms)"
for r in "${RUNTIMES[@]}"; do
  m=$(echo "${E[$r]}" | median)
  printf '%-6s %12.2f\n' "$r" "$(echo "$m / 1000" | bc -l)"
  eval "emed_$r=$m"
done
printf 'exec: husk/crun = %.2f   husk/runc = %.2f\n' \
  "$(echo "$emed_husk / $emed_crun" | bc -l)" "$(echo "$emed_husk / $emed_runc" | bc -l)"
