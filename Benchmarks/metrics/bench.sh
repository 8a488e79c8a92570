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
# Prints median req/s, p50/p99, server CPU per request (from /proc/PID/stat over each
# measurement: far less sensitive to other load on a shared machine than req/s) and the medians
# of per-round ratios on/off (issue 6: metrics may cost at most 5%) and log/on.
#
# Environment: RUNS (5), DURATION seconds (5), CONNECTIONS (64), THREADS server threads (2),
# WRK_THREADS (2), PORT_BASE (18180), LOG_FORMAT for the log target (text), PIN=1 to run the
# servers on CPU 0 and wrk on CPU 1 (then THREADS=1 WRK_THREADS=1 are sensible), TARGETS to
# measure a subset (e.g. "off on").
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
loopback_settings
PORT_BASE=${PORT_BASE:-18180}
LOG_FORMAT=${LOG_FORMAT:-text}
OUT="$ROOT/Benchmarks/out/metrics"
mkdir -p "$OUT"

echo "building release axond..."
AXOND="$(release_binary axond)"

P_OFF=$PORT_BASE P_ON=$((PORT_BASE + 1)) P_LOG=$((PORT_BASE + 2))
COMMON=(--threads "$THREADS" --enable-debug-routes)
axond_start "$P_OFF" "$OUT/var" "$OUT/off.log" "${COMMON[@]}" --no-metrics
PID_OFF=$AXOND_PID
axond_start "$P_ON" "$OUT/var" "$OUT/on.log" "${COMMON[@]}"
PID_ON=$AXOND_PID
axond_start "$P_LOG" "$OUT/var" /dev/null "${COMMON[@]}" --access-log --log-level info --log-format "$LOG_FORMAT"
declare -A PID=([off]=$PID_OFF [on]=$PID_ON [echo-off]=$PID_OFF [echo-on]=$PID_ON [log]=$AXOND_PID)
TICKS=$(getconf CLK_TCK)

declare -A URL=(
    [off]="http://127.0.0.1:$P_OFF/healthz"
    [on]="http://127.0.0.1:$P_ON/healthz"
    [echo-off]="http://127.0.0.1:$P_OFF/debug/echo"
    [echo-on]="http://127.0.0.1:$P_ON/debug/echo"
    [log]="http://127.0.0.1:$P_LOG/healthz"
)
declare -A SCRIPT=([echo-off]="$ROOT/Benchmarks/http/echo.lua" [echo-on]="$ROOT/Benchmarks/http/echo.lua")
read -r -a TARGETS <<<"${TARGETS:-off on echo-off echo-on log}"
RESULTS="$OUT/results.tsv"
: >"$RESULTS"

measure() {
    local t=$1 seconds=$2 args=()
    if [ -n "${SCRIPT[$t]:-}" ]; then args=(-s "${SCRIPT[$t]}"); fi
    "${CLIENT_PREFIX[@]}" wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${seconds}s" --latency "${args[@]}" "${URL[$t]}"
}

for t in "${TARGETS[@]}"; do measure "$t" 1 >/dev/null; done

for run in $(seq 1 "$RUNS"); do
    # Alternate the order so neither side of a pair always runs first in a round.
    order=("${TARGETS[@]}")
    if [ $((run % 2)) = 0 ]; then
        order=()
        for ((i = ${#TARGETS[@]} - 1; i >= 0; i--)); do order+=("${TARGETS[i]}"); done
    fi
    for t in "${order[@]}"; do
        before=$(cpu_ticks "${PID[$t]}")
        read -r rps p50 p99 requests errors < <(measure "$t" "$DURATION" | wrk_stats)
        after=$(cpu_ticks "${PID[$t]}")
        cpu=$(awk -v d=$((after - before)) -v n="$requests" -v hz="$TICKS" 'BEGIN { printf "%.2f", d * 1e6 / hz / n }')
        printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$run" "$t" "$rps" "$p50" "$p99" "$cpu" "$errors" >>"$RESULTS"
        printf 'run %d %-8s %10.0f req/s  p50 %7.0f us  p99 %7.0f us  cpu %6.2f us/req %s\n' "$run" "$t" "$rps" "$p50" "$p99" "$cpu" "$errors"
    done
done

echo
echo "medians of $RUNS runs x ${DURATION}s, wrk -t$WRK_THREADS -c$CONNECTIONS, $THREADS server threads, $(nproc) cores"
printf '%-10s %12s %10s %10s %12s\n' target "req/s" "p50 us" "p99 us" "cpu us/req"
for t in "${TARGETS[@]}"; do
    printf '%-10s %12.0f %10.0f %10.0f %12.2f\n' "$t" "$(column_median "$RESULTS" "$t" 3)" "$(column_median "$RESULTS" "$t" 4)" \
        "$(column_median "$RESULTS" "$t" 5)" "$(column_median "$RESULTS" "$t" 6)"
done
# Ratios in column 3 (req/s) and 6 (CPU per request); see paired_ratio.
printf 'median per-round ratios, req/s:        healthz on/off %.3f, echo on/off %.3f, access log/on %.3f\n' \
    "$(paired_ratio "$RESULTS" on off 3)" "$(paired_ratio "$RESULTS" echo-on echo-off 3)" "$(paired_ratio "$RESULTS" log on 3)"
CPU_HEALTH=$(paired_ratio "$RESULTS" on off 6) CPU_ECHO=$(paired_ratio "$RESULTS" echo-on echo-off 6)
printf 'median per-round ratios, CPU/request:  healthz on/off %.3f, echo on/off %.3f, access log/on %.3f\n' \
    "$CPU_HEALTH" "$CPU_ECHO" "$(paired_ratio "$RESULTS" log on 6)"
ok=$(awk -v a="$CPU_HEALTH" -v b="$CPU_ECHO" 'BEGIN { if (b == "") b = 1; print (a <= 1.05 && b <= 1.05) ? "PASS" : "FAIL" }')
echo "target metrics cost <= 5% (server CPU per request on/off <= 1.05): $ok (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
