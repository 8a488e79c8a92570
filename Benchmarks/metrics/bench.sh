#!/usr/bin/env bash
# Cost of the metrics instrumentation and of the access log, side by side on loopback.
#
# Starts release axond four times with the same thread count and measures with wrk, interleaving
# the targets in every round so machine noise hits them alike:
#   off        --no-metrics --no-access-log   GET /healthz        (the baseline)
#   on         metrics on,  --no-access-log   GET /healthz
#   echo-off   --no-metrics                   POST /debug/echo    (body collection + a Task)
#   echo-on    metrics on                     POST /debug/echo
#   log        metrics on, access log on (text, to /dev/null)   GET /healthz
# Prints median req/s, p50/p99 and the median of per-round ratios on/off (issue 6: metrics may
# cost at most 5%, i.e. on/off >= 0.95) and log/on.
#
# Environment: RUNS (5), DURATION seconds (5), CONNECTIONS (64), THREADS server threads (2),
# WRK_THREADS (2), PORT_BASE (18180), LOG_FORMAT for the log target (text).
set -euo pipefail
cd "$(dirname "$0")/../.."
source Benchmarks/http/common.sh

RUNS=${RUNS:-5}
DURATION=${DURATION:-5}
CONNECTIONS=${CONNECTIONS:-64}
THREADS=${THREADS:-2}
WRK_THREADS=${WRK_THREADS:-2}
PORT_BASE=${PORT_BASE:-18180}
LOG_FORMAT=${LOG_FORMAT:-text}
OUT=Benchmarks/out/metrics
mkdir -p "$OUT"

echo "building release axond..."
swift build -c release --product axond >/dev/null
AXOND=$(swift build -c release --show-bin-path)/axond

PIDS=()
cleanup() { for pid in "${PIDS[@]}"; do kill -TERM "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

P_OFF=$PORT_BASE P_ON=$((PORT_BASE + 1)) P_LOG=$((PORT_BASE + 2))
COMMON=(serve --threads "$THREADS" --enable-debug-routes --state-dir "$OUT/var")
"$AXOND" "${COMMON[@]}" --port "$P_OFF" --no-metrics --no-access-log --log-level warning 2>"$OUT/off.log" &
PIDS+=($!)
"$AXOND" "${COMMON[@]}" --port "$P_ON" --no-access-log --log-level warning 2>"$OUT/on.log" &
PIDS+=($!)
"$AXOND" "${COMMON[@]}" --port "$P_LOG" --access-log --log-level info --log-format "$LOG_FORMAT" 2>/dev/null &
PIDS+=($!)
wait_http "http://127.0.0.1:$P_OFF/healthz"
wait_http "http://127.0.0.1:$P_ON/healthz"
wait_http "http://127.0.0.1:$P_LOG/healthz"

declare -A URL=(
    [off]="http://127.0.0.1:$P_OFF/healthz"
    [on]="http://127.0.0.1:$P_ON/healthz"
    [echo-off]="http://127.0.0.1:$P_OFF/debug/echo"
    [echo-on]="http://127.0.0.1:$P_ON/debug/echo"
    [log]="http://127.0.0.1:$P_LOG/healthz"
)
declare -A SCRIPT=([echo-off]=Benchmarks/http/echo.lua [echo-on]=Benchmarks/http/echo.lua)
TARGETS=(off on echo-off echo-on log)
RESULTS="$OUT/results.tsv"
: >"$RESULTS"

measure() {
    local t=$1 seconds=$2 args=()
    if [ -n "${SCRIPT[$t]:-}" ]; then args=(-s "${SCRIPT[$t]}"); fi
    wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${seconds}s" --latency "${args[@]}" "${URL[$t]}"
}

for t in "${TARGETS[@]}"; do measure "$t" 1 >/dev/null; done

for run in $(seq 1 "$RUNS"); do
    # Alternate the order so neither side of a pair always runs first in a round.
    order=("${TARGETS[@]}")
    if [ $((run % 2)) = 0 ]; then order=(on off echo-on echo-off log); fi
    for t in "${order[@]}"; do
        report=$(measure "$t" "$DURATION")
        rps=$(awk '/^Requests\/sec:/ { print $2 }' <<<"$report")
        p50=$(to_us "$(awk '$1 == "50%" { print $2 }' <<<"$report")")
        p99=$(to_us "$(awk '$1 == "99%" { print $2 }' <<<"$report")")
        errors=$(awk '/Socket errors|Non-2xx/ { print }' <<<"$report" | tr '\n' ' ')
        printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$run" "$t" "$rps" "$p50" "$p99" "$errors" >>"$RESULTS"
        printf 'run %d %-8s %10.0f req/s  p50 %7.0f us  p99 %7.0f us %s\n' "$run" "$t" "$rps" "$p50" "$p99" "$errors"
    done
done

echo
echo "medians of $RUNS runs x ${DURATION}s, wrk -t$WRK_THREADS -c$CONNECTIONS, $THREADS server threads, $(nproc) cores"
printf '%-10s %12s %10s %10s\n' target "req/s" "p50 us" "p99 us"
for t in "${TARGETS[@]}"; do
    rps=$(awk -F'\t' -v t="$t" '$2 == t { print $3 }' "$RESULTS" | median)
    p50=$(awk -F'\t' -v t="$t" '$2 == t { print $4 }' "$RESULTS" | median)
    p99=$(awk -F'\t' -v t="$t" '$2 == t { print $5 }' "$RESULTS" | median)
    printf '%-10s %12.0f %10.0f %10.0f\n' "$t" "$rps" "$p50" "$p99"
done
paired() {
    awk -F'\t' -v a="$1" -v b="$2" '$2 == a { x[$1] = $3 } $2 == b { y[$1] = $3 } END { for (r in x) print x[r] / y[r] }' "$RESULTS" | median
}
HEALTH=$(paired on off)
ECHO=$(paired echo-on echo-off)
LOG=$(paired log on)
printf 'median of per-round ratios: healthz on/off %.3f, echo on/off %.3f, access log on/off %.3f\n' "$HEALTH" "$ECHO" "$LOG"
ok=$(awk -v a="$HEALTH" -v b="$ECHO" 'BEGIN { print (a >= 0.95 && b >= 0.95) ? "PASS" : "FAIL" }')
echo "target metrics cost <= 5% (on/off >= 0.95): $ok (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
