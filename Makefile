# netplex — set-up, demo and tests. Everything runs from .venv.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install demo test fuzz bench randdiff clean

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

# random command sequences, simulator against the kernel twin (root): make randdiff N=300 [LEN=15 SEED=0]
N ?= 300
LEN ?= 15
SEED ?= 0
randdiff: install
	RANDDIFF_N=$(N) RANDDIFF_LEN=$(LEN) RANDDIFF_SEED=$(SEED) $(BIN)/python -m pytest -q -s -p no:cacheprovider \
		-m linux tests/differential/test_randseq.py

# the long campaign: 100,000 random shell lines and 5,000 bad scenario files (tests/fuzz)
fuzz: install
	NETPLEX_FUZZ_LINES=100000 NETPLEX_FUZZ_FILES=5000 $(BIN)/python -m pytest -q -p no:cacheprovider tests/fuzz

bench: install
	$(BIN)/python benchmarks/router_chain.py

clean:
	rm -rf $(VENV) build *.egg-info
