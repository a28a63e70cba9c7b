# Thin wrapper around CMake. `make` builds, `make test` runs the test suite,
# `make run` runs the experiments in their quick mode, `make bench` the benchmarks.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=
# WERROR=ON makes warnings errors (CI sets it).
WERROR ?= OFF
SETUP_GROUPS ?=
EXPERIMENTS = emc hyena hybrid rlhf

.PHONY: all configure test run bench sanitize clean setup data $(addprefix run-,$(EXPERIMENTS))

all: configure
	cmake --build $(BUILD) -j $(JOBS)

configure: setup
	@test -f $(BUILD)/CMakeCache.txt || cmake -S . -B $(BUILD) -DCMAKE_BUILD_TYPE=Release -DEMBER_WERROR=$(WERROR) $(CMAKE_FLAGS)

setup:
	@./.ci/setup $(SETUP_GROUPS)

# Idle OpenMP threads sleep instead of spinning: ctest runs test programs side by side.
test: all
	cd $(BUILD) && OMP_WAIT_POLICY=passive ctest --output-on-failure -j $(JOBS)

sanitize:
	$(MAKE) test BUILD=build-asan CMAKE_FLAGS="-DEMBER_SANITIZE=ON -DEMBER_CUDA=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo"

# The experiment programs, their quick modes one after another (each writes results/<name>/).
# QUICK_SHARDS_<name>: processes side by side (experiments/run.sh); 1 = one process on all cores,
# which the programs that time kernels need.
QUICK_SHARDS_emc ?= $(JOBS)
QUICK_SHARDS_hyena ?= 1
QUICK_SHARDS_hybrid ?= $(JOBS)
QUICK_SHARDS_rlhf ?= $(JOBS)

run: $(addprefix run-,$(EXPERIMENTS))

data: SETUP_GROUPS = experiments
data: setup
	./experiments/fetch_data.sh data

run run-%: SETUP_GROUPS = experiments
$(addprefix run-,$(EXPERIMENTS)): run-%: configure data
	cmake --build $(BUILD) -j $(JOBS) --target $*
	./experiments/run.sh $(BUILD) $* quick $(QUICK_SHARDS_$*)

bench: SETUP_GROUPS = bench
bench: all
	./bench/run.sh $(BUILD)

clean:
	rm -rf build build-asan
