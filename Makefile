# Two commands matter: `make serve` and `make test`. Both install on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

SAM_VENV := .venv-sam
SAM := $(SAM_VENV)/bin/sam
SAM_ENV := SAM_CLI_TELEMETRY=0 AWS_DEFAULT_REGION=us-east-1
# sam build needs the Lambda runtime's interpreter on PATH; pyenv provides it on our machines.
SAM_PYTHON := 3.13.0

.PHONY: install serve test lint typecheck unit sam-check fuzz chaos clean

install: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	@touch $(STAMP)

serve: $(STAMP)
	$(BIN)/gemini-proxy serve $(ARGS)

lint: $(STAMP)
	$(BIN)/ruff check layers tests functions
	$(BIN)/ruff format --check layers tests functions

typecheck: $(STAMP)
	$(BIN)/mypy

unit: $(STAMP)
	$(BIN)/pytest $(PYTEST_ARGS)

$(SAM):
	@test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/python -m pip install --quiet aws-sam-cli

# The deployment can't run here (no AWS, no Docker); CI checks what can be checked without them.
sam-check: $(SAM)
	$(SAM_ENV) $(SAM) validate --lint
	@if PYENV_VERSION=$(SAM_PYTHON) python3.13 --version >/dev/null 2>&1; then \
		PYENV_VERSION=$(SAM_PYTHON) $(SAM_ENV) $(SAM) build --build-dir .aws-sam/build; \
	elif [ -n "$$CI" ]; then echo "sam build needs python3.13 on PATH" >&2; exit 1; \
	else echo "skipping sam build: no python3.13 on PATH (pyenv install 3.13)"; fi

test: lint typecheck unit sam-check

# The long chaos run: 3 proxy processes on one SQLite state, 1,200 requests at concurrency 32.
chaos: $(STAMP)
	$(BIN)/python -m tests.chaos.harness --processes 3 --requests 1200 --concurrency 32

# The long fuzz run; `make test` runs the same tests with fewer examples.
fuzz: $(STAMP)
	FUZZ_EXAMPLES=2000 $(BIN)/pytest tests/fuzz -p no:logging -s

clean:
	rm -rf $(VENV) $(SAM_VENV) .aws-sam .pytest_cache .mypy_cache .ruff_cache

# Benchmarks (bench/RESULTS.md): the harness is bench/run.py; see bench/README.md.
BENCH_STAMP := $(VENV)/.bench-installed
LITELLM_VENV := bench/.venv-litellm
# Pinned: LiteLLM had a compromised release on PyPI (1.107.0); this one predates it.
LITELLM_VERSION := 1.106.12

.PHONY: bench bench-quick bench-peers

$(BENCH_STAMP): pyproject.toml $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	@touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	timeout 900 $(BIN)/python -m bench.run

bench-quick: $(BENCH_STAMP)
	timeout 170 $(BIN)/python -m bench.run --quick

$(LITELLM_VENV)/bin/litellm:
	$(PYTHON) -m venv $(LITELLM_VENV)
	$(LITELLM_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(LITELLM_VENV)/bin/python -m pip install --quiet 'litellm[proxy]==$(LITELLM_VERSION)'

bench-peers: $(BENCH_STAMP) $(LITELLM_VENV)/bin/litellm
	timeout 1200 $(BIN)/python -m bench.run --peers
