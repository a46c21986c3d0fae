"""netplex and ns-3 side by side, in one run on the same machine (P1, P2, T1).

Runs netplex's benchmark with the flow fast path off (NETPLEX_FASTPATH=0, the
full per-hop path) and on, and the ns-3 anchor (../shared/anchors/ns3/), in
turn, `--repeat` times each, and prints the median packet-hops per second of
each and the ratios, per wall second and per CPU second of the run (ns-3's
through benchmarks/ns3/cpu_run.py; per CPU second is the fair figure when other
work shares the cores). ns-3 runs from the Python given by --ns3-python (a venv
with `pip install ns3`); without it only netplex is measured.

Usage: python benchmarks/compare.py p1 [--packets 200000] [--routers 10] [--ns3-python PATH] [--repeat 3]
       python benchmarks/compare.py p2 [--topo star|tree] [--packets 500] [--ns3-python PATH] [--repeat 3]
       python benchmarks/compare.py t1 [--seconds 10] [--ns3-python PATH] [--repeat 3]

T1 compares wall seconds of the simulation run (ns-3's over netplex's: above 1
netplex is faster) and goodput: netplex's like-for-like bulk sender
(benchmarks/t1_tcp.py bulk) against ns-3's BulkSend (benchmarks/ns3/t1_tcp.py),
and reports the iperf probe's figures (the scenario a user writes) beside them.
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


def t1(seconds: float, repeat: int, ns3_python: str | None) -> dict[str, object]:
    """T1's runs, alternating netplex (iperf probe, bulk sender) and ns-3, and their medians."""
    args = [str(seconds)]
    runs: dict[str, list[dict]] = {"netplex_iperf": [], "netplex_bulk": [], "ns3": []}
    for _ in range(repeat):
        runs["netplex_iperf"].append(one(sys.executable, HERE / "t1_tcp.py", [*args, "iperf"]))
        runs["netplex_bulk"].append(one(sys.executable, HERE / "t1_tcp.py", [*args, "bulk"]))
        if ns3_python:
            runs["ns3"].append(one(ns3_python, HERE / "ns3" / "t1_tcp.py", args))
    report: dict[str, object] = {"benchmark": "t1", "sim_seconds": seconds}
    wall: dict[str, float] = {}
    cpu: dict[str, float] = {}
    good: dict[str, float] = {}
    for name, rs in runs.items():
        if rs:
            report[f"{name}_run_s"] = [r["run_s"] for r in rs]
            report[f"{name}_goodput_bps"] = [r["goodput_bps"] for r in rs]
            report[f"{name}_run_cpu_s"] = [r.get("run_cpu_s") for r in rs]
            wall[name] = statistics.median(r["run_s"] for r in rs)
            if all("run_cpu_s" in r for r in rs):
                cpu[name] = statistics.median(r["run_cpu_s"] for r in rs)
            good[name] = statistics.median(r["goodput_bps"] for r in rs)
    if "ns3" in wall:
        report["wall_ratio_ns3_over_netplex_bulk"] = round(wall["ns3"] / wall["netplex_bulk"], 2)
        if "ns3" in cpu and "netplex_bulk" in cpu:   # per CPU second: fair when other work shares the cores
            report["cpu_ratio_ns3_over_netplex_bulk"] = round(cpu["ns3"] / cpu["netplex_bulk"], 2)
        report["goodput_diff_bulk_vs_ns3_pct"] = round(100 * (good["netplex_bulk"] / good["ns3"] - 1), 2)
        report["goodput_diff_iperf_vs_ns3_pct"] = round(100 * (good["netplex_iperf"] / good["ns3"] - 1), 2)
    return report


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("benchmark", choices=("p1", "p2", "t1"))
    ap.add_argument("--seconds", type=float, default=10.0)
    ap.add_argument("--ns3-python")
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--packets", type=int)
    ap.add_argument("--routers", type=int, default=10)
    ap.add_argument("--topo", default="star", choices=("star", "tree"))
    a = ap.parse_args()
    if a.benchmark == "t1":
        print(json.dumps(t1(a.seconds, a.repeat, a.ns3_python)))
        return
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
        if a.ns3_python:   # through ns3/cpu_run.py: Simulator.Run()'s CPU seconds too
            runs["ns3"].append(one(a.ns3_python, HERE / "ns3" / "cpu_run.py", [str(theirs), *args]))
    report: dict[str, object] = {"benchmark": a.benchmark, "args": args}
    medians: dict[str, float] = {}
    cpu: dict[str, float] = {}
    for name, rs in runs.items():
        if rs:
            figures = [r["pkt_hops_per_s"] or 0 for r in rs]
            medians[name] = statistics.median(figures)
            report[f"{name}_pkt_hops_per_s"] = figures
            report[f"{name}_median"] = medians[name]
            report[f"{name}_delivered"] = rs[-1].get("received", rs[-1].get("delivered"))
            per_cpu = [r.get("pkt_hops_per_cpu_s") or 0 for r in rs]
            report[f"{name}_pkt_hops_per_cpu_s"] = per_cpu
            cpu[name] = statistics.median(per_cpu)
    if "ns3" in medians:
        report["ratio_vs_ns3"] = round(medians["netplex"] / medians["ns3"], 2)
        report["ratio_full_path_vs_ns3"] = round(medians["netplex_full_path"] / medians["ns3"], 2)
        if cpu["ns3"]:   # per CPU second: fair when other work shares the cores
            report["cpu_ratio_vs_ns3"] = round(cpu["netplex"] / cpu["ns3"], 2)
            report["cpu_ratio_full_path_vs_ns3"] = round(cpu["netplex_full_path"] / cpu["ns3"], 2)
    print(json.dumps(report))


if __name__ == "__main__":
    main()
