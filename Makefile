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

unit: $(STAMP) agents browser
	$(BIN)/pytest $(PYTEST_ARGS)

$(SAM):
	@test -x $(SAM_VENV)/bin/python || $(PYTHON) -m venv $(SAM_VENV)
	$(SAM_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(SAM_VENV)/bin/python -m pip install --quiet aws-sam-cli

# The deployment can't run here (no AWS); CI checks what can be checked without it: the
# template, the build, and what the build made (tests/deploy/check_build.py).
sam-check: $(SAM)
	$(SAM_ENV) $(SAM) validate --lint
	@if PYENV_VERSION=$(SAM_PYTHON) python3.13 --version >/dev/null 2>&1; then \
		PYENV_VERSION=$(SAM_PYTHON) $(SAM_ENV) $(SAM) build --build-dir .aws-sam/build \
		&& $(SAM_VENV)/bin/python tests/deploy/check_build.py .aws-sam/build; \
	elif [ -n "$$CI" ]; then echo "sam build needs python3.13 on PATH" >&2; exit 1; \
	else echo "skipping sam build: no python3.13 on PATH (pyenv install 3.13)"; fi

# The Lambda layer. `sam build` runs build-CommonLayer (template: BuildMethod makefile) in a
# scratch copy of layers/common/ with ARTIFACTS_DIR set; `make layer` runs the same here.
# - Only what serves requests: the CLI and the fake Gemini stay out (LAYER_EXCLUDE).
# - Bytecode compiled by the Lambda's Python (3.13): /opt is read-only on Lambda, so a layer
#   without it compiles every module it imports on every cold start. unchecked-hash .pyc files
#   are used without looking at the sources' timestamps, which the zip does not keep exactly.
# - Dependencies as wheels for Lambda's platform (arm64, cp313); LAYER_ARCH=x86_64 builds one
#   this machine can import (the cold-start bench compares such layers).
LAYER_PYTHON ?= python3.13
LAYER_ARCH ?= aarch64
LAYER_EXCLUDE ?= cli fake_gemini
LAYER_COMPILE ?= yes
LAYER_SRC ?= $(if $(ARTIFACTS_DIR),.,layers/common)
LAYER_OUT ?= $(if $(ARTIFACTS_DIR),$(ARTIFACTS_DIR),.aws-sam/layer)/python
LAYER_PLATFORMS := $(foreach tag,manylinux2014 manylinux_2_28 manylinux_2_34,--platform $(tag)_$(LAYER_ARCH))

.PHONY: layer build-CommonLayer layer-package
layer: build-CommonLayer

build-CommonLayer: export PYENV_VERSION ?= $(SAM_PYTHON)
build-CommonLayer:
	@$(LAYER_PYTHON) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null || \
		{ echo "the layer needs python3.13, the Lambda runtime's, on PATH (LAYER_PYTHON)" >&2; exit 1; }
	@case "$(LAYER_OUT)" in */python) ;; *) echo "LAYER_OUT must end in /python" >&2; exit 1;; esac
	rm -rf "$(LAYER_OUT)"
	$(LAYER_PYTHON) -m pip install --quiet --disable-pip-version-check --root-user-action=ignore \
		--no-compile --target "$(LAYER_OUT)" --only-binary=:all: --implementation cp \
		--python-version 3.13 $(LAYER_PLATFORMS) -r "$(LAYER_SRC)/requirements.txt"
	rm -rf "$(LAYER_OUT)/bin"  # the dependencies' console scripts: nothing runs them
	@$(MAKE) --no-print-directory -f $(abspath $(firstword $(MAKEFILE_LIST))) layer-package
	$(if $(filter yes,$(LAYER_COMPILE)),$(LAYER_PYTHON) -m compileall -q -j 0 \
		--invalidation-mode unchecked-hash "$(LAYER_OUT)")

# The package alone, trimmed, without bytecode (tests/deploy runs the Lambda entries on it).
layer-package:
	mkdir -p "$(LAYER_OUT)" && rm -rf "$(LAYER_OUT)/gemini_proxy"
	cp -R "$(LAYER_SRC)/gemini_proxy" "$(LAYER_OUT)/"
	cd "$(LAYER_OUT)/gemini_proxy" && rm -rf $(LAYER_EXCLUDE) py.typed \
		&& find . -name __pycache__ -prune -exec rm -rf {} +

# Cold start of the Lambda layer, today's against ours, in one run (bench/coldstart.py).
.PHONY: bench-coldstart
bench-coldstart: $(STAMP)
	timeout 900 $(BIN)/python -m bench.coldstart --layers

# The container image. `make docker-check` builds it, runs it with docker-compose.yml's
# hardening (read-only, no capabilities, no-new-privileges), and checks /health and a chat
# through `serve --demo` (tests/deploy/docker_check.py). Not part of `make test`: it needs a
# Docker engine and a base image, which CI machines lack. BASE_IMAGE picks the base; without
# Docker Hub, `make docker-base` builds one from Debian's packages (debootstrap, as root).
BASE_IMAGE ?= python:3.13-slim
DOCKER_BASE_TAG ?= gemini-proxy-base:bookworm
DEBIAN_MIRROR ?= http://deb.debian.org/debian

.PHONY: docker-check docker-base
docker-check: $(STAMP)
	$(BIN)/python -m tests.deploy.docker_check --base-image $(BASE_IMAGE)

# A minimal Debian bookworm with its python3 (3.11) and venv module, imported as an image. It
# trusts what this machine trusts: the CA certificates added in /usr/local/share/ca-certificates
# (a proxy's, say) go in too, and pip is pointed at the system store, so that the image build
# can reach PyPI from here.
docker-base:
	@command -v debootstrap >/dev/null || { echo "docker-base needs debootstrap (apt-get install debootstrap)" >&2; exit 1; }
	set -e; root=$$(mktemp -d); trap 'rm -rf "$$root"' EXIT; \
	debootstrap --variant=minbase --include=python3,python3-venv,ca-certificates \
		bookworm "$$root" $(DEBIAN_MIRROR); \
	cp /usr/local/share/ca-certificates/*.crt "$$root"/usr/local/share/ca-certificates/ 2>/dev/null || true; \
	chroot "$$root" update-ca-certificates >/dev/null; \
	rm -rf "$$root"/var/lib/apt/lists/* "$$root"/var/cache/apt/*.bin; \
	tar -C "$$root" -c . | docker import \
		--change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
		--change 'ENV LANG=C.UTF-8' --change 'ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt' \
		--change 'CMD ["python3"]' - $(DOCKER_BASE_TAG)
	@echo "built $(DOCKER_BASE_TAG): make docker-check BASE_IMAGE=$(DOCKER_BASE_TAG)"

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

# The proxy at this git revision runs beside today's as PROXY-base (chat scenarios only): the
# last commit before the edge redesign. `make bench BASELINE=<rev>` compares with another one;
# `BASELINE=` (empty) leaves it out.
BASELINE ?= 7a35645
BENCH_FLAGS := $(if $(strip $(BASELINE)),--baseline $(BASELINE))

.PHONY: bench bench-quick bench-peers

$(BENCH_STAMP): pyproject.toml $(STAMP)
	$(BIN)/python -m pip install --quiet -e '.[bench]'
	@touch $(BENCH_STAMP)

bench: $(BENCH_STAMP)
	timeout 1500 $(BIN)/python -m bench.run $(BENCH_FLAGS)

bench-quick: $(BENCH_STAMP)
	timeout 180 $(BIN)/python -m bench.run --quick $(BENCH_FLAGS)

$(LITELLM_VENV)/bin/litellm:
	$(PYTHON) -m venv $(LITELLM_VENV)
	$(LITELLM_VENV)/bin/python -m pip install --quiet --upgrade pip
	$(LITELLM_VENV)/bin/python -m pip install --quiet 'litellm[proxy]==$(LITELLM_VERSION)'

bench-peers: $(BENCH_STAMP) $(LITELLM_VENV)/bin/litellm
	timeout 1800 $(BIN)/python -m bench.run --peers $(BENCH_FLAGS)

# The real coding agents the end-to-end tests drive (Codex CLI, Claude Code, Gemini CLI), from
# npm, pinned. Where npm is missing their tests are skipped and say why (they fail under CI).
AGENTS_DIR := .agents
AGENTS_STAMP := $(AGENTS_DIR)/.installed
AGENT_PACKAGES := @openai/codex@0.171.0 @anthropic-ai/claude-code@2.1.332 @google/gemini-cli@0.61.0

.PHONY: agents
agents: $(AGENTS_STAMP)

$(AGENTS_STAMP): Makefile
	@if command -v npm >/dev/null 2>&1; then \
		npm install --no-audit --no-fund --loglevel=error --prefix $(AGENTS_DIR) $(AGENT_PACKAGES) \
		&& touch $@; \
	else echo "npm not found: the Codex, Claude Code and Gemini CLI tests will be skipped"; fi

# The browser the dashboard's end-to-end test drives (tests/support/browser.py): Debian's
# chromium, driven by Playwright (the dev extra) through its executable path; Playwright
# downloads no browser. Installed as root when missing; elsewhere its test is skipped and says
# why (it fails under CI).
.PHONY: browser
browser:
	@if command -v chromium >/dev/null 2>&1; then :; \
	elif [ "$$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then \
		DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null \
		|| { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null; }; \
	else echo "chromium not found (apt-get install chromium, as root): the dashboard's browser test will be skipped"; fi
