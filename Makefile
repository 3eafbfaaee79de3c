# Everything a fresh Debian 12 machine (as root) needs: `make demo`, `make test`.
SHELL := /bin/bash
CARGO ?= cargo
TARGET_DIR ?= $(CURDIR)/target
PAYLOAD := $(TARGET_DIR)/x86_64-unknown-linux-gnu/release/husk-payload
DEBS := busybox-static runc crun skopeo umoci libseccomp-dev pkg-config debootstrap \
        nftables jq iproute2 util-linux procps
export HUSK_PAYLOAD := $(PAYLOAD)

.PHONY: all deps build payload test lint demo bench clean

all: build

# Installs only what is missing, so a second run costs nothing.
deps:
	@missing=""; for p in $(DEBS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
	@command -v $(CARGO) >/dev/null || { echo "cargo not found: install Rust (rustup) first" >&2; exit 1; }

build: deps
	$(CARGO) build --release --workspace --exclude husk-payload

# The payload runs inside busybox rootfs that have no dynamic loader.
payload: deps
	RUSTFLAGS="-C target-feature=+crt-static" $(CARGO) build --release -p husk-payload \
	  --target x86_64-unknown-linux-gnu

lint: deps
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --workspace --all-targets -- -D warnings

test: deps payload
	@rm -f $(TARGET_DIR)/skips.log
	HUSK_SKIP_LOG=$(TARGET_DIR)/skips.log $(CARGO) test --workspace --exclude husk-payload --no-fail-fast \
	  -- --test-threads=2 2>&1 | tee $(TARGET_DIR)/test.log; \
	  rc=$${PIPESTATUS[0]}; \
	  skipped=$$(sort -u $(TARGET_DIR)/skips.log 2>/dev/null | wc -l); \
	  echo "skipped tests: $$skipped"; sort -u $(TARGET_DIR)/skips.log 2>/dev/null; \
	  exit $$rc

demo: build payload
	./demo/demo.sh

bench: build payload
	./bench/runtime.sh

clean:
	$(CARGO) clean
