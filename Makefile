# evalmodel: the two commands of the README, plus lint, docs, benchmarks and the browser test.
PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed
DOCS_STAMP := $(VENV)/.installed-docs

.PHONY: run test test-fast lint bench docs test-browser clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e ".[test,bench]"
	touch $(STAMP)

run: $(STAMP)
	$(BIN)/evalmodel run --out results

# The suite and the docstring examples (--doctest-modules, set in pyproject.toml); the tests
# marked `browser` are deselected there and run by `make test-browser`.
test: $(STAMP)
	$(BIN)/python -m pytest -q -n 2

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
	$(BIN)/python benchmarks/run.py

clean:
	rm -rf $(VENV) results .pytest_cache .mypy_cache docs/_build docs/api/index.rst docs/api/generated docs/jupyter_execute
