# Common commands. `make run` and `make test` each install what they need first (apt packages, the Python venv).
SWIFT ?= swift
PYTEST = .venv/bin/python -m pytest
ARGS ?=

.PHONY: run build release test test-unit test-integration verify-protos check-unsafe protos deps-build deps-test bench clean

## Runs the server with the embedded store in ./default.vigil, listening on http://127.0.0.1:2379. Extra flags: ARGS="…"
run: deps-build release
	.build/release/vigil $(ARGS)

## Builds, then runs every check and test: unit tests, generated-code and unsafe-code checks, integration tests.
test: deps-test build
	$(SWIFT) test
	scripts/check-protos.sh
	scripts/check-unsafe.sh
	VIGIL_BIN=$(CURDIR)/.build/debug/vigil PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION=python $(PYTEST) -q Tests/Integration

test-unit: build
	$(SWIFT) test

test-integration: build
	VIGIL_BIN=$(CURDIR)/.build/debug/vigil PROTOCOL_BUFFERS_PYTHON_IMPLEMENTATION=python $(PYTEST) -q Tests/Integration

build:
	$(SWIFT) build --build-tests

release:
	$(SWIFT) build -c release --product vigil

deps-build:
	scripts/install-deps.sh build

deps-test:
	scripts/install-deps.sh test

protos:
	scripts/generate-protos.sh

verify-protos:
	scripts/check-protos.sh

check-unsafe:
	scripts/check-unsafe.sh

clean:
	rm -rf .build
