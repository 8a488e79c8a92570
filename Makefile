# Axon: every entry point a person or CI needs. `make run` and `make test` work on a fresh
# Debian machine: they install the missing system packages first.
SHELL := /bin/bash
PREFIX ?= /usr/local
SWIFT ?= swift
HOST ?= 127.0.0.1
PORT ?= 8080
STATE_DIR ?= ./var

# Build and run need these; the test set-up adds the tools the live tests and benchmarks call.
APT_BUILD := pkg-config libmicrohttpd-dev libopenblas-dev
APT_TEST := $(APT_BUILD) curl wrk
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: deps deps-test build run test sanitize clean

# Installs only what dpkg does not already report as installed, so a ready machine pays nothing.
define apt_install
	@missing=""; for p in $(1); do dpkg-query -W -f='$${Status}' $$p 2>/dev/null | grep -q "install ok installed" || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "installing:$$missing"; \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get update -qq && \
	  $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends $$missing; \
	fi
endef

deps:
	$(call apt_install,$(APT_BUILD))

deps-test:
	$(call apt_install,$(APT_TEST))

build: deps
	$(SWIFT) build -c release

run: build
	mkdir -p $(STATE_DIR)
	.build/release/axond serve --host $(HOST) --port $(PORT) --state-dir $(STATE_DIR)

test: deps-test
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build

clean:
	rm -rf .build .build-asan .build-tsan

.PHONY: bench-train
# ModelKit training speed against PyTorch (1 thread) and scikit-learn, side by side, median of
# RUNS (default 3); needs the peers' venv (see ../shared/peers/README.md).
bench-train: deps
	Benchmarks/train/run.sh
