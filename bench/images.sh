#!/usr/bin/env bash
# Unpacking one ~100 MB gzip layer: `husk import` against `tar -xzf` of the
# same file and `umoci unpack` of the same layer, in the same run.
# Run by hand as root after `cargo build --release -p husk`:
#   bench/images.sh [LAYER.tar.gz]
# Without an argument the layer is built from this machine's /usr (200 MB
# of real files, gzip -6: about 100 MB). Each tool runs RUNS times on a warm
# page cache after a `sync`; the best time counts. husk's time includes what
# tar's does not: storing the blob, two sha256 passes and one syncfs, so
# "tar+sync" is shown too. BENCH_DIR picks the filesystem (default /var/tmp);
# BENCH_DIR=/dev/shm takes the disk out and compares the CPU paths.
set -euo pipefail

HUSK=${HUSK:-$(cd "$(dirname "$0")/.." && pwd)/target/release/husk}
RUNS=${RUNS:-3}
[ -x "$HUSK" ] || { echo "build first: cargo build --release -p husk" >&2; exit 1; }
[ "$(id -u)" = 0 ] || { echo "run as root (layers keep owners and device nodes)" >&2; exit 1; }

WORK=$(mktemp -d "${BENCH_DIR:-/var/tmp}/husk-bench.XXXXXX")
trap 'rm -rf "$WORK"' EXIT

LAYER=${1:-}
if [ -z "$LAYER" ]; then
    LAYER=$WORK/layer.tar.gz
    # Regular files from /usr until ~300 MB: a realistic mix of sizes.
    find /usr -xdev -type f -size -20M -printf '%s %P\n' 2>/dev/null |
        awk '{ t += $1; if (t > 200e6) exit; sub(/^[0-9]+ /, ""); print "usr/" $0 }' > "$WORK/files" || true  # find stops on SIGPIPE
    tar -C / --numeric-owner -cf - -T "$WORK/files" 2>/dev/null | gzip -6 > "$LAYER"
fi
printf 'layer: %s (%s compressed, %s files)\n' "$LAYER" "$(du -h "$LAYER" | cut -f1)" \
    "$(tar -tzf "$LAYER" | wc -l)"

now() { date +%s.%N; }
best() { # best of RUNS: cmd is run in a fresh dir $OUT after a sync
    local name=$1; shift
    local b=""
    for _ in $(seq "$RUNS"); do
        rm -rf "$WORK/out"; mkdir -p "$WORK/out"; sync
        local t0 t1; t0=$(now); "$@" >/dev/null; t1=$(now)
        local t; t=$(echo "$t1 - $t0" | bc)
        if [ -z "$b" ] || (( $(echo "$t < $b" | bc) )); then b=$t; fi
    done
    printf '%-22s %8.3f s\n' "$name" "$b" >&2
    echo "$b"
}

husk_import() { "$HUSK" --root "$WORK/out/root" import "$LAYER" bench:latest; }
tar_x() { tar -xzf "$LAYER" -C "$WORK/out"; }
tar_x_sync() { tar -xzf "$LAYER" -C "$WORK/out" && sync -f "$WORK/out"; }

# umoci needs an OCI layout holding the same blob: husk stores the gzip
# layer as given, so its oci-archive is exactly that.
"$HUSK" --root "$WORK/prep" import "$LAYER" bench:latest >/dev/null
"$HUSK" --root "$WORK/prep" save --format oci-archive -o "$WORK/oci.tar" bench:latest
mkdir -p "$WORK/oci" && tar -xf "$WORK/oci.tar" -C "$WORK/oci" && rm -rf "$WORK/prep" "$WORK/oci.tar"
umoci_unpack() { umoci unpack --image "$WORK/oci:latest" "$WORK/out/bundle"; }

echo "best of $RUNS runs:" >&2
H=$(best "husk import" husk_import)
T=$(best "tar -xzf" tar_x)
TS=$(best "tar -xzf + sync" tar_x_sync)
U=$(best "umoci unpack" umoci_unpack)

ratio() { echo "scale=2; $1 / $2" | bc; }
echo
echo "husk / tar        = $(ratio "$H" "$T")   (below 1 = husk faster)"
echo "husk / tar+sync   = $(ratio "$H" "$TS")"
echo "husk / umoci      = $(ratio "$H" "$U")"
