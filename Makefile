# sendguard: the two commands are `make run` and `make test`. Everything goes through CMake;
# this file only names the common tasks.
MAKEFLAGS  += --no-print-directory
BUILD      ?= build
ASAN_BUILD ?= build-asan
JOBS       ?= $(shell nproc)
CMAKE_ARGS ?=

.PHONY: all deps build asan test test-fast test-asan run demo bench fuzz lint clean

all: build

deps:
	@scripts/deps.sh

$(BUILD)/Makefile: CMakeLists.txt
	@cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=RelWithDebInfo $(CMAKE_ARGS) >/dev/null

build: deps $(BUILD)/Makefile
	@cmake --build $(BUILD) -j $(JOBS)

$(ASAN_BUILD)/Makefile: CMakeLists.txt
	@cmake -S . -B $(ASAN_BUILD) -DCMAKE_BUILD_TYPE=Debug -DSANITIZE=ON $(CMAKE_ARGS) >/dev/null

asan: deps $(ASAN_BUILD)/Makefile
	@cmake --build $(ASAN_BUILD) -j $(JOBS)

# Every test, in the normal build and again under AddressSanitizer + UBSan.
test: lint build asan
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)
	@cd $(ASAN_BUILD) && ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 \
	  UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1 ctest --output-on-failure -j $(JOBS)

test-fast: build
	@cd $(BUILD) && ctest --output-on-failure -j $(JOBS)

# The daemon on 127.0.0.1:8025 over var/sendguard.db, in the foreground; the first run creates
# the store and prints an admin key once.
run: build
	@scripts/run.sh $(BUILD)

demo: build
	@scripts/demo.sh $(BUILD)/sendguard examples/forum-night.jsonl

bench: build
	@scripts/deps.sh --bench
	@bench/replay.sh $(BUILD)/sendguard

# libFuzzer builds of the harnesses (clang); corpora grow under fuzz/corpus/.
fuzz: deps
	@scripts/fuzz.sh

lint:
	@scripts/lint.sh

clean:
	rm -rf $(BUILD) $(ASAN_BUILD) build-fuzz
