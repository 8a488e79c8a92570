#!/usr/bin/env bash
# Drain under load: TRIALS times, start release axond, load it with two clients (sync
# /healthz, and an async route that keeps every request in flight for SLEEP_MS), send SIGTERM
# mid-load and check that
#   - axond exits 0 within the drain timeout,
#   - no accepted request fails: every answer is 2xx, or 503 for a request that arrived on an
#     open connection after the drain began, and no request written on an accepted connection
#     went unanswered (dropped). Refused connections are expected: the port is closed.
# The client is Benchmarks/http/drain_client.c rather than wrk, because wrk reports a refused
# reconnect and a dropped request alike (both as socket errors).
#
# Environment: TRIALS (20), SLEEP_MS (200), CONNECTIONS per client (32), DRAIN_TIMEOUT seconds (10),
# PORT (18090), AXOND (path; default: release build).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

TRIALS=${TRIALS:-20}
SLEEP_MS=${SLEEP_MS:-200}
CONNECTIONS=${CONNECTIONS:-32}
DRAIN_TIMEOUT=${DRAIN_TIMEOUT:-10}
PORT=${PORT:-18090}
OUT="$ROOT/Benchmarks/out/http-drain"
mkdir -p "$OUT"
"$CC" -O2 -Wall -Wextra -pthread -o "$OUT/drain_client" "$ROOT/Benchmarks/http/drain_client.c"
AXOND="${AXOND:-$(release_binary axond)}"

failures=0
for trial in $(seq 1 "$TRIALS"); do
    : >"$OUT/axond.$trial.log"
    axond_start "$PORT" "$OUT/var" "$OUT/axond.$trial.log" --enable-debug-routes --drain-timeout "$DRAIN_TIMEOUT" --log-level info
    # The clients run longer than the trial; they stop at their own deadline after axond is gone.
    "$OUT/drain_client" "$PORT" /healthz "$CONNECTIONS" 4 >"$OUT/sync.$trial.txt" 2>&1 &
    client_sync=$!
    "$OUT/drain_client" "$PORT" "/debug/sleep/$SLEEP_MS" "$CONNECTIONS" 4 >"$OUT/async.$trial.txt" 2>&1 &
    client_async=$!
    # SIGTERM at a varying point 0.5-1.4 s into the load (always with requests in flight).
    sleep "$(awk -v t="$trial" 'BEGIN { printf "%.2f", 0.5 + (t * 37 % 10) / 10 }')"
    start=$(date +%s.%N)
    code=0
    axond_stop || code=$?
    elapsed=$(awk -v a="$start" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')
    wait "$client_sync" "$client_async" || true

    verdict=ok
    [ "$code" = 0 ] || verdict="exit $code"
    awk -v e="$elapsed" -v d="$DRAIN_TIMEOUT" 'BEGIN { exit !(e <= d + 1) }' || verdict="slow exit ${elapsed}s"
    line=""
    for kind in sync async; do
        stats=$(grep '^DRAIN' "$OUT/$kind.$trial.txt" || echo "DRAIN missing")
        line="$line $kind:[${stats#DRAIN }]"
        for key in other dropped; do
            value=$(sed -n "s/.* $key=\([0-9]*\).*/\1/p" <<<"$stats")
            if [ "${value:-x}" != 0 ]; then verdict="failed requests ($kind $key=${value:-?})"; fi
        done
    done
    printf 'trial %2d: exit %s after %ss, %s;%s\n' "$trial" "$code" "$elapsed" "$verdict" "$line"
    [ "$verdict" = ok ] || failures=$((failures + 1))
done
echo "drain under load: $((TRIALS - failures))/$TRIALS trials clean"
[ "$failures" = 0 ]
