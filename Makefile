# The two commands a new user runs: `make run` and `make test`.
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
SAMPLE := datasets/sample

.PHONY: run test test-fast lint bench clean

# The virtual environment, with the package installed (editable) and, for tests, the dev extra.
$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: $(BIN)/python setup.cfg pyproject.toml
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: $(VENV)/.installed
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	bash tests/browser.sh
	touch $@

## run: create .venv, install, and run the main job on the bundled sample data
run: $(VENV)/.installed
	$(BIN)/quotaplan data check $(SAMPLE)/history.csv $(SAMPLE)/roster.csv
	@mkdir -p out
	$(BIN)/quotaplan forecast --history $(SAMPLE)/history.csv --roster $(SAMPLE)/roster.csv --year 2026 --out out/forecast.csv
	$(BIN)/quotaplan plan --forecast out/forecast.csv --roster $(SAMPLE)/roster.csv --target 80M --over-assignment 5% --out out/plan.csv

## test: create .venv if needed, install the dev extra, run the whole test suite (one worker a core)
test: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -n auto

## test-fast: the suite without the slow tests (real servers, browsers, kills, Dask)
test-fast: $(VENV)/.installed-dev
	$(BIN)/python -m pytest -n auto -m "not slow"

## lint: ruff over the whole tree
lint: $(VENV)/.installed-dev
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

## bench: the benchmarks (slow; not part of the test suite); results in benchmarks/results/
bench: $(VENV)/.installed
	$(BIN)/python -m benchmarks.bench_synthetic
	$(BIN)/python -m benchmarks.bench_forecast
	$(BIN)/python -m benchmarks.forecast_quality
	$(BIN)/python -m benchmarks.bench_optimizer

clean:
	rm -rf $(VENV) build *.egg-info .pytest_cache .ruff_cache .hypothesis
