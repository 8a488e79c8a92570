#!/usr/bin/env bash
# Training-data ingest: the same numeric body through Axon, pandas and numpy, in one run.
#
#   Benchmarks/ingest/run.sh                  # 150,000 x 64 (82 MB), 5 runs of everything
#   RUNS=7 ROWS=150000 Benchmarks/ingest/run.sh
#   chrt -f 10 env RUNS=7 Benchmarks/ingest/run.sh   # as root on a shared machine: less noise
#   BASELINE_AXOND=/path/to/old/axond Benchmarks/ingest/run.sh   # adds an older axond, same requests
#   BIG_ROWS=1830000 Benchmarks/ingest/run.sh # also trains a ~1 GB CSV and reports axond's peak RSS
#   BASELINE_PROBE=/path/to/baseline-probe ...  # an older build's whole-body parse (see README)
#
# Parse only (time to the rows as a float matrix, one fresh process per run, peak RSS = VmHWM):
# axon-bench ingest (CSV and JSON, read from the file in 16 KiB chunks through the readers
# POST /train uses, as libmicrohttpd delivers an upload), pandas.read_csv
# (+ to_numpy float32), numpy.loadtxt (float32), json.load (+ numpy.asarray). End to end:
# POST /train?target=label&epochs=3&wait=true (CSV) and the JSON body (epochs 3, wait=true)
# to a release axond started fresh for each request (its VmHWM after the answer is the peak of
# that request), and the same with wait=false: the time to the 202 (receive, parse, plan, queue).
# Every run interleaves all of them, so machine noise falls on each alike.
# Writes raw results (JSON lines) to $OUT/results.jsonl and prints medians and ratios.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
HERE="$ROOT/Benchmarks/ingest"
RUNS="${RUNS:-5}"
ROWS="${ROWS:-150000}"
BIG_ROWS="${BIG_ROWS:-0}"
OUT="${OUT:-/tmp/axon-bench-ingest}"
DATA="${DATA:-$OUT/data}"
VENV="${INGEST_VENV:-$ROOT/.build/ingest-venv}"
CHUNK="${CHUNK:-16384}"
mkdir -p "$OUT" "$DATA"
RESULTS="$OUT/results.jsonl"
: > "$RESULTS"

if ! "$VENV/bin/python" -c 'import pandas, numpy' 2>/dev/null; then
  python3 -m venv "$VENV"
  "$VENV/bin/pip" install -q "numpy==2.4.6" "pandas==3.1.1"
fi
python="$VENV/bin/python"
[ -f "$DATA/ingest-$ROWS.csv" ] || python3 "$HERE/make_data.py" "$DATA" --rows "$ROWS" >&2
CSV="$DATA/ingest-$ROWS.csv"
JSON="$DATA/ingest-$ROWS.json"
# Both bodies in the page cache before the first run: every run reads them from memory (the
# baseline probe reads its body before its clock starts; axon-bench's reads are timed).
cat "$CSV" "$JSON" >/dev/null

(cd "$ROOT" && swift build -c release --product axon-bench >&2 && swift build -c release --product axond >&2)
BENCH="$ROOT/.build/release/axon-bench"
AXOND="$ROOT/.build/release/axond"

note() { echo "[$(date +%H:%M:%S) load $(cut -d' ' -f1-3 /proc/loadavg)] $*" >&2; }

# Starts an axond ($1) on a free port with a fresh state directory; sets PID and PORT.
start_axond() {
  PORT=$(free_port)
  STATE=$(mktemp -d /tmp/axon-ingest-state.XXXXXX)
  "$1" serve --port "$PORT" --state-dir "$STATE" --log-level warning --no-access-log --max-body-bytes 4000000000 \
    >"$OUT/axond.log" 2>&1 &
  PID=$!
  wait_http "http://127.0.0.1:$PORT/readyz" 10
}

stop_axond() { kill -9 "$PID" 2>/dev/null; wait "$PID" 2>/dev/null || true; rm -rf "$STATE"; }

# One POST /train through a fresh axond: $1 build name, $2 axond, $3 csv|json, $4 body, $5 run,
# $6 wait (true: time to the trained model; false: time to the 202, i.e. receive, parse, plan).
end_to_end() {
  start_axond "$2"
  local path="/train?model=ingest&target=label&epochs=3&wait=$6" type="text/csv"
  if [ "$3" = json ]; then path="/train?wait=$6"; type="application/json"; fi
  local result
  result=$(curl -s -o "$OUT/answer.json" -w '%{http_code} %{time_total}' -X POST "http://127.0.0.1:$PORT$path" \
    -H "Content-Type: $type" --data-binary @"$4")
  local hwm ticks
  hwm=$(awk '/VmHWM/ {print $2}' "/proc/$PID/status")
  # The daemon's CPU time (user + system, start-up included): what the request cost it,
  # whatever else the machine runs. A 202 answer leaves the job running: read it at once.
  ticks=$(awk '{print $14 + $15}' "/proc/$PID/stat")
  stop_axond
  python3 - "$1" "$3" "$5" "$result" "$hwm" "$(stat -L -c %s "$4")" "$OUT/answer.json" "$6" "$ticks" "$(getconf CLK_TCK)" <<'PY' | tee -a "$RESULTS"
import json, sys
build, fmt, run, result, hwm, size, answer, wait, ticks, hz = sys.argv[1:11]
status, seconds = result.split()
try:
    job = json.load(open(answer))
    timings = {"job_status": job.get("status"), "error": job.get("error")}
except Exception:
    timings = {}
print(json.dumps({"framework": build, "mode": "post_train" if wait == "true" else "post_202", "format": fmt, "run": int(run), "status": int(status),
                  "seconds": float(seconds), "mb_per_s": int(size) / 1e6 / float(seconds), "bytes": int(size),
                  "peak_rss_mb": int(hwm) * 1024 / 1e6, "cpu_seconds": int(ticks) / int(hz), **timings}))
PY
}

for run in $(seq 1 "$RUNS"); do
  note "run $run/$RUNS: parse"
  "$BENCH" ingest --file "$CSV" --target label --chunk "$CHUNK" | sed "s/}\$/,\"run\":$run,\"mode\":\"parse\"}/; s/\"run\":0,//" >>"$RESULTS"
  "$python" "$HERE/peers.py" pandas "$CSV" | sed "s/}\$/,\"run\":$run,\"mode\":\"parse\"}/" >>"$RESULTS"
  "$BENCH" ingest --file "$JSON" --chunk "$CHUNK" | sed "s/}\$/,\"run\":$run,\"mode\":\"parse\"}/; s/\"run\":0,//" >>"$RESULTS"
  "$python" "$HERE/peers.py" numpy "$CSV" | sed "s/}\$/,\"run\":$run,\"mode\":\"parse\"}/" >>"$RESULTS"
  "$python" "$HERE/peers.py" json "$JSON" | sed "s/}\$/,\"run\":$run,\"mode\":\"parse\"}/" >>"$RESULTS"
  if [ -n "${BASELINE_PROBE:-}" ]; then
    for body in "$CSV" "$JSON"; do
      "$BASELINE_PROBE" "$body" | sed "s/}\$/,\"run\":$run,\"mode\":\"parse\"}/" >>"$RESULTS"
    done
  fi
  note "run $run/$RUNS: POST /train"
  for wait in true false; do
    end_to_end axon "$AXOND" csv "$CSV" "$run" "$wait"
    end_to_end axon "$AXOND" json "$JSON" "$run" "$wait"
    if [ -n "${BASELINE_AXOND:-}" ]; then
      end_to_end baseline "$BASELINE_AXOND" csv "$CSV" "$run" "$wait"
      end_to_end baseline "$BASELINE_AXOND" json "$JSON" "$run" "$wait"
    fi
  done
done

if [ "$BIG_ROWS" -gt 0 ]; then
  [ -f "$DATA/ingest-$BIG_ROWS.csv" ] || python3 "$HERE/make_data.py" "$DATA" --rows "$BIG_ROWS" --csv-only >&2
  note "big: $BIG_ROWS rows, epochs 1"
  export AXON_LIMITS_MAX_ROWS_PER_REQUEST=$((BIG_ROWS + 1))
  start_axond "$AXOND"
  BIG="$DATA/ingest-$BIG_ROWS.csv"
  result=$(curl -s -o "$OUT/answer-big.json" -w '%{http_code} %{time_total}' -X POST \
    "http://127.0.0.1:$PORT/train?model=big&target=label&epochs=1&wait=true" -H "Content-Type: text/csv" --data-binary @"$BIG")
  hwm=$(awk '/VmHWM/ {print $2}' "/proc/$PID/status")
  stop_axond
  unset AXON_LIMITS_MAX_ROWS_PER_REQUEST
  python3 -c 'import json,sys; s,t=sys.argv[1].split(); print(json.dumps({"framework":"axon","mode":"post_train_big","format":"csv","status":int(s),"seconds":float(t),"bytes":int(sys.argv[2]),"rows":int(sys.argv[4]),"peak_rss_mb":int(sys.argv[3])*1024/1e6}))' \
    "$result" "$(stat -L -c %s "$BIG")" "$hwm" "$BIG_ROWS" | tee -a "$RESULTS"
fi

python3 "$HERE/summarize.py" "$RESULTS"
