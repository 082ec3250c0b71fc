# akhbar: `make demo` runs the pipeline on the bundled sample; `make test` runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PRISM := .cache/gobin/prism
PRISM_VERSION := v2.77.0

.PHONY: setup setup-test demo demo-streaming test test-fast prism bench clean

EXTRAS ?= ml,neardup
TEST_EXTRAS ?= ml,neardup,train,analytics,test

$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e ".[$(EXTRAS)]"
	touch $(STAMP)

$(VENV)/.installed-test: $(STAMP)
	$(BIN)/pip install --quiet -e ".[$(TEST_EXTRAS)]"
	touch $@

setup: $(STAMP)
setup-test: $(VENV)/.installed-test

# Beam's local streaming runner, built once from the Go module proxy and cached.
$(PRISM):
	mkdir -p $(dir $(PRISM))
	GOBIN=$(abspath $(dir $(PRISM))) go install github.com/apache/beam/sdks/v2/go/cmd/prism@$(PRISM_VERSION)

prism: $(PRISM)

demo: setup
	$(BIN)/akhbar demo --output demo-output

demo-streaming: setup prism
	$(BIN)/akhbar demo --output demo-output-streaming --streaming --duration 60 --poll_interval 10

test: setup-test prism
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q -rs

test-fast: setup-test
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q -rs -m "not slow"

bench: setup
	$(BIN)/python -m bench.throughput

clean:
	rm -rf demo-output demo-output-streaming .pytest_cache
