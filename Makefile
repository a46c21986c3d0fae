# netplex — set-up, demo and tests. Everything runs from .venv.
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: install demo test test-twin-all fuzz bench bench-sweep bench-p1 bench-p2 bench-q1 bench-s1 bench-s2 bench-cloud bench-t1 bench-growth randdiff clean fast unfast test-fast

install: $(VENV)/.installed

$(VENV)/.installed: pyproject.toml
	$(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q -e '.[test,linux,cluster]'
	touch $@

demo: install
	$(BIN)/netplex demo examples

test: install
	$(BIN)/python -m pytest -q -p no:cacheprovider

# the twin tests the suite leaves out for its 20-minute budget (root): every netfilter batch re-checked,
# real FRR in every fat-tree switch and the rest of the BGP scenarios, every moby golden and docker example,
# the cloud examples past the budget (cloud-garp), the SDN examples and datapath cases, the X2 handover
test-twin-all: install
	NETPLEX_NF_TWIN=1 NETPLEX_FRR_TWIN=1 NETPLEX_CONTAINER_TWIN=1 NETPLEX_CLOUD_TWIN=1 NETPLEX_OVS_TWIN=1 NETPLEX_MOBILE_TWIN=1 NETPLEX_FIDELITY_TWIN=1 $(BIN)/python -m pytest -q -p no:cacheprovider -m linux

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

# issue 11: the optional compiled build (mypyc, in place; results identical, BENCHMARKS.md has the speed).
# `make unfast` is pure Python again; test-fast compiles a copy and compares every scenario byte for byte
fast: install
	$(BIN)/python -m netplex.build
unfast:
	$(BIN)/python -m netplex.build --clean
test-fast: install
	NETPLEX_MYPYC_TEST=1 $(BIN)/python -m pytest -q -p no:cacheprovider tests/engine/test_compiled.py

bench: install
	$(BIN)/python benchmarks/router_chain.py

# issue 11's benchmarks, bounded by default (BENCHMARKS.md has the full-size commands);
# NS3PY=path/to/ns3venv/bin/python adds the ns-3 side (pip install ns3), alternating in one run
NS3PY ?=
NS3ARG := $(if $(NS3PY),--ns3-python $(NS3PY),)
REPEAT ?= 1
bench-p1: install
	$(BIN)/python benchmarks/compare.py p1 --packets $(or $(PKTS),50000) --repeat $(REPEAT) $(NS3ARG)
bench-p2: install
	$(BIN)/python benchmarks/compare.py p2 --topo star --packets $(or $(PKTS),100) --repeat $(REPEAT) $(NS3ARG)
	$(BIN)/python benchmarks/compare.py p2 --topo tree --packets $(or $(PKTS),100) --repeat $(REPEAT) $(NS3ARG)
bench-q1: install
	PYTHONPATH=. $(BIN)/python benchmarks/qos.py $(or $(PKTS),20000)
bench-s1: install
	PYTHONPATH=. $(BIN)/python benchmarks/scale.py s1 $(or $(HOSTS),2000) 1000
bench-s2: install
	PYTHONPATH=. $(BIN)/python benchmarks/scale.py s2 $(or $(HOSTS),10000) 40
# issue 14: 2,000 VMs on 50 compute hosts in 20 tenants, then a 1,000-pair ping mesh
bench-cloud: install
	PYTHONPATH=. $(BIN)/python benchmarks/cloud_scale.py $(or $(VMS),2000) $(or $(HOSTS),50) $(or $(TENANTS),20) $(or $(PAIRS),1000)
bench-t1: install
	$(BIN)/python benchmarks/compare.py t1 --seconds $(or $(SECS),1) --repeat $(REPEAT) $(NS3ARG)
bench-sweep: install
	PYTHONPATH=. $(BIN)/python benchmarks/sweep.py $(or $(SEEDS),100) $(or $(WORKERS),2)
bench-growth: install
	for r in 10 100 1000; do PYTHONPATH=. $(BIN)/python benchmarks/router_chain.py 5000 $$r; done

clean:
	rm -rf $(VENV) build *.egg-info netplex_fast__mypyc.*.so netplex/.fast-build.json
	find netplex -name "*.so" -delete
