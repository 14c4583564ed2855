# Seismo: `make demo` and `make test` are the two commands; `make bench` prints figures.
# Each target installs the Debian packages it needs, and only those that are missing.

SWIFT      ?= swift
SUDO       := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
APT_DEPS   := pkg-config librdkafka-dev libopenblas-dev libsqlite3-dev zlib1g-dev kcat protobuf-compiler curl prometheus prometheus-alertmanager prometheus-node-exporter prometheus-blackbox-exporter openssl
BIN_DEBUG   = $(shell $(SWIFT) build --show-bin-path)
BIN_RELEASE = $(shell $(SWIFT) build -c release --show-bin-path)

.PHONY: all deps build test demo bench clean proto eval-nab

all: build

## deps: install missing Debian packages (bookworm) and Python modules used by tests.
deps:
	@missing=""; for p in $(APT_DEPS); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  echo "Installing Debian packages:$$missing"; \
	  $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing >/dev/null; \
	fi
	@python3 -c "import jsonschema, sklearn, numpy, opentelemetry.sdk, opentelemetry.exporter.otlp.proto.http" 2>/dev/null || python3 -m pip install -q jsonschema scikit-learn numpy opentelemetry-sdk opentelemetry-exporter-otlp-proto-http

build: deps
	$(SWIFT) build

## test: build everything and run every test suite.
test: deps
	$(SWIFT) build --build-tests
	SEISMO_BIN=$(BIN_DEBUG)/seismo $(SWIFT) test --skip-build

## demo: pipelines/demo.yaml on the embedded cluster; anomalies print as they happen (DEMO_SECONDS=0: until Ctrl-C).
demo: deps
	$(SWIFT) build --product seismo
	@SEISMO=$(BIN_DEBUG)/seismo ./scripts/demo.sh

## bench: release build; prints throughput figures beside their targets.
bench: deps
	$(SWIFT) build -c release --product seismo
	$(SWIFT) build -c release --product seismo-bench
	$(BIN_RELEASE)/seismo-bench

NAB_DEV       ?= ../shared/data/nab-dev
NAB_DETECTORS ?= seasonal seasonal-band ensemble

## eval-nab: release build; scores each univariate detector on the NAB dev subset
## (trained on each series' probation period, then scored causally), then how its threshold
## transfers between halves and categories (scripts/nab_split.py).
eval-nab: deps
	$(SWIFT) build -c release --product seismo-eval
	rm -rf RESULTS
	$(BIN_RELEASE)/seismo-eval $(NAB_DEV)/data --results RESULTS $(addprefix --detector ,$(NAB_DETECTORS))
	@for d in $(NAB_DETECTORS); do \
	  python3 ../shared/eval/nab_score.py --data $(NAB_DEV)/data --labels $(NAB_DEV)/windows.json \
	    --results RESULTS --detector $$d || exit 1; \
	  python3 scripts/nab_split.py $(NAB_DEV)/data $(NAB_DEV)/windows.json RESULTS $$d || exit 1; \
	done

## proto: regenerate the committed protobuf code (needs protoc-gen-swift on PATH).
proto:
	protoc --swift_opt=Visibility=Public --swift_out=Sources/SeismoWire/Generated \
	  -I Sources/SeismoWire/Proto $$(cd Sources/SeismoWire/Proto && find . -name '*.proto')

clean:
	rm -rf .build data
