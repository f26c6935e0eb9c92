# edftools — `make test` and `make demo` set everything up from nothing.
PYTHON ?= python3
VENV ?= .venv
TORCH_SPEC ?= torch==2.13.0
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: setup test test-full lint demo bench reference clean

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	$(PY) -m pip install --quiet "$(TORCH_SPEC)"
	$(PY) -m pip install --quiet -e ".[dev,ray,train]"
	# test-only: pycls's own model code, for the exactness cross-checks (tests skip without it);
	# --no-deps: its models need only yacs and PyYAML, not opencv
	$(PY) -m pip install --quiet --no-deps "pycls==0.1.1" "yacs==0.1.8" "pyyaml>=6" \
		|| echo "pycls not installed: tests/models/test_against_pycls.py will skip"
	touch $(STAMP)

lint: setup
	$(VENV)/bin/ruff check edftools tests benchmarks
	$(VENV)/bin/ruff format --check edftools tests benchmarks
	$(VENV)/bin/mypy

# `make test`: lint, then every test not marked slow, in parallel over the cores (pytest-xdist,
# PYTEST_WORKERS=auto: one worker per core; worksteal, with the modules of the longest tests
# collected first by tests/conftest.py so that no long test starts last). Lint stays first:
# it takes 1.5 s with mypy's cache (31 s cold), and run beside pytest it would only compete
# for the same cores. `make test-full`: that, then the slow set (more kill points, Ray's
# crashed workers and CLI by address, the 6-space sequential null chain, full coverage
# simulations); CI runs it. Measured times: README.md, "make test time".
# Test stores live in RAM where the machine has /dev/shm (TEST_TMPDIR): every stored run is a
# DuckDB open + commit + close, and a disk's fsync on close costs a third of that.
# The package is byte-compiled first: the tests start ~150 edftools processes, and where the
# environment sets PYTHONDONTWRITEBYTECODE each would otherwise compile it again (~0.1-0.2 s).
PYTEST_WORKERS ?= auto
TEST_TMPDIR ?= $(shell test -d /dev/shm -a -w /dev/shm && echo /dev/shm || echo "$${TMPDIR:-/tmp}")
test: setup lint
	$(PY) -m compileall -q edftools > /dev/null
	TMPDIR=$(TEST_TMPDIR) $(PY) -m pytest -m "not slow" -n $(PYTEST_WORKERS) --dist worksteal

test-full: test
	TMPDIR=$(TEST_TMPDIR) $(PY) -m pytest -m slow -n $(PYTEST_WORKERS) --dist worksteal

demo: setup
	$(PY) -m edftools demo --out reports

bench: setup
	for f in benchmarks/bench_*.py; do echo "== $$f"; $(PY) $$f || exit 1; done

clean:
	rm -rf $(VENV) .pytest_cache .ruff_cache
