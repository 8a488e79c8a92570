#!/usr/bin/env bash
# axond under AddressSanitizer and ThreadSanitizer with wrk load: for each sanitizer, build a
# sanitized debug axond, load the sync, async, body-echo and sleeping routes, stop it with
# SIGTERM in the middle of a load, and require exit 0 and no sanitizer report.
#
# Environment: DURATION seconds per route (8), SANITIZERS ("address thread"), PORT (18095).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
cd "$ROOT"

DURATION=${DURATION:-8}
SANITIZERS=${SANITIZERS:-"address thread"}
PORT=${PORT:-18095}
OUT=Benchmarks/out/http-sanitize
mkdir -p "$OUT"
status=0

for sanitizer in $SANITIZERS; do
    scratch=.build-asan
    [ "$sanitizer" = thread ] && scratch=.build-tsan
    swift build --sanitize="$sanitizer" --scratch-path "$scratch" --product axond >/dev/null
    log="$OUT/axond-$sanitizer.log"
    : >"$log"
    # halt_on_error makes the first report fatal, so a report also shows up as a bad exit code.
    ASAN_OPTIONS=halt_on_error=1 TSAN_OPTIONS=halt_on_error=1 AXOND="$scratch/debug/axond" AXOND_READY_SECONDS=120 \
        axond_start "$PORT" "$OUT/var" "$log" --threads 2 --enable-debug-routes --drain-timeout 10 --log-level info
    total=0
    for route in healthz debug/async debug/echo debug/sleep/5; do
        script=()
        [ "$route" = debug/echo ] && script=(-s Benchmarks/http/echo.lua)
        requests=$(wrk -t2 -c64 -d"${DURATION}s" "${script[@]}" "http://127.0.0.1:$PORT/$route" |
            awk '/requests in/ { print $1 }')
        total=$((total + requests))
    done
    # The stop itself under load: SIGTERM while the async route is busy.
    wrk -t2 -c64 -d4s "http://127.0.0.1:$PORT/debug/sleep/20" >/dev/null &
    load=$!
    sleep 1
    code=0
    axond_stop || code=$?
    wait "$load" || true
    reports=$(grep -c -E "ERROR: AddressSanitizer|WARNING: ThreadSanitizer|ERROR: LeakSanitizer" "$log" || true)
    printf '%-8s sanitizer: %d requests, exit %d, %d reports\n' "$sanitizer" "$total" "$code" "$reports"
    if [ "$code" != 0 ] || [ "$reports" != 0 ]; then
        status=1
        grep -A30 -m1 -E "ERROR: AddressSanitizer|WARNING: ThreadSanitizer|ERROR: LeakSanitizer" "$log" || tail -20 "$log"
    fi
done
exit "$status"
