# Two commands for a newcomer: `make demo` and `make test`. Both create .venv when missing.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed

.PHONY: install test lint demo docs bench clean

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip
	# torch first: 2.13.0 resolves to a CPU build where one is on local disk, the normal wheel elsewhere
	$(PY) -m pip install --quiet "torch==2.13.0"
	$(PY) -m pip install --quiet -e ".[dev]"
	touch $(STAMP)

install: $(STAMP)

lint: $(STAMP)
	$(PY) -m ruff check infoalign_sklearn tests examples benchmarks docs

test: $(STAMP) lint
	$(PY) -m pytest

demo: $(STAMP)
	$(VENV)/bin/infoalign demo --out demo_output

# the docs are Markdown; this regenerates the API reference and the concepts figure
docs: $(STAMP)
	$(PY) docs/make_api.py
	$(PY) docs/make_figures.py

bench: $(STAMP)
	$(PY) benchmarks/featurize.py

clean:
	rm -rf $(VENV) demo_output .pytest_cache
