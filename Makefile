# Axon: every entry point a person or CI needs. `make run` and `make test` work on a fresh
# Debian machine: they install the missing system packages first.
SHELL := /bin/bash
PREFIX ?= /usr/local
SWIFT ?= swift
HOST ?= 127.0.0.1
PORT ?= 8080
STATE_DIR ?= ./var

# Every Debian package the project uses, in one place. Build and run need APT_BUILD; the tests
# add the tools the live tests and checks call (load, a real Prometheus, nginx for the replicas,
# openssl for TLS, venvs for the Python clients, valgrind for instruction counts) and the browser
# the console check drives; the image targets add their own.
APT_BUILD := pkg-config libmicrohttpd-dev libopenblas-dev
APT_UI := chromium chromium-driver fonts-liberation python3-venv
APT_TEST := $(APT_BUILD) curl wrk prometheus openssl nginx valgrind $(APT_UI)
APT_IMAGE := mmdebstrap umoci binutils
APT_IMAGE_CHECK := $(APT_IMAGE) podman runc python3
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

# The Swift tests run one at a time: the live tests' servers run in the test process and answer
# through its cooperative pool, which has one thread per core; tests running in parallel on a
# 2-core machine took those threads (blocking waits, sync tests) long enough for requests to time
# out. Serially the suite takes about as long (26 s against 15-24 s), and no test waits on
# threads another test holds.
test: deps-test
	$(SWIFT) build --build-tests
	$(SWIFT) test --skip-build --no-parallel
	$(MAKE) clients-check
	$(MAKE) ui-check

clean:
	rm -rf .build .build-asan .build-tsan .build-fuzz

# ---- Fuzzing: the checkpoint decoder and the request decoders; the state-directory load benchmark ----
# Both harnesses are the package Fuzz/Decoders, built against the root package's products in its
# own scratch path, so its flags never reach the normal SwiftPM build.
FUZZ_SECONDS ?= 60
FUZZ_DIR := .build/fuzz
# An input over 2 s, a process over 2 GiB or one allocation over 1 GiB counts as a crash: inputs are
# at most 64 KiB, and the per-request memory budget (limits.max_request_bytes) is 512 MiB.
FUZZ_LIMITS := -rss_limit_mb=2048 -malloc_limit_mb=1024 -timeout=2
FUZZ_BODIES ?= predict tf-serving v2-json v2-binary train-json train-csv
DECODER_FUZZ := .build-fuzz/release/decoder-fuzz
CHECKPOINT_FUZZ := .build-fuzz/release/checkpoint-fuzz
BENCH_MODELS ?= 1000
BENCH_RUNS ?= 7

.PHONY: fuzz fuzz-build fuzz-checkpoint fuzz-decoders bench-checkpoint

# Every harness for FUZZ_SECONDS each, all of them even after a crash; fails if any crashed.
fuzz:
	@status=0; $(MAKE) fuzz-checkpoint || status=1; $(MAKE) fuzz-decoders || status=1; exit $$status

# swiftc keeps only its last -sanitize= flag, and SwiftPM passes fuzzer and address as two: the
# combined one restores coverage instrumentation of the Swift code. lld: gold warns about every
# ASan helper symbol.
fuzz-build: deps
	$(SWIFT) build --package-path Fuzz/Decoders --scratch-path .build-fuzz -c release --sanitize=fuzzer --sanitize=address \
	  -Xswiftc -sanitize=fuzzer,address -Xswiftc -use-ld=lld

# libFuzzer + AddressSanitizer on the checkpoint decoder, starting from seeds the harness writes
# from valid files (AXON_FUZZ_SEEDS); a crash leaves its input in $(FUZZ_DIR)/crash-* and fails the target.
fuzz-checkpoint: fuzz-build
	mkdir -p $(FUZZ_DIR)/seeds $(FUZZ_DIR)/corpus
	AXON_FUZZ_SEEDS=$(FUZZ_DIR)/seeds $(CHECKPOINT_FUZZ)
	$(CHECKPOINT_FUZZ) -max_total_time=$(FUZZ_SECONDS) -max_len=65536 $(FUZZ_LIMITS) -dict=Fuzz/checkpoint.dict \
	  -artifact_prefix=$(FUZZ_DIR)/ -print_final_stats=1 $(FUZZ_DIR)/corpus $(FUZZ_DIR)/seeds

# libFuzzer + AddressSanitizer on each request decoder of FUZZ_BODIES (AxonServer's
# RequestDecoders, one run each, seeded from Fuzz/seeds/<body>/). Past crashes
# (Fuzz/regressions/<body>/, and pending/<body>/ whose fix has not landed) are replayed first,
# under the same limits the Swift test cannot impose. The full log goes to $(FUZZ_DIR)/<body>.log,
# a crash's input to $(FUZZ_DIR)/<body>-crash-*; a 5xx counts as one.
fuzz-decoders: fuzz-build
	@set -o pipefail; failed=""; for body in $(FUZZ_BODIES); do \
	  case $$body in train-csv) dict=Fuzz/csv.dict;; *) dict=Fuzz/requests.dict;; esac; \
	  mkdir -p $(FUZZ_DIR)/$$body-corpus; echo "== fuzz $$body for $(FUZZ_SECONDS) s"; \
	  dirs="$(FUZZ_DIR)/$$body-corpus Fuzz/seeds/$$body"; \
	  for d in Fuzz/regressions/$$body Fuzz/regressions/pending/$$body; do [ -d $$d ] && dirs="$$dirs $$d"; done; \
	  AXON_FUZZ_BODY=$$body $(DECODER_FUZZ) -max_total_time=$(FUZZ_SECONDS) -max_len=65536 $(FUZZ_LIMITS) -dict=$$dict \
	    -artifact_prefix=$(FUZZ_DIR)/$$body- -print_final_stats=1 $$dirs 2>&1 \
	    | tee $(FUZZ_DIR)/$$body.log | grep -E '^(#[0-9]+[[:space:]]+(INITED|DONE)|stat::|==[0-9]+==ERROR|SUMMARY|Fatal error|artifact_prefix|Test unit written)' \
	    || failed="$$failed $$body"; \
	done; if [ -n "$$failed" ]; then echo "fuzz-decoders: crashed:$$failed (inputs in $(FUZZ_DIR)/)"; exit 1; fi

# Loads a state directory of BENCH_MODELS small models BENCH_RUNS times and prints the median
# (`axon-bench checkpoint`, on the release build of the Checkpoint module).
bench-checkpoint: deps
	$(SWIFT) build -c release --product axon-bench
	.build/release/axon-bench checkpoint --models $(BENCH_MODELS) --runs $(BENCH_RUNS)

# --- HTTP layer: sanitizers, throughput against plain C, drains; training speed -----------------
.PHONY: bench-http drain-http

# The live HTTP tests, the job scheduler and the data-parallel trainer under AddressSanitizer, then ThreadSanitizer;
# each sanitizer keeps its own build directory so neither rebuilds the other's (or the normal) objects.
SANITIZE_FILTER ?= LiveServerTests|EventStreamTests|InferencePoolTests|JobEventsTests|ParallelTrainingTests|DeletesWinTests|JobWaitTests
# XCTest's own runner leaks two small objects when it finds no XCTest cases; only that is suppressed.
sanitize: deps-test
	mkdir -p .build-asan && printf 'leak:libXCTest.so\n' > .build-asan/lsan-suppressions.txt
	LSAN_OPTIONS=suppressions=$(CURDIR)/.build-asan/lsan-suppressions.txt \
	  $(SWIFT) test --no-parallel --sanitize=address --scratch-path .build-asan --filter '$(SANITIZE_FILTER)'
	$(SWIFT) test --no-parallel --sanitize=thread --scratch-path .build-tsan --filter '$(SANITIZE_FILTER)'

# wrk on loopback: axond /healthz (sync), an async route, and a pure-C libmicrohttpd responder.
bench-http: deps-test
	Benchmarks/http/bench.sh

# 20 trials of SIGTERM while wrk runs: every exit must be 0 and no accepted request may fail.
drain-http: deps-test
	Benchmarks/http/drain.sh

.PHONY: bench-train
# ModelKit training speed against PyTorch (1 thread) and scikit-learn, side by side, median of
# RUNS (default 3); needs the peers' venv (see ../shared/peers/README.md).
bench-train: deps
	Benchmarks/train/run.sh

# --- Metrics and logs: a real Prometheus scrape, the cost of instrumentation ------------------
.PHONY: prometheus-check bench-metrics

# A real Prometheus server scrapes axond on loopback and must see every family (bounded, temp dir).
prometheus-check: deps-test
	$(SWIFT) build --product axond
	Benchmarks/metrics/prometheus-scrape.sh

# Metrics on vs --no-metrics on /healthz and POST /debug/echo, and the access log's cost (wrk).
bench-metrics: deps-test
	Benchmarks/metrics/bench.sh

# --- Model store: start-up with many models; predictions against the peers; the OpenAPI copies --
.PHONY: bench-store
# Release axond started RUNS times (default 7) on a state directory of MODELS (default 1000)
# small models; prints process start -> /readyz 200 per run and the median.
bench-store: deps-test
	Benchmarks/store/run.sh

.PHONY: bench-ingest
# Training data in (issue 13): the 82 MB CSV and JSON bodies through Axon's readers, pandas,
# numpy and json.load, and POST /train end to end, interleaved, RUNS (5) times; pandas and numpy
# go into a venv under .build/ingest-venv. BASELINE_AXOND / BASELINE_PROBE add an older build
# (Benchmarks/ingest/baseline.sh), BIG_ROWS=1830000 a 1 GB CSV (Benchmarks/ingest/README.md).
bench-ingest: deps-test
	Benchmarks/ingest/run.sh

.PHONY: bench-predict openapi
# Single-row predict throughput and latency against the fastest peers (fastapi-async,
# mlserver-pw0), side by side, plus predictions while a training job runs; needs the peers' venv.
bench-predict: deps-test
	Benchmarks/predict/run.sh

# Regenerates openapi.json and the served copy from openapi.yaml (a test checks they agree).
openapi:
	python3 scripts/openapi.py

# --- Operations: install, unit verification, replicas behind nginx -----------------------------
.PHONY: install uninstall verify-unit replicas-check

# The TLS test generates a certificate with openssl; replicas-check runs Debian's nginx.
DESTDIR ?=
BINDIR ?= $(PREFIX)/bin
SYSCONFDIR ?= /etc
UNITDIR ?= $(PREFIX)/lib/systemd/system
DOCDIR ?= $(PREFIX)/share/doc/axon

# Binaries (axond and the axon client), unit (its paths rewritten for PREFIX), README and docs;
# the config only when none exists, so a reinstall never overwrites local settings (the shipped
# defaults go next to it instead).
install: build
	install -Dm755 .build/release/axond $(DESTDIR)$(BINDIR)/axond
	install -Dm755 .build/release/axon $(DESTDIR)$(BINDIR)/axon
	install -d $(DESTDIR)$(UNITDIR)
	sed -e 's|/usr/local/bin/axond|$(BINDIR)/axond|g' -e 's|/usr/local/share/doc/axon|$(DOCDIR)|g' \
	  deploy/axond.service > $(DESTDIR)$(UNITDIR)/axond.service
	chmod 644 $(DESTDIR)$(UNITDIR)/axond.service
	install -Dm644 config/axond.json $(DESTDIR)$(SYSCONFDIR)/axon/axond.json.default
	[ -e $(DESTDIR)$(SYSCONFDIR)/axon/axond.json ] || install -m644 config/axond.json $(DESTDIR)$(SYSCONFDIR)/axon/axond.json
	install -Dm644 README.md $(DESTDIR)$(DOCDIR)/README.md
	install -Dm644 -t $(DESTDIR)$(DOCDIR)/docs docs/*.md
	@echo "installed; as root: systemctl daemon-reload && systemctl enable --now axond"

uninstall:
	rm -f $(DESTDIR)$(BINDIR)/axond $(DESTDIR)$(BINDIR)/axon $(DESTDIR)$(UNITDIR)/axond.service $(DESTDIR)$(DOCDIR)/README.md \
	  $(DESTDIR)$(SYSCONFDIR)/axon/axond.json.default
	rm -rf $(DESTDIR)$(DOCDIR)/docs

# systemd-analyze verify on the unit with ExecStart pointing at the built binary; any message
# fails (verify exits 0 on some parse errors and only prints them).
verify-unit:
	$(SWIFT) build --product axond
	@tmp=$$(mktemp -d); bin=$$($(SWIFT) build --show-bin-path)/axond; \
	sed "s|/usr/local/bin/axond|$$bin|g" deploy/axond.service > $$tmp/axond.service; \
	out=$$(systemd-analyze verify $$tmp/axond.service 2>&1); rc=$$?; rm -rf $$tmp; \
	if [ $$rc -ne 0 ] || [ -n "$$out" ]; then echo "$$out"; echo "verify-unit: FAILED"; exit 1; fi; \
	echo "verify-unit: systemd-analyze verify is clean"

# Two replicas sharing a state directory behind nginx on loopback (deploy/replicas-check.sh).
REQUIRE_TRAINING ?= 1
replicas-check: deps-test
	$(SWIFT) build --product axond
	REQUIRE_TRAINING=$(REQUIRE_TRAINING) deploy/replicas-check.sh

# --- Client compatibility: real tritonclient and TF-Serving REST against axond -----------------
.PHONY: clients-check
# The peers' venv already has tritonclient 2.73 with numpy; otherwise a venv of our own is made once.
CLIENTS_VENV ?= $(shell /tmp/peers-venv/bin/python -c 'import tritonclient.http.aio, numpy' 2>/dev/null && echo /tmp/peers-venv || echo .build/clients-venv)
CLIENTS_DEADLINE ?= 240

# Starts a debug axond on a free loopback port with a temp state dir, trains iris and drives it
# with tritonclient.http (+ aio) and urllib; any mismatch exits non-zero. The script stops the
# daemon on every path; `timeout` bounds the whole run even if the script hangs.
clients-check: deps-test
	$(SWIFT) build --product axond
	@if ! $(CLIENTS_VENV)/bin/python -c 'import tritonclient.http.aio, numpy' 2>/dev/null; then \
	  python3 -m venv $(CLIENTS_VENV) && $(CLIENTS_VENV)/bin/pip install -q 'tritonclient[http]==2.73.0'; fi
	PYTHONDONTWRITEBYTECODE=1 timeout -k 10 $$(( $(CLIENTS_DEADLINE) + 30 )) $(CLIENTS_VENV)/bin/python Tests/clients/triton_client_check.py \
	  --axond "$$($(SWIFT) build --show-bin-path)/axond" --deadline $(CLIENTS_DEADLINE)

# --- Build commit stamp and the per-request cost of metrics ------------------------------------
.PHONY: build-commit bench-metrics-cost

# Writes the git commit into .build/axon-build-commit.h, which Sources/CHTTPShim/build_info.c
# compiles into axon_build_info{commit}; rewritten (and that source touched, so SwiftPM rebuilds
# it) only when the commit changes. Outside git, or with a plain `swift build`, it is "unknown";
# AXON_BUILD_COMMIT in the daemon's environment still overrides it.
BUILD_COMMIT_HEADER := .build/axon-build-commit.h
build-commit:
	@mkdir -p .build; \
	commit=$$(git describe --always --dirty --abbrev=12 2>/dev/null | tr -cd 'A-Za-z0-9._+-' | cut -c1-64); \
	line="#define AXON_BUILD_COMMIT \"$${commit:-unknown}\""; \
	if [ "$$(cat $(BUILD_COMMIT_HEADER) 2>/dev/null)" != "$$line" ]; then \
	  echo "$$line" > $(BUILD_COMMIT_HEADER); touch Sources/CHTTPShim/build_info.c; echo "build commit: $${commit:-unknown}"; \
	fi
build test sanitize prometheus-check verify-unit replicas-check bench-metrics bench-metrics-cost: build-commit

# What metrics cost a POST /predict: callgrind instructions per request on vs --no-metrics, then
# wall-clock rounds pinned and unpinned (Benchmarks/metrics/cost.sh; needs valgrind and wrk).
bench-metrics-cost: deps-test
	Benchmarks/metrics/cost.sh

# --- API contract: schemathesis against openapi.json on a live debug axond ---------------------
# Every check (positive_data_acceptance, use_after_free and ensure_resource_availability
# included) in every phase; the stateful phase follows the links in openapi.yaml (train -> job
# -> model -> predict, evaluate, continue, rollback, delete). The contract it holds: a request
# the schema refuses is a 4xx, one it allows is never a 400. A schema cannot say that a row
# must be as wide as the model it is sent to, that rows agree in length or that targets match
# the rows, so for the routes that take rows, targets or a training plan a schema-valid request
# may be a 422 (or a 413 over a limits.* budget): Tests/clients/schemathesis.toml. CSV and V2
# binary bodies have a grammar OpenAPI cannot state and are not generated
# (Tests/clients/schemathesis_hooks.py). About 4 minutes.
.PHONY: api-check
API_VENV ?= .build/api-venv
api-check: deps-test
	$(SWIFT) build --product axond
	@if ! $(API_VENV)/bin/python -c 'import schemathesis' 2>/dev/null; then \
	  python3 -m venv $(API_VENV) && $(API_VENV)/bin/pip install -q 'schemathesis==4.32.5'; fi
	timeout -k 10 300 Tests/clients/api_fuzz.sh "$$($(SWIFT) build --show-bin-path)/axond" $(API_VENV)/bin/python

# --- Robustness: isolation of cheap requests from large ones, and the soak ---------------------
.PHONY: bench-isolation soak
# Large predictions against /healthz and one-row /predict latency (Benchmarks/isolation/run.sh);
# AXOND_OLD=<axond> adds an older build to compare against.
bench-isolation: deps-test
	Benchmarks/isolation/run.sh

# Release axond under mixed load (all three inference protocols, training, continued training,
# evaluate, rollbacks, deletes, /metrics scrapes, hostile requests) for SOAK_SECONDS (600), then
# a restart on the same state; fails on a crash, a 5xx, a torn or lost version, or RSS growth.
SOAK_SECONDS ?= 600
soak: deps
	Benchmarks/soak/run.sh $(SOAK_SECONDS)

# --- Container image, Kubernetes and KServe ----------------------------------------------------
.PHONY: image image-axond image-check containerfile-check manifests-check
# `make image` builds the runtime image from Debian packages alone (no registry needed); the
# Containerfile builds the same image where base images can be pulled.
IMAGE_DIR ?= .build/image
IMAGE_VERSION := $(shell sed -n 's/.*current = "\(.*\)"/\1/p' Sources/AxonAPI/AxonVersion.swift)
IMAGE_COMMIT = $(shell git describe --always --dirty --abbrev=12 2>/dev/null || echo unknown)
# auto: podman run when it can start the image here, else unshare + chroot of its root filesystem.
IMAGE_RUNNER ?= auto

# Release axond with the Swift runtime linked in (it then needs only Debian's libraries),
# stripped, on a root filesystem from mmdebstrap, written by umoci as an OCI layout
# ($(IMAGE_DIR)/oci) and an archive `podman load -i` takes ($(IMAGE_DIR)/axon-VERSION.oci.tar).
image: image-axond
	$(call apt_install,$(APT_IMAGE))
	scripts/image/build.sh $(IMAGE_DIR)/axond $(IMAGE_DIR) $(IMAGE_VERSION) $(IMAGE_COMMIT)

image-axond: deps
	$(call apt_install,binutils)
	$(SWIFT) build -c release --static-swift-stdlib --product axond
	mkdir -p $(IMAGE_DIR)
	cp "$$($(SWIFT) build -c release --show-bin-path)/axond" $(IMAGE_DIR)/axond
	strip $(IMAGE_DIR)/axond
image-axond: build-commit

# Runs the image: trains iris through its API, predicts, restarts on the same volume (same
# bytes), SIGTERM (exit 0 within the drain), read-only on the volume mounted read-only.
image-check: image
	$(call apt_install,$(APT_IMAGE_CHECK))
	PYTHONDONTWRITEBYTECODE=1 timeout -k 10 600 python3 scripts/image/check.py --layout $(IMAGE_DIR)/oci --tag $(IMAGE_VERSION) \
	  --archive $(IMAGE_DIR)/axon-$(IMAGE_VERSION).oci.tar \
	  --iris examples/iris.csv --runner $(IMAGE_RUNNER)

# The Containerfile's runtime stage, built here on stand-ins for what cannot be pulled (a
# mmdebstrap minbase for debian:bookworm-slim, the host-built axond for the build stage), its
# HEALTHCHECK run, then the image-check above (scripts/image/containerfile-check.sh).
containerfile-check: image-axond
	$(call apt_install,$(APT_IMAGE_CHECK))
	scripts/image/containerfile-check.sh $(IMAGE_DIR)/axond .build/containerfile-check $(IMAGE_VERSION) $(IMAGE_COMMIT)

# Renders deploy/kubernetes and deploy/kserve with kustomize (kubectl's, or Debian's
# kubernetes-client where no kubectl is installed) and validates them offline, strictly, against
# the Kubernetes schemas of kubernetes-validate and KServe's SDK models (scripts/manifests/validate.py).
MANIFESTS_VENV ?= .build/manifests-venv
MANIFESTS_DIR := .build/manifests
manifests-check:
	@command -v kubectl >/dev/null || $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends kubernetes-client
	@if ! $(MANIFESTS_VENV)/bin/python -c 'import kubernetes_validate, importlib.metadata as m; m.version("kserve")' 2>/dev/null; then \
	  python3 -m venv $(MANIFESTS_VENV) && $(MANIFESTS_VENV)/bin/pip install -q 'kubernetes-validate==1.37.0' \
	  && $(MANIFESTS_VENV)/bin/pip install -q --no-deps 'kserve==0.21.0'; fi
	mkdir -p $(MANIFESTS_DIR)
	kubectl kustomize deploy/kubernetes > $(MANIFESTS_DIR)/kubernetes.yaml
	kubectl kustomize deploy/kserve > $(MANIFESTS_DIR)/kserve.yaml
	$(MANIFESTS_VENV)/bin/python scripts/manifests/validate.py $(MANIFESTS_DIR)/kubernetes.yaml $(MANIFESTS_DIR)/kserve.yaml \
	  deploy/kserve/inferenceservice.yaml deploy/kubernetes/secret.example.yaml

# --- Web console: a real browser against a live axond ------------------------------------------
.PHONY: ui-check
# Debian's chromium and its driver (fonts-liberation so screenshots do not depend on what else
# is installed), Selenium from PyPI in a venv of its own.
UI_VENV ?= .build/ui-venv
UI_DEADLINE ?= 300
UI_SCREENSHOTS ?= .build/ui-screenshots

# Starts a debug axond on 127.0.0.1:0 with both tokens and a temporary state directory, and
# drives /ui in headless chromium: token prompt, train iris through the form (refused with the
# read token), the job's live curves, the model page, predict, a live job cancelled. Asserts on
# the DOM and saves screenshots under UI_SCREENSHOTS (Tests/ui/console_check.py). SE_OFFLINE
# keeps Selenium from looking for drivers online: the Debian ones are named explicitly.
ui-check: deps-test
	$(call apt_install,$(APT_UI))
	$(SWIFT) build --product axond
	@if ! $(UI_VENV)/bin/python -c 'import selenium' 2>/dev/null; then \
	  python3 -m venv $(UI_VENV) && $(UI_VENV)/bin/pip install -q 'selenium==4.51.0'; fi
	PYTHONDONTWRITEBYTECODE=1 SE_OFFLINE=true timeout -k 10 $$(( $(UI_DEADLINE) + 30 )) $(UI_VENV)/bin/python Tests/ui/console_check.py \
	  --axond "$$($(SWIFT) build --show-bin-path)/axond" --screenshots $(UI_SCREENSHOTS) --deadline $(UI_DEADLINE)
