"""SCENARIO.md v1.1 `events:` — validated with file/line/field, run during the probes on the
simulated clock (sim) and the wall clock (linux), reported with the outage per flow."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from netplex.errors import ScenarioError
from netplex.scenario.events import EventsOptionError, parse_events_option
from netplex.scenario.loader import load_scenario, load_scenario_text
from netplex.scenario.runner import run_scenario
from netplex.scenario.sim import SimBackend

ROOT = Path(__file__).resolve().parents[2]
CUT = ROOT / "examples" / "link-cut-outage.yaml"

BASE = """\
nodes:
  a: {setup: "ip addr add 10.0.0.1/24 dev eth0\\nip link set eth0 up"}
  b: {setup: "ip addr add 10.0.0.2/24 dev eth0\\nip link set eth0 up"}
  c: {}
links:
  - ends: [a:eth0, b:eth0]
probes:
  - iperf:
      duration: 4s
      flows:
        - {from: a, to: 10.0.0.2, port: 5001, proto: udp, rate: 800kbit, size: 1000}
"""


def run_text(text: str):
    return run_scenario(load_scenario_text(text, "ev.yaml"), SimBackend())


def flow(events: list, i: int, f: int = 0) -> dict:
    return events[i]["flows"][f]


def test_a_cut_and_restore_give_the_outage_and_the_lost_datagrams() -> None:
    res = run_scenario(load_scenario(CUT), SimBackend())
    assert res.passed
    cut, restore = res.events
    assert (cut["action"], cut["target"], cut["ran"], cut["time_ms"]) == ("cut", "a:eth0", True, 2000.0)
    udp, tcp = cut["flows"]
    # 1 Mbit/s of 1000-byte datagrams: one every 8 ms; the pause spans the cut's second
    assert 1000 <= udp["outage_ms"] <= 1016 and 123 <= udp["lost"] <= 126
    # TCP lives through it: the retransmission after the restore (200+400+800 ms backoff) resumes it
    assert 1000 < tcp["outage_ms"] < 2000 and "lost" not in tcp and "recovered" not in tcp
    assert restore["time_ms"] == 3000.0 and restore["flows"][0]["outage_ms"] == 0.0
    assert res.to_json()["events"] == res.events


def test_an_event_after_the_probes_is_reported_not_run() -> None:
    res = run_text(BASE + "events:\n  - at: 30s\n    fail: b\n")
    assert res.events == [{"index": 0, "at_ms": 30000.0, "action": "fail", "target": "b", "ran": False,
                           "flows": []}]


def test_fail_takes_every_link_end_of_the_node_down_and_recover_brings_them_back() -> None:
    res = run_text(BASE + "events:\n  - at: 1s\n    fail: b\n  - at: 1.5s\n    recover: b\n")
    assert res.passed
    # half a second down, yet a second lost: a's neighbour entry for b, evicted with the carrier,
    # resolves again at ARP's one-second retransmission (the kernel twin measured 1028 ms)
    assert 990 <= flow(res.events, 0)["outage_ms"] <= 1030


def test_a_node_that_never_recovers_shows_an_open_outage() -> None:
    res = run_text(BASE + "events:\n  - at: 1s\n    fail: b\n")
    f = flow(res.events, 0)
    assert f["recovered"] is False and f["outage_ms"] > 2900


def test_run_events_run_a_line_and_report_its_error() -> None:
    res = run_text(BASE + "events:\n  - at: 1s\n    run: {node: a, cmd: 'ip addr flush dev eth0'}\n"
                          "  - at: 2s\n    run: {node: a, cmd: 'ip link set nosuch down'}\n")
    first, second = res.events
    assert flow(res.events, 0)["recovered"] is False
    assert "error" not in first
    assert second["error"] == 'Cannot find device "nosuch"'


def test_a_cut_of_a_link_the_traffic_does_not_cross_costs_nothing() -> None:
    text = BASE.replace("links:\n", "links:\n  - ends: [c:eth0, b:eth1]\n")
    res = run_text(text + "events:\n  - at: 1s\n    cut: c:eth0\n")
    assert flow(res.events, 0) == {"probe": 0, "flow": 0, "flow_at_ms": 990.0, "outage_ms": 0.0, "lost": 0}


@pytest.mark.parametrize(("events", "where", "message"), [
    ("  - at: 1s\n    fail: nosuch\n", "events[0].fail", 'unknown node "nosuch"'),
    ("  - at: 1s\n    cut: a:eth9\n", "events[0].cut", 'no link has the end "a:eth9"'),
    ("  - at: 1s\n    cut: a:eth0\n    fail: a\n", "events[0]",
     "an event has exactly one of cut, restore, fail, recover, run (found cut, fail)"),
    ("  - at: soon\n    fail: a\n", "events[0].at", 'invalid time "soon"'),
    ("  - at: -1s\n    fail: a\n", "events[0].at", 'invalid time "-1s"'),
    ("  - at: 1s\n    run: {node: zz, cmd: 'true'}\n", "events[0].run.node", 'unknown node "zz"'),
    ("  - at: 1s\n    cutt: a:eth0\n", "events[0]", "exactly one of"),
])
def test_bad_events_name_the_file_line_and_field(events: str, where: str, message: str) -> None:
    text = BASE + "events:\n" + events
    with pytest.raises(ScenarioError) as e:
        load_scenario_text(text, "ev.yaml")
    line = BASE.count("\n") + 2   # the event's first line, or the line of the field at fault
    assert e.value.field == where and message in e.value.message and e.value.line in (line, line + 1)


def test_the_events_option_parses_clauses() -> None:
    evs = parse_events_option("at 5s cut tor1-1:p3; at 12s fail agg1; at 500ms run r1 ip route del default;")
    assert [(e.at_ns, e.action, e.target) for e in evs] == [
        (5_000_000_000, "cut", "tor1-1:p3"), (12_000_000_000, "fail", "agg1"),
        (500_000_000, "run", "r1: ip route del default")]


@pytest.mark.parametrize(("text", "message"), [
    ("at 5s snip a:eth0", 'event 1 "at 5s snip a:eth0": event: an event has exactly one of cut, restore'),
    ("in 5s cut a:eth0", 'write "at TIME'),
    ("at 5s cut a:eth0 b:eth0", "cut takes one argument"),
    ("at 1s fail a; at x fail b", 'event 2 "at x fail b": at: invalid time "x"'),
])
def test_bad_events_options_say_which_clause(text: str, message: str) -> None:
    with pytest.raises(EventsOptionError) as e:
        parse_events_option(text)
    assert message in str(e.value)


def cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "netplex.cli", *args], capture_output=True, text=True,
                          cwd=ROOT, env={"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"})


def test_netplex_run_events_option(tmp_path: Path) -> None:
    path = tmp_path / "ev.yaml"
    path.write_text(BASE)
    r = cli("run", str(path), "--json", "--events", "at 1s cut a:eth0; at 2s restore a:eth0")
    assert r.returncode == 0, r.stderr
    events = json.loads(r.stdout)["events"]
    assert [e["action"] for e in events] == ["cut", "restore"]
    assert 990 <= events[0]["flows"][0]["outage_ms"] <= 1030
    r = cli("run", str(path))
    assert r.returncode == 0 and "outage" not in r.stdout
    r = cli("run", str(path), "--events", "at 1s cut a:eth0")
    assert "cut a:eth0" in r.stdout and "probe 0 flow 0:" in r.stdout


def test_netplex_run_refuses_bad_events_options(tmp_path: Path) -> None:
    path = tmp_path / "ev.yaml"
    path.write_text(BASE)
    r = cli("run", str(path), "--events", "at 1s cut a:eth7")
    assert r.returncode == 2 and '--events: event 1: no link has the end "a:eth7"' in r.stderr
    r = cli("run", str(path), "--events", "at 1s explode a")
    assert r.returncode == 2 and "--events: event 1" in r.stderr


@pytest.mark.linux
def test_the_kernel_twin_measures_the_same_outage(differential) -> None:
    sim = differential.sim(CUT)
    linux = differential.linux(CUT)
    assert linux.passed, linux.to_json()
    (s_udp, s_tcp), (l_udp, l_tcp) = sim.events[0]["flows"], linux.events[0]["flows"]
    assert abs(s_udp["outage_ms"] - l_udp["outage_ms"]) < 60
    assert abs(s_udp["lost"] - l_udp["lost"]) <= 8
    assert 1000 < l_tcp["outage_ms"] < 2500 and "recovered" not in l_tcp
    assert abs(s_tcp["outage_ms"] - l_tcp["outage_ms"]) < 300   # 1402 ms and about 1475 ms here
    assert [e["ran"] for e in linux.events] == [True, True]


def test_the_runner_arms_events_before_the_first_probe_and_disarms_after_the_last() -> None:
    from tests.scenario.fake_backend import FakeBackend

    be = FakeBackend()
    text = BASE.replace("  - iperf:", "  - ping: {from: a, to: 10.0.0.2}\n  - iperf:") + \
        "events:\n  - at: 1s\n    cut: a:eth0\n"
    scenario = load_scenario_text(text.replace("  - iperf:\n      duration: 4s\n      flows:\n        - {from: a, to: "
                                               "10.0.0.2, port: 5001, proto: udp, rate: 800kbit, size: 1000}\n", ""))
    res = run_scenario(scenario, be)
    kinds = [c[0] for c in be.calls]
    assert kinds.index("arm_events") < kinds.index("ping") < kinds.index("disarm_events")
    assert res.events == [{"index": 0, "at_ms": 1000.0, "action": "cut", "target": "a:eth0", "ran": True,
                           "time_ms": 1000.0, "flows": []}]
