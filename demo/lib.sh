# Shared by demo/ and bench/: a busybox OCI bundle from Debian's busybox-static.
# make_bundle DIR ARGS_JSON  -> DIR/rootfs + DIR/config.json (husk-runtime spec, no terminal)
make_bundle() {
  local dir=$1 args=$2 runtime=${HUSK_RUNTIME:-target/release/husk-runtime}
  rm -rf "$dir" && mkdir -p "$dir/rootfs"
  local r="$dir/rootfs"
  mkdir -p "$r"/{bin,sbin,usr/bin,usr/sbin,etc,proc,sys,dev,tmp,root}
  cp /bin/busybox "$r/bin/busybox"
  local a
  for a in $(/bin/busybox --list-full); do
    [ "$a" = bin/busybox ] || ln -sf /bin/busybox "$r/$a"
  done
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' > "$r/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' > "$r/etc/group"
  (cd "$dir" && "$OLDPWD/$runtime" spec)
  jq --argjson args "$args" '.process.terminal=false | .process.args=$args | .hostname="husk-demo"' \
    "$dir/config.json" > "$dir/config.json.new" && mv "$dir/config.json.new" "$dir/config.json"
}
