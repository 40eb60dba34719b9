#!/bin/bash
# Instructions per transaction of the fake Postgres benchmarks (bench/postgres_bench.cc; one
# iteration = one transaction), counted by callgrind: a figure that does not move when other
# work shares the machine. A binary path may be given to compare two builds.
#
# usage: bench/postgres_bench_instructions.sh BINARY [BENCHMARK_REGEX...]
#   e.g. bench/postgres_bench_instructions.sh build/bench/postgres_bench 'clients:1/commit_us:0/'
#   env: MIN_TIME (default 2), KEEP_CALLGRIND=PREFIX
set -euo pipefail
if [[ $# -lt 1 ]]; then
  echo "usage: $0 BINARY [BENCHMARK_REGEX...]" >&2
  exit 2
fi
binary="$1"
shift
filters=("$@")
if [[ ${#filters[@]} -eq 0 ]]; then
  for clients in 1 8 64; do
    for commit in 500 0; do
      filters+=("BM_PostgresThroughSimulation/clients:$clients/commit_us:$commit/")
    done
  done
fi
MIN_TIME="${MIN_TIME:-2}" exec "$(dirname "$0")/callgrind_per_iteration.sh" "$binary" txn \
  "${filters[@]}"
