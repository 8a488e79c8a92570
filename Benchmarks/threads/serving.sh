#!/usr/bin/env bash
# What training on more threads costs serving: one client probes a one-row POST /predict (one
# connection, closed loop, wrk's exact percentiles) while a training job runs, on a release
# axond of this checkout with training.threads 1 and 2, alternating, REPS rounds each; and the
# same probe with nothing training. Reports the probe's median and p99 latency and requests/s,
# and the job's training throughput (rows per second, the median of its epochs).
#
#   Benchmarks/threads/serving.sh [-d SECONDS] [-r REPS] [-e EPOCHS]
#
# The job: the wide set of data.py (20,000 x 64 CSV) as 64-512-512-10, batch 64, no
# validation split, EPOCHS epochs (long enough to outlast the probe).
set -euo pipefail
here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
root="$(cd "$here/../.." && pwd)"
DATA="${DATA:-/tmp/axon-threads-data}"
OUT="${OUT:-/tmp/axon-bench-threads-serving}"
PORT="${PORT:-8093}"
DURATION=5
REPS=3
EPOCHS=40
while [ $# -gt 0 ]; do
    case "$1" in
        -d) DURATION="$2"; shift 2 ;;
        -r) REPS="$2"; shift 2 ;;
        -e) EPOCHS="$2"; shift 2 ;;
        *) echo "unknown arg $1" >&2; exit 2 ;;
    esac
done
mkdir -p "$OUT"
results="$OUT/results.jsonl"
: > "$results"
[ -f "$DATA/wide_std_train.csv" ] || python3 "$here/data.py" "$DATA"
(cd "$root" && swift build -c release --product axond >/dev/null)
axond="$(cd "$root" && swift build -c release --show-bin-path)/axond"
state="$(mktemp -d /tmp/axon-bench-threads-serving-XXXXXX)"
pid=""
base="http://127.0.0.1:$PORT"
stop() {
    if [ -n "$pid" ]; then kill -TERM "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=""; fi
}
trap 'stop; rm -rf "$state"' EXIT INT TERM
start() {  # $1: training.threads
    AXON_TRAINING_THREADS="$1" "$axond" serve --port "$PORT" --state-dir "$state" --no-access-log --log-level warning \
        >>"$OUT/axond.log" 2>&1 &
    pid=$!
    for _ in $(seq 1 300); do curl -sf -o /dev/null "$base/readyz" && return 0; sleep 0.1; done
    echo "axond did not become ready" >&2
    exit 1
}
log() { echo "[threads-serving $(date +%H:%M:%S)] $*" >&2; }

start 1
curl -sf -X POST "$base/train?model=digits&target=digit&layers=64,128,64,10&epochs=30&seed=7&wait=true" \
    -H 'Content-Type: text/csv' --data-binary @"$root/examples/digits.csv" >/dev/null
python3 - "$root/examples/digits.csv" "$OUT/predict_1.json" <<'PYEOF'
import csv, json, sys
with open(sys.argv[1]) as f:
    reader = csv.reader(f)
    target = next(reader).index("digit")
    row = [float(v) for k, v in enumerate(next(reader)) if k != target]
json.dump({"model": "digits", "inputs": [row]}, open(sys.argv[2], "w"))
PYEOF
stop

job_status() { curl -sf "$base/jobs/$1" | python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])'; }

probe() {  # $1: label, $2: threads, $3: job id or ""
    local line
    line="$(BODY_FILE="$OUT/predict_1.json" wrk -t1 -c1 -d"${DURATION}s" -s "$root/Benchmarks/isolation/probe.lua" \
        "$base/predict" | grep LUA_SUMMARY)"
    local rate=None
    if [ -n "$3" ]; then
        # The job must still have been training when the probe ended, or the probe measured idle time.
        [ "$(job_status "$3")" = running ] || log "warning: the job was $(job_status "$3") when the probe ended; raise -e"
        # DELETE cancels the job and answers it as it ended (then forgets it).
        rate="$(curl -sf -X DELETE "$base/jobs/$3" | python3 -c '
import json, statistics, sys
history = json.load(sys.stdin)["history"]
rates = [e["samples_per_second"] for e in history if e.get("samples_per_second")]
print(statistics.median(rates) if rates else None)')"
    fi
    echo "$line" | python3 -c "
import json, sys
fields = dict(part.split('=') for part in sys.stdin.read().split()[1:])
print(json.dumps({'case': '$1', 'threads': $2, 'load': float(open('/proc/loadavg').read().split()[0]),
                  'rps': int(fields['requests']) / (int(fields['duration_us']) / 1e6), 'p50_ms': int(fields['p50_us']) / 1000,
                  'p99_ms': int(fields['p99_us']) / 1000, 'errors': int(fields['errors']), 'train_rows_per_s': $rate}))" \
        | tee -a "$results"
}

for round in $(seq 1 "$REPS"); do
    for threads in 1 2; do
        log "round $round/$REPS: training.threads $threads"
        start "$threads"
        probe idle "$threads" ""
        job="$(curl -sf -X POST "$base/train?model=wide&target=label&layers=64,512,512,10&epochs=$EPOCHS&batch_size=64&validation_split=0&patience=$EPOCHS&seed=0" \
            -H 'Content-Type: text/csv' --data-binary @"$DATA/wide_std_train.csv" | python3 -c 'import json,sys; print(json.load(sys.stdin)["id"])')"
        # The job starts at once (one slot, nothing queued); a second of epochs first.
        sleep 1
        probe training "$threads" "$job"
        stop
    done
done

python3 - "$results" <<'PYEOF'
import json, statistics, sys
rows = [json.loads(line) for line in open(sys.argv[1])]
print("| training.threads | while | probe req/s | p50 ms | p99 ms | training rows/s | load |")
print("|---|---|---|---|---|---|---|")
for threads in (1, 2):
    for case in ("idle", "training"):
        runs = [r for r in rows if r["threads"] == threads and r["case"] == case]
        if not runs:
            continue
        median = lambda key: statistics.median(r[key] for r in runs)
        rates = [r["train_rows_per_s"] for r in runs if r["train_rows_per_s"]]
        rate = f"{statistics.median(rates):,.0f}" if rates else "-"
        print(f"| {threads} | {case} | {median('rps'):,.0f} | {median('p50_ms'):.3f} | {median('p99_ms'):.2f} | {rate} | {median('load'):.1f} |")
PYEOF
