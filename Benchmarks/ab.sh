# Shared by the side-by-side (A/B) benchmarks that run two axond builds at once (sourced, never
# run; it sources lib.sh). The script sets OUT and its flags' defaults, then calls ab_setup.

source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

# ab_setup USAGE FLAGS ARGUMENTS...: reads "BASELINE_AXOND [CANDIDATE_AXOND] flags..." from
# ARGUMENTS (FLAGS as for bench_flags; USAGE is printed without a baseline); the candidate
# defaults to this checkout's release build. Creates OUT, empties RESULTS ($OUT/results.jsonl)
# and starts both daemons on free ports with fresh state directories: the baseline on A_PORT,
# the candidate on B_PORT.
ab_setup() {
    local usage=$1 flags=$2
    shift 2
    BASELINE="${1:?usage: $usage}"
    shift
    CANDIDATE=""
    if [ $# -gt 0 ] && [ "${1#-}" = "$1" ]; then CANDIDATE="$1"; shift; fi
    bench_flags "$flags" "$@"
    [ -n "$CANDIDATE" ] || CANDIDATE="$(release_binary axond)"
    bench_results "$OUT"
    axond_start_fresh "$BASELINE" A_PORT
    axond_start_fresh "$CANDIDATE" B_PORT
}

# ab_both ROUND COMMAND ARGUMENTS...: runs COMMAND BUILD PORT ARGUMENTS... for both builds
# (BUILD is baseline or candidate), the baseline first in odd rounds and the candidate first in
# even ones, so neither always runs on the warmer machine.
ab_both() {
    local round=$1 command=$2
    shift 2
    if [ $((round % 2)) = 1 ]; then
        "$command" baseline "$A_PORT" "$@"
        "$command" candidate "$B_PORT" "$@"
    else
        "$command" candidate "$B_PORT" "$@"
        "$command" baseline "$A_PORT" "$@"
    fi
}
