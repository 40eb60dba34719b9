#!/usr/bin/env bash
# Checks that a seed means the same run on every build (DESIGN.md §3–4): builds the storsim
# binary with gcc -O2, gcc -O0 and clang -O2, runs
#   storsim run --scenario <scenario> --seed N --json
# for a few seeds with each, and compares the trace hashes (Simulation::Fingerprint: every trace
# event and every scheduling decision). Prints a table; exits 1 if any hash differs, 2 if a build
# or a run could not be done, 0 otherwise.
#
# Environment (all optional):
#   SEEDS="1 2 3 4 5"     seeds to compare
#   SCENARIO=register     scenario to run
#   JOBS=2                ninja parallelism (the machine has 2 cores)
#   STORSIM_SOURCE_DIR    source tree to build (default: this checkout)
#   STORSIM_BUILD_ROOT    where the build-det-* directories go (default: this checkout)
#   CONFIGS="gcc-o2 gcc-o0 clang-o2"   which builds to compare
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source_dir="${STORSIM_SOURCE_DIR:-$root}"
build_root="${STORSIM_BUILD_ROOT:-$root}"
seeds="${SEEDS:-1 2 3 4 5}"
scenario="${SCENARIO:-register}"
jobs="${JOBS:-2}"
configs="${CONFIGS:-gcc-o2 gcc-o0 clang-o2}"

# cmake arguments for one named build.
cmake_arguments() {
  case "$1" in
    gcc-o2) echo "-DCMAKE_CXX_COMPILER=g++ -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE=-O2" ;;
    gcc-o0) echo "-DCMAKE_CXX_COMPILER=g++ -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-O0" ;;
    clang-o2) echo "-DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE=-O2" ;;
    *) echo "unknown build '$1' (known: gcc-o2 gcc-o0 clang-o2)" >&2; return 2 ;;
  esac
}

declare -A hash  # "<config> <seed>" -> trace_hash
for config in $configs; do
  dir="$build_root/build-det-$config"
  log="$dir/det-build.log"  # inside the (git-ignored) build directory
  mkdir -p "$dir"
  arguments="$(cmake_arguments "$config")"
  echo "== $config: configuring and building storsim in $dir (log: $log)" >&2
  # shellcheck disable=SC2086  # the arguments are words on purpose
  if ! { cmake -S "$source_dir" -B "$dir" -G Ninja $arguments &&
         ninja -C "$dir" -j "$jobs" storsim; } >"$log" 2>&1; then
    echo "== $config: BUILD FAILED; errors:" >&2
    grep -E "error|Error" "$log" | head -40 >&2 || tail -40 "$log" >&2
    exit 2
  fi
  for seed in $seeds; do
    set +e
    output="$("$dir/storsim" run --scenario "$scenario" --seed "$seed" --json 2>/dev/null)"
    code=$?
    set -e
    if [[ $code -ge 2 ]]; then
      echo "== $config: 'storsim run --scenario $scenario --seed $seed' exited $code" >&2
      exit 2
    fi
    value="$(printf '%s\n' "$output" | sed -n 's/.*"trace_hash":"\([0-9a-f]*\)".*/\1/p')"
    events="$(printf '%s\n' "$output" | sed -n 's/.*"events":\([0-9]*\).*/\1/p')"
    if [[ -z "$value" ]]; then
      echo "== $config: no trace_hash in the output for seed $seed" >&2
      exit 2
    fi
    hash["$config $seed"]="$value/$events"
  done
done

status=0
printf '%-6s' "seed"
for config in $configs; do printf '  %-24s' "$config (hash/events)"; done
printf '  %s\n' "verdict"
for seed in $seeds; do
  printf '%-6s' "$seed"
  first=""
  verdict="same"
  for config in $configs; do
    value="${hash["$config $seed"]}"
    printf '  %-24s' "$value"
    if [[ -z "$first" ]]; then
      first="$value"
    elif [[ "$value" != "$first" ]]; then
      verdict="DIFFERENT"
      status=1
    fi
  done
  printf '  %s\n' "$verdict"
done
if [[ $status -eq 0 ]]; then
  echo "every build gave the same trace hash for every seed" >&2
else
  echo "builds disagree: a seed does not mean the same run on every build" >&2
fi
exit $status
