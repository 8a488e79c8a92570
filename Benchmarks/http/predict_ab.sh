#!/usr/bin/env bash
# One-row POST /predict throughput of two axond binaries, side by side on loopback: for checking
# that a change to the HTTP path (the shim, the responder) costs the small-request path nothing.
#
#   BASE_AXOND=/path/to/old/axond Benchmarks/http/predict_ab.sh
#
# Builds release axond from this checkout (the "new" side) unless NEW_AXOND is set, starts both
# with the same flags on their own ports and state directories, trains the same model on each
# ("digits" 64-32-10 on examples/digits.csv, seed 7), and runs wrk rounds alternating between
# them so machine noise hits both alike. Prints each round and the medians and their ratio.
#
# Environment: RUNS (5), DURATION seconds per round (5), CONNECTIONS (16), WRK_THREADS (2),
# THREADS server threads (1), PORT_BASE (18180).
set -euo pipefail
cd "$(dirname "$0")/../.."
source Benchmarks/http/common.sh

: "${BASE_AXOND:?set BASE_AXOND to the axond binary to compare against}"
RUNS=${RUNS:-5}
DURATION=${DURATION:-5}
CONNECTIONS=${CONNECTIONS:-16}
WRK_THREADS=${WRK_THREADS:-2}
THREADS=${THREADS:-1}
PORT_BASE=${PORT_BASE:-18180}
OUT=Benchmarks/out/predict-ab
mkdir -p "$OUT"
if [ -z "${NEW_AXOND:-}" ]; then
    swift build -c release --product axond >/dev/null
    NEW_AXOND=$(swift build -c release --show-bin-path)/axond
fi

STATE=$(mktemp -d /tmp/axon-predict-ab-XXXXXX)
PIDS=()
cleanup() {
    for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done
    wait 2>/dev/null || true
    rm -rf "$STATE"
}
trap cleanup EXIT

declare -A PORT=([base]=$PORT_BASE [new]=$((PORT_BASE + 1)))
declare -A BIN=([base]=$BASE_AXOND [new]=$NEW_AXOND)
for side in base new; do
    mkdir -p "$STATE/$side"
    "${BIN[$side]}" serve --port "${PORT[$side]}" --threads "$THREADS" --no-access-log --log-level warning \
        --state-dir "$STATE/$side" 2>"$OUT/$side.log" &
    PIDS+=($!)
    wait_http "http://127.0.0.1:${PORT[$side]}/healthz"
    curl -sf -X POST "http://127.0.0.1:${PORT[$side]}/train?model=digits&target=digit&layers=64,32,10&epochs=5&seed=7&wait=true" \
        -H 'Content-Type: text/csv' --data-binary @examples/digits.csv >/dev/null
done

# The first row of the training file without its label, as {"model": ..., "inputs": [[...]]}.
ROW=$(sed -n 2p examples/digits.csv | awk -F, '{ s = $1; for (i = 2; i < NF; i++) s = s "," $i; print s }')
cat >"$OUT/predict.lua" <<EOF
wrk.method = "POST"
wrk.body = '{"model":"digits","inputs":[[$ROW]]}'
wrk.headers["Content-Type"] = "application/json"
EOF
for side in base new; do
    curl -sf -X POST "http://127.0.0.1:${PORT[$side]}/predict" -H 'Content-Type: application/json' \
        --data-binary "{\"model\":\"digits\",\"inputs\":[[$ROW]]}" >"$OUT/$side.sanity.json"
done
cmp -s "$OUT/base.sanity.json" "$OUT/new.sanity.json" || echo "warning: the two sides predict differently" >&2

declare -A RPS=([base]="" [new]="")
for round in $(seq 1 "$RUNS"); do
    for side in base new; do
        result=$(wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${DURATION}s" -s "$OUT/predict.lua" \
            "http://127.0.0.1:${PORT[$side]}/predict" | tee "$OUT/$side.$round.txt" | awk '/Requests\/sec/ { print $2 }')
        non2xx=$(awk '/Non-2xx/ { print $5 }' "$OUT/$side.$round.txt")
        echo "round $round $side: $result req/s${non2xx:+ ($non2xx non-2xx)}"
        RPS[$side]+="$result"$'\n'
    done
done
base=$(printf '%s' "${RPS[base]}" | median)
new=$(printf '%s' "${RPS[new]}" | median)
echo "median req/s: base $base, new $new, new/base $(awk -v a="$new" -v b="$base" 'BEGIN { printf "%.3f", a / b }')"
