# storsim — the two quick-start commands (`make run`, `make test`) and the rest.
# Every target installs missing Debian packages first (scripts/install-deps.sh is idempotent).
BUILD       ?= build
BUILD_TYPE  ?= RelWithDebInfo
JOBS        ?= 2
SWEEP_TIME  ?= 60s
OUT         ?= out

FUZZ_TIME   ?= 600
ASAN_SEEDS  ?= 10
BUGZOO_SWEEPS ?= 20
BUGZOO_SEEDS  ?= 2000

.PHONY: all deps configure build test run bench asan asan-all bugzoo determinism fuzz-targets \
  clean help

all: build

help:
	@echo "make run          install deps, build, run the default fuzz sweep ($(SWEEP_TIME)) into $(OUT)/"
	@echo "make test         install deps, build, run every test (ctest), a real PostgreSQL included"
	@echo "make build        build without testing (binary: $(BUILD)/storsim)"
	@echo "make bench        run the Google Benchmark programs"
	@echo "make asan         kernel and fuzz tests and $(ASAN_SEEDS) seeds of every scenario under"
	@echo "                  AddressSanitizer + UBSan; fails on any sanitizer report"
	@echo "make asan-all     every test (no postgres) under AddressSanitizer + UBSan"
	@echo "make bugzoo       measure seeds-to-detect of every planted defect into $(OUT)/bugzoo.md"
	@echo "make determinism  same seeds, same trace hashes across gcc -O2, gcc -O0 and clang -O2"
	@echo "make fuzz-targets libFuzzer on the plan decoder, the token decoder and scenario bytes"
	@echo "                  for FUZZ_TIME seconds each (default $(FUZZ_TIME))"

deps:
	@bash scripts/install-deps.sh

$(BUILD)/build.ninja: CMakeLists.txt | deps
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) >/dev/null

configure: deps
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=$(BUILD_TYPE) >/dev/null

build: configure
	ninja -C $(BUILD) -j $(JOBS)

test: build
	cd $(BUILD) && ctest --output-on-failure -j $(JOBS) --timeout 900

run: build
	@mkdir -p $(OUT)
	$(BUILD)/storsim fuzz --scenario all --time $(SWEEP_TIME) --jobs $(JOBS) --out $(OUT)/sweep \
	  --report $(OUT) --json > $(OUT)/sweep.json; \
	  status=$$?; \
	  if [ $$status -eq 0 ]; then echo "verdict: every invariant held ($(OUT)/report.html)"; \
	  elif [ $$status -eq 1 ]; then echo "verdict: invariant violated, see $(OUT)/report.html"; \
	  else echo "verdict: storsim failed with exit code $$status"; fi; exit $$status

bench: build
	$(BUILD)/bench/storsim_bench
	@if [ -x $(BUILD)/bench/postgres_bench ]; then $(BUILD)/bench/postgres_bench; fi

# Kernel and fuzz-library tests plus ASAN_SEEDS seeds of every scenario under ASan + UBSan;
# fails on any sanitizer report (scripts/asan-check.sh). asan-all: every test, ctest, no postgres.
asan: deps
	JOBS=$(JOBS) ASAN_SEEDS=$(ASAN_SEEDS) bash scripts/asan-check.sh $(BUILD)-asan

asan-all: deps
	cmake -S . -B $(BUILD)-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSTORSIM_SANITIZE=ON >/dev/null
	ninja -C $(BUILD)-asan -j $(JOBS)
	cd $(BUILD)-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure -j $(JOBS) -LE postgres

bugzoo: build
	@mkdir -p $(OUT)
	$(BUILD)/storsim bugzoo --jobs $(JOBS) --sweeps $(BUGZOO_SWEEPS) --max-seeds $(BUGZOO_SEEDS) \
	  --markdown $(OUT)/bugzoo.md --json > $(OUT)/bugzoo.json

determinism: deps
	bash scripts/check-determinism-across-builds.sh

fuzz-targets: deps
	cmake -S . -B $(BUILD)-fuzz -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DCMAKE_CXX_COMPILER=clang++ -DSTORSIM_LIBFUZZER=ON >/dev/null
	ninja -C $(BUILD)-fuzz -j $(JOBS) plan_decoder_fuzzer token_decoder_fuzzer scenario_bytes_fuzzer
	@for target in plan_decoder token_decoder scenario_bytes; do \
	  mkdir -p $(OUT)/fuzz-corpus/$$target && cp -n fuzz/corpus/$$target/* $(OUT)/fuzz-corpus/$$target/ 2>/dev/null; \
	  echo "== $$target ($(FUZZ_TIME)s)"; \
	  $(BUILD)-fuzz/fuzz/$${target}_fuzzer -max_total_time=$(FUZZ_TIME) -print_final_stats=1 \
	    -artifact_prefix=$(OUT)/fuzz-crash-$$target- $(OUT)/fuzz-corpus/$$target || exit 1; \
	done

clean:
	rm -rf $(BUILD) $(BUILD)-asan $(BUILD)-fuzz build-det-* $(OUT)
