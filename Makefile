# Tingfeng: the two commands are `make run` and `make test`.
PYTHON ?= python3.11
VENV ?= .venv
BIN := $(VENV)/bin
PIP := $(BIN)/python -m pip
STAMP := $(VENV)/.installed
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run demo test lint bench model faults browser clean

$(BIN)/python:
	@command -v $(PYTHON) >/dev/null 2>&1 || { echo "need $(PYTHON) (Python 3.11+) on PATH, or run: make PYTHON=python3 ..."; exit 2; }
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(STAMP): pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e .
	@touch $@

$(TEST_STAMP): pyproject.toml | $(BIN)/python
	$(PIP) install --quiet -e '.[test]'
	@touch $@ $(STAMP)

## run: install and start the monitor on its built-in default (offline demo)
run: $(STAMP)
	$(BIN)/tingfeng run

## demo: replay the built-in fridge-door case and print alerts as they fire
demo: $(STAMP)
	$(BIN)/tingfeng demo

## test: install the test extras and run the test suite
test: $(TEST_STAMP)
	@./scripts/ensure-browser || echo "warning: could not install chromium; browser tests will be skipped"
	$(BIN)/python -m pytest -q

lint: $(TEST_STAMP)
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: $(TEST_STAMP)
	$(PIP) install --quiet -e '.[test,bench]'
	$(BIN)/python -m benchmarks

model: $(STAMP)
	$(BIN)/python -m classifiers.train --default

faults: $(TEST_STAMP)
	$(BIN)/python -m benchmarks.faults

clean:
	rm -rf $(VENV) .pytest_cache build *.egg-info
