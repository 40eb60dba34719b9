#!/usr/bin/env bash
# `make asan`: builds the AddressSanitizer + UBSan tree and runs, under it, the kernel's tests
# (sim_test), the fuzz library's tests (fuzz_test: forked workers, shrinking) and a short sweep of
# every scenario (storsim fuzz --scenario all --seeds N). Exits non-zero on any sanitizer report,
# on a failing test, or on a sweep that ends in an internal error; an invariant violation found by
# the sweep (exit 1) is printed but is not a sanitizer finding.
#
# Every sanitizer report is also written under BUILD/sanitizer-reports/, so findings from forked
# sweep workers (whose stderr may interleave) are not lost; any error report there fails the
# check.
#
# Usage: scripts/asan-check.sh [BUILD_DIR]   (env: JOBS=2, ASAN_SEEDS=10, ASAN_TESTS="sim_test
# fuzz_test")
set -uo pipefail

build_dir="${1:-build-asan}"
jobs="${JOBS:-2}"
seeds="${ASAN_SEEDS:-10}"
tests="${ASAN_TESTS:-sim_test fuzz_test}"
cd "$(dirname "$0")/.."

cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSTORSIM_SANITIZE=ON >/dev/null ||
  exit 3
# shellcheck disable=SC2086  # $tests is a list of target names
ninja -C "$build_dir" -j "$jobs" storsim $tests || exit 3

reports="$build_dir/sanitizer-reports"
rm -rf "$reports"
mkdir -p "$reports"
# exitcode=86 tells a sanitizer abort apart from storsim's own exit codes (0-3).
export ASAN_OPTIONS="detect_leaks=1:exitcode=86:log_path=$PWD/$reports/asan:${ASAN_OPTIONS:-}"
export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1:exitcode=86:log_path=$PWD/$reports/ubsan:${UBSAN_OPTIONS:-}"
export LSAN_OPTIONS="exitcode=86:${LSAN_OPTIONS:-}"

status=0
for test in $tests; do
  binary="$(find "$build_dir" -type f -name "$test" -perm -u+x | head -n 1)"
  if [ -z "$binary" ]; then
    echo "asan: test binary $test not found under $build_dir" >&2
    status=3
    continue
  fi
  echo "== asan: $test"
  "$binary" --gtest_brief=1
  code=$?
  if [ "$code" -ne 0 ]; then
    echo "asan: $test exited $code" >&2
    status=1
  fi
done

echo "== asan: storsim fuzz --scenario all --seeds $seeds"
"$build_dir/storsim" fuzz --scenario all --seeds "$seeds"
code=$?
case "$code" in
  0) ;;
  1) echo "asan: the sweep found invariant violations (not a sanitizer finding; see above)" >&2 ;;
  *) echo "asan: the sweep exited $code" >&2; status=1 ;;
esac

# A report file may hold only ASan's start-up warning about swapcontext (the fibers); findings
# are the files with an error or a runtime-error line.
pattern='ERROR: (Address|Leak|Undefined|Memory)Sanitizer|runtime error:|SUMMARY: [A-Za-z]*Sanitizer'
found="$(grep -l -E "$pattern" -r "$reports" 2>/dev/null | sort)"
if [ -n "$found" ]; then
  echo "asan: sanitizer reports:" >&2
  for file in $found; do
    echo "---- $file" >&2
    cat "$file" >&2
  done
  status=1
fi
if [ "$status" -eq 0 ]; then
  echo "asan: clean ($tests, and $seeds seeds of every scenario)"
fi
exit "$status"
