#!/usr/bin/env bash
# Compares typed parsing with `wc -l` on one file, alternating them round by round so that a VM
# whose speed drifts shows in both (see docs/PERFORMANCE.md, "Parsing").
#
#   cargo build --release --example bench
#   scripts/parse-vs-wc.sh /tmp/rita-conn.log [ROUNDS] [THREADS]
#
# Each round: `wc -l` as a process (best of 5, start-up included), then `bench parse` on one
# core and with `--threads THREADS` (best of 3 each, in-process). Prints each round and the
# median ratios. A gzip file's lines are counted as `zcat FILE | wc -l`: counting them needs the
# same decompression the reader does.
set -euo pipefail

file=${1:?usage: scripts/parse-vs-wc.sh FILE [ROUNDS] [THREADS]}
rounds=${2:-10}
threads=${3:-$(nproc)}
bench=${BENCH:-${CARGO_TARGET_DIR:-target}/release/examples/bench}
[[ -x $bench ]] || { echo "no $bench: run cargo build --release --example bench" >&2; exit 1; }

if [[ $file == *.gz ]]; then
    count_lines() { zcat "$file" | wc -l >/dev/null; }
else
    count_lines() { wc -l "$file" >/dev/null; }
fi

wc_ms() {
    # EPOCHREALTIME reads the clock without starting a process of its own.
    local best=999999 start end
    for _ in 1 2 3 4 5; do
        start=$EPOCHREALTIME
        count_lines
        end=$EPOCHREALTIME
        best=$(awk -v s="$start" -v e="$end" -v b="$best" 'BEGIN { d = (e - s) * 1000; print (d < b ? d : b) }')
    done
    printf '%.2f' "$best"
}

source "$(dirname "$0")/bench-common.sh"

parse_ms() {
    printf '%.1f' "$(bench_parse_ms "$bench" "$file" 3 "$@")"
}

ratios_one=()
ratios_many=()
for ((round = 1; round <= rounds; round++)); do
    wc=$(wc_ms)
    one=$(parse_ms)
    many=$(parse_ms --threads "$threads")
    r1=$(awk -v a="$one" -v b="$wc" 'BEGIN { printf "%.1f", a / b }')
    rn=$(awk -v a="$many" -v b="$wc" 'BEGIN { printf "%.1f", a / b }')
    ratios_one+=("$r1")
    ratios_many+=("$rn")
    echo "round $round: wc -l $wc ms, parse one core $one ms (${r1}x), $threads threads $many ms (${rn}x)"
done
echo "median ratio: one core $(median "${ratios_one[@]}")x, $threads threads $(median "${ratios_many[@]}")x"
