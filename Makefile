# The two commands of the quick start, and a few more.
#   make demo   set up, synthesise a demo library and run the whole pipeline on it
#   make test   set up with the dev tools and run lint + the whole test suite
#   make ui     open the Dagster UI on http://127.0.0.1:3000

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
# pip keeps its cache (built wheels are reused between set-ups)
PIP    := $(BIN)/python -m pip

.PHONY: demo test ui setup setup-dev lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

# llama-cpp-python has no wheel: pip builds it, here portable (no -march=native) for the
# CPU. For a GPU build set CMAKE_ARGS before `make` (README, "Captions"), e.g.
#   CMAKE_ARGS="-DGGML_HIP=ON" make demo      (ROCm)
#   CMAKE_ARGS="-DGGML_CUDA=ON" make demo     (CUDA)
# pip caches the built wheel, so later set-ups do not build it again.
export CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TESTS=OFF

# torch first, pinned: the build on this machine's disk, so that no package of the
# model stacks pulls a different (multi-gigabyte) torch
TORCH := torch==2.13.0

# fpcalc (Debian's libchromaprint-tools) fingerprints tracks for the AcoustID lookup;
# installed when this runs as root, else the README says how
FPCALC := command -v fpcalc >/dev/null || { [ "$$(id -u)" = 0 ] && \
	(apt-get install -y -qq libchromaprint-tools >/dev/null 2>&1 || \
	 (apt-get update -qq && apt-get install -y -qq libchromaprint-tools >/dev/null)); } || \
	echo "fpcalc not found: install libchromaprint-tools for AcoustID lookups"

# the UI test drives Debian's Chromium (no browser download)
CHROMIUM := command -v chromium >/dev/null || { [ "$$(id -u)" = 0 ] && \
	(apt-get install -y -qq chromium >/dev/null 2>&1 || \
	 (apt-get update -qq && apt-get install -y -qq chromium >/dev/null)); } || \
	echo "chromium not found: install Debian's chromium package for the UI test"

# the Postgres test starts its own server on loopback from Debian's postgresql binaries
POSTGRES := ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || { [ "$$(id -u)" = 0 ] && \
	(apt-get install -y -qq postgresql >/dev/null 2>&1 || \
	 (apt-get update -qq && apt-get install -y -qq postgresql >/dev/null)); } || \
	echo "PostgreSQL not found: install Debian's postgresql package for the Postgres test"

# the Celery test starts its own Redis server (broker and result backend) on loopback
REDIS := command -v redis-server >/dev/null || { [ "$$(id -u)" = 0 ] && \
	(apt-get install -y -qq redis-server >/dev/null 2>&1 || \
	 (apt-get update -qq && apt-get install -y -qq redis-server >/dev/null)); } || \
	echo "redis-server not found: install Debian's redis-server package for the Celery test"

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(PIP) install $(TORCH)
	$(PIP) install -e '.[separation,captions]' $(TORCH)
	@$(FPCALC)
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(PIP) install $(TORCH)
	$(PIP) install -e '.[separation,captions,dev]' $(TORCH)
	@$(FPCALC)
	@$(CHROMIUM)
	@$(POSTGRES)
	@$(REDIS)
	touch $@ $(VENV)/.installed

setup: $(VENV)/.installed
setup-dev: $(VENV)/.installed-dev

demo: $(VENV)/.installed
	mkdir -p $(DAGSTER_HOME)
	$(BIN)/mir make-demo
	$(BIN)/mir run

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

test: lint
	$(BIN)/python -m pytest

ui: $(VENV)/.installed
	mkdir -p $(DAGSTER_HOME)
	test -f $(DAGSTER_HOME)/dagster.yaml || cp config/dagster.yaml $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

clean:
	rm -rf data .dagster_home
