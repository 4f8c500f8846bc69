# Mixtera's front door (README.md): `make demo` and `make test`.
# Every target installs what it needs first (`setup`), so both work on a fresh Debian 12
# machine that reaches only the Debian and npm registries.

BUILD_DIR ?= build
JOBS ?= 2
PYTHON := /usr/bin/python3
CMAKE_FLAGS ?=
WERROR ?= OFF

.PHONY: all setup configure build test test-fast bench demo clean

all: build

setup:
	@bash tools/setup.sh

configure: setup
	cmake -S . -B $(BUILD_DIR) -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
	  -DPython3_EXECUTABLE=$(PYTHON) -DMIXTERA_WERROR=$(WERROR) $(CMAKE_FLAGS)

build: configure
	cmake --build $(BUILD_DIR) -j $(JOBS)

# Every test (`slow` is reserved for opt-in exhaustive runs: `ctest -L slow`).
test: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) -LE slow

# The inner loop: unit, integration, lint and Python API tests; not the demo, the tokenizer
# exactness run or the benchmark smoke tests.
test-fast: build
	cd $(BUILD_DIR) && ctest --output-on-failure -j $(JOBS) -L fast

bench: build
	$(PYTHON) bench/ingest/run.py --build $(BUILD_DIR)
	$(PYTHON) bench/index/run.py --build $(BUILD_DIR)
	$(PYTHON) bench/tokenize/run.py --build $(BUILD_DIR)
	$(PYTHON) bench/client/run.py --build $(BUILD_DIR)
	$(BUILD_DIR)/bench/store_append_rate
	PYTHONPATH=$(BUILD_DIR)/python $(PYTHON) bench/mixing/run.py

demo: build
	$(PYTHON) tools/demo.py --build $(BUILD_DIR)

clean:
	rm -rf $(BUILD_DIR)
