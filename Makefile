# Everything a fresh Debian 12 machine (as root) needs: `make demo`, `make test`.
SHELL := /bin/bash
CARGO ?= cargo
TARGET_DIR ?= $(CURDIR)/target
PAYLOAD := $(TARGET_DIR)/x86_64-unknown-linux-gnu/release/husk-payload
# `husk run --init`'s PID 1, static so it runs in any image; the engine
# takes it from next to the husk binary, or from $HUSK_INIT.
INIT := $(TARGET_DIR)/x86_64-unknown-linux-gnu/release/husk-init
DEBS := busybox-static runc crun skopeo umoci libseccomp-dev pkg-config debootstrap \
        nftables jq iproute2 util-linux procps python3 strace \
        docker-registry apache2-utils docker.io openssl podman docker-compose
export HUSK_PAYLOAD := $(PAYLOAD)
export HUSK_INIT := $(INIT)

.PHONY: all deps build install payload init static runtime-static test test-guest lint demo bench bench-pull clean

all: build

# Installs only what is missing, so a second run costs nothing.
deps:
	@missing=""; for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
	@command -v $(CARGO) >/dev/null || { echo "cargo not found: install Rust (rustup) first" >&2; exit 1; }

# husk and husk-runtime as static-pie binaries (glibc and libseccomp linked
# in): a container start execs them five times (husk, its monitor, the
# runtime's create, start and delete), and skipping the dynamic loader
# measured 4-9 ms off `husk run`. husk finds husk-runtime next to itself.
build: deps init static
	mkdir -p $(TARGET_DIR)/release
	cp --remove-destination $(TARGET_DIR)/static/husk $(TARGET_DIR)/static/husk-runtime \
	  $(INIT) $(TARGET_DIR)/release/

# Puts husk, husk-runtime and husk-init in $(DESTDIR)$(PREFIX)/bin: husk
# finds the other two next to itself.
PREFIX ?= /usr/local
install: build
	install -d $(DESTDIR)$(PREFIX)/bin
	install -m 0755 $(TARGET_DIR)/release/husk $(TARGET_DIR)/release/husk-runtime \
	  $(TARGET_DIR)/release/husk-init $(DESTDIR)$(PREFIX)/bin/

# The payload runs inside busybox rootfs that have no dynamic loader.
payload: deps
	RUSTFLAGS="-C target-feature=+crt-static" $(CARGO) build --release -p husk-payload \
	  --target x86_64-unknown-linux-gnu

# Static for the same reason; a dynamic build of it would not run in most
# images, so the workspace builds above exclude it.
init: deps
	RUSTFLAGS="-C target-feature=+crt-static" $(CARGO) build --release -p husk-init \
	  --target x86_64-unknown-linux-gnu

# Lands in target/static/.
static: deps
	LIBSECCOMP_LINK_TYPE=static LIBSECCOMP_LIB_PATH=/usr/lib/x86_64-linux-gnu \
	RUSTFLAGS="-C target-feature=+crt-static" $(CARGO) build --release -p husk -p husk-runtime \
	  --target x86_64-unknown-linux-gnu
	mkdir -p $(TARGET_DIR)/static
	cp $(TARGET_DIR)/x86_64-unknown-linux-gnu/release/husk \
	  $(TARGET_DIR)/x86_64-unknown-linux-gnu/release/husk-runtime $(TARGET_DIR)/static/

runtime-static: static

# check-deps.py: crates depend only downward in ARCHITECTURE.md's layers,
# and every declared dependency is used (one line per problem).
lint: deps
	$(CARGO) fmt --all -- --check
	python3 scripts/check-deps.py
	$(CARGO) clippy --workspace --all-targets -- -D warnings

test: deps payload init
	@rm -f $(TARGET_DIR)/skips.log
	HUSK_SKIP_LOG=$(TARGET_DIR)/skips.log $(CARGO) test --workspace --exclude husk-payload --exclude husk-init --no-fail-fast \
	  -- --test-threads=2 2>&1 | tee $(TARGET_DIR)/test.log; \
	  rc=$${PIPESTATUS[0]}; \
	  ./scripts/check-skips.sh $(TARGET_DIR)/skips.log tests/expected-skips.txt || rc=1; \
	  exit $$rc

# The cgroup tests again inside a cgroup v2 + systemd guest (qemu, software
# emulation): the guest image is built once from Debian packages and cached
# in $(GUEST_DIR)/image; the last line is the guest's `N passed, M failed`.
GUEST_DIR := $(TARGET_DIR)/guest
GUEST_DEBS := qemu-system-x86 qemu-utils debootstrap jq
test-guest: deps payload init
	@# Twice: installing Debian's qemu-system-x86 removes a newer qemu-utils
	@# (a backport) instead of keeping both; the second pass puts the matching one back.
	@for pass in 1 2; do \
	  missing=""; for p in $(GUEST_DEBS); do \
	    dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q 'install ok installed' || missing="$$missing $$p"; \
	  done; \
	  if [ -n "$$missing" ]; then echo "installing:$$missing"; \
	    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null || exit 1; fi; \
	done
	./scripts/guest/build.sh $(GUEST_DIR)/image
	./scripts/guest/tests.sh prepare $(GUEST_DIR)
	@rm -f $(GUEST_DIR)/boot-skip.log
	./scripts/guest/run.sh $(GUEST_DIR)/image $(GUEST_DIR) scripts/guest/tests.sh run $(GUEST_DIR); \
	  rc=$$?; \
	  if [ $$rc -eq 3 ]; then \
	    echo "SKIP: test-guest: qemu did not bring the guest to its job (see $(GUEST_DIR)/console.log)" >$(GUEST_DIR)/boot-skip.log; \
	    ./scripts/check-skips.sh $(GUEST_DIR)/boot-skip.log tests/expected-skips.txt; exit $$?; \
	  fi; \
	  ./scripts/guest/summary.sh $(GUEST_DIR) || rc=1; exit $$rc

demo: build payload
	./demo/demo.sh

# podman is the engine benchmark's peer only; tests never need it.
bench: build payload
	@dpkg -s podman >/dev/null 2>&1 || DEBIAN_FRONTEND=noninteractive apt-get install -y -qq podman >/dev/null
	HUSK=$(TARGET_DIR)/static/husk-runtime ./bench/runtime.sh
	./bench/engine.sh

# The registry pull benchmark: a Debian image from a local docker-registry,
# pulled by husk, podman, dockerd (a private one) and skopeo, against the tar floor.
PULL_DEBS := podman docker.io docker-registry skopeo debootstrap curl jq bc
bench-pull: static
	@missing=""; for p in $(PULL_DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; fi
	HUSK=$(TARGET_DIR)/static/husk ./bench/pull.sh

clean:
	$(CARGO) clean
