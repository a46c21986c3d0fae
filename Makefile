# netplex — set-up, demo and tests. Everything runs from .venv.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install demo test bench clean

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,linux]'
	touch $@

demo: install
	$(BIN)/netplex demo examples

test: install
	$(BIN)/python -m pytest -q -p no:cacheprovider

bench: install
	$(BIN)/python benchmarks/router_chain.py

clean:
	rm -rf $(VENV) build *.egg-info
