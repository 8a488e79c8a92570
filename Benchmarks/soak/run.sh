#!/usr/bin/env bash
# Soak: release axond under mixed load on loopback for SOAK_SECONDS (600), then a restart on
# the same state directory (Benchmarks/soak/soak.py says what runs and what is checked).
#
#   Benchmarks/soak/run.sh [SECONDS]
#
# Prints the summary JSON line (also written to $OUT/summary.json) and exits non-zero when a
# check failed: a crash, a connection error, a 5xx, a torn or lost version, a hostile request
# not answered 4xx, or RSS growing 10% or more after the warm-up (WARMUP_SECONDS, 120).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
SECONDS_TOTAL="${1:-${SOAK_SECONDS:-600}}"
OUT="${OUT:-/tmp/axon-soak}"
mkdir -p "$OUT"
AXOND="${AXOND:-$(release_binary axond)}"
python3 "$ROOT/Benchmarks/soak/soak.py" --axond "$AXOND" --seconds "$SECONDS_TOTAL" --warmup "${WARMUP_SECONDS:-120}" \
  | tee "$OUT/summary.json"
