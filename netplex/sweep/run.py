"""Run a sweep's variants: in this process, in a pool of processes, or on a Dask cluster.

A variant is the scenario's text with its parameters substituted
(scenario/params.py) run on the simulator, exactly as `netplex run FILE
--param NAME=VALUE ...` runs it: the same file text, the same seed, a fresh
`Network` — so its result is the same wherever it runs. `run_variant` is the
one unit of work; it takes and returns plain data (a `Job`, a JSON-ready
dict), which is what crosses to a pool process or a Dask worker.

The pool forks from this process (netplex is imported once, not per worker);
a cluster is reached through netplex/sweep/cluster.py, imported only when
`--cluster` is given (Dask distributed is an optional dependency).
"""
from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor, as_completed
from dataclasses import dataclass
from typing import Any

import netplex.cloud.kinds  # noqa: F401  (registers the cloud-host kind and the scenario's cloud: section)
import netplex.container.kinds  # noqa: F401  (docker-host, etcd node kinds and their commands)
import netplex.mobile  # noqa: F401  (ue, enodeb, mme, ... node kinds)
import netplex.shell.host  # noqa: F401  (a node's shell, which Network imports on first use: once, before forking)
from netplex.errors import NetplexError, ScenarioError
from netplex.scenario.loader import load_scenario_text
from netplex.scenario.results import EXIT_ERROR, ScenarioResult
from netplex.scenario.runner import run_scenario
from netplex.scenario.sim import SimBackend
from netplex.sweep.grid import Variant

__all__ = ["Job", "run_variant", "check_variants", "run_local", "metrics"]

Done = Callable[[dict[str, Any]], None]


@dataclass(frozen=True, slots=True)
class Job:
    """What a worker needs to run one variant: the scenario's path (for its name, errors and
    `files:` beside it), its text as read once by the caller, and the variant."""

    file: str
    text: str
    variant: Variant


def run_variant(job: Job) -> dict[str, Any]:
    """Load the variant's text and run it on the simulator; the sweep's row for it."""
    variant = job.variant
    try:
        scenario = load_scenario_text(job.text, job.file, variant.params)
    except ScenarioError as e:
        result = ScenarioResult.from_error(e, _stem(job.file), "sim")
    else:
        try:
            backend = SimBackend(seed=scenario.seed)
        except NetplexError as e:
            result = ScenarioResult(scenario=scenario.name, backend="sim", error={"message": e.message})
        else:
            result = run_scenario(scenario, backend)
    return row(variant, result.to_json(), result.exit_status)


def row(variant: Variant, result: dict[str, Any], exit_status: int) -> dict[str, Any]:
    """One variant's entry in the sweep's JSON."""
    probes = result.get("probes", [])
    passed = sum(1 for p in probes if p.get("passed"))
    return {"index": variant.index, "params": dict(variant.params), "exit_status": exit_status,
            "passed": exit_status == 0, "probes_passed": passed, "probes_failed": len(probes) - passed,
            "metrics": metrics(result), "result": result}


def failed_row(variant: Variant, message: str) -> dict[str, Any]:
    """The entry of a variant whose worker failed (a crash, a lost Dask worker)."""
    return row(variant, {"passed": False, "exit_status": EXIT_ERROR, "error": {"message": message},
                         "probes": []}, EXIT_ERROR)


def metrics(result: dict[str, Any]) -> dict[str, Any]:
    """The figures a sweep compares across variants, from a result's JSON: each iperf flow's
    wire and goodput rates (bits/s) and UDP losses, ping replies and loss, and the longest
    outage an event caused (ms). A key is present only where the scenario measured it."""
    out: dict[str, Any] = {}
    wire, goodput, lost = [], [], []
    sent = replies = 0
    rtts = []
    pings = 0
    for p in result.get("probes", []):
        o = p.get("observed", {})
        if p.get("kind") == "iperf":
            for f in o.get("flows", []):
                wire.append(f.get("wire_bps", 0))
                goodput.append(f.get("goodput_bps", 0))
                if "lost" in f:
                    lost.append(f["lost"])
        elif p.get("kind") == "ping":
            pings += 1
            sent += int(o.get("sent", 0))
            replies += int(o.get("replies", 0))
            if o.get("rtt_ms") is not None:
                rtts.append(o["rtt_ms"])
    if wire:
        out["wire_bps"] = wire
        out["goodput_bps"] = goodput
    if lost:
        out["udp_lost"] = lost
    if pings:
        out["ping_sent"] = sent
        out["ping_replies"] = replies
        out["ping_loss_pct"] = round(100.0 * (sent - replies) / sent, 3) if sent else 0.0
        if rtts:
            out["rtt_ms"] = rtts
    outages = [f.get("outage_ms", 0) for ev in result.get("events") or [] for f in ev.get("flows", [])]
    if outages:
        out["outage_ms"] = max(outages)
    return out


def _stem(file: str) -> str:
    name = file.rsplit("/", 1)[-1]
    return name.rsplit(".", 1)[0] if "." in name else name


def check_variants(file: str, text: str, variants: list[Variant]) -> str:
    """Load (without running) one variant per value of each parameter, so that a parameter the
    file does not declare or a value the schema refuses stops the sweep before it starts
    (ScenarioError); the scenario's name."""
    seen: set[tuple[str, str]] = set()
    name = ""
    for v in variants:
        fresh = [(k, x) for k, x in v.params.items() if (k, x) not in seen]
        if fresh or v.index == 0:
            seen.update(fresh)
            scenario = load_scenario_text(text, file, v.params)
            name = name or scenario.name
    return name


def run_local(jobs: list[Job], workers: int, done: Done | None = None) -> list[dict[str, Any]]:
    """Every job on this machine: in this process for one worker, else in a pool of forked
    processes; the rows in variant order. `done(row)` is called as each finishes."""
    rows: list[dict[str, Any]] = []
    for r in _rows(jobs, workers):
        rows.append(r)
        if done is not None:
            done(r)
    return sorted(rows, key=lambda r: r["index"])


def _rows(jobs: list[Job], workers: int) -> Iterator[dict[str, Any]]:
    if workers <= 1 or len(jobs) <= 1:
        for job in jobs:
            yield run_variant(job)
        return
    # fork: the children start with netplex imported (spawn would import it again in each)
    context = multiprocessing.get_context("fork")
    with ProcessPoolExecutor(max_workers=min(workers, len(jobs)), mp_context=context) as pool:
        futures: dict[Future[dict[str, Any]], Job] = {pool.submit(run_variant, job): job for job in jobs}
        try:
            for fut in as_completed(futures):
                exc = fut.exception()
                if exc is not None:
                    yield failed_row(futures[fut].variant, f"the worker failed: {type(exc).__name__}: {exc}")
                else:
                    yield fut.result()
        except BaseException:
            pool.shutdown(wait=False, cancel_futures=True)
            raise
