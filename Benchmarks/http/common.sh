# Shared helpers for the Benchmarks/http scripts (sourced, not run).

# Waits (bounded: 10 s) until GET $1 answers; fails otherwise.
wait_http() {
    local url=$1
    for _ in $(seq 1 200); do
        curl -sf -o /dev/null "$url" && return 0
        sleep 0.05
    done
    echo "no answer from $url" >&2
    return 1
}

# Converts a wrk latency ("85.00us", "1.23ms", "2.00s") to microseconds.
to_us() {
    awk -v v="$1" 'BEGIN {
        n = v + 0
        if (v ~ /us$/) print n; else if (v ~ /ms$/) print n * 1000; else if (v ~ /s$/) print n * 1000000; else print n
    }'
}

# Median of the numbers on stdin.
median() {
    sort -g | awk '{ a[NR] = $1 } END { if (NR == 0) { print "nan"; exit } if (NR % 2) print a[(NR + 1) / 2]; else print (a[NR / 2] + a[NR / 2 + 1]) / 2 }'
}

# A C compiler: $CC, else cc, else the clang that ships with the Swift toolchain.
CC=${CC:-$(command -v cc || command -v clang)}
