#!/usr/bin/env bash
# The tests that touch cgroups, run inside the cgroup v2 + systemd guest.
#
#   tests.sh prepare OUT   on the host: build the test binaries, list them in OUT/tests.txt
#   tests.sh run OUT       in the guest (husk-guest-start runs it from the repo's root):
#                          run each, logs in OUT/test.log, skips in OUT/skips.log
#
# Each line of the list is `PACKAGE TEST`: a test target of a package.
set -uo pipefail
TESTS=(
  "husk-cgroups real_v2"
  "husk-cgroups real_v1"
  "husk-runtime signals_and_limits"
  "husk-runtime lifecycle"
  "husk-runtime config_linux"
  "husk-runtime systemd_cgroup"
  "husk-runtime userns"
  "husk-runtime conformance"
  "husk-runtime rootless"
  "husk signals_and_limits"
)
mode=$1 out=$2
case $mode in
prepare)
  mkdir -p "$out"
  # One workspace build, as `make test` does: building a package alone would
  # unify features differently and rebuild every dependency.
  cargo test -q --workspace --exclude husk-payload --exclude husk-init --no-run \
    --message-format=json >"$out/build.json" || exit 1
  : >"$out/tests.txt"
  for t in "${TESTS[@]}"; do
    read -r pkg test <<<"$t"
    line=$(jq -r --arg t "$test" --arg p "$pkg" \
      'select(.executable != null and .target.kind == ["test"] and .target.name == $t
              and (.package_id | test("[#/]" + $p + "[@#]")))
       | "\(.executable) \(.manifest_path | sub("/Cargo.toml$"; ""))"' "$out/build.json" | tail -1)
    if [[ -z $line ]]; then
      echo "guest: no test binary for $pkg --test $test" >&2
      exit 1
    fi
    echo "$pkg $test $line" >>"$out/tests.txt"
  done
  ;;
run)
  : >"$out/test.log"
  : >"$out/skips.log"
  rc=0
  while read -r pkg test exe dir; do
    echo "== $pkg --test $test" >>"$out/test.log"
    # From the package's directory, as cargo runs a test binary.
    (cd "$dir" && HUSK_SKIP_LOG=$out/skips.log RUST_BACKTRACE=1 "$exe" --test-threads=1) \
      >>"$out/test.log" 2>&1 || rc=1
  done <"$out/tests.txt"
  exit $rc
  ;;
*)
  echo "usage: tests.sh prepare|run OUT" >&2
  exit 2
  ;;
esac
