#!/bin/sh
# scripts/busybox-rootfs.sh DIR: a root filesystem to try husk with, from
# Debian's busybox-static (apt-get install busybox-static): busybox with its
# applets linked in, the usual top-level directories, and /etc/passwd and
# /etc/group with root, nobody and nogroup (so `-u nobody:nogroup` works).
set -eu
[ $# -eq 1 ] || { echo "usage: $0 DIR" >&2; exit 2; }
bb=/bin/busybox
[ -x "$bb" ] || { echo "$0: $bb is missing: apt-get install busybox-static" >&2; exit 1; }
# A dynamic busybox would need a loader the rootfs does not have.
if ! "$bb" --list >/dev/null 2>&1 || file -L "$bb" 2>/dev/null | grep -q dynamic; then
  echo "$0: $bb is not busybox-static: apt-get install busybox-static" >&2; exit 1
fi
dir=$1
mkdir -p "$dir"
cd "$dir"
mkdir -p bin sbin usr/bin usr/sbin etc proc sys dev root var run tmp
chmod 1777 tmp
cp "$bb" bin/busybox
for a in $(bin/busybox --list-full); do
  [ "$a" = bin/busybox ] || [ -e "$a" ] || ln -s /bin/busybox "$a"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n' > etc/passwd
printf 'root:x:0:\nnogroup:x:65534:\n' > etc/group
