# Thin wrapper around CMake. `make` builds, `make test` runs the test suite,
# `make run` runs the experiments in their quick mode, `make bench` the benchmarks.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
SETUP_GROUPS ?=

.PHONY: all configure test run bench sanitize clean setup

all: configure
	cmake --build $(BUILD) -j $(JOBS)

configure: setup
	@test -f $(BUILD)/CMakeCache.txt || cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS)

setup:
	@./.ci/setup $(SETUP_GROUPS)

# Idle OpenMP threads sleep instead of spinning: ctest runs test programs side by side.
test: all
	cd $(BUILD) && OMP_WAIT_POLICY=passive ctest --output-on-failure -j $(JOBS)

sanitize:
	$(MAKE) test BUILD=build-asan CMAKE_FLAGS="-DEMBER_SANITIZE=ON -DEMBER_CUDA=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo"

run: SETUP_GROUPS = experiments
run: configure
	cmake --build $(BUILD) -j $(JOBS) --target emc
	./experiments/fetch_data.sh data
	./$(BUILD)/experiments/emc/emc --quick --data data --out results/emc

bench: SETUP_GROUPS = bench
bench: all
	./bench/run.sh $(BUILD)

clean:
	rm -rf build build-asan
