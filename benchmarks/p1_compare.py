"""Benchmark P1 for netplex and ns-3 side by side, in one run on the same machine.

Runs benchmarks/router_chain.py and ../shared/anchors/ns3/p1_chain.py
alternately, `--repeat` times each, and prints the median packet-hops per
second of both. ns-3 runs from the Python given by --ns3-python (a venv with
`pip install ns3`); without it only netplex is measured.

Usage: python benchmarks/p1_compare.py [--ns3-python PATH] [--repeat 3] [--packets 200000]
"""
from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
ANCHOR = HERE.parent.parent / "shared" / "anchors" / "ns3" / "p1_chain.py"


def one(python: str, script: Path, packets: int) -> dict:
    out = subprocess.run([python, str(script), str(packets)], capture_output=True, text=True, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--ns3-python")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--packets", type=int, default=200_000)
    a = ap.parse_args()
    ours, theirs = [], []
    for _ in range(a.repeat):
        ours.append(one(sys.executable, HERE / "router_chain.py", a.packets))
        if a.ns3_python:
            theirs.append(one(a.ns3_python, ANCHOR, a.packets))
    report = {"netplex_pkt_hops_per_s": [r["pkt_hops_per_s"] for r in ours],
              "netplex_median": statistics.median(r["pkt_hops_per_s"] for r in ours),
              "netplex_received": ours[-1]["received"], "netplex_run_s": [r["run_s"] for r in ours]}
    if theirs:
        report.update({"ns3_pkt_hops_per_s": [r["pkt_hops_per_s"] for r in theirs],
                       "ns3_median": statistics.median(r["pkt_hops_per_s"] for r in theirs),
                       "ns3_received": theirs[-1]["received"]})
    print(json.dumps(report))


if __name__ == "__main__":
    main()
