#!/usr/bin/env bash
# Predict benchmark: Axon against the fastest peer servers, side by side in one run, with the
# method of ../shared/peers/bench_predict.sh (wrk -t2 -c16 -d10s --latency, post.lua, single-row
# raw digits requests), then predictions while a training job runs at full speed.
#
#   Benchmarks/predict/run.sh [-d SECONDS] [-r REPS] [--no-peers] [--quiet-max SECONDS]
#
# Before every wrk round, Axon's and the peers' alike, it waits up to --quiet-max seconds (5)
# for the machine to be under 10% busy (the peers' sysnoise.py).
#
# Steps:
#   1. release axond on 127.0.0.1:$PORT (state in a temp dir, access log off), trains
#      "digits" 64-128-64-10 on examples/digits.csv and waits for the job;
#   2. REPS rounds of wrk against POST /predict and POST /v2/models/digits/infer (1 row);
#   3. the peers (fastapi-async, mlserver-pw0) through bench_predict.sh, same wrk settings;
#   4. training under load: a long training job starts, then REPS wrk rounds on /predict
#      while it runs; the job is cancelled afterwards. Ratio against the idle /predict median.
# Prints one JSON line per measurement and a summary with the ratios; non-2xx counts included.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
PEERS="${PEERS_DIR:-$ROOT/../shared/peers}"
[ -d "$PEERS" ] || PEERS=/work/shared/peers
VENV="${PEERS_VENV:-/tmp/peers-venv}"
DATA="${PEERS_DATA:-/tmp/peers-data}"
OUT="${OUT:-/tmp/axon-bench-predict}"
PORT="${PORT:-8090}"
DURATION=10
REPS=3
PEER_RUN=1
QUIET_MAX=5
while [ $# -gt 0 ]; do
  case "$1" in
    -d) DURATION="$2"; shift 2 ;;
    -r) REPS="$2"; shift 2 ;;
    --no-peers) PEER_RUN=0; shift ;;
    --quiet-max) QUIET_MAX="$2"; shift 2 ;;
    *) echo "unknown arg $1" >&2; exit 2 ;;
  esac
done
mkdir -p "$OUT"
RESULTS="$OUT/results.jsonl"
: > "$RESULTS"
log() { echo "[predict-bench $(date +%H:%M:%S)] $*" >&2; }

(cd "$ROOT" && swift build -c release --product axond >/dev/null)
AXOND="$(cd "$ROOT" && swift build -c release --show-bin-path)/axond"
STATE="$(mktemp -d /tmp/axon-bench-state-XXXXXX)"
AXON_PID=""
cleanup() {
  if [ -n "$AXON_PID" ]; then kill -TERM "$AXON_PID" 2>/dev/null || true; wait "$AXON_PID" 2>/dev/null || true; fi
  rm -rf "$STATE"
}
trap cleanup EXIT INT TERM

# AXON_ARGS adds serve flags (e.g. "--threads 2") to compare settings; empty means the defaults.
# shellcheck disable=SC2086
"$AXOND" serve --port "$PORT" --state-dir "$STATE" --no-access-log --log-level warning ${AXON_ARGS:-} > "$OUT/axond.log" 2>&1 &
AXON_PID=$!
for _ in $(seq 1 200); do curl -sf -o /dev/null "http://127.0.0.1:$PORT/readyz" && break; sleep 0.1; done
BASE="http://127.0.0.1:$PORT"

log "training digits"
curl -sf -X POST "$BASE/train?model=digits&target=digit&layers=64,128,64,10&epochs=60&seed=7&wait=true" \
  -H 'Content-Type: text/csv' --data-binary @"$ROOT/examples/digits.csv" > "$OUT/train.json"

# Request bodies from the same raw test row the peers are measured with.
"$VENV/bin/python" - "$DATA/digits_test.json" "$OUT" <<'PYEOF'
import json, sys
d = json.load(open(sys.argv[1])); row = d["inputs"][0]; out = sys.argv[2]
json.dump({"model": "digits", "inputs": [row]}, open(f"{out}/predict_1.json", "w"), separators=(",", ":"))
json.dump({"inputs": [{"name": "input", "shape": [1, len(row)], "datatype": "FP32", "data": row}]},
          open(f"{out}/v2_1.json", "w"), separators=(",", ":"))
PYEOF
curl -sf -X POST "$BASE/predict" -H 'Content-Type: application/json' --data-binary @"$OUT/predict_1.json" > "$OUT/sanity.json"

# Server CPU seconds (user + system) so far, from /proc: CPU per request does not depend on how
# much of the 2 cores wrk and other jobs take, unlike requests/s and the tail.
server_cpu() { awk -v hz="$(getconf CLK_TCK)" '{ printf "%.4f", ($14 + $15) / hz }' "/proc/$AXON_PID/stat"; }

run_wrk() {  # $1 name $2 url $3 body $4 rep
  local out="$OUT/$1.$4.txt" cpu_before cpu_after
  # As bench_predict.sh does before each peer round: wait (bounded) for a quiet machine.
  "$VENV/bin/python" "$PEERS/sysnoise.py" wait --max "$QUIET_MAX" > /dev/null || true
  cpu_before=$(server_cpu)
  BODY_FILE="$3" timeout $((DURATION + 20)) wrk -t2 -c16 -d"${DURATION}s" --latency --timeout 5s \
    -s "$PEERS/post.lua" "$2" > "$out" 2>&1 || true
  cpu_after=$(server_cpu)
  "$VENV/bin/python" - "$1" "$4" "$out" "$cpu_before" "$cpu_after" <<'PYEOF' | tee -a "$RESULTS"
import json, re, sys
name, rep, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
cpu_seconds = float(sys.argv[5]) - float(sys.argv[4])
txt = open(path).read()
m = re.search(r"LUA_SUMMARY (.*)", txt)
kv = dict(p.split("=") for p in m.group(1).split()) if m else {}
rps = re.search(r"Requests/sec:\s+([\d.]+)", txt)
non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", txt)
errors = sum(int(kv.get(k, 0)) for k in ("err_connect", "err_read", "err_write", "err_timeout"))
print(json.dumps({"server": name, "rep": rep, "rps": float(rps.group(1)) if rps else None,
                  "p50_ms": int(kv.get("p50_us", 0)) / 1000, "p99_ms": int(kv.get("p99_us", 0)) / 1000,
                  "non2xx": int(non2xx.group(1)) if non2xx else 0, "socket_errors": errors,
                  "server_cpu_us_per_request": round(cpu_seconds * 1e6 / int(kv["requests"]), 1) if kv.get("requests") else None}))
PYEOF
}

log "axon idle"
BODY_FILE="$OUT/predict_1.json" wrk -t2 -c16 -d3s -s "$PEERS/post.lua" "$BASE/predict" > /dev/null 2>&1 || true
for rep in $(seq 1 "$REPS"); do
  run_wrk axon-predict "$BASE/predict" "$OUT/predict_1.json" "$rep"
  run_wrk axon-v2 "$BASE/v2/models/digits/infer" "$OUT/v2_1.json" "$rep"
done

log "axon with a training job running"
curl -sf -X POST "$BASE/train?model=load&target=digit&epochs=100000&patience=0&validation_split=0" \
  -H 'Content-Type: text/csv' --data-binary @"$ROOT/examples/digits.csv" > "$OUT/load_job.json"
JOB="$("$VENV/bin/python" -c 'import json,sys; print(json.load(open(sys.argv[1]))["id"])' "$OUT/load_job.json")"
for _ in $(seq 1 100); do
  curl -sf "$BASE/jobs/$JOB" | grep -q '"status":"running"' && break; sleep 0.1
done
for rep in $(seq 1 "$REPS"); do
  run_wrk axon-predict-training "$BASE/predict" "$OUT/predict_1.json" "$rep"
done
curl -sf "$BASE/jobs/$JOB" > "$OUT/load_job_running.json"
curl -sf -X DELETE "$BASE/jobs/$JOB" > /dev/null
kill -TERM "$AXON_PID"; wait "$AXON_PID" 2>/dev/null || true; AXON_PID=""

if [ "$PEER_RUN" = 1 ]; then
  log "peers (bench_predict.sh)"
  PEERS_VENV="$VENV" PEERS_DATA="$DATA" bash "$PEERS/bench_predict.sh" -d "$DURATION" -r "$REPS" \
    --servers fastapi-async,mlserver-pw0 --out "$OUT/peers" --quiet-max "$QUIET_MAX" > /dev/null 2>"$OUT/peers.log" || true
  "$VENV/bin/python" - "$OUT/peers/serve.jsonl" <<'PYEOF' | tee -a "$RESULTS"
import json, sys
for line in open(sys.argv[1]):
    d = json.loads(line)
    if d.get("rows") == 1:
        print(json.dumps({"server": d["server"], "rep": d["rep"], "rps": d.get("rps"), "p50_ms": d.get("p50_ms"),
                          "p99_ms": d.get("p99_ms"), "non2xx": d.get("non2xx", 0), "socket_errors": 0}))
PYEOF
fi

"$VENV/bin/python" - "$RESULTS" "$OUT/load_job_running.json" <<'PYEOF'
import json, statistics, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
by = {}
for r in rows: by.setdefault(r["server"], []).append(r)
med = {k: {m: statistics.median([x[m] for x in v if x[m] is not None]) for m in ("rps", "p50_ms", "p99_ms")} for k, v in by.items()}
fails = {k: sum(x["non2xx"] + x["socket_errors"] for x in v) for k, v in by.items()}
cpu = {k: statistics.median([x["server_cpu_us_per_request"] for x in v]) for k, v in by.items()
       if all(x.get("server_cpu_us_per_request") for x in v)}
print("\nserver                   median rps   p50 ms   p99 ms   p99 range ms   failed   server CPU us/request")
for k in by:
    p99s = sorted(x["p99_ms"] for x in by[k] if x["p99_ms"] is not None)
    spread = f"{p99s[0]:.2f}-{p99s[-1]:.2f}" if p99s else "-"
    print(f"{k:24s} {med[k]['rps']:10.0f} {med[k]['p50_ms']:8.2f} {med[k]['p99_ms']:8.2f} {spread:>14s} {fails[k]:8d}   "
          f"{cpu[k] if k in cpu else '-'}")
peers = [k for k in med if not k.startswith("axon")]
if peers:
    best = max(peers, key=lambda k: med[k]["rps"])
    print(f"\n/predict vs fastest peer ({best}): {med['axon-predict']['rps'] / med[best]['rps']:.1f}x")
    print(f"V2 infer vs fastest peer: {med['axon-v2']['rps'] / med[best]['rps']:.1f}x")
job = json.load(open(sys.argv[2]))
print(f"under training (job at {job.get('samples_per_second', 0):.0f} samples/s): "
      f"{med['axon-predict-training']['rps'] / med['axon-predict']['rps'] * 100:.0f}% of idle /predict throughput")
PYEOF
