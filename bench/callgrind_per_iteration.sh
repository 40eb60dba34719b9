#!/bin/bash
# Instructions per benchmark iteration, counted by callgrind over the benchmark's measurement
# windows (see allocation_counter.h): a figure that does not move when other work shares the
# machine (wall-clock figures do). For each benchmark regex, runs BINARY under valgrind with the
# windows on and prints the last (longest) window's instructions divided by its iterations.
# The per-binary wrappers (instructions_per_event.sh, postgres_bench_instructions.sh) choose the
# binary, the default benchmarks and the unit.
#
# usage: bench/callgrind_per_iteration.sh BINARY UNIT BENCHMARK_REGEX...
#   env: MIN_TIME (--benchmark_min_time, default 0.05), KEEP_CALLGRIND=PREFIX (keep each dump)
set -euo pipefail
if [[ $# -lt 3 ]]; then
  echo "usage: $0 BINARY UNIT BENCHMARK_REGEX..." >&2
  exit 2
fi
binary="$1"
unit="$2"
shift 2
if [[ ! -x "$binary" ]]; then
  echo "no benchmark binary at $binary (build its target first)" >&2
  exit 2
fi
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 2; }
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for filter in "$@"; do
  rm -f "$scratch"/callgrind.out*
  STORSIM_BENCH_CALLGRIND_WINDOWS=1 valgrind --tool=callgrind \
    --callgrind-out-file="$scratch/callgrind.out" "$binary" --benchmark_filter="$filter" \
    --benchmark_min_time="${MIN_TIME:-0.05}" >/dev/null 2>&1
  # One dump per measured window; the last is the longest run.
  last=$(ls "$scratch"/callgrind.out.* 2>/dev/null | awk -F. '{ print $NF, $0 }' | sort -n |
         tail -1 | cut -d' ' -f2- || true)
  if [[ -z "$last" ]]; then
    echo "$filter: no measurement window was dumped (no benchmark matched?)" >&2
    continue
  fi
  iterations=$(sed -n 's/^desc: Trigger: Client Request: iterations=//p' "$last")
  instructions=$(sed -n 's/^totals: //p' "$last")
  awk -v f="$filter" -v i="$instructions" -v n="$iterations" -v u="$unit" \
    'BEGIN { printf "%-56s %12d instructions / %9d iterations = %8.1f per %s\n", f, i, n, i / n, u }'
  if [[ -n "${KEEP_CALLGRIND:-}" ]]; then
    cp "$last" "$KEEP_CALLGRIND.$(echo "$filter" | tr -c 'a-z0-9' '_')"
  fi
done
