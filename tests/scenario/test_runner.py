"""The runner against an in-memory backend: order of calls, judging, JSON shapes."""
from __future__ import annotations

import json

from fake_backend import FakeBackend

from netplex.scenario.backend import CmdResult
from netplex.scenario.loader import load_scenario_text
from netplex.scenario.results import ScenarioResult
from netplex.scenario.runner import prepare, run_scenario

SCENARIO = """\
name: nat
nodes:
  host:
    setup: |
      ip addr add 203.0.113.10/24 dev eth0
      iptables -t nat -A POSTROUTING -j MASQUERADE
    services: [tcp:80, udp:53]
  client:
    setup: |
      ip addr add 203.0.113.20/24 dev eth0

      ip link set eth0 up
links:
  - ends: [host:eth0, client:eth0]
    rate: 1gbit
probes:
  - ping: {from: client, to: 203.0.113.10}
  - tcp: {from: client, to: 203.0.113.10, port: 80}
    expect_peer: 203.0.113.20
  - udp: {from: client, to: 203.0.113.10, port: 54}
    expect: fail
  - cmd: {node: host, run: "echo -A POSTROUTING -j MASQUERADE"}
    expect_output: "  -A POSTROUTING -j MASQUERADE "
"""


def run(text: str = SCENARIO, **kw) -> tuple[ScenarioResult, FakeBackend]:
    be = FakeBackend(**kw)
    return run_scenario(load_scenario_text(text, "nat.yaml"), be), be


def test_all_pass_json_is_the_contract_shape():
    result, be = run()
    assert result.exit_status == 0 and result.passed
    out = result.to_json()
    assert list(out) == ["scenario", "backend", "passed", "probes"]
    assert out["scenario"] == "nat" and out["backend"] == "fake" and out["passed"] is True
    assert out["probes"] == [
        {"index": 0, "kind": "ping", "expect": "ok", "ok": True, "passed": True,
         "observed": {"sent": 1, "replies": 1, "rtt_ms": 0.21}},
        {"index": 1, "kind": "tcp", "expect": "ok", "expect_peer": "203.0.113.20", "ok": True, "passed": True,
         "observed": {"peer": "203.0.113.20", "peer_port": 40312, "reply": "peer 203.0.113.20:40312",
                      "local": "203.0.113.20:40312"}},
        {"index": 2, "kind": "udp", "expect": "fail", "ok": False, "passed": True,
         "observed": {"reply": "", "error": "Connection refused"}},
        {"index": 3, "kind": "cmd", "expect": "ok", "ok": True, "passed": True,
         "observed": {"exit": 0, "output": "-A POSTROUTING -j MASQUERADE\n", "output_matched": True}},
    ]
    assert list(out["probes"][1]) == ["index", "kind", "expect", "expect_peer", "ok", "passed", "observed"]
    json.dumps(out)  # serialisable


def test_call_order_and_close():
    _, be = run()
    names = [c[0] for c in be.calls]
    assert names == ["build", "run", "run", "run", "run", "services", "ping", "tcp", "udp", "run", "close"]
    build = be.calls[0]
    assert build[1] == ["host", "client"]
    assert [link.model_dump(exclude_none=True) for link in build[2]] == [
        {"ends": [("host", "eth0"), ("client", "eth0")], "kind": "veth", "rate_bps": 10**9}]
    assert be.calls[5] == ("services", "host", [("tcp", 80), ("udp", 53)])


def test_setup_failure_stops_and_reports():
    msg = "iptables v1.8.9 (nf_tables): Couldn't load target `MASQUERADEX'\n\nTry `iptables -h' or 'iptables --help' for more information.\n"
    line = "iptables -t nat -A POSTROUTING -j MASQUERADE"
    result, be = run(fail={line: CmdResult(2, "", msg)})
    assert result.exit_status == 2 and not result.passed
    out = result.to_json()
    assert list(out) == ["scenario", "backend", "passed", "exit_status", "error", "probes"]
    assert out == {"scenario": "nat", "backend": "fake", "passed": False, "exit_status": 2,
                   "error": {"node": "host", "line": 2, "file_line": 6, "command": line,
                             "message": msg.removesuffix("\n")},
                   "probes": []}
    assert [c[0] for c in be.calls] == ["build", "run", "run", "close"]


def test_setup_failure_line_counts_blank_lines():
    line = "ip link set eth0 up"
    result, _ = run(fail={line: CmdResult(1, "", 'Cannot find device "eth0"\n')})
    assert result.error == {"node": "client", "line": 3, "file_line": 12, "command": line,
                            "message": 'Cannot find device "eth0"'}


def test_probe_failure_exit_1():
    text = SCENARIO.replace("to: 203.0.113.10}", "to: 198.51.100.1}")
    result, _ = run(text)
    assert result.exit_status == 1 and not result.passed
    p = result.probes[0]
    assert (p.ok, p.passed) == (False, False)
    assert "exit_status" not in result.to_json()


def test_expect_fail_that_succeeds_fails():
    text = SCENARIO.replace("port: 54}\n    expect: fail", "port: 53}\n    expect: fail")
    result, _ = run(text)
    p = result.probes[2]
    assert (p.ok, p.passed) == (True, False) and result.exit_status == 1


def test_expect_peer_mismatch_fails():
    result, _ = run(nat={"203.0.113.20": "203.0.113.99"})
    p = result.probes[1]
    assert p.ok and not p.passed
    assert p.observed["peer"] == "203.0.113.99"


def test_expect_output_must_match_a_whole_line():
    text = SCENARIO.replace('expect_output: "  -A POSTROUTING -j MASQUERADE "', 'expect_output: "-A POSTROUTING"')
    result, _ = run(text)
    p = result.probes[3]
    assert p.ok and not p.passed and p.observed["output_matched"] is False


def test_cmd_without_expect_output_and_failing_cmd():
    text = SCENARIO + "  - cmd: {node: host, run: 'false'}\n    expect: fail\n  - cmd: {node: host, run: 'false'}\n"
    fail_line = "ip link show dev nope"
    text += f"  - cmd: {{node: host, run: '{fail_line}'}}\n    expect: fail\n"
    result, _ = run(text, fail={fail_line: CmdResult(1, "", 'Device "nope" does not exist.\n')})
    p4, p5, p6 = result.probes[4:]
    assert p4.to_json()["observed"] == {"exit": 1, "output": ""}
    assert (p4.ok, p4.passed) == (False, True)
    assert (p5.ok, p5.passed) == (False, False)
    assert p6.observed == {"exit": 1, "output": "", "error": 'Device "nope" does not exist.'}
    assert p6.passed and result.exit_status == 1


def test_iperf_not_supported_yet_is_a_scenario_error():
    text = SCENARIO + "  - iperf:\n      duration: 1s\n      flows: [{from: client, to: 203.0.113.10, port: 5001}]\n"
    result, be = run(text)
    assert result.exit_status == 2
    assert result.error == {"file": "nat.yaml", "file_line": 24, "field": "probes[4].iperf",
                            "message": "iperf probes are not supported yet by the fake backend"}
    assert [c[0] for c in be.calls] == ["close"]  # nothing was built


def test_prepare_alone_runs_setup_and_services_only():
    be = FakeBackend()
    assert prepare(load_scenario_text(SCENARIO, "nat.yaml"), be) is None
    assert [c[0] for c in be.calls] == ["build", "run", "run", "run", "run", "services"]


def test_backend_error_is_exit_2_and_still_closes():
    from netplex.errors import NetplexError

    class Broken(FakeBackend):
        def build(self, nodes, links):
            raise NetplexError("RTNETLINK answers: Operation not permitted", 1)

    be = Broken()
    result = run_scenario(load_scenario_text(SCENARIO, "nat.yaml"), be)
    assert result.exit_status == 2
    assert result.error == {"message": "RTNETLINK answers: Operation not permitted"}
    assert be.closed == 1


def test_close_even_when_backend_crashes():
    class Crashing(FakeBackend):
        def ping(self, src, dst, count, netns=None):
            raise RuntimeError("bug")

    be = Crashing()
    try:
        run_scenario(load_scenario_text(SCENARIO, "nat.yaml"), be)
    except RuntimeError:
        pass
    assert be.closed == 1
