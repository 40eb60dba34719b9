#!/bin/bash
# Instructions per event of storsim_bench benchmarks (one iteration = one event), counted by
# callgrind: a figure that does not move when other work shares the machine.
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
filters=("$@")
if [[ ${#filters[@]} -eq 0 ]]; then
  filters=('BM_BareContextSwitch$' 'BM_FiberSwitch$' 'BM_TimerEvent/64$' 'BM_FiberSleep/64$'
           'BM_MessageDelivery/64$' 'BM_RpcRoundTrip$')
fi
exec "$(dirname "$0")/callgrind_per_iteration.sh" "$binary" event "${filters[@]}"
