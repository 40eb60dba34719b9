#!/usr/bin/env bash
# Checks that a seed means the same run on every build (DESIGN.md §3–4): builds the storsim
# binary with gcc -O2, gcc -O0 and clang -O2, runs
#   storsim run --scenario <scenario> --seed N --json
# for every named scenario (`storsim list`) and a few seeds each with every build, and compares
# the trace hashes (Simulation::Fingerprint: every trace event and every scheduling decision).
# Prints one table (scenario, seed, hash/events per build, same/DIFFERENT); for a row that
# differs, the first differing trace event between the first build and each disagreeing one.
# Exits 1 if any hash differs, 2 if a build or a run could not be done, 0 otherwise.
#
# Why builds can disagree: C++ leaves the evaluation order of a call's arguments (and of the
# operands of most operators) unspecified, so two random draws in one expression may be taken in
# a different order by gcc and clang, or by gcc at -O0 and -O2; floating-point results can differ
# with contraction (FMA) and excess precision. Each draw belongs in its own statement.
#
# Environment (all optional):
#   SCENARIOS="register chaos"  scenarios to run (default: every one `storsim list` names;
#                               SCENARIO=<one> is accepted too)
#   SEEDS="1 2 3"               seeds to compare for each scenario
#   JOBS=2                      ninja parallelism (the machine has 2 cores)
#   STORSIM_SOURCE_DIR          source tree to build (default: this checkout)
#   STORSIM_BUILD_ROOT          where the build-det-* directories go (default: this checkout)
#   CONFIGS="gcc-o2 gcc-o0 clang-o2"   which builds to compare; an entry NAME=DIR uses the
#                               existing build directory DIR as build NAME (ninja only, no
#                               cmake), e.g. CONFIGS="gcc-o2=build gcc-o0 clang-o2" to reuse the
#                               default RelWithDebInfo build (-O2 -g: gcc's code does not depend
#                               on -g) instead of building a fresh gcc -O2 tree
#   SKIP_BUILD=1                use the build-det-* binaries as they are (no cmake or ninja)
#   DIFF_TRACES=0               do not re-run differing rows with --trace to name the first
#                               differing event
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
source_dir="${STORSIM_SOURCE_DIR:-$root}"
build_root="${STORSIM_BUILD_ROOT:-$root}"
seeds="${SEEDS:-1 2 3}"
scenarios="${SCENARIOS:-${SCENARIO:-}}"
jobs="${JOBS:-2}"
configs="${CONFIGS:-gcc-o2 gcc-o0 clang-o2}"
skip_build="${SKIP_BUILD:-0}"
diff_traces="${DIFF_TRACES:-1}"

# cmake arguments for one named build.
cmake_arguments() {
  case "$1" in
    gcc-o2) echo "-DCMAKE_CXX_COMPILER=g++ -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE=-O2" ;;
    gcc-o0) echo "-DCMAKE_CXX_COMPILER=g++ -DCMAKE_BUILD_TYPE=Debug -DCMAKE_CXX_FLAGS_DEBUG=-O0" ;;
    clang-o2) echo "-DCMAKE_CXX_COMPILER=clang++ -DCMAKE_BUILD_TYPE=Release -DCMAKE_CXX_FLAGS_RELEASE=-O2" ;;
    *) echo "unknown build '$1' (known: gcc-o2 gcc-o0 clang-o2)" >&2; return 2 ;;
  esac
}

# A build's directory: DIR for an entry NAME=DIR (relative to the source tree), else
# build-det-NAME under the build root.
directory_of() {
  local dir
  if [[ "$1" == *=* ]]; then
    dir="${1#*=}"
    [[ "$dir" == /* ]] || dir="$source_dir/$dir"
    echo "$dir"
  else
    echo "$build_root/build-det-$1"
  fi
}
binary() { echo "$(directory_of "$1")/storsim"; }
name_of() { echo "${1%%=*}"; }

for config in $configs; do
  dir="$(directory_of "$config")"
  if [[ "$skip_build" == 1 ]]; then
    if [[ ! -x "$(binary "$config")" ]]; then
      echo "== $config: SKIP_BUILD=1 but $(binary "$config") does not exist" >&2
      exit 2
    fi
    continue
  fi
  log="$dir/det-build.log"  # inside the (git-ignored) build directory
  if [[ "$config" == *=* ]]; then
    if [[ ! -f "$dir/build.ninja" ]]; then
      echo "== $config: $dir is not a configured build directory" >&2
      exit 2
    fi
    echo "== $config: building storsim in the existing $dir (log: $log)" >&2
    build() { ninja -C "$dir" -j "$jobs" storsim; }
  else
    mkdir -p "$dir"
    arguments="$(cmake_arguments "$config")"
    echo "== $config: configuring and building storsim in $dir (log: $log)" >&2
    # shellcheck disable=SC2086  # the arguments are words on purpose
    build() { cmake -S "$source_dir" -B "$dir" -G Ninja $arguments && ninja -C "$dir" -j "$jobs" storsim; }
  fi
  if ! build >"$log" 2>&1; then
    echo "== $config: BUILD FAILED; errors:" >&2
    grep -E "error|Error" "$log" | head -40 >&2 || tail -40 "$log" >&2
    exit 2
  fi
done

# Every named scenario, from the first build's own list (its first column).
first_config="${configs%% *}"
if [[ -z "$scenarios" ]]; then
  scenarios="$("$(binary "$first_config")" list | awk '/^[a-z0-9][a-z0-9-]* / { print $1 }')"
  if [[ -z "$scenarios" ]]; then
    echo "== '$(binary "$first_config") list' named no scenario" >&2
    exit 2
  fi
fi

declare -A hash  # "<config> <scenario> <seed>" -> trace_hash/events
for scenario in $scenarios; do
  for config in $configs; do
    echo "== $(name_of "$config"): $scenario, seeds $seeds" >&2
    for seed in $seeds; do
      set +e
      output="$("$(binary "$config")" run --scenario "$scenario" --seed "$seed" --json 2>/dev/null)"
      code=$?
      set -e
      # Exit 1 is a violated invariant: still a run with a hash to compare.
      if [[ $code -ge 2 ]]; then
        echo "== $config: 'storsim run --scenario $scenario --seed $seed' exited $code" >&2
        exit 2
      fi
      value="$(printf '%s\n' "$output" | sed -n 's/.*"trace_hash":"\([0-9a-f]*\)".*/\1/p')"
      events="$(printf '%s\n' "$output" | sed -n 's/.*"events":\([0-9]*\).*/\1/p')"
      if [[ -z "$value" ]]; then
        echo "== $config: no trace_hash in the output of $scenario seed $seed" >&2
        exit 2
      fi
      hash["$config $scenario $seed"]="$value/$events"
    done
  done
done

# The first trace event (NDJSON line) where `config`'s run differs from the first build's.
first_difference() {
  local config="$1" scenario="$2" seed="$3" directory
  directory="$(mktemp -d)"
  "$(binary "$first_config")" run --scenario "$scenario" --seed "$seed" \
    --trace "$directory/a.ndjson" >/dev/null 2>&1 || true
  "$(binary "$config")" run --scenario "$scenario" --seed "$seed" \
    --trace "$directory/b.ndjson" >/dev/null 2>&1 || true
  if [[ ! -s "$directory/a.ndjson" || ! -s "$directory/b.ndjson" ]]; then
    echo "    (no trace written)"
  elif cmp -s "$directory/a.ndjson" "$directory/b.ndjson"; then
    echo "    the NDJSON traces are identical: the runs differ in scheduling decisions (the schedule hash) only"
  else
    diff "$directory/a.ndjson" "$directory/b.ndjson" | head -6 | sed 's/^/    /' | cut -c1-300
  fi
  rm -rf "$directory"
}

status=0
differing=()
printf '%-20s %-5s' "scenario" "seed"
for config in $configs; do printf ' %-24s' "$(name_of "$config")"; done
printf ' %s\n' "verdict"
for scenario in $scenarios; do
  for seed in $seeds; do
    printf '%-20s %-5s' "$scenario" "$seed"
    first=""
    verdict="same"
    for config in $configs; do
      value="${hash["$config $scenario $seed"]}"
      printf ' %-24s' "$value"
      if [[ -z "$first" ]]; then
        first="$value"
      elif [[ "$value" != "$first" ]]; then
        verdict="DIFFERENT"
        status=1
        differing+=("$config $scenario $seed")
      fi
    done
    printf ' %s\n' "$verdict"
  done
done
echo "(each cell: trace_hash/events)"
if [[ "$diff_traces" == 1 ]]; then
  for row in "${differing[@]}"; do
    read -r config scenario seed <<<"$row"
    echo "first difference, $scenario seed $seed, $(name_of "$first_config") (<) vs $(name_of "$config") (>):"
    first_difference "$config" "$scenario" "$seed"
  done
fi
if [[ $status -eq 0 ]]; then
  echo "every build gave the same trace hash for every scenario and seed" >&2
else
  echo "builds disagree: a seed does not mean the same run on every build" >&2
fi
exit $status
