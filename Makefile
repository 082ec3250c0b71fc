# akhbar: `make demo` runs the pipeline on the bundled sample; `make test` runs the tests.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
PRISM := .cache/gobin/prism
PRISM_VERSION := v2.77.0

.PHONY: setup setup-test demo demo-streaming test test-fast test-flink lint flink-fetch prism dist bench clean \
	train-ner train-events

# The default install runs every default flag (the shipped models on ONNX Runtime, near-dup); no torch.
$(STAMP): pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip
	$(BIN)/pip install --quiet -e .
	touch $(STAMP)

# Tests also train tiny models (torch, transformers: the train extra) and read the output (analytics).
TEST_EXTRAS ?= hf,train,analytics,test
$(VENV)/.installed-test: $(STAMP)
	$(BIN)/pip install --quiet -e ".[$(TEST_EXTRAS)]"
	touch $@

setup: $(STAMP)
setup-test: $(VENV)/.installed-test

# Beam's local streaming runner, built once from the Go module proxy's source of the Beam release, with
# deploy/prism/*.patch applied (docs/streaming.md says why), and cached.
PRISM_MODULE := github.com/apache/beam/sdks/v2
PRISM_PATCHES := $(sort $(wildcard deploy/prism/*.patch))
PRISM_SRC := .cache/prism-src
$(PRISM): $(PRISM_PATCHES)
	rm -rf $(PRISM_SRC) && mkdir -p $(PRISM_SRC) $(dir $(PRISM))
	src=$$(go mod download -json $(PRISM_MODULE)@$(PRISM_VERSION) | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",$$/\1/p') && \
	  test -d "$$src" && cp -r "$$src/go" "$$src/go.mod" "$$src/go.sum" $(PRISM_SRC)/
	chmod -R u+w $(PRISM_SRC)
	for patch in $(PRISM_PATCHES); do patch -p1 -d $(PRISM_SRC) < $$patch || exit 1; done
	cd $(PRISM_SRC) && go build -o $(abspath $(PRISM)) ./go/cmd/prism
	rm -rf $(PRISM_SRC)

prism: $(PRISM)

demo: setup
	$(BIN)/akhbar demo --output demo-output

demo-streaming: setup prism
	$(BIN)/akhbar demo --output demo-output-streaming --streaming --duration 60 --poll_interval 10

# The installable wheel (code + the shipped runtime model files) in dist/: `pip install dist/akhbar-*.whl`.
dist: setup-test
	rm -rf dist build/lib
	$(BIN)/pip wheel --quiet --no-deps --no-build-isolation -w dist .
	@ls -l dist

# Headless Chromium for the report's rendering test: Debian's package, installed only when missing (as root).
CHROMIUM := /usr/bin/chromium
$(CHROMIUM):
	apt-get update && DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends chromium

# The layers (import contracts in pyproject.toml) and a small, strict lint.
lint: setup-test
	$(BIN)/ruff check .
	$(BIN)/lint-imports

test: setup-test prism $(CHROMIUM) lint
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q -rs -m "not flink"
	$(MAKE) test-flink

# Apache Flink 1.19 (PyPI's apache-flink-libraries) and Beam's Flink job server (Maven Central),
# cached in .cache/flink; a JDK and Maven come from apt where missing.
FLINK_STAMP := .cache/flink/jobserver/beam-expansion-service.jar
$(FLINK_STAMP): deploy/flink/local/jobserver-pom.xml deploy/flink/local/flink_local.py
	command -v java >/dev/null && command -v mvn >/dev/null || \
	  (apt-get update -qq && apt-get install -y -qq --no-install-recommends openjdk-17-jdk-headless maven)
	$(BIN)/python deploy/flink/local/flink_local.py fetch
	touch $@

flink-fetch: setup $(FLINK_STAMP)

# The Flink tests start a standalone cluster + Beam worker pool on 127.0.0.1 and stop it after.
test-flink: setup-test flink-fetch
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q -rs -m flink tests/flink

test-fast: setup-test lint
	HF_HUB_OFFLINE=1 $(BIN)/python -m pytest -q -rs -m "not slow and not flink"

# Arabic NER (docs/ner.md): tokenizer -> skip-gram pretraining -> feature CRF -> teacher (ANERcorp + Wojood) ->
# silver data (teacher x CRF on 6,000 news articles) -> mined gazetteer -> student (gold + entity swap + silver,
# gazetteer features) -> CRF weight and PERS bias chosen on dev -> models/ner-ar-small (+ ONNX, int8). Resumes
# from build/ner; SEED makes it reproducible (within seed noise). About 30 min on 2 shared CPU cores.
SEED ?= 13
train-ner: setup-test
	nice -n 5 $(BIN)/python -m training.ner.train --out build/ner --seed $(SEED) --wojood --swap 0.5 \
		--self_train --mine_gazetteer --tune --ship models/ner-ar-small

# Event classifier: written + weak-labeled + hand-labeled (gold) ANT data -> models/events-ar-small + its card.
# The shipped model is the Wide & Deep transformer (configs/events.json: models/encoder-ar-small fine-tuned, beside a
# linear part over character n-grams), 3-fold cross-fitted over gold for its thresholds and primary calibration;
# the TF-IDF + logistic regression model (configs/tfidf.json, build/events/tfidf) is trained the same way for the
# card's comparison. About 45 min on 2 shared CPU cores. Ablations (fixed gold split, cheaper): see docs/events.md.
train-events: setup-test
	nice -n 5 $(BIN)/python -m training.events.train --config training/events/configs/events.json --seed $(SEED)
	nice -n 5 $(BIN)/python -m training.events.baseline --config training/events/configs/tfidf.json
	$(BIN)/python -m training.events.card models/events-ar-small --compare "TF-IDF + LR=build/events/tfidf"

bench: setup
	$(BIN)/python -m bench.throughput

clean:
	rm -rf demo-output demo-output-streaming .pytest_cache dist build/lib
