#!/usr/bin/env bash
# The guest run's last line: `guest: N passed, M failed` from the test log
# tests.sh wrote, and its skips checked against tests/expected-skips-guest.txt.
# usage: summary.sh OUT
set -uo pipefail
out=$1
here=$(cd "$(dirname "$0")" && pwd)
log=$out/test.log
if [[ ! -s $log ]]; then
  echo "guest: 0 passed, 0 failed (no test log: the job did not run)"
  exit 1
fi
read -r passed failed < <(grep -a '^test result:' "$log" |
  sed -E 's/.* ([0-9]+) passed; ([0-9]+) failed.*/\1 \2/' |
  awk '{p += $1; f += $2} END {print p + 0, f + 0}')
rc=0
grep -a -E '^test .* FAILED$|^---- ' "$log" | sed 's/^/guest: /'
"$here/../check-skips.sh" "$out/skips.log" "$here/../../tests/expected-skips-guest.txt" || rc=1
((failed == 0)) || rc=1
echo "guest: $passed passed, $failed failed"
exit $rc
