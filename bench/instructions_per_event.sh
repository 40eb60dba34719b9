#!/bin/bash
# Instructions per event of storsim_bench benchmarks, counted by callgrind: a figure that does not
# move when other work shares the machine (wall-clock figures do). For each benchmark named, runs
# it under valgrind --tool=callgrind with the measurement windows on (see allocation_counter.h)
# and prints the last window's instruction count divided by its iterations.
#
# usage: bench/instructions_per_event.sh BUILD_DIR [BENCHMARK_REGEX...]
#   e.g. bench/instructions_per_event.sh build 'BM_FiberSwitch$' 'BM_TimerEvent/64$'
set -euo pipefail
if [[ $# -lt 1 ]]; then
  echo "usage: $0 BUILD_DIR [BENCHMARK_REGEX...]" >&2
  exit 2
fi
binary="$1/bench/storsim_bench"
shift
if [[ ! -x "$binary" ]]; then
  echo "no benchmark binary at $binary (build the storsim_bench target first)" >&2
  exit 2
fi
command -v valgrind >/dev/null || { echo "valgrind is not installed" >&2; exit 2; }
filters=("$@")
if [[ ${#filters[@]} -eq 0 ]]; then
  filters=('BM_BareContextSwitch$' 'BM_FiberSwitch$' 'BM_TimerEvent/64$' 'BM_FiberSleep/64$'
           'BM_MessageDelivery/64$' 'BM_RpcRoundTrip$')
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
for filter in "${filters[@]}"; do
  rm -f "$scratch"/callgrind.out*
  STORSIM_BENCH_CALLGRIND_WINDOWS=1 valgrind --tool=callgrind \
    --callgrind-out-file="$scratch/callgrind.out" "$binary" --benchmark_filter="$filter" \
    --benchmark_min_time=0.05 >/dev/null 2>&1
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
    'BEGIN { printf "%-28s %12d instructions / %9d iterations = %8.1f per event\n", f, i, n, i / n }'
done
