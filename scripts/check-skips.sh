#!/usr/bin/env bash
# Fails when a test skipped for a reason that tests/expected-skips.txt does not
# list. cargo counts a skipped test (an early return) as passed, so without
# this a broken probe could turn a whole file of tests green unnoticed.
#
# usage: check-skips.sh SKIP_LOG EXPECTED_LIST
# SKIP_LOG holds lines `SKIP: <test>: <reason>` (husk_fixtures::skip writes
# them); EXPECTED_LIST holds `<test>: <reason>` patterns (shell globs), `#`
# comments and blank lines.
set -uo pipefail
log=$1 expected=$2
patterns=()
while IFS= read -r line; do
  [[ -z "${line// }" || $line == \#* ]] && continue
  patterns+=("$line")
done <"$expected"

unexpected=0 seen=0
if [[ -s $log ]]; then
  while IFS= read -r line; do
    seen=$((seen + 1))
    entry=${line#SKIP: }
    ok=0
    for p in "${patterns[@]}"; do
      # shellcheck disable=SC2053 # the pattern is a glob on purpose
      if [[ $entry == $p ]]; then ok=1; break; fi
    done
    if ((ok)); then
      echo "expected skip: $entry"
    else
      echo "UNEXPECTED SKIP: $entry (not in $expected: fix the cause, or list it with the machine fact that explains it)" >&2
      unexpected=$((unexpected + 1))
    fi
  done < <(sort -u "$log")
fi
echo "skipped tests: $seen, unexpected: $unexpected"
((unexpected == 0))
