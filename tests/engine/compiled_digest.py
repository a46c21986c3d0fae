"""Child of test_compiled.py: every example and corpus scenario's results, state and pcaps, as text.

Run with PYTHONPATH set to one copy of the tree (pure or compiled): prints, per
scenario, the result JSON, the state tests/stack/test_fastpath.py compares
(counters, neighbours, drops, the clock, the event count) and the SHA-256 of
every pcap; the first line says which of netplex/build.py's modules this
interpreter runs compiled. Usage: python compiled_digest.py TREE PCAPDIR
"""
from __future__ import annotations

import hashlib
import json
import sys
from importlib import import_module
from pathlib import Path

import netplex.cli  # noqa: F401 - every node kind and system registered, as the CLI has them
from netplex import build
from netplex.scenario.loader import load_scenario
from netplex.scenario.runner import run_scenario
from netplex.scenario.sim import SimBackend

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "stack"))
from test_fastpath import state  # noqa: E402  (the fast-path equality test's own state)


def main(tree: Path, pcaps: Path) -> None:
    print("compiled:", [m for m in build.FAST_MODULES
                        if str(import_module(m[:-3].replace("/", ".")).__file__).endswith(".so")])
    scenarios = sorted((tree / "examples").glob("*.yaml")) + sorted((tree / "tests/differential/corpus").glob("*.yaml"))
    for i, path in enumerate(scenarios):
        out = pcaps / f"{i}"
        sc = load_scenario(path)
        backend = SimBackend(seed=sc.seed, pcap_dir=out)
        res = run_scenario(sc, backend)
        print(path.name, json.dumps(res.to_json(), sort_keys=True, default=repr))
        print(" ", repr(state(backend.net)))
        for f in sorted(out.iterdir()) if out.exists() else []:
            print(" ", f.name, hashlib.sha256(f.read_bytes()).hexdigest())


if __name__ == "__main__":
    main(Path(sys.argv[1]), Path(sys.argv[2]))
