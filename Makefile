# storsim — the two quick-start commands (`make run`, `make test`) and the rest.
# Every target installs missing Debian packages first (scripts/install-deps.sh is idempotent).
BUILD       ?= build
BUILD_TYPE  ?= RelWithDebInfo
JOBS        ?= 2
SWEEP_TIME  ?= 60s
OUT         ?= out

.PHONY: all deps configure build test run bench asan determinism clean help

all: build

help:
	@echo "make run          install deps, build, run the default fuzz sweep ($(SWEEP_TIME)) into $(OUT)/"
	@echo "make test         install deps, build, run every test (ctest), a real PostgreSQL included"
	@echo "make build        build without testing (binary: $(BUILD)/storsim)"
	@echo "make bench        run the Google Benchmark programs"
	@echo "make asan         kernel and model tests under AddressSanitizer + UBSan"
	@echo "make determinism  same seeds, same trace hashes across gcc -O2, gcc -O0 and clang -O2"

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
	$(BUILD)/storsim fuzz --scenario all --time $(SWEEP_TIME) --json > $(OUT)/sweep.json; \
	  status=$$?; tail -n 1 $(OUT)/sweep.json; \
	  if [ $$status -eq 0 ]; then echo "verdict: every invariant held ($(OUT)/sweep.json)"; \
	  elif [ $$status -eq 1 ]; then echo "verdict: invariant violated, see $(OUT)/sweep.json"; \
	  else echo "verdict: storsim failed with exit code $$status"; fi; exit $$status

bench: build
	$(BUILD)/bench/storsim_bench
	@if [ -x $(BUILD)/bench/postgres_bench ]; then $(BUILD)/bench/postgres_bench; fi

asan: deps
	cmake -S . -B $(BUILD)-asan -G Ninja -DCMAKE_BUILD_TYPE=Debug -DSTORSIM_SANITIZE=ON >/dev/null
	ninja -C $(BUILD)-asan -j $(JOBS)
	cd $(BUILD)-asan && ASAN_OPTIONS=detect_leaks=1 UBSAN_OPTIONS=print_stacktrace=1 \
	  ctest --output-on-failure -j $(JOBS) -LE postgres

determinism: deps
	bash scripts/check-determinism-across-builds.sh

clean:
	rm -rf $(BUILD) $(BUILD)-asan build-det-* $(OUT)
