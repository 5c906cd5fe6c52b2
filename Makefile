# evalmodel: the two commands of the README, plus lint, docs, benchmarks and the browser test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DOCS_STAMP := $(VENV)/.installed-docs

.PHONY: run run-real test test-fast lint bench docs test-browser clean

# The real Kolada extract beside the checkout (../shared, never copied into the repository).
REAL_DATA ?= ../shared/data/real/kolada_ekbistand_ddf_dump_2024.csv

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

# After installing, the numba kernels are compiled into their cache once, so that the first
# `make run` does not pay it (about 10 s), and the package's own modules into bytecode, which an
# editable install does not do and a shell with PYTHONDONTWRITEBYTECODE never writes (each run
# would compile them again, about 0.3 s of CPU; a module edited later is recompiled in memory,
# never read stale).
$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test,bench]"
	$(BIN)/evalmodel compile
	$(BIN)/python -m compileall -q evalmodel
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/evalmodel run --out results

# Every case on the real series; fails if a municipality case fails or is missing.
run-real: $(STAMP)
	$(BIN)/evalmodel run --data $(REAL_DATA) --out results-real --quiet
	$(BIN)/python -c "import json, sys; m = json.load(open('results-real/manifest.json')); \
	want = {'malmo', 'trelleborg', 'boras', 'linkoping'}; got = set(m['cases']); \
	sys.exit(0 if want <= got and not m['cases_failed'] else f'municipality cases missing: {sorted(want - got)}, failed: {m[\"cases_failed\"]}')"

# The suite and the docstring examples (--doctest-modules, set in pyproject.toml); the tests
# marked `browser` are deselected there and run by `make test-browser`.
# Two test workers on two cores: each worker's BLAS runs on one thread, so that the many small
# least-squares fits of the placebo studies do not oversubscribe the cores (measured 25x slower).
test: $(STAMP)
	OPENBLAS_NUM_THREADS=1 MKL_NUM_THREADS=1 $(BIN)/python -m pytest -q -n 2

test-fast: $(STAMP)
	$(BIN)/python -m pytest -q -m "not slow and not browser"

lint: $(STAMP)
	$(BIN)/ruff check evalmodel tests analyses benchmarks
	$(BIN)/mypy evalmodel

$(DOCS_STAMP): pyproject.toml | $(STAMP)
	$(BIN)/python -m pip install --quiet -e ".[test,bench,docs,browser]"
	touch $(DOCS_STAMP)

# The documentation, offline, warnings as errors; the case studies are executed on the way.
docs: $(DOCS_STAMP)
	$(BIN)/sphinx-build -W --keep-going -n -j auto -b html docs docs/_build/html

# The built site and the report (make docs, make run first) in headless Chromium: Debian's
# chromium package, installed by .ci/run when missing.
test-browser: $(DOCS_STAMP)
	$(BIN)/python -m pytest -q -m browser tests/browser

bench: $(STAMP)
	EVALMODEL_REAL_DATA="$${EVALMODEL_REAL_DATA:-$(abspath $(REAL_DATA))}" $(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) results results-real .pytest_cache .mypy_cache docs/_build docs/api/index.rst docs/api/generated docs/jupyter_execute
