#!/usr/bin/env bash
# Boots the guest that build.sh made and runs JOB (a script path relative to
# the repository) in it, the repository shared over 9p at its host path.
# Software emulation (TCG): a guest kernel hangs after the BIOS under this
# machine's nested KVM; HUSK_GUEST_ACCEL=kvm tries KVM where it works.
#
# usage: run.sh IMAGE_DIR OUT COMMAND [ARGS...]
# Exits with the job's status; 3 when the guest never reached the job, 4 when
# the job started and gave no result (a hang: HUSK_GUEST_TIMEOUT, default 1500 s).
# COMMAND runs in the guest from the repository's root; OUT (inside the
# repository) gets the job script and the serial console (OUT/console.log).
set -euo pipefail
img=$1 out=$2
shift 2
repo=$(cd "$(dirname "$0")/../.." && pwd)
mkdir -p "$out"
out=$(cd "$out" && pwd)
case $out in "$repo"/*) ;; *) echo "guest: $out is not inside $repo (the guest sees only the repository)" >&2; exit 2 ;; esac
job=$out/job.sh
{
  echo "cd $(printf %q "$repo") || exit 2"
  printf 'export HUSK_PAYLOAD=%q HUSK_INIT=%q\n' "${HUSK_PAYLOAD:-}" "${HUSK_INIT:-}"
  printf '%q ' "$@"
  echo
} >"$job"
accel=${HUSK_GUEST_ACCEL:-tcg}
cpu=max
[[ $accel == kvm ]] && cpu=host
timeout=${HUSK_GUEST_TIMEOUT:-1500}
rm -f "$out/console.log"
start=$(date +%s)
# The disk is used copy-on-write: the cached image stays as built.
snapshot=$out/disk.qcow2
rm -f "$snapshot"
qemu-img create -q -f qcow2 -F raw -b "$img/disk.ext4" "$snapshot"
set +e
timeout "$timeout" qemu-system-x86_64 -machine q35,accel="$accel" -cpu "$cpu" -smp 2 -m 4096 \
  -nographic -no-reboot -monitor none -display none -nic none \
  -kernel "$img/vmlinuz" -initrd "$img/initrd.img" \
  -append "root=/dev/vda rw console=ttyS0 quiet loglevel=3 panic=-1 systemd.unified_cgroup_hierarchy=1 husk.repo=$repo husk.job=$job" \
  -drive file="$snapshot",format=qcow2,if=virtio,cache=unsafe \
  -virtfs local,path="$repo",mount_tag=repo,security_model=passthrough,id=repo \
  -serial file:"$out/console.log" </dev/null >"$out/qemu.log" 2>&1
qrc=$?
set -e
rm -f "$snapshot"
secs=$(($(date +%s) - start))
# Digits only: the serial console ends its lines with \r, which `exit` refuses.
done_line=$(grep -a -o -E 'GUEST-DONE [0-9]+' "$out/console.log" | tail -1 || true)
booted=$(grep -a -o 'GUEST-BOOTED [0-9.]*' "$out/console.log" | tail -1 | cut -d' ' -f2 || true)
if [[ -z $done_line ]]; then
  # Exit 3 only when the guest never reached its job (qemu cannot boot it
  # here); a job that started and did not finish is a failure like any other.
  if [[ -z $booted ]]; then
    echo "guest: never reached its job in ${secs}s (qemu exit $qrc; console: $out/console.log, qemu: $out/qemu.log)" >&2
    exit 3
  fi
  echo "guest: the job started ${booted}s after boot and gave no result in ${secs}s (console: $out/console.log)" >&2
  exit 4
fi
echo "guest: job done in ${secs}s (guest booted to its job in ${booted:-?}s): $done_line"
exit "${done_line#GUEST-DONE }"
