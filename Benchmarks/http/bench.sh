#!/usr/bin/env bash
# HTTP throughput of axond against a pure-C libmicrohttpd responder, side by side on loopback.
#
# In one run it builds release axond and Benchmarks/http/c_responder.c, starts both with the
# same daemon flags and thread count, and measures with wrk, interleaving the targets in every
# round so machine noise hits them alike:
#   sync     axond GET /healthz        (answered on the libmicrohttpd thread)
#   async    axond GET /debug/async    (answered from a Swift Task through suspend/resume)
#   sync+log axond GET /healthz with the access log on (written to /dev/null)
#   c        c_responder GET /healthz
# It prints the median requests/s, p50 and p99 of RUNS rounds and the ratios to C.
# Targets (issue 2): sync >= 90% of C, async >= 50% of C.
#
# Environment: RUNS (5), DURATION seconds per measurement (5), CONNECTIONS (64),
# THREADS server threads (2), WRK_THREADS (2), PORT_BASE (18080), PIN=1 to run the servers on
# CPU 0 and wrk on CPU 1 (then THREADS=1 and WRK_THREADS=1 are sensible).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
loopback_settings
PORT_BASE=${PORT_BASE:-18080}
OUT="$ROOT/Benchmarks/out/http"
mkdir -p "$OUT"

echo "building release axond and the C responder..."
AXOND="$(release_binary axond)"
"$CC" -O2 -Wall -Wextra -o "$OUT/c_responder" "$ROOT/Benchmarks/http/c_responder.c" \
    $(pkg-config --cflags --libs libmicrohttpd) -lpthread

P_AXOND=$PORT_BASE P_LOG=$((PORT_BASE + 1)) P_C=$((PORT_BASE + 2))
axond_start "$P_AXOND" "$OUT/var" "$OUT/axond.log" --threads "$THREADS" --enable-debug-routes
axond_start "$P_LOG" "$OUT/var" /dev/null --threads "$THREADS" --access-log --log-level info
"${SERVER_PREFIX[@]}" "$OUT/c_responder" "$P_C" "$THREADS" &
BENCH_PIDS+=($!)
wait_http "http://127.0.0.1:$P_C/healthz"

declare -A URL=(
    [sync]="http://127.0.0.1:$P_AXOND/healthz"
    [async]="http://127.0.0.1:$P_AXOND/debug/async"
    [sync+log]="http://127.0.0.1:$P_LOG/healthz"
    [c]="http://127.0.0.1:$P_C/healthz"
)
TARGETS=(c sync async sync+log)
RESULTS="$OUT/results.tsv"
: >"$RESULTS"

# Warm-up: page in code and grow connection pools before anything is measured.
for t in "${TARGETS[@]}"; do "${CLIENT_PREFIX[@]}" wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d1s "${URL[$t]}" >/dev/null; done

for run in $(seq 1 "$RUNS"); do
    for t in "${TARGETS[@]}"; do
        read -r rps p50 p99 _ errors < <("${CLIENT_PREFIX[@]}" wrk -t"$WRK_THREADS" -c"$CONNECTIONS" -d"${DURATION}s" --latency "${URL[$t]}" | wrk_stats)
        printf '%s\t%s\t%s\t%s\t%s\t%s\n' "$run" "$t" "$rps" "$p50" "$p99" "$errors" >>"$RESULTS"
        printf 'run %d %-8s %10.0f req/s  p50 %7.0f us  p99 %7.0f us %s\n' "$run" "$t" "$rps" "$p50" "$p99" "$errors"
    done
done

echo
echo "medians of $RUNS runs x ${DURATION}s, wrk -t$WRK_THREADS -c$CONNECTIONS, $THREADS server threads, $(nproc) cores, pinned: ${PIN:-0}"
printf '%-10s %12s %10s %10s %10s\n' target "req/s" "p50 us" "p99 us" "vs C"
C_RPS=$(column_median "$RESULTS" c 3)
for t in "${TARGETS[@]}"; do
    rps=$(column_median "$RESULTS" "$t" 3)
    ratio=$(awk -v a="$rps" -v b="$C_RPS" 'BEGIN { printf "%.1f%%", 100 * a / b }')
    printf '%-10s %12.0f %10.0f %10.0f %10s\n' "$t" "$rps" "$(column_median "$RESULTS" "$t" 4)" "$(column_median "$RESULTS" "$t" 5)" "$ratio"
done
# The targets are judged on the per-round ratios (see paired_ratio).
SYNC_RATIO=$(paired_ratio "$RESULTS" sync c 3)
ASYNC_RATIO=$(paired_ratio "$RESULTS" async c 3)
LOG_RATIO=$(paired_ratio "$RESULTS" sync+log c 3)
printf 'median of per-round ratios to C: sync %.1f%%, async %.1f%%, sync+log %.1f%%\n' \
    "$(awk -v r="$SYNC_RATIO" 'BEGIN { print 100 * r }')" "$(awk -v r="$ASYNC_RATIO" 'BEGIN { print 100 * r }')" \
    "$(awk -v r="$LOG_RATIO" 'BEGIN { print 100 * r }')"
sync_ok=$(awk -v r="$SYNC_RATIO" 'BEGIN { print (r >= 0.9) ? "PASS" : "FAIL" }')
async_ok=$(awk -v r="$ASYNC_RATIO" 'BEGIN { print (r >= 0.5) ? "PASS" : "FAIL" }')
echo "target sync >= 90% of C: $sync_ok; async >= 50% of C: $async_ok (load average: $(cut -d' ' -f1-3 /proc/loadavg))"
