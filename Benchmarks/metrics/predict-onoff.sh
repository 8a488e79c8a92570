#!/usr/bin/env bash
# POST /predict (one digits row) against two release axond processes side by side, one with
# metrics on and one with --no-metrics, in interleaved wrk rounds whose order alternates, so
# load from other processes falls on both. Prints requests/s per round; compare per-round ratios.
#
# Bounded: temp state dirs removed on exit, both servers stopped on every path.
# Environment: ROUNDS (5), SECS (4 s per wrk run), PORT_BASE (19290).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
AXOND="${AXOND:-$(release_binary axond)}"
ON=${PORT_BASE:-19290} OFF=$((${PORT_BASE:-19290} + 1))
bench_tempdir W predict-onoff
axond_start "$ON" "$W/on" "$W/on.log"
axond_start "$OFF" "$W/off" "$W/off.log" --no-metrics
for port in $ON $OFF; do
  train_digits "http://127.0.0.1:$port" 5 >/dev/null
done
digits_bodies "$W"
curl -sf -X POST "http://127.0.0.1:$ON/predict" --data-binary @"$W/predict_1.json" | head -c 80; echo
for round in $(seq 1 "${ROUNDS:-5}"); do
  order="$ON $OFF"; [ $((round % 2)) = 0 ] && order="$OFF $ON"
  for port in $order; do
    rps=$(BODY_FILE="$W/predict_1.json" wrk -t2 -c16 -d"${SECS:-4}s" -s "$ROOT/Benchmarks/post.lua" "http://127.0.0.1:$port/predict" | awk '/Requests\/sec/ {print $2}')
    echo "round $round $([ "$port" = "$ON" ] && echo on || echo off) $rps"
  done
done
curl -sf "http://127.0.0.1:$ON/metrics" | grep -E '^axon_inference_(rows_total|batch_size_rows_count)'
