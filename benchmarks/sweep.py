"""Benchmark W1: `netplex sweep` of 200 variants, one process against a pool and a Dask cluster.

The example examples/sweep/lossy-uplink.yaml with `--param rate=1mbit,10mbit
--param seed=1..100` (200 variants), run as the command runs them
(netplex.sweep.run): in this process (1 worker), in a pool of N forked
processes, and on a Dask LocalCluster of N worker processes (one thread
each) when Dask distributed is installed. Every way must give the same rows;
the figure is wall seconds for the whole sweep (cluster start-up excluded,
the workers' first import of netplex included).

Usage: python benchmarks/sweep.py [seeds=100] [workers=2]
Prints one JSON line.
"""
from __future__ import annotations

import json
import logging
import os
import sys
import time
from pathlib import Path

from netplex.sweep.grid import variants
from netplex.sweep.run import Job, run_local

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "sweep" / "lossy-uplink.yaml"


def main() -> None:
    seeds = int(sys.argv[1]) if len(sys.argv) > 1 else 100
    workers = int(sys.argv[2]) if len(sys.argv) > 2 else 2
    grid = {"rate": ["1mbit", "10mbit"], "seed": [str(s) for s in range(1, seeds + 1)]}
    text = EXAMPLE.read_text()
    jobs = [Job(str(EXAMPLE.relative_to(ROOT)), text, v) for v in variants(grid)]
    out: dict[str, object] = {"variants": len(jobs), "workers": workers, "cpus": os.cpu_count()}
    t0 = time.perf_counter()
    one = run_local(jobs, 1)
    out["one_process_s"] = round(time.perf_counter() - t0, 2)
    t0 = time.perf_counter()
    pool = run_local(jobs, workers)
    out["pool_s"] = round(time.perf_counter() - t0, 2)
    assert pool == one, "the pool's rows differ from one process's"
    try:
        import distributed
    except ModuleNotFoundError:
        out["dask_s"] = None
    else:
        from netplex.sweep.cluster import run_on_cluster

        # silence_logs: the workers' heartbeat, cut off when the cluster closes, is not an error here
        with distributed.LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                                      dashboard_address=None, worker_dashboard_address=None,
                                      silence_logs=logging.CRITICAL) as cluster:
            t0 = time.perf_counter()
            on_dask = run_on_cluster(cluster.scheduler_address, jobs)
            out["dask_s"] = round(time.perf_counter() - t0, 2)
        assert on_dask == one, "the cluster's rows differ from one process's"
    out["passed"] = sum(1 for r in one if r["passed"])
    print(json.dumps(out))


if __name__ == "__main__":
    main()
