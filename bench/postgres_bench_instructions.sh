#!/bin/bash
# Instructions per transaction of the fake Postgres benchmarks (bench/postgres_bench.cc), counted
# by callgrind over the benchmark's measurement window: a figure that does not move when other
# work shares the machine (CPU and wall time do). Same method as bench/instructions_per_event.sh,
# for the postgres_bench binary; a binary path may be given to compare two builds.
#
# usage: bench/postgres_bench_instructions.sh BINARY [BENCHMARK_REGEX...]
#   e.g. bench/postgres_bench_instructions.sh build/bench/postgres_bench 'clients:1/commit_us:0$'
set -euo pipefail
if [[ $# -lt 1 ]]; then
  echo "usage: $0 BINARY [BENCHMARK_REGEX...]" >&2
  exit 2
fi
binary="$1"
shift
if [[ ! -x "$binary" ]]; then
  echo "no benchmark binary at $binary (build the postgres_bench target first)" >&2
  exit 2
fi
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 2; }
filters=("$@")
if [[ ${#filters[@]} -eq 0 ]]; then
  filters=()
  for clients in 1 8 64; do
    for commit in 500 0; do
      filters+=("BM_PostgresThroughSimulation/clients:$clients/commit_us:$commit/")
    done
  done
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for filter in "${filters[@]}"; do
  rm -f "$scratch"/callgrind.out*
  STORSIM_BENCH_CALLGRIND_WINDOWS=1 valgrind --tool=callgrind \
    --callgrind-out-file="$scratch/callgrind.out" "$binary" --benchmark_filter="$filter" \
    --benchmark_min_time="${MIN_TIME:-2}" >/dev/null 2>&1
  # One dump per measured window; the last is the longest run.
  last=$(ls "$scratch"/callgrind.out.* 2>/dev/null | awk -F. '{ print $NF, $0 }' | sort -n |
         tail -1 | cut -d' ' -f2- || true)
  if [[ -z "$last" ]]; then
    echo "$filter: no measurement window was dumped (no benchmark matched?)" >&2
    continue
  fi
  iterations=$(sed -n 's/^desc: Trigger: Client Request: iterations=//p' "$last")
  instructions=$(sed -n 's/^totals: //p' "$last")
  awk -v f="$filter" -v i="$instructions" -v n="$iterations" \
    'BEGIN { printf "%-56s %12d instructions / %8d transactions = %8.1f per txn\n", f, i, n, i / n }'
  [[ -n "${KEEP_CALLGRIND:-}" ]] && cp "$last" "$KEEP_CALLGRIND.$(echo "$filter" | tr -c 'a-z0-9' '_')"
done
