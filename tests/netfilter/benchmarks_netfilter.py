"""Makes benchmarks/netfilter.py's seeded ruleset and packet generators importable by the tests."""
from __future__ import annotations

import importlib.util
from pathlib import Path

_spec = importlib.util.spec_from_file_location(
    "_bench_netfilter", Path(__file__).resolve().parents[2] / "benchmarks" / "netfilter.py")
assert _spec is not None and _spec.loader is not None
_mod = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_mod)
ruleset = _mod.ruleset
packets = _mod.packets
