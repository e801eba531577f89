# wharf: the two commands of the Quick start are `make run` and `make test`.
BUILD ?= build
JOBS ?= $(shell nproc)
CMAKE_FLAGS ?=

.PHONY: all deps build build-release run test demo clean format

all: build

deps:
	@scripts/deps

$(BUILD)/build.ninja:
	cmake -S . -B $(BUILD) -G Ninja -DCMAKE_BUILD_TYPE=Release $(CMAKE_FLAGS) >/dev/null

build: deps $(BUILD)/build.ninja
	cmake --build $(BUILD) -j $(JOBS)

# Starts wharfd with etc/wharf.toml: data in ./var, listening on 127.0.0.1:8080.
run: build
	$(BUILD)/wharfd --config etc/wharf.toml

# Builds and runs every test (unit and integration) through ctest.
test: build
	cd $(BUILD) && ctest --output-on-failure -j 2 --timeout 900

# A loopback docker-registry with a few small images, and a wharfd pulling from it.
demo: build
	scripts/demo

format:
	clang-format -i $$(git ls-files '*.cc' '*.h')

clean:
	rm -rf $(BUILD)
