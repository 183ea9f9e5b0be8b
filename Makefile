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

# The demo only looks for Fashion-MNIST; installing it is done here: Debian's package, only as root where apt-get
# exists, never failing the target. Without the data the demo is skipped with the finder's message (how to get it).
FMNIST_FOUND := from rmeeto.study.demo import find_fashion_mnist; find_fashion_mnist()

demo: $(STAMP)
	@if [ -z "$$RMEETO_FASHION_MNIST" ] && [ ! -d /usr/share/datasets/fashion-mnist ] && [ "$$(id -u)" = 0 ] \
	    && command -v apt-get >/dev/null; then \
	  echo "installing Fashion-MNIST for the demo (apt-get install dataset-fashion-mnist) ..."; \
	  apt-get install -y -q dataset-fashion-mnist >/dev/null 2>&1 || echo "note: could not install dataset-fashion-mnist"; \
	fi
	@if $(PY) -c "$(FMNIST_FOUND)"; then $(VENV)/bin/rmeeto demo; \
	else echo "make demo: skipped, the demo needs Fashion-MNIST (see the line above)"; fi

info: $(STAMP)
	$(VENV)/bin/rmeeto info

# On a CUDA machine: the GPU-marked tests (skipped in CI).
gpu-test: $(STAMP)
	$(PY) -m pytest -q -m gpu

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis
