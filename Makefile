# The two set-up commands from the README: `make demo` and `make test`.
# Both create .venv (with the package installed in editable mode) when it is missing.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed

.PHONY: demo test lint typecheck pytest docs wheel bench clean

# The tools are pinned by constraints.txt, not by the extras (which are published).
$(STAMP): pyproject.toml constraints.txt
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -c constraints.txt -e '.[dev,docs,dask]'
	touch $(STAMP)

demo: $(STAMP)
	$(BIN)/interleave demo

lint: $(STAMP)
	$(BIN)/ruff check interleave _interleave_pytestplugin.py tests benchmarks examples
	$(BIN)/ruff format --check interleave _interleave_pytestplugin.py tests benchmarks examples

typecheck: $(STAMP)
	$(BIN)/mypy

# Two processes (pytest-xdist): the suite is CPU-bound, and CI machines have two cores.
pytest: $(STAMP)
	$(BIN)/python -m pytest -q -n 2

# The documentation site with its API reference, offline; --strict fails on a broken link
# between pages, a missing anchor or a docstring the reference cannot read.
docs: $(STAMP)
	$(BIN)/mkdocs build --strict --quiet

# The wheel users would install: built from the checkout (see README, "Install").
wheel: $(STAMP)
	rm -rf dist
	$(BIN)/python -m pip wheel --quiet --no-deps --no-build-isolation --wheel-dir dist .

test: lint typecheck pytest docs

bench: $(STAMP)
	$(BIN)/python benchmarks/run_all.py

clean:
	rm -rf $(VENV) .pytest_cache .mypy_cache .ruff_cache build dist
