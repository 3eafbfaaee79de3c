#!/usr/bin/env bash
# make demo: a container is a process. Run one with husk-runtime and look at
# it from both sides: PID 1 and its hostname inside, a plain host PID with
# namespaces and cgroup files outside.
set -euo pipefail
cd "$(dirname "$0")/.."
. demo/lib.sh
RT=target/release/husk-runtime
ROOT=$(mktemp -d /tmp/husk-demo-root.XXXXXX)
B=$(mktemp -d /tmp/husk-demo-bundle.XXXXXX)
ID=husk-demo-$$
cleanup() { "$RT" --root "$ROOT" delete --force "$ID" >/dev/null 2>&1 || true; rm -rf "$ROOT" "$B"; }
trap cleanup EXIT

say() { printf '\n\033[1m== %s\033[0m\n' "$*"; }

make_bundle "$B" '["sleep","300"]'
jq '.linux.resources.memory={"limit":419430400} | .linux.resources.pids={"limit":100}' \
  "$B/config.json" > "$B/c" && mv "$B/c" "$B/config.json"

say "husk-runtime run --detach (a busybox bundle from Debian's busybox-static)"
"$RT" --root "$ROOT" run --detach --bundle "$B" "$ID"
"$RT" --root "$ROOT" list

say "state: the container's init as the host sees it"
"$RT" --root "$ROOT" state "$ID"
PID=$("$RT" --root "$ROOT" state "$ID" | jq .pid)

say "inside: ps (the init is PID 1, nothing of the host is visible) and hostname"
"$RT" --root "$ROOT" exec "$ID" ps
echo "hostname: $("$RT" --root "$ROOT" exec "$ID" hostname)"

say "outside: host PID $PID is a plain process"
ps -o pid,ppid,user,args -p "$PID"
echo "namespaces of host PID $PID vs this shell:"
for ns in pid mnt uts net ipc cgroup; do
  printf '  %-6s %-22s host: %s\n' "$ns" "$(readlink /proc/$PID/ns/$ns)" "$(readlink /proc/self/ns/$ns)"
done
CG=$(grep ':memory:' /proc/$PID/cgroup | cut -d: -f3)
echo "cgroup: memory $CG"
echo "  /sys/fs/cgroup/memory$CG/memory.limit_in_bytes = $(cat /sys/fs/cgroup/memory$CG/memory.limit_in_bytes)"
echo "  /sys/fs/cgroup/pids$CG/pids.max = $(cat /sys/fs/cgroup/pids$CG/pids.max)"

say "exit codes come back: run 'sh -c \"exit 7\"'"
make_bundle "$B.2" '["sh","-c","exit 7"]'
set +e; "$RT" --root "$ROOT" run --bundle "$B.2" "$ID-2"; echo "exit code: $?"; set -e
rm -rf "$B.2"

say "the same rootfs as an image: husk import, images, image inspect, save"
HUSK=target/release/husk
IMGROOT=$(mktemp -d /tmp/husk-demo-images.XXXXXX)
tar -C "$B/rootfs" -c . | "$HUSK" --root "$IMGROOT" import - busybox:demo
"$HUSK" --root "$IMGROOT" images
"$HUSK" --root "$IMGROOT" image inspect busybox:demo | jq '.[0] | {Id, RepoTags, RootFS}'
"$HUSK" --root "$IMGROOT" save -o "$IMGROOT/busybox.tar" busybox:demo
echo "saved: $(du -h "$IMGROOT/busybox.tar" | cut -f1) docker-archive; skopeo sees:"
skopeo inspect "docker-archive:$IMGROOT/busybox.tar" | jq -c '{Layers}'

say "husk run: the engine runs that image (overlay rootfs, a monitor, docker's output)"
RUNROOT=$(mktemp -d /tmp/husk-demo-run.XXXXXX)
# The engine's bridge, veths and nftables table go into a network namespace
# made for the demo, so the host's own network is left as it was.
NS=husk-demo-$$
ip netns add "$NS"
ip -n "$NS" link set lo up
: > "$RUNROOT/config.toml"
H=(nsenter --net=/run/netns/"$NS" "$HUSK" --root "$IMGROOT" --runroot "$RUNROOT" --config "$RUNROOT/config.toml")
trap 'cleanup; "${H[@]}" rm -f demo web >/dev/null 2>&1 || true; ip netns del "$NS" 2>/dev/null || true; rm -rf "$IMGROOT" "$RUNROOT"' EXIT
CID=$("${H[@]}" run -d --name demo -m 400m busybox:demo sleep 300)
"${H[@]}" ps
CPID=$("${H[@]}" inspect -f '{{.State.Pid}}' demo)
echo "host PID $CPID; hostname via nsenter: $(nsenter --target "$CPID" --uts hostname)"
echo "/sys/fs/cgroup/memory/husk/$CID/memory.limit_in_bytes = $(cat /sys/fs/cgroup/memory/husk/$CID/memory.limit_in_bytes)"
"${H[@]}" exec demo ps
"${H[@]}" rm -f demo >/dev/null
"${H[@]}" run --rm busybox:demo sh -c 'echo hello from $(hostname); exit 3' || echo "exit code: $?"

say "the bridge network: eth0 from IPAM, a published port reached on 127.0.0.1"
"${H[@]}" run --rm busybox:demo ip -4 -o addr show eth0
"${H[@]}" run -d --name web -p 8080:80 busybox:demo \
  sh -c 'mkdir -p /www && echo "hello over the bridge" > /www/index.html && httpd -f -p 80 -h /www' >/dev/null
"${H[@]}" port web
for _ in $(seq 50); do
  out=$(nsenter --net=/run/netns/"$NS" busybox wget -qO- http://127.0.0.1:8080/ 2>/dev/null) && break
  sleep 0.1
done
echo "wget 127.0.0.1:8080 -> ${out:-nothing}"
"${H[@]}" rm -f web >/dev/null

say "delete --force: nothing left behind"
"$RT" --root "$ROOT" delete --force "$ID"
ls /sys/fs/cgroup/memory | grep -c "$ID" || echo "no cgroup left"
