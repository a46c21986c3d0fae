"""`netplex sweep`: a scenario's parameters crossed into variants, run in parallel (docs/sweep.md).

grid.py parses `--param` into variants; run.py runs them (in this process, a
process pool, or — cluster.py — on a Dask distributed cluster); report.py
makes the table and the JSON.
"""
from __future__ import annotations
