"""Run an ns-3 anchor script (../shared/anchors/ns3/) and add the CPU seconds of its
`Simulator.Run()` to the JSON line it prints: `run_cpu_s` and `pkt_hops_per_cpu_s`,
the figures netplex's benchmarks print too (steadier than wall time when other work
shares the cores).

Usage: NS3VENV/bin/python benchmarks/ns3/cpu_run.py ANCHOR.py [args...]
"""
from __future__ import annotations

import contextlib
import io
import json
import runpy
import sys
import time

from ns import ns  # the anchor's own import, done first so that Run can be wrapped

_run = ns.Simulator.Run
_cpu = [0.0]


def _timed_run() -> None:
    c = time.process_time()
    _run()
    _cpu[0] = time.process_time() - c


def main() -> None:
    ns.Simulator.Run = _timed_run
    script = sys.argv[1]
    sys.argv = sys.argv[1:]
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        runpy.run_path(script, run_name="__main__")
    d = json.loads(out.getvalue().strip().splitlines()[-1])
    d["run_cpu_s"] = round(_cpu[0], 3)
    hops = d.get("pkt_hops_per_s")
    d["pkt_hops_per_cpu_s"] = round(hops * d["run_s"] / _cpu[0]) if hops and _cpu[0] else None
    print(json.dumps(d))


if __name__ == "__main__":
    main()
