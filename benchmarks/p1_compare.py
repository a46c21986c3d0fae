"""Benchmark P1 for netplex and ns-3 side by side, in one run on the same machine.

Runs benchmarks/router_chain.py with the flow fast path off
(NETPLEX_FASTPATH=0, the full per-hop path) and on, and
../shared/anchors/ns3/p1_chain.py, alternately, `--repeat` times each, and
prints the median packet-hops per second of each and the ratios. ns-3 runs
from the Python given by --ns3-python (a venv with `pip install ns3`);
without it only netplex is measured.

Usage: python benchmarks/p1_compare.py [--ns3-python PATH] [--repeat 3] [--packets 200000] [--routers 10]
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
ANCHOR = HERE.parent.parent / "shared" / "anchors" / "ns3" / "p1_chain.py"


def one(python: str, script: Path, packets: int, routers: int, fast: bool = True) -> dict:
    env = dict(os.environ, NETPLEX_FASTPATH="1" if fast else "0")
    out = subprocess.run([python, str(script), str(packets), str(routers)], capture_output=True, text=True,
                         check=True, env=env)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ns3-python")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--packets", type=int, default=200_000)
    ap.add_argument("--routers", type=int, default=10)
    a = ap.parse_args()
    runs: dict[str, list[dict]] = {"netplex_full_path": [], "netplex": [], "ns3": []}
    for _ in range(a.repeat):
        runs["netplex_full_path"].append(one(sys.executable, HERE / "router_chain.py", a.packets, a.routers, False))
        runs["netplex"].append(one(sys.executable, HERE / "router_chain.py", a.packets, a.routers, True))
        if a.ns3_python:
            runs["ns3"].append(one(a.ns3_python, ANCHOR, a.packets, a.routers))
    report: dict[str, object] = {"packets": a.packets, "routers": a.routers}
    for name, rs in runs.items():
        if rs:
            report[f"{name}_pkt_hops_per_s"] = [r["pkt_hops_per_s"] for r in rs]
            report[f"{name}_median"] = statistics.median(r["pkt_hops_per_s"] for r in rs)
            report[f"{name}_received"] = rs[-1]["received"]
    if runs["ns3"]:
        report["ratio_vs_ns3"] = round(report["netplex_median"] / report["ns3_median"], 2)  # type: ignore[operator]
        report["ratio_full_path_vs_ns3"] = round(
            report["netplex_full_path_median"] / report["ns3_median"], 2)  # type: ignore[operator]
    print(json.dumps(report))


if __name__ == "__main__":
    main()
