#!/usr/bin/env bash
# Builds (once) the Debian bookworm image bench/pull.sh pulls: an OCI layout
# of 5 gzip layers, about 100 MB compressed, that differ in size and shape:
#   1. base       debootstrap --variant=minbase, without apt's lists and .debs
#   2. apt-lists  /var/lib/apt/lists: a few large text files (`apt-get update`)
#   3. python     python3.11 and its stdlib: thousands of small files
#   4. toolchain  gcc-12, binutils, libstdc++-dev: large binaries and many headers
#   5. config     a few small files, as the last RUN/COPY of a Dockerfile
# Packages for 3 and 4 are unpacked with `dpkg -x` (files only, no maintainer
# scripts: the image is pulled, never run). Run as root:
#   bench/lib/debian-image.sh [CACHE_DIR]      (default target/bench/debian-image)
# prints CACHE_DIR, which then holds oci/ (tag "bookworm"), layers/N.tar (the
# uncompressed layers, for the tar floor) and info (sizes). A second run
# prints the cached build at once; delete the directory to rebuild.
# debootstrap's rootfs comes from target/fixtures/debian-minbase.tar when the
# tests (bins/husk/tests/common/debian.rs) already built it, otherwise from
# debootstrap against this machine's Debian mirror, found the same way.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:-$ROOT/target/bench/debian-image}
mkdir -p "$OUT"
OUT=$(cd "$OUT" && pwd)
# One builder at a time; the second waits and then finds the cache.
exec 9>"$OUT.lock"
flock 9
if [ -e "$OUT/done" ]; then echo "$OUT"; exit 0; fi
[ "$(id -u)" = 0 ] || { echo "debian-image: run as root (the rootfs keeps owners)" >&2; exit 1; }
for t in apt-get dpkg tar gzip jq sha256sum; do
  command -v "$t" >/dev/null || { echo "debian-image: $t is not installed" >&2; exit 1; }
done

WORK=$(mktemp -d "$OUT/work.XXXXXX")
trap 'rm -rf "$WORK"' EXIT
rm -rf "$OUT/oci" "$OUT/layers" "$OUT/info"
mkdir -p "$WORK/l1" "$WORK/l2/var/lib/apt" "$WORK/l3" "$WORK/l4" "$WORK/l5" "$WORK/debs" \
  "$OUT/layers" "$OUT/oci/blobs/sha256"

echo "debian-image: building bookworm minbase under $WORK" >&2
FIXTURE=$ROOT/target/fixtures/debian-minbase.tar
if [ -s "$FIXTURE" ]; then
  tar --numeric-owner -xf "$FIXTURE" -C "$WORK/l1"
else
  command -v debootstrap >/dev/null || { echo "debian-image: debootstrap is not installed (make deps)" >&2; exit 1; }
  # The first Debian archive apt uses (deb822 or one-line), as the tests do.
  MIRROR=$(grep -hsE '^(URIs:|deb )' /etc/apt/sources.list /etc/apt/sources.list.d/*.list \
             /etc/apt/sources.list.d/*.sources | grep -oE '[a-z]+://[^ ]+' |
           grep -E '/debian/?$' | head -1 || true)
  [ -n "$MIRROR" ] || { echo "debian-image: no Debian mirror in /etc/apt/sources.list*" >&2; exit 1; }
  debootstrap --variant=minbase bookworm "$WORK/l1" "$MIRROR" >"$WORK/debootstrap.log" 2>&1 ||
    { echo "debian-image: debootstrap from $MIRROR failed: $(tail -1 "$WORK/debootstrap.log")" >&2; exit 1; }
fi
# Layer 2 takes apt's lists; the .debs debootstrap left go, as in docker's debian images.
mv "$WORK/l1/var/lib/apt/lists" "$WORK/l2/var/lib/apt/"
mkdir -m 755 "$WORK/l1/var/lib/apt/lists"
find "$WORK/l1/var/cache/apt/archives" -name '*.deb' -delete

# Layers 3 and 4 from this machine's apt (bookworm, as the image).
PY=(python3.11-minimal libpython3.11-minimal libpython3.11-stdlib python3.11 libpython3.11)
CC=(gcc-12 libgcc-12-dev binutils-x86-64-linux-gnu libbinutils libstdc++-12-dev libisl23 libmpc3 libmpfr6)
(cd "$WORK/debs" && apt-get download -q "${PY[@]}" "${CC[@]}" >"$WORK/download.log" 2>&1) ||
  { echo "debian-image: apt-get download failed: $(tail -1 "$WORK/download.log")" >&2; exit 1; }
for p in "${PY[@]}"; do dpkg -x "$WORK"/debs/"${p}"_*.deb "$WORK/l3"; done
for p in "${CC[@]}"; do dpkg -x "$WORK"/debs/"${p}"_*.deb "$WORK/l4"; done

mkdir -p "$WORK/l5/etc/bench" "$WORK/l5/usr/local/bin"
printf 'built by husk bench/lib/debian-image.sh\n' > "$WORK/l5/etc/bench/README"
printf '#!/bin/sh\nexec python3.11 -c "print(42)"\n' > "$WORK/l5/usr/local/bin/answer"
chmod 755 "$WORK/l5/usr/local/bin/answer"
for d in "$WORK"/l?; do chmod 755 "$d"; done

# Each layer: entries without a leading ./ (as docker writes them), sorted.
NAMES=(base apt-lists python toolchain config)
diff_ids=() layers_json=() history_json=()
for i in 1 2 3 4 5; do
  d=$WORK/l$i
  mapfile -t top < <(cd "$d" && ls -A)
  tar --sort=name --numeric-owner -C "$d" -cf "$OUT/layers/$i.tar" -- "${top[@]}"
  gzip -n -6 -c "$OUT/layers/$i.tar" > "$WORK/layer.gz"
  dgz=$(sha256sum < "$WORK/layer.gz" | cut -d' ' -f1)
  dtar=$(sha256sum < "$OUT/layers/$i.tar" | cut -d' ' -f1)
  size=$(stat -c %s "$WORK/layer.gz")
  mv "$WORK/layer.gz" "$OUT/oci/blobs/sha256/$dgz"
  diff_ids+=("\"sha256:$dtar\"")
  layers_json+=("{\"mediaType\":\"application/vnd.oci.image.layer.v1.tar+gzip\",\"digest\":\"sha256:$dgz\",\"size\":$size}")
  history_json+=("{\"created_by\":\"bench layer $i: ${NAMES[$((i - 1))]}\"}")
  printf 'layer %d %-10s %6.1f MB gzip %6.1f MB tar %6d entries\n' "$i" "${NAMES[$((i - 1))]}" \
    "$(echo "$size / 1000000" | bc -l)" "$(echo "$(stat -c %s "$OUT/layers/$i.tar") / 1000000" | bc -l)" \
    "$(tar -tf "$OUT/layers/$i.tar" | wc -l)" >> "$OUT/info"
done
join() { local IFS=,; echo "$*"; }
blob() { # FILE: moves it into the layout, prints "DIGEST SIZE"
  local d; d=$(sha256sum < "$1" | cut -d' ' -f1)
  local s; s=$(stat -c %s "$1")
  mv "$1" "$OUT/oci/blobs/sha256/$d"; echo "sha256:$d $s"
}
jq -cn --argjson diff "[$(join "${diff_ids[@]}")]" --argjson hist "[$(join "${history_json[@]}")]" \
  '{architecture:"amd64",os:"linux",created:"2025-05-20T00:00:00Z",
    config:{Env:["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],Cmd:["bash"]},
    rootfs:{type:"layers",diff_ids:$diff},history:$hist}' > "$WORK/config.json"
read -r cdig csize < <(blob "$WORK/config.json")
jq -cn --arg cd "$cdig" --argjson cs "$csize" --argjson layers "[$(join "${layers_json[@]}")]" \
  '{schemaVersion:2,mediaType:"application/vnd.oci.image.manifest.v1+json",
    config:{mediaType:"application/vnd.oci.image.config.v1+json",digest:$cd,size:$cs},layers:$layers}' \
  > "$WORK/manifest.json"
read -r mdig msize < <(blob "$WORK/manifest.json")
jq -cn --arg md "$mdig" --argjson ms "$msize" \
  '{schemaVersion:2,manifests:[{mediaType:"application/vnd.oci.image.manifest.v1+json",digest:$md,
    size:$ms,annotations:{"org.opencontainers.image.ref.name":"bookworm"}}]}' > "$OUT/oci/index.json"
echo '{"imageLayoutVersion":"1.0.0"}' > "$OUT/oci/oci-layout"
sync -f "$OUT"
touch "$OUT/done"
cat "$OUT/info" >&2
echo "$OUT"
