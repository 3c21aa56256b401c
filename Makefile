# The two commands of the quick start, and a few more.
#   make demo      set up, synthesise a demo library and run the whole pipeline on it
#   make test      set up with the dev tools and run lint, the docs build and the whole test suite
#   make ui        open the Dagster UI on http://127.0.0.1:3000
#   make docs      serve the documentation on http://127.0.0.1:8000
#   make captions  build llama-cpp-python (Music Flamingo in process, the caption revision)

PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV   := .venv
BIN    := $(VENV)/bin
export DAGSTER_HOME ?= $(CURDIR)/.dagster_home
# pip keeps its cache (built wheels are reused between set-ups)
PIP    := $(BIN)/python -m pip

.PHONY: demo test ui docs docs-build setup setup-dev captions lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --upgrade pip

# llama-cpp-python (the captions extra) has no wheel: pip builds it (about 8 minutes on 2
# cores), here portable (no -march=native) for the CPU. `make demo` builds it only when the
# configuration runs a model through it (music_flamingo.backend: llama_cpp, or the
# revision); `make test` always does. For a GPU build set CMAKE_ARGS before `make`
# (docs/models.md, "Building llama-cpp-python"), e.g.
#   CMAKE_ARGS="-DGGML_HIP=ON" make captions     (ROCm)
#   CMAKE_ARGS="-DGGML_CUDA=ON" make captions    (CUDA)
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
	$(PIP) install -e '.[separation]' $(TORCH)
	@$(FPCALC)
	touch $@

$(VENV)/.installed-captions: pyproject.toml | $(VENV)/.installed
	$(PIP) install -e '.[separation,captions]' $(TORCH)
	touch $@

# whether the configuration ($$MIR_CONFIG, else config/master_pipeline.yaml) runs a model
# through llama-cpp-python: exit status 0 when it does
NEEDS_LLAMA := $(BIN)/python -c "from mir.config import load_config; \
	m = load_config().music_flamingo; \
	raise SystemExit(0 if m.backend == 'llama_cpp' or m.revision.enabled else 1)"

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(PIP) install $(TORCH)
	$(PIP) install -e '.[separation,captions,dev]' $(TORCH)
	@$(FPCALC)
	@$(CHROMIUM)
	@$(POSTGRES)
	@$(REDIS)
	touch $@ $(VENV)/.installed $(VENV)/.installed-captions

setup: $(VENV)/.installed
setup-dev: $(VENV)/.installed-dev
captions: $(VENV)/.installed-captions

demo: $(VENV)/.installed
	@if $(NEEDS_LLAMA); then $(MAKE) --no-print-directory captions; \
	elif [ ! -f $(VENV)/.installed-captions ]; then \
		echo "captions: template captions need no model; to caption with Music Flamingo in" \
		     "process or revise captions with a text model, set music_flamingo in the" \
		     "configuration and run make captions (builds llama-cpp-python, about 8 min)"; fi
	mkdir -p $(DAGSTER_HOME)
	$(BIN)/mir make-demo
	$(BIN)/mir run

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .
	$(BIN)/lint-imports

# the documentation, built as CI builds it: a broken link, anchor or reference fails
# (into .site/, ignored by git)
docs-build: $(VENV)/.installed-dev
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs build --strict --site-dir .site

test: lint docs-build
	$(BIN)/python -m pytest

docs: $(VENV)/.installed-dev
	NO_MKDOCS_2_WARNING=1 $(BIN)/mkdocs serve --dev-addr 127.0.0.1:8000

ui: $(VENV)/.installed
	mkdir -p $(DAGSTER_HOME)
	test -f $(DAGSTER_HOME)/dagster.yaml || cp config/dagster.yaml $(DAGSTER_HOME)/dagster.yaml
	$(BIN)/dagster dev -w workspace.yaml -h 127.0.0.1 -p 3000

clean:
	rm -rf data .dagster_home .site
