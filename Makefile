# The two set-up commands from the README: `make demo` and `make test`.
# Both create .venv (with the package installed in editable mode) when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest pytest-compiled docs wheel bench clean

# The tools are pinned by constraints.txt, not by the extras (which are published).
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,docs,dask]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/interleave demo

lint: $(STAMP)
	$(BIN)/ruff check interleave _interleave_pytestplugin.py hatch_build.py tests benchmarks examples
	$(BIN)/ruff format --check interleave _interleave_pytestplugin.py hatch_build.py tests benchmarks examples

typecheck: $(STAMP)
	$(BIN)/mypy

# Two processes (pytest-xdist): the suite is CPU-bound, and CI machines have two cores.
pytest: $(STAMP)
	$(BIN)/python -m pytest -q -n 2

# The compiled core (hatch_build.py): the wheel a user installs, unpacked where PYTHONPATH puts it
# ahead of the editable, plain-Python install. Rebuilt when a source file changes; it fails if
# the wheel came out without its compiled modules (the hook falls back to plain Python).
COMPILED := build/compiled
# PYTHONSAFEPATH: `python -c`/`-m` (also in the tests' subprocesses) must not put the checkout's
# plain-Python package ahead of the compiled one.
RUN_COMPILED := PYTHONSAFEPATH=1 PYTHONPATH=$(CURDIR)/$(COMPILED)/site
$(COMPILED)/.built: $(STAMP) hatch_build.py $(shell find interleave -name '*.py')
	rm -rf $(COMPILED)
	$(BIN)/python -m pip wheel --quiet --no-deps --no-build-isolation --wheel-dir $(COMPILED)/dist .
	$(BIN)/python -m zipfile -e $(COMPILED)/dist/*.whl $(COMPILED)/site
	$(RUN_COMPILED) $(BIN)/python -c "import sys; from interleave._core._native \
	    import compiled; sys.exit(0 if compiled() else 'no compiled core in the wheel')"
	touch $@

# The suite once more against the compiled core: both builds must behave alike (the conftest
# refuses to run on plain Python under INTERLEAVE_EXPECT_COMPILED; tests marked plain_python
# are skipped there, with the reason).
pytest-compiled: $(COMPILED)/.built
	INTERLEAVE_EXPECT_COMPILED=1 $(RUN_COMPILED) $(BIN)/pytest -q -n 2

# The documentation site with its API reference, offline; --strict fails on a broken link
# between pages, a missing anchor or a docstring the reference cannot read.
docs: $(STAMP)
	$(BIN)/mkdocs build --strict --quiet

# The wheel users would install: built from the checkout (see README, "Install").
wheel: $(STAMP)
	rm -rf dist
	$(BIN)/python -m pip wheel --quiet --no-deps --no-build-isolation --wheel-dir dist .

test: lint typecheck pytest pytest-compiled docs

# Measured on the compiled core, as installed from a wheel.
bench: $(COMPILED)/.built
	$(RUN_COMPILED) $(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist
