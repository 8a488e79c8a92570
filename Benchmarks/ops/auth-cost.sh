#!/usr/bin/env bash
# Server CPU time per request (/proc utime+stime over a wrk run): /healthz with auth off vs
# auth on (protect_health, read token checked on every request), one server thread, 5 rounds
# and their medians. Less sensitive to a busy machine than throughput.
#
# Environment: AXOND (default: the release build), PORT_A (28391), PORT_B (28392).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"
AXOND=${AXOND:-$(release_binary axond)}
PORT_A=${PORT_A:-28391}
PORT_B=${PORT_B:-28392}
TOKEN=bench-read-token-0123456789
bench_tempdir STATE auth-cost
axond_start "$PORT_A" "$STATE/a" "$STATE/a.log" --threads 1
A=$AXOND_PID
AXON_READ_TOKEN=$TOKEN AXON_ADMIN_TOKEN=bench-admin-token-0123456789 AXON_AUTH_PROTECT_HEALTH=true \
    AXOND_READY_HEADER="Authorization: Bearer $TOKEN" axond_start "$PORT_B" "$STATE/b" "$STATE/b.log" --threads 1
B=$AXOND_PID

# Server CPU microseconds per request over one wrk run: $1 daemon, $2 URL, then wrk arguments.
run() {
    local pid=$1 url=$2 before requests
    shift 2
    before=$(cpu_ticks "$pid")
    requests=$(wrk -t1 -c16 -d3s "$@" "$url" | awk '/requests in/ { print $1 }')
    awk -v d=$(($(cpu_ticks "$pid") - before)) -v n="$requests" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.2f", d * 1e6 / hz / n }'
}

: >"$STATE/rounds"
for r in 1 2 3 4 5; do
    off=$(run "$A" "http://127.0.0.1:$PORT_A/healthz")
    on=$(run "$B" "http://127.0.0.1:$PORT_B/healthz" -H "Authorization: Bearer $TOKEN")
    echo "round $r: us/request off $off  on $on"
    echo "$off $on" >>"$STATE/rounds"
done
echo "median us/request: off $(awk '{ print $1 }' "$STATE/rounds" | median), on $(awk '{ print $2 }' "$STATE/rounds" | median)"
