"""The failover figures of issue 15's acceptance, each measured on the scenario a user runs
(the result's `events`, SCENARIO.md v1.1) and explained by the protocol's timers:
STP 802.1D with the kernel's default timers, ECMP losing only the cut link's flows, and
`netplex run --plot` marking the events. (active-backup and LACP: tests/fabric/test_bond.py.)"""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

from netplex.cli import app
from netplex.fabric import leaf_spine
from netplex.traffic.plot import event_marks
from tests.fabric.test_builders import DC, ROOT, run


def test_stp_with_the_kernels_default_timers_reconverges_in_30_seconds() -> None:
    # dc-three-tier without its short timers: the kernel's forward delay 15 s, hello 2 s, max age 20 s.
    # The cut uplink's carrier goes at once; the blocked port becomes the root port and
    # listens 15 s, learns 15 s: 30 s, within the 30-50 s of 802.1D (50 s when max age must
    # expire first: a failure the carrier does not show).
    doc = yaml.safe_load(DC.read_text().replace(" forward_delay 200 hello_time 100 max_age 600", ""))
    doc["probes"][0]["cmd"]["run"] = "sleep 35"            # the first tree: 30 s of listening and learning
    doc["probes"][-1]["iperf"]["duration"] = "45s"
    doc["events"] = [{"at": "40s", "cut": "tor1-1:u1"}]
    res = run(yaml.safe_dump(doc))
    assert res.passed, [p.to_json() for p in res.probes if not p.passed]
    (flow,) = res.events[0]["flows"]
    assert 30_000 <= flow["outage_ms"] <= 32_100 and "recovered" not in flow, flow


def ecmp_flows() -> str:
    """A static ECMP leaf-spine whose leaves hash on the 5-tuple, 8 flows between two racks."""
    doc = yaml.safe_load(leaf_spine(2, 3, 1, ecmp=True))
    for leaf in ("l1", "l2", "l3"):
        doc["nodes"][leaf]["setup"] += "sysctl -w net.ipv4.fib_multipath_hash_policy=1\n"
    doc["probes"][-1]["iperf"]["flows"] = [
        {"from": "h1-1", "to": "10.3.0.2", "port": 5001 + i, "proto": "udp", "rate": "1mbit", "size": 1000}
        for i in range(8)]
    return yaml.safe_dump(doc)


def test_ecmp_loses_only_the_flows_on_the_cut_link() -> None:
    text = ecmp_flows()
    # the receiving leaf's uplink to s1: s1's static route to l3 has no other way, so the flows l1
    # hashed onto s1 are lost (recovered: false) and the others lose nothing
    far = {f["flow"]: f for f in run(text, "at 2s cut l3:s1").events[0]["flows"]}
    on_s1 = {i for i, f in far.items() if f.get("recovered") is False}
    assert on_s1 and len(on_s1) < 8, far                  # the hash spreads the 8 flows over both spines
    assert all(f["outage_ms"] == 0 and f["lost"] == 0 for i, f in far.items() if i not in on_s1), far
    # the sending leaf's own uplink to s1: the carrier loss makes that nexthop dead
    # (ignore_routes_with_linkdown) at once, the same flows move to s2 and lose at most what was
    # on the wire; the flows on s2 never notice
    near = {f["flow"]: f for f in run(text, "at 2s cut l1:s1").events[0]["flows"]}
    assert all(f.get("recovered") is not False and f["lost"] <= 1 for f in near.values()), near
    assert all(near[i]["outage_ms"] == 0 for i in near if i not in on_s1), near


def test_plot_marks_each_event_with_its_outage(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "ab.png"
    r = CliRunner().invoke(app, ["run", str(ROOT / "examples" / "dc-bond-active-backup.yaml"), "--json",
                                 "--plot", str(out)])
    assert r.exit_code == 0, r.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    payload = json.loads(r.stdout)
    (ev,) = payload["events"]
    iperf = next(p["index"] for p in payload["probes"] if p["kind"] == "iperf")
    # the cut at 3.05 s from the first probe fell 2 s into the iperf probe's flows (after a 1 s sleep)
    ((t, label),) = event_marks(payload["events"], iperf)
    assert 1.9 <= t <= 2.1 and label.startswith("cut srv:eth0 (outage "), (t, label)
    assert all(f["probe"] == iperf and f["flow_at_ms"] == t * 1000 for f in ev["flows"])
