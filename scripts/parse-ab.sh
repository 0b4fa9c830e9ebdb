#!/usr/bin/env bash
# Compares two builds of the `bench` example on one file, alternating them run by run so that
# a VM whose speed drifts shows in both (see docs/PERFORMANCE.md, "Parsing").
#
#   cp "${CARGO_TARGET_DIR:-target}"/release/examples/bench /tmp/bench-old   # before a change
#   cargo build --release --example bench                                   # after it
#   scripts/parse-ab.sh /tmp/bench-old target/release/examples/bench FILE [ROUNDS] [-- ARGS...]
#
# Each round runs `bench parse FILE --runs 5 ARGS...` with both (in turn first), and the
# summary gives each one's best and median and the speed-up: of the bests, and the median of
# the rounds' ratios (above 1: the second build is faster).
set -euo pipefail

old=${1:?usage: scripts/parse-ab.sh OLD_BENCH NEW_BENCH FILE [ROUNDS] [-- ARGS...]}
new=${2:?usage: scripts/parse-ab.sh OLD_BENCH NEW_BENCH FILE [ROUNDS] [-- ARGS...]}
file=${3:?usage: scripts/parse-ab.sh OLD_BENCH NEW_BENCH FILE [ROUNDS] [-- ARGS...]}
rounds=${4:-10}
shift $(($# < 4 ? $# : 4))
[[ ${1:-} == -- ]] && shift

source "$(dirname "$0")/bench-common.sh"

parse_ms() {
    bench_parse_ms "$1" "$file" 5 "${@:2}"
}

olds=()
news=()
ratios=()
for ((round = 1; round <= rounds; round++)); do
    if ((round % 2)); then
        a=$(parse_ms "$old" "$@")
        b=$(parse_ms "$new" "$@")
    else
        b=$(parse_ms "$new" "$@")
        a=$(parse_ms "$old" "$@")
    fi
    olds+=("$a")
    news+=("$b")
    ratios+=("$(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.4f", a / b }')")
    echo "round $round: old $a ms, new $b ms"
done
least() { printf '%s\n' "$@" | sort -g | head -1; }
echo "old: best $(least "${olds[@]}") ms, median $(median "${olds[@]}") ms"
echo "new: best $(least "${news[@]}") ms, median $(median "${news[@]}") ms"
echo "speed-up: of the bests $(awk -v a="$(least "${olds[@]}")" -v b="$(least "${news[@]}")" 'BEGIN { printf "%.3f", a / b }'), median of the rounds $(median "${ratios[@]}")"
