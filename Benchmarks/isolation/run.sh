#!/usr/bin/env bash
# Isolation benchmark: do large predictions stall the polling thread? While two clients keep
# sending /predict batches that each take 100+ ms of compute, one client probes GET /healthz and
# another one-row POST /predict (each one connection, closed loop); their median and p99
# latencies are compared across three servers in the same run:
#   pool   this checkout's axond, defaults (large predictions run in the inference pool);
#   inline the same binary with inference.async_threshold_flops at its maximum, so every
#          prediction answers on the polling thread as before the pool existed;
#   old    AXOND_OLD (e.g. a release axond built from main), when given.
# Then the small-request path: wrk -t2 -c16 on one-row /predict of the 64-128-64-10 digits model,
# REPS interleaved rounds of old and new binary (AXOND_OLD required), and the ratio of medians.
#
#   AXOND_OLD=/path/to/main/axond Benchmarks/isolation/run.sh [-d SECONDS] [-r REPS] [--rows N]
#
# Prints one JSON line per measurement (also in $OUT/results.jsonl) and a summary table.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
OUT="${OUT:-/tmp/axon-bench-isolation}"
PORT="${PORT:-8091}"
DURATION=10
REPS=3
ROWS=2000
bench_flags "-d DURATION -r REPS --rows ROWS" "$@"
bench_results "$OUT"

AXOND="${AXOND:-$(release_binary axond)}"
AXOND_OLD="${AXOND_OLD:-}"
bench_tempdir STATE bench-isolation
BASE="http://127.0.0.1:$PORT"
# Serves the state directory (the models trained first) with binary $1.
start() { AXOND="$1" axond_start "$PORT" "$STATE" "$OUT/axond.log"; }

log "training digits (64-128-64-10) and wide (64-1024-1024-10)"
start "$AXOND"
train_digits "$BASE" 60 > "$OUT/train_digits.json"
curl -sf -X POST "$BASE/train?model=wide&target=digit&layers=64,1024,1024,10&epochs=1&seed=7&wait=true" \
  -H 'Content-Type: text/csv' --data-binary @"$ROOT/examples/digits.csv" > "$OUT/train_wide.json"
python3 - "$ROOT/examples/digits.csv" "$OUT" "$ROWS" <<'PYEOF'
import csv, json, sys
path, out, count = sys.argv[1], sys.argv[2], int(sys.argv[3])
with open(path) as f:
    reader = csv.reader(f)
    header = next(reader)
    target = header.index("digit")
    rows = [[float(v) for k, v in enumerate(r) if k != target] for r in reader]
batch = [rows[k % len(rows)] for k in range(count)]
json.dump({"model": "wide", "inputs": batch}, open(f"{out}/predict_large.json", "w"), separators=(",", ":"))
PYEOF
digits_bodies "$OUT"
for _ in 1 2 3; do
  curl -sf -o /dev/null -w '%{time_total}\n' -X POST "$BASE/predict" -H 'Content-Type: application/json' \
    --data-binary @"$OUT/predict_large.json" >> "$OUT/large_seconds.txt"
done
python3 - "$OUT" "$ROWS" <<'PYEOF' | tee -a "$RESULTS"
import json, os, sys
out, rows = sys.argv[1], int(sys.argv[2])
times = [float(t) for t in open(f"{out}/large_seconds.txt").read().split()]
print(json.dumps({"large_request": {"rows": rows, "body_bytes": os.path.getsize(f"{out}/predict_large.json"),
                                    "seconds_min": min(times), "gflop": rows * 2 * (64 * 1024 + 1024 * 1024 + 1024 * 10) / 1e9}}))
PYEOF
axond_stop

summary() {  # $1 mode $2 probe $3 wrk output file
  python3 "$ROOT/Benchmarks/wrk_report.py" "$3" mode="$1" probe="$2" | tee -a "$RESULTS"
}

isolation() {  # $1 mode $2 binary (VAR=value before the call reaches the daemon)
  local mode="$1" binary="$2"
  log "isolation: $mode"
  start "$binary"
  # Load: two connections that always have a large batch in flight.
  BODY_FILE="$OUT/predict_large.json" wrk -t1 -c2 -d"$((DURATION + 2))s" --timeout 30s -s "$ROOT/Benchmarks/post.lua" "$BASE/predict" \
    > "$OUT/$mode.load.txt" 2>&1 &
  local load=$!
  sleep 1
  BODY_FILE= wrk -t1 -c1 -d"${DURATION}s" --timeout 30s -s "$ROOT/Benchmarks/post.lua" "$BASE/healthz" > "$OUT/$mode.healthz.txt" 2>&1 &
  local health=$!
  BODY_FILE="$OUT/predict_1.json" wrk -t1 -c1 -d"${DURATION}s" --timeout 30s -s "$ROOT/Benchmarks/post.lua" "$BASE/predict" \
    > "$OUT/$mode.predict1.txt" 2>&1
  wait "$health" "$load" || true
  axond_stop
  summary "$mode" healthz "$OUT/$mode.healthz.txt"
  summary "$mode" predict-1-row "$OUT/$mode.predict1.txt"
  summary "$mode" load-large "$OUT/$mode.load.txt"
}

for rep in $(seq 1 "$REPS"); do
  isolation pool "$AXOND"
  AXON_INFERENCE_ASYNC_THRESHOLD_FLOPS=9223372036854775807 isolation inline "$AXOND"
  [ -n "$AXOND_OLD" ] && isolation old "$AXOND_OLD"
done

if [ -n "$AXOND_OLD" ]; then
  for rep in $(seq 1 "$REPS"); do
    for which in old new; do
      log "small path: $which, round $rep"
      if [ "$which" = old ]; then start "$AXOND_OLD"; else start "$AXOND"; fi
      BODY_FILE="$OUT/predict_1.json" wrk -t2 -c16 -d3s -s "$ROOT/Benchmarks/post.lua" "$BASE/predict" > /dev/null 2>&1 || true
      BODY_FILE="$OUT/predict_1.json" wrk -t2 -c16 -d"${DURATION}s" --latency -s "$ROOT/Benchmarks/post.lua" "$BASE/predict" \
        > "$OUT/small.$which.$rep.txt" 2>&1 || true
      axond_stop
      summary "small-$which" predict-1-row "$OUT/small.$which.$rep.txt"
    done
  done
fi

python3 - "$RESULTS" <<'PYEOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
by = {}
for r in rows:
    if "mode" in r: by.setdefault((r["mode"], r["probe"]), []).append(r)
print("\nmode          probe            median rps   median p50 ms   median p99 ms   max p99 ms   non-2xx")
for (mode, probe), v in by.items():
    print(f"{mode:13s} {probe:16s} {statistics.median(x['rps'] for x in v):10.1f} {statistics.median(x['p50_ms'] for x in v):15.3f} "
          f"{statistics.median(x['p99_ms'] for x in v):15.3f} {max(x['p99_ms'] for x in v):12.3f} {sum(x['non2xx'] + x['socket_errors'] for x in v):9d}")
old, new = by.get(("small-old", "predict-1-row")), by.get(("small-new", "predict-1-row"))
if old and new:
    ratio = statistics.median(x["rps"] for x in new) / statistics.median(x["rps"] for x in old)
    print(f"\nsmall path, one-row /predict: new/old median req/s = {ratio:.3f}")
PYEOF
