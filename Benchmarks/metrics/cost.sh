#!/usr/bin/env bash
# What metrics cost a POST /predict (one digits row, the request of Benchmarks/predict), measured
# two ways (issue 6: metrics on may be at most 5% slower than --no-metrics).
#
#   Benchmarks/metrics/cost.sh [instructions|wall|all]      (default all; `make bench-metrics-cost`)
#
# instructions (repeatable; the figure to trust on a shared 2-core machine)
#   Release axond runs under `valgrind --tool=callgrind`, which counts the instructions every
#   thread of the process executes. A client sends exactly SMALL, then (in a second run) BIG
#   identical requests over one keep-alive connection, one at a time (fixed_client.py: a count, not
#   a duration, so the server's work is the same from run to run). Start-up, model load, warm-up
#   and shutdown are the same in both runs, so
#       instructions per request = (Ir(BIG) - Ir(SMALL)) / (BIG - SMALL)
#   That is done with metrics on and with --no-metrics, REPEAT times each; the ratio on/off is
#   the cost. Noise from other processes cannot enter an instruction count; what remains is the
#   run-to-run spread printed next to each figure (thread scheduling inside the process).
#   The binary is a copy without DWARF (valgrind 3.19 cannot read Swift 6.3's) and runs with
#   sigsuspend_copy.so preloaded (valgrind 3.19 otherwise dies on libdispatch's read-only
#   sigsuspend mask). Callgrind's profile of the last BIG metrics-on run stays in $OUT for
#   callgrind_annotate.
#
# wall (side by side, noisy: quoted as medians and spread of per-round ratios)
#   Four release daemons over copies of one trained state directory: on and off pinned to CPU 0
#   (with wrk -t1 on CPU 1), and on and off unpinned (wrk -t2 -c16 -d10s, the method of
#   /work/shared/peers/bench_predict.sh, client and server sharing both cores). ROUNDS rounds;
#   in each, both pairs are measured with the on/off order alternating between rounds, and the
#   per-round throughput ratio off/on (= time per request on/off) is recorded, together with the
#   server's CPU time per request (utime + stime from /proc/PID/stat over the run / requests).
#
# Environment: SMALL (200), BIG (2200), REPEAT (2), ROUNDS (7), SECS (10), CONNECTIONS (16),
# PORT_BASE (19400), OUT (Benchmarks/out/metrics-cost), AXOND (default: the release build).
# Bounded: every daemon is stopped on every path; temporary state lives under $OUT/tmp.
set -euo pipefail
shopt -s inherit_errexit
source "$(dirname "${BASH_SOURCE[0]}")/../lib.sh"

MODE=${1:-all}
case "$MODE" in instructions | wall | all) ;; *) echo "usage: $0 [instructions|wall|all]" >&2; exit 2 ;; esac
SMALL=${SMALL:-200}
BIG=${BIG:-2200}
REPEAT=${REPEAT:-2}
ROUNDS=${ROUNDS:-7}
SECS=${SECS:-10}
CONNECTIONS=${CONNECTIONS:-16}
PORT_BASE=${PORT_BASE:-19400}
OUT=${OUT:-$ROOT/Benchmarks/out/metrics-cost}
[ "$BIG" -gt "$SMALL" ] || { echo "BIG must exceed SMALL" >&2; exit 2; }

if [ -z "${AXOND:-}" ]; then
    echo "building release axond..." >&2
    AXOND="$(release_binary axond)"
fi
TMP=$OUT/tmp
rm -rf "$TMP"
mkdir -p "$TMP"
[ -n "${KEEP_TMP:-}" ] || BENCH_DIRS+=("$TMP")

# A daemon left on one of the ports would answer in place of the one under test.
for port in $(seq "$PORT_BASE" $((PORT_BASE + 5))); do
    if curl -s -o /dev/null "http://127.0.0.1:$port/"; then echo "port $port is in use; set PORT_BASE" >&2; exit 2; fi
done

# One trained model for every daemon, so all of them serve exactly the same network.
P_TRAIN=$PORT_BASE
axond_start "$P_TRAIN" "$TMP/trained" "$TMP/train.log"
train_digits "http://127.0.0.1:$P_TRAIN" 5 >/dev/null
axond_stop
digits_bodies "$TMP"

# Median, minimum and maximum of the numbers on stdin, as "median (min-max)" with $1 decimals.
spread() {
    sort -g | awk -v d="${1:-3}" '{ a[NR] = $1 } END {
        m = (NR % 2) ? a[(NR + 1) / 2] : (a[NR / 2] + a[NR / 2 + 1]) / 2
        printf "%.*f (%.*f-%.*f, n=%d)\n", d, m, d, a[1], d, a[NR], NR }'
}

instructions() {
    command -v valgrind >/dev/null || { echo "needs valgrind (apt-get install valgrind)" >&2; exit 2; }
    objcopy --strip-debug "$AXOND" "$TMP/axond-nodebug"
    "$CC" -O2 -shared -fPIC -o "$TMP/sigsuspend_copy.so" "$ROOT/Benchmarks/metrics/sigsuspend_copy.c" -ldl
    local port=$((PORT_BASE + 1)) warmup=50
    # Sets IR to the instructions one run executed: start, warm-up, $2 requests, drain, exit.
    # (Not printed for $(...): a daemon started in a subshell would escape the exit trap.)
    run() {  # $1 on|off  $2 count  $3 callgrind output file
        local flags=()
        [ "$1" = off ] && flags=(--no-metrics)
        rm -rf "$TMP/cg-state" && cp -r "$TMP/trained" "$TMP/cg-state"
        : >"$TMP/cg.log"
        local SERVER_PREFIX=(env LD_PRELOAD="$TMP/sigsuspend_copy.so" valgrind --tool=callgrind --callgrind-out-file="$3")
        AXOND="$TMP/axond-nodebug" AXOND_READY_SECONDS=60 axond_start "$port" "$TMP/cg-state" "$TMP/cg.log" --threads 1 "${flags[@]}"
        python3 "$ROOT/Benchmarks/metrics/fixed_client.py" 127.0.0.1 "$port" /predict "$TMP/predict_1.json" "$warmup"
        python3 "$ROOT/Benchmarks/metrics/fixed_client.py" 127.0.0.1 "$port" /predict "$TMP/predict_1.json" "$2"
        axond_stop
        IR=$(awk '/Collected :/ { print $NF }' "$TMP/cg.log")
        [ -n "$IR" ] || { echo "callgrind reported no count:" >&2; tail -20 "$TMP/cg.log" >&2; exit 1; }
    }
    echo "instructions per POST /predict (callgrind, (Ir($BIG) - Ir($SMALL)) / $((BIG - SMALL)), $REPEAT runs each)"
    : >"$TMP/per-request"
    for rep in $(seq 1 "$REPEAT"); do
        for mode in off on; do
            run "$mode" "$SMALL" /dev/null
            small=$IR
            run "$mode" "$BIG" "$OUT/callgrind.$mode.out"
            big=$IR
            per=$(awk -v a="$small" -v b="$big" -v n=$((BIG - SMALL)) 'BEGIN { printf "%.0f", (b - a) / n }')
            echo "$mode $per" >>"$TMP/per-request"
            echo "  run $rep metrics $mode: $per instructions/request (Ir $small and $big)"
        done
    done
    local on off
    on=$(awk '$1 == "on" { print $2 }' "$TMP/per-request" | spread 0)
    off=$(awk '$1 == "off" { print $2 }' "$TMP/per-request" | spread 0)
    echo "metrics on:  $on instructions/request"
    echo "metrics off: $off instructions/request"
    awk '$1 == "on" { on += $2; n++ } $1 == "off" { off += $2; m++ } END {
        r = (on / n) / (off / m)
        printf "ratio on/off (means): %.4f  -> metrics cost %.2f%% of a request: %s\n", r, (r - 1) * 100, (r <= 1.05) ? "PASS (<= 5%)" : "FAIL (> 5%)" }' \
        "$TMP/per-request"
    # glibc's memset clears large blocks with `rep stosb`, which callgrind counts once per byte:
    # libmicrohttpd clearing its connection pool shows up as tens of thousands of "instructions"
    # that cost about a microsecond natively. Printed so the ratio can also be read without it.
    local memset
    memset=$(callgrind_annotate "$OUT/callgrind.off.out" 2>/dev/null | awk -v n=$((BIG + warmup)) \
        '/__memset_/ { gsub(",", "", $1); total += $1 } END { printf "%.0f", total / n }')
    echo "of which memset (rep stosb, counted per byte), metrics off: about $memset/request;" \
        "without it the ratio is $(awk '$1 == "on" { on += $2; n++ } $1 == "off" { off += $2; m++ } END { printf "%.4f", (on / n - '"$memset"') / (off / m - '"$memset"') }' "$TMP/per-request")"
    echo "profiles: callgrind_annotate $OUT/callgrind.on.out (and .off.out)"
}

wall() {
    command -v wrk >/dev/null || { echo "needs wrk (make deps-test)" >&2; exit 2; }
    local names=(pin-on pin-off on off) i port flags
    declare -A PORT SERVER
    for i in 0 1 2 3; do
        port=$((PORT_BASE + 2 + i))
        PORT[${names[$i]}]=$port
        flags=()
        [[ ${names[$i]} == *off ]] && flags=(--no-metrics)
        local SERVER_PREFIX=()
        [[ ${names[$i]} == pin-* ]] && SERVER_PREFIX=(taskset -c 0)
        cp -r "$TMP/trained" "$TMP/state-${names[$i]}"
        axond_start "$port" "$TMP/state-${names[$i]}" "$TMP/${names[$i]}.log" "${flags[@]}"
        SERVER[${names[$i]}]=$AXOND_PID
    done
    local hz
    hz=$(getconf CLK_TCK)
    # "req/s cpu-us-per-request" of one wrk run against daemon $1: the server's own CPU time per
    # request is far less sensitive than req/s to other processes on the machine. Fails on any
    # non-2xx answer or socket error.
    measure() {
        local name=$1 client=() threads=2 text before after
        [[ $name == pin-* ]] && client=(taskset -c 1) threads=1
        before=$(cpu_ticks "${SERVER[$name]}")
        text=$(BODY_FILE="$TMP/predict_1.json" "${client[@]}" wrk -t"$threads" -c"$CONNECTIONS" -d"${SECS}s" \
            -s "$ROOT/Benchmarks/post.lua" "http://127.0.0.1:${PORT[$name]}/predict")
        after=$(cpu_ticks "${SERVER[$name]}")
        if grep -qE "Non-2xx|Socket errors" <<<"$text"; then echo "wrk against $name: $text" >&2; exit 1; fi
        awk -v b="$before" -v a="$after" -v hz="$hz" '/requests in/ { n = $1 } /Requests\/sec/ { r = $2 }
            END { printf "%s %.3f\n", r, (a - b) / hz * 1e6 / n }' <<<"$text"
    }
    for name in "${names[@]}"; do measure "$name" >/dev/null; done  # warm-up
    echo "wall clock: POST /predict, $ROUNDS rounds of ${SECS}s per daemon, $CONNECTIONS connections"
    : >"$TMP/wall"
    local round a b order
    for round in $(seq 1 "$ROUNDS"); do
        for pair in pin ""; do
            a=${pair:+$pair-}on b=${pair:+$pair-}off
            order="$a $b"
            [ $((round % 2)) = 0 ] && order="$b $a"
            declare -A RPS=() CPU=()
            for name in $order; do read -r "RPS[$name]" "CPU[$name]" < <(measure "$name"); done
            echo "${pair:-free} ${RPS[$a]} ${RPS[$b]} ${CPU[$a]} ${CPU[$b]}" >>"$TMP/wall"
            printf '  round %d %-4s on %6.0f req/s %6.2f us CPU/req  off %6.0f req/s %6.2f us CPU/req  time on/off %.3f  CPU on/off %.3f\n' \
                "$round" "${pair:-free}" "${RPS[$a]}" "${CPU[$a]}" "${RPS[$b]}" "${CPU[$b]}" \
                "$(awk -v on="${RPS[$a]}" -v off="${RPS[$b]}" 'BEGIN { print off / on }')" \
                "$(awk -v on="${CPU[$a]}" -v off="${CPU[$b]}" 'BEGIN { print on / off }')"
        done
    done
    for pair in pin free; do
        local label="unpinned (wrk -t2 -c$CONNECTIONS, shared cores)"
        [ "$pair" = pin ] && label="pinned (server CPU 0, wrk -t1 CPU 1)"
        echo "$label:"
        echo "  on  req/s median $(awk -v p="$pair" '$1 == p { print $2 }' "$TMP/wall" | spread 0)"
        echo "  off req/s median $(awk -v p="$pair" '$1 == p { print $3 }' "$TMP/wall" | spread 0)"
        echo "  time per request on/off, per round: median $(awk -v p="$pair" '$1 == p { print $3 / $2 }' "$TMP/wall" | spread 3)"
        echo "  server CPU per request on/off, per round: median $(awk -v p="$pair" '$1 == p { print $4 / $5 }' "$TMP/wall" | spread 3)"
        echo "  server CPU us/request: on $(awk -v p="$pair" '$1 == p { print $4 }' "$TMP/wall" | spread 2), off $(awk -v p="$pair" '$1 == p { print $5 }' "$TMP/wall" | spread 2)"
    done
    echo "load average at the end: $(cut -d' ' -f1-3 /proc/loadavg)"
}

case "$MODE" in
    instructions) instructions ;;
    wall) wall ;;
    all) instructions; wall ;;
esac
