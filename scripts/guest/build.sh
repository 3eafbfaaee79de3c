#!/usr/bin/env bash
# Builds the cgroup v2 + systemd guest once: a Debian 12 debootstrap root with
# systemd as PID 1 and its own linux-image-amd64, made into an ext4 image
# (mkfs.ext4 -d). The kernel and initrd are taken out of that root. Cached in
# DIR, keyed on this script and the unit below: edit either and it rebuilds.
#
# usage: build.sh DIR [MIRROR]
set -euo pipefail
dir=$1 mirror=${2:-http://deb.debian.org/debian}
here=$(cd "$(dirname "$0")" && pwd)
key=$(cat "$here/build.sh" "$here/husk-guest.service" "$here/husk-guest-start" | sha256sum | cut -c1-16)
if [[ -e $dir/$key.done ]]; then
  echo "guest: cached in $dir ($key)"
  exit 0
fi
rm -rf "$dir" && mkdir -p "$dir"
root=$dir/root
echo "guest: debootstrap bookworm (systemd, linux-image-amd64) into $root"
# busybox-static: the test fixtures build their rootfs from /bin/busybox;
# runc and crun: the tests that compare husk-runtime with them run them too.
if ! debootstrap --variant=minbase \
  --include=systemd,systemd-sysv,udev,kmod,dbus,linux-image-amd64,iproute2,procps,busybox-static,nftables,runc,crun \
  bookworm "$root" "$mirror" >"$dir/debootstrap.log" 2>&1; then
  tail -20 "$dir/debootstrap.log" >&2
  echo "guest: debootstrap failed (log: $dir/debootstrap.log)" >&2
  exit 1
fi
echo husk-guest >"$root/etc/hostname"
echo '/dev/vda / ext4 rw,relatime 0 1' >"$root/etc/fstab"
install -m 0644 "$here/husk-guest.service" "$root/etc/systemd/system/"
install -m 0755 "$here/husk-guest-start" "$root/usr/local/sbin/"
ln -sf /etc/systemd/system/husk-guest.service "$root/etc/systemd/system/multi-user.target.wants/"
# Nothing waits on a login prompt (the serial console is the test's output),
# and no timer starts maintenance jobs during the tests.
for u in serial-getty@ttyS0.service getty@tty1.service apt-daily.timer apt-daily-upgrade.timer \
  e2scrub_all.timer man-db.timer fstrim.timer; do
  ln -sf /dev/null "$root/etc/systemd/system/$u"
done
cp "$root"/boot/vmlinuz-* "$dir/vmlinuz"
cp "$root"/boot/initrd.img-* "$dir/initrd.img"
mkfs.ext4 -q -F -L husk-guest -d "$root" "$dir/disk.ext4" 4G
rm -rf "$root"
touch "$dir/$key.done"
echo "guest: built $dir/disk.ext4"
