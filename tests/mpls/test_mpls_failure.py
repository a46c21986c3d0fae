"""examples/mpls-failure.yaml: a static LSP breaks when a router on it fails and stays broken until
the operator rebuilds it; the outage comes from the result's `events` (SCENARIO.md v1.1)."""
from __future__ import annotations

from pathlib import Path

import yaml

from netplex.scenario.loader import load_scenario_text
from netplex.scenario.runner import run_scenario
from netplex.scenario.sim import SimBackend

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "mpls-failure.yaml"


def _run(doc: dict):
    res = run_scenario(load_scenario_text(yaml.safe_dump(doc), "mpls-failure.yaml"), SimBackend())
    assert res.passed, [p.to_json() for p in res.probes if not p.passed]
    return res


def test_static_lsp_is_down_from_the_failure_to_the_repair() -> None:
    res = _run(yaml.safe_load(EXAMPLE.read_text()))
    (flow,) = res.events[0]["flows"]
    # 3 s between `fail r2` and the operator's new routes, at 125 datagrams a second
    assert 3000 <= flow["outage_ms"] <= 3016 and 370 <= flow["lost"] <= 377 and "recovered" not in flow, flow


def test_without_the_repair_the_path_stays_broken() -> None:
    doc = yaml.safe_load(EXAMPLE.read_text())
    doc["events"] = doc["events"][:1]
    doc["probes"] = doc["probes"][:3]
    res = _run(doc)
    (flow,) = res.events[0]["flows"]
    assert flow["recovered"] is False and flow["outage_ms"] >= 5000, flow
