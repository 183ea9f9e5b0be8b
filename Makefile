# One-command set-up: `make test` and `make demo` create/refresh .venv from the project's files.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed

.PHONY: test demo info gpu-test bench clean

$(STAMP): pyproject.toml requirements-ci.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install -q -r requirements-ci.txt
	$(PY) -m pip install -q --no-deps -e .
	touch $(STAMP)

test: $(STAMP)
	$(PY) -m pytest -q -x --durations=10

demo: $(STAMP)
	$(VENV)/bin/rmeeto demo

info: $(STAMP)
	$(VENV)/bin/rmeeto info

# On a CUDA machine: the GPU-marked tests (skipped in CI).
gpu-test: $(STAMP)
	$(PY) -m pytest -q -m gpu

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
