"""netplex and ns-3 side by side, in one run on the same machine (P1, P2).

Runs netplex's benchmark with the flow fast path off (NETPLEX_FASTPATH=0, the
full per-hop path) and on, and the ns-3 anchor (../shared/anchors/ns3/), in
turn, `--repeat` times each, and prints the median packet-hops per second of
each and the ratios. ns-3 runs from the Python given by --ns3-python (a venv
with `pip install ns3`); without it only netplex is measured.

Usage: python benchmarks/compare.py p1 [--packets 200000] [--routers 10] [--ns3-python PATH] [--repeat 3]
       python benchmarks/compare.py p2 [--topo star|tree] [--packets 500] [--ns3-python PATH] [--repeat 3]
"""
from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ANCHORS = HERE.parent.parent / "shared" / "anchors" / "ns3"


def one(python: str, script: Path, args: list[str], fast: bool = True) -> dict:
    env = dict(os.environ, NETPLEX_FASTPATH="1" if fast else "0", PYTHONPATH=str(HERE.parent))
    out = subprocess.run([python, str(script), *args], capture_output=True, text=True, check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("benchmark", choices=("p1", "p2"))
    ap.add_argument("--ns3-python")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--packets", type=int)
    ap.add_argument("--routers", type=int, default=10)
    ap.add_argument("--topo", default="star", choices=("star", "tree"))
    a = ap.parse_args()
    if a.benchmark == "p1":
        args = [str(a.packets or 200_000), str(a.routers)]
        ours, theirs = HERE / "router_chain.py", ANCHORS / "p1_chain.py"
    else:
        args = [a.topo, str(a.packets or 500)]
        ours, theirs = HERE / "p2_bridge.py", ANCHORS / "p2_bridge.py"
    runs: dict[str, list[dict]] = {"netplex_full_path": [], "netplex": [], "ns3": []}
    for _ in range(a.repeat):
        runs["netplex_full_path"].append(one(sys.executable, ours, args, False))
        runs["netplex"].append(one(sys.executable, ours, args, True))
        if a.ns3_python:
            runs["ns3"].append(one(a.ns3_python, theirs, args))
    report: dict[str, object] = {"benchmark": a.benchmark, "args": args}
    medians: dict[str, float] = {}
    for name, rs in runs.items():
        if rs:
            figures = [r["pkt_hops_per_s"] or 0 for r in rs]
            medians[name] = statistics.median(figures)
            report[f"{name}_pkt_hops_per_s"] = figures
            report[f"{name}_median"] = medians[name]
            report[f"{name}_delivered"] = rs[-1].get("received", rs[-1].get("delivered"))
    if "ns3" in medians:
        report["ratio_vs_ns3"] = round(medians["netplex"] / medians["ns3"], 2)
        report["ratio_full_path_vs_ns3"] = round(medians["netplex_full_path"] / medians["ns3"], 2)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
