#!/bin/bash
# Server CPU time per request (/proc utime+stime over a wrk run): /healthz with auth off vs
# auth on (protect_health, read token checked on every request). Less sensitive to a busy
# machine than throughput.
set -e
cd "$(dirname "$0")/../.."
BIN=${AXOND:-.build/release/axond}
PORT_A=${PORT_A:-28391}; PORT_B=${PORT_B:-28392}
TOKEN=bench-read-token-0123456789
STATE_A=$(mktemp -d); STATE_B=$(mktemp -d)
ADMIN=bench-admin-token-0123456789
$BIN serve --port $PORT_A --threads 1 --state-dir $STATE_A --no-access-log --log-level warning & A=$!
AXON_READ_TOKEN=$TOKEN AXON_ADMIN_TOKEN=$ADMIN AXON_AUTH_PROTECT_HEALTH=true $BIN serve --threads 1 --port $PORT_B --state-dir $STATE_B --no-access-log --log-level warning & B=$!
for i in $(seq 50); do curl -fs -o /dev/null http://127.0.0.1:$PORT_A/healthz && curl -fs -o /dev/null -H "Authorization: Bearer $TOKEN" http://127.0.0.1:$PORT_B/healthz && break; sleep 0.1; done
kill -0 $A && kill -0 $B || { echo "a server did not start"; exit 1; }
ticks() { awk '{print $14+$15}' /proc/$1/stat; }
run() { # pid url [header]
  local t0=$(ticks $1)
  local n
  if [ -n "$3" ]; then n=$(wrk -t1 -c16 -d3s -H "$3" "$2" | awk '/requests in/{print $1}'); else n=$(wrk -t1 -c16 -d3s "$2" | awk '/requests in/{print $1}'); fi
  local t1=$(ticks $1)
  python3 -c "print(round(($t1-$t0)*10000/$n,2))"
}
for r in 1 2 3 4 5; do
  a=$(run $A http://127.0.0.1:$PORT_A/healthz)
  b=$(run $B http://127.0.0.1:$PORT_B/healthz "Authorization: Bearer $TOKEN")
  echo "round $r: us/request off $a  on $b"
done
kill $A $B; wait $A $B 2>/dev/null || true
rm -rf "$STATE_A" "$STATE_B"
