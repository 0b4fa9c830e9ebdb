# Shared by scripts/parse-vs-wc.sh and scripts/parse-ab.sh (sourced, not run).

# `bench_parse_ms BENCH FILE RUNS [ARGS...]`: the best of RUNS `bench parse` runs, in ms.
bench_parse_ms() {
    "$1" parse "$2" --runs "$3" "${@:4}" | grep -o '"secs":[0-9.e-]*' | cut -d: -f2 |
        awk '{ printf "%.3f", $1 * 1000 }'
}

# `median NUMBERS...`
median() {
    printf '%s\n' "$@" | sort -g |
        awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'
}
