# railwatch: two commands do all set-up on a fresh machine.
#   make demo   create .venv, install railwatch, run the built-in Tumangang demo
#   make test   install what the tests need, run ruff, mypy and the whole test suite

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
# Extras the test suite exercises (each optional part is tested).
TEST_EXTRAS := dev,web,stac,dask,postgres,gis,cjk

.PHONY: demo test lint typecheck install install-test clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.core-installed: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $@

$(VENV)/.test-installed: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[$(TEST_EXTRAS)]'
	touch $@ $(VENV)/.core-installed

install: $(VENV)/.core-installed
install-test: $(VENV)/.test-installed

demo: $(VENV)/.core-installed
	$(BIN)/railwatch demo

lint: install-test
	$(BIN)/ruff check src tests benchmarks
	$(BIN)/ruff format --check src tests benchmarks

# The package (pyproject's [tool.mypy] packages), then the tests: the second run reads
# the first one's cache for railwatch's modules.
typecheck: install-test
	$(BIN)/mypy
	$(BIN)/mypy tests

test: install-test lint typecheck
	$(BIN)/pytest -n auto --dist loadgroup -q --durations=20

clean:
	rm -rf $(VENV) build dist *.egg-info src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
