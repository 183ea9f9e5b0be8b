# One-command set-up: `make test` and `make demo` create/refresh .venv from the project's files.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: test test-fast demo info gpu-test clean

$(STAMP): pyproject.toml requirements-ci.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -r requirements-ci.txt
	$(PY) -m pip install -q --no-deps -e .
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q --durations=10

# The same without the end-to-end tests marked slow (under a minute on 2 cores).
test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not slow" --durations=5

demo: $(STAMP)
	$(VENV)/bin/rmeeto demo

info: $(STAMP)
	$(VENV)/bin/rmeeto info

# On a CUDA machine: the GPU-marked tests (skipped in CI).
gpu-test: $(STAMP)
	$(PY) -m pytest -q -m gpu

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
