#!/usr/bin/env bash
# POST /predict (one digits row) against two release axond processes side by side, one with
# metrics on and one with --no-metrics, in interleaved wrk rounds whose order alternates, so
# load from other processes falls on both. Prints requests/s per round; compare per-round ratios.
#
# Bounded: temp state dirs removed on exit, both servers stopped on every path.
# Environment: ROUNDS (5), SECS (4 s per wrk run), PORT_BASE (19290).
set -euo pipefail
cd "$(dirname "$0")/../.."
swift build -c release --product axond >/dev/null
AXOND=$(swift build -c release --show-bin-path)/axond
ON=${PORT_BASE:-19290} OFF=$((${PORT_BASE:-19290} + 1))
W=$(mktemp -d)
PIDS=()
cleanup() { for p in "${PIDS[@]}"; do kill -TERM "$p" 2>/dev/null || true; done; wait 2>/dev/null || true; rm -rf "$W"; }
trap cleanup EXIT
"$AXOND" serve --host 127.0.0.1 --port $ON --state-dir "$W/on" --no-access-log --log-level warning 2>"$W/on.log" & PIDS+=($!)
"$AXOND" serve --host 127.0.0.1 --port $OFF --state-dir "$W/off" --no-metrics --no-access-log --log-level warning 2>"$W/off.log" & PIDS+=($!)
for port in $ON $OFF; do
  for _ in $(seq 1 100); do curl -sf -o /dev/null "http://127.0.0.1:$port/readyz" && break; sleep 0.1; done
  curl -sf -o /dev/null -X POST "http://127.0.0.1:$port/train?model=digits&target=digit&layers=64,128,64,10&epochs=5&seed=7&wait=true" \
    -H 'Content-Type: text/csv' --data-binary @examples/digits.csv
done
ROW=$(sed -n 2p examples/digits.csv | awk -F, '{OFS=","; NF=NF-1; print}')
cat > "$W/post.lua" <<LUA
wrk.method = "POST"
wrk.body = '{"model":"digits","inputs":[[$ROW]]}'
wrk.headers["Content-Type"] = "application/json"
LUA
curl -sf -X POST http://127.0.0.1:$ON/predict -d "{\"model\":\"digits\",\"inputs\":[[$ROW]]}" | head -c 80; echo
for round in $(seq 1 ${ROUNDS:-5}); do
  order="$ON $OFF"; [ $((round % 2)) = 0 ] && order="$OFF $ON"
  for port in $order; do
    rps=$(wrk -t2 -c16 -d${SECS:-4}s -s "$W/post.lua" "http://127.0.0.1:$port/predict" | awk '/Requests\/sec/ {print $2}')
    echo "round $round $([ $port = $ON ] && echo on || echo off) $rps"
  done
done
curl -sf http://127.0.0.1:$ON/metrics | grep -E '^axon_inference_(rows_total|batch_size_rows_count)'
