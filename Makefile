# railwatch: two commands do all set-up on a fresh machine.
#   make demo   create .venv, install railwatch, run the built-in Tumangang demo
#   make test   install what the tests need, run ruff, mypy and the whole test suite

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
PY     := $(BIN)/python
# Extras the test suite exercises (each optional part is tested). `train` (torch, onnx)
# since session 52: about 30 tests of `railwatch train`, `calibrate --refine` and the
# GPU script's CPU paths were skipped in CI before (torch from PyPI: ~75 s to install,
# ~5 GB on disk; the tests about 2 CPU minutes more).
TEST_EXTRAS := dev,web,stac,dask,postgres,gis,cjk,train

.PHONY: demo test lint typecheck install install-test clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(VENV)/.core-installed: pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $@

# (the Makefile too: a changed TEST_EXTRAS installs the new extras into an existing .venv)
$(VENV)/.test-installed: pyproject.toml Makefile | $(PY)
	$(PY) -m pip install --quiet -e '.[$(TEST_EXTRAS)]'
	touch $@ $(VENV)/.core-installed

install: $(VENV)/.core-installed
install-test: $(VENV)/.test-installed

demo: $(VENV)/.core-installed
	$(BIN)/railwatch demo

# The checks, as `make lint` and `make typecheck` run them and `make test` runs them first.
LINT = $(BIN)/ruff check src tests benchmarks && $(BIN)/ruff format --check src tests benchmarks
# The package (pyproject's [tool.mypy] packages), then the tests: the second run reads
# the first one's cache for railwatch's modules.
TYPECHECK = $(BIN)/mypy && $(BIN)/mypy tests

lint: install-test
	$(LINT)

typecheck: install-test
	$(TYPECHECK)

# The lint and typecheck commands run while, on the other core, a collection of the
# tests writes pytest's rewritten test modules and railwatch's bytecode (__pycache__,
# git-ignored), also where PYTHONDONTWRITEBYTECODE is set. Each pytest-xdist worker then
# reads ~750 test modules instead of rewriting their asserts (about 17 s of CPU each), and
# a `python -c ...railwatch...` that a test starts reads railwatch's bytecode instead of
# compiling it. The collection's own errors are left to the run that follows (session 46).
test: install-test
	PYTHONDONTWRITEBYTECODE= $(BIN)/pytest --collect-only -q -p no:cacheprovider \
	    >/dev/null 2>&1 & warm=$$!; \
	{ $(LINT) && $(TYPECHECK); } || { kill $$warm 2>/dev/null; exit 1; }; \
	wait $$warm || true
	$(BIN)/pytest -n auto --dist loadgroup -q --durations=20

clean:
	rm -rf $(VENV) build dist *.egg-info src/*.egg-info .pytest_cache .mypy_cache .ruff_cache
