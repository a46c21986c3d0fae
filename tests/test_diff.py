"""`netplex.scenario.diff` and the `netplex diff` / `netplex clean` commands, without the kernel."""
from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netplex import cli
from netplex.errors import NetplexError
from netplex.scenario.diff import NORMALISATIONS, compare, normalise, normalise_observed
from netplex.scenario.results import ProbeResult, ScenarioResult


def _fake_module():
    if "fake_backend" not in sys.modules:
        path = Path(__file__).parent / "scenario" / "fake_backend.py"
        spec = importlib.util.spec_from_file_location("fake_backend", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules["fake_backend"] = module
        spec.loader.exec_module(module)
    return sys.modules["fake_backend"]


FakeBackend = _fake_module().FakeBackend


def test_every_normalisation_has_a_reason():
    assert NORMALISATIONS
    for pattern, _repl, reason in NORMALISATIONS:
        assert pattern.pattern and len(reason) > 20


@pytest.mark.parametrize("raw, want", [
    ("2: eth0@if7: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500\n    link/ether 4e:50:31:e6:c4:4f brd "
     "ff:ff:ff:ff:ff:ff link-netns npx-058dc0e5-b",
     "<idx>: eth0@if<idx>: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500\n    link/ether <mac> brd "
     "ff:ff:ff:ff:ff:ff link-netns b"),
    ("    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00", "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00"),
    ("64 bytes from 10.0.0.2: icmp_seq=1 ttl=64 time=0.045 ms", "64 bytes from 10.0.0.2: icmp_seq=1 ttl=64 time=<rtt> ms"),
    ("2 packets transmitted, 2 received, 0% packet loss, time 1001ms\nrtt min/avg/max/mdev = 0.1/0.2/0.3/0.04 ms",
     "2 packets transmitted, 2 received, 0% packet loss, time <elapsed>ms\nrtt min/avg/max/mdev = <rtt> ms"),
    ("peer 10.0.0.1:40312", "peer 10.0.0.1:<eport>"),
    ("peer 10.0.0.1:80", "peer 10.0.0.1:80"),  # a well-known port is kept
    ("4: p2@p1: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 master br0 state forwarding",
     "<idx>: p2@<peer>: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 master br0 state forwarding"),
    ("10.0.0.2 dev eth0 lladdr 02:00:00:00:00:02 PERMANENT", "10.0.0.2 dev eth0 lladdr <mac> PERMANENT"),
    ("10.0.0.9 via 10.0.0.1 dev eth0 src 10.0.0.5 uid 0", "10.0.0.9 via 10.0.0.1 dev eth0 src 10.0.0.5 uid 0"),
    ("   Total    Spent    Left  Speed\n"    # each update of curl's meter starts with a carriage return
     "\r  0     0    0     0    0     0      0      0 --:--:-- --:--:-- --:--:--     0"
     "\r  0     0    0     0    0     0      0      0 --:--:-- --:--:-- --:--:--     0"
     "\r  0     0    0     0    0     0      0      0 --:--:--  0:00:01 --:--:--     0\ncurl: (28)",
     "   Total    Spent    Left  Speed\n"
     "\r  0     0    0     0    0     0      0      0 --:--:-- --:--:-- --:--:--     0"
     "\r  0     0    0     0    0     0      0      0 --:--:--  0:00:01 --:--:--     0\ncurl: (28)"),
])
def test_normalise(raw, want):
    assert normalise(raw) == want


def test_normalise_observed_drops_rtt_and_ephemeral_ports():
    assert normalise_observed("ping", {"sent": 1, "replies": 1, "rtt_ms": 0.2}) == {"sent": 1, "replies": 1}
    got = normalise_observed("tcp", {"peer": "10.0.0.1", "peer_port": 40312, "reply": "peer 10.0.0.1:40312",
                                     "local": "10.0.0.1:40312"})
    assert got == {"peer": "10.0.0.1", "peer_port": "<eport>", "reply": "peer 10.0.0.1:<eport>",
                   "local": "10.0.0.1:<eport>"}


def _result(backend, *probes, error=None):
    return ScenarioResult(scenario="s", backend=backend, probes=list(probes), error=error)


def _probe(kind="cmd", ok=True, passed=True, **observed):
    return ProbeResult(index=0, kind=kind, expect="ok", ok=ok, passed=passed, observed=observed, what="x")


def test_compare_agree_and_disagree():
    a = _result("sim", _probe(exit=0, output="2: eth0@if3: <UP>\n    link/ether 02:11:22:33:44:55\n"))
    b = _result("linux", _probe(exit=0, output="5: eth0@if2: <UP>\n    link/ether 9e:11:22:33:44:55\n"))
    assert compare(a, b).agree and compare(a, b).exit_status == 0
    c = _result("linux", _probe(exit=0, output="5: eth0@if2: <UP,LOWER_UP>\n    link/ether 9e:11:22:33:44:55\n"))
    report = compare(a, c)
    assert not report.agree and report.exit_status == 1
    assert "output differs" in report.all_differences()[0]


def test_compare_outcome_and_error_words():
    a = _result("sim", _probe("tcp", ok=False, error="Connection refused"))
    b = _result("linux", _probe("tcp", ok=False, error="timed out"))
    assert compare(a, b).all_differences() == ["probe 0 (x): error: sim 'Connection refused', linux 'timed out'"]


def test_compare_setup_errors():
    err = {"node": "a", "line": 2, "file_line": 9, "command": "ip link set eth9 up",
           "message": 'Cannot find device "eth9"'}
    assert compare(_result("sim", error=err), _result("linux", error=dict(err))).agree
    other = dict(err, message="RTNETLINK answers: File exists")
    assert not compare(_result("sim", error=err), _result("linux", error=other)).agree
    broken = compare(_result("sim"), _result("linux", error={"message": "twin crashed"}))
    assert broken.inconclusive == "linux backend: twin crashed" and broken.exit_status == 2


SCENARIO = """\
nodes:
  a:
    setup: |
      ip addr add 10.0.0.1/24 dev eth0
      echo hello
  b:
    setup: |
      ip addr add 10.0.0.2/24 dev eth0
links:
  - ends: [a:eth0, b:eth0]
probes:
  - ping: {from: a, to: 10.0.0.2}
  - cmd: {node: a, run: "echo hi"}
"""


_real_twin_lacks = cli._twin_lacks


@pytest.fixture
def twins(monkeypatch):
    """Both backends are FakeBackends; `linux` may be told to print something else."""
    made = []

    def factory(name):
        def make(seed, pcap_dir):
            be = FakeBackend(seed=seed)
            be.name = name
            made.append(be)
            return be
        return make

    monkeypatch.setitem(cli.BACKENDS, "sim", factory("sim"))
    monkeypatch.setitem(cli.BACKENDS, "linux", factory("linux"))
    monkeypatch.setattr(cli, "_twin_lacks", lambda text: None)  # the fake twin has every tool and module
    return made


def test_cli_diff_agree(tmp_path, twins):
    f = tmp_path / "s.yaml"
    f.write_text(SCENARIO)
    res = CliRunner().invoke(cli.app, ["diff", str(f)])
    assert res.exit_code == 0, res.output
    assert "agree" in res.output and "same" in res.output
    assert [b.name for b in twins] == ["linux", "sim"] and all(b.closed for b in twins)


def test_cli_diff_disagree_json(tmp_path, twins, monkeypatch):
    f = tmp_path / "s.yaml"
    f.write_text(SCENARIO)
    real_run = FakeBackend.run

    def run(self, node, line):
        if self.name == "linux" and line == "echo hi":
            from netplex.scenario.backend import CmdResult
            return CmdResult(0, "bye\n")
        return real_run(self, node, line)

    monkeypatch.setattr(FakeBackend, "run", run)
    res = CliRunner().invoke(cli.app, ["diff", str(f), "--json"])
    assert res.exit_code == 1, res.output
    data = json.loads(res.output)
    assert data["agree"] is False and data["probes"][1]["differences"] == ["output: sim 'hi\\n', linux 'bye\\n'"]


def test_cli_diff_cannot_run(tmp_path, monkeypatch):
    f = tmp_path / "s.yaml"
    f.write_text(SCENARIO)

    def no_twin(seed, pcap_dir):
        raise NetplexError("the linux backend needs root (netns, veth)")

    monkeypatch.setitem(cli.BACKENDS, "linux", no_twin)
    res = CliRunner().invoke(cli.app, ["diff", str(f)])
    assert res.exit_code == 2
    assert "the linux backend needs root (netns, veth)" in res.output


def test_cli_diff_bad_file(tmp_path):
    f = tmp_path / "s.yaml"
    f.write_text("nodes: {}\n")
    assert CliRunner().invoke(cli.app, ["diff", str(f)]).exit_code == 2


def test_cli_clean(monkeypatch):
    import netplex.twin.cleanup as cleanup

    monkeypatch.setattr("os.geteuid", lambda: 0)
    monkeypatch.setattr(cleanup, "clean", lambda: ["netns npx-0badcafe-h1", "state /run/netplex/npx-0badcafe.json"])
    res = CliRunner().invoke(cli.app, ["clean"])
    assert res.exit_code == 0 and res.output.splitlines() == ["netns npx-0badcafe-h1",
                                                              "state /run/netplex/npx-0badcafe.json"]
    monkeypatch.setattr(cleanup, "clean", lambda: [])
    res = CliRunner().invoke(cli.app, ["clean"])
    assert res.exit_code == 0 and res.output == "nothing to clean\n"


def test_cli_clean_needs_root(monkeypatch):
    monkeypatch.setattr("os.geteuid", lambda: 1000)
    res = CliRunner().invoke(cli.app, ["clean"])
    assert res.exit_code == 2 and "clean needs root" in res.output


def test_cli_diff_cannot_compare_what_the_kernel_lacks(tmp_path, twins, monkeypatch):
    """A scenario using a module this kernel lacks is not a disagreement: exit 3, saying what is missing."""
    f = tmp_path / "s.yaml"
    f.write_text(SCENARIO.replace("echo hello", "tc qdisc add dev eth0 root sfq"))
    monkeypatch.setattr(cli, "_twin_lacks", _real_twin_lacks)
    monkeypatch.setattr(cli, "kernel_lacks", lambda features: "sch_sfq" if "sch_sfq" in features else None)
    monkeypatch.setattr(cli, "tool_missing", lambda tools: None)
    res = CliRunner().invoke(cli.app, ["diff", str(f)])
    assert res.exit_code == 3, res.output
    assert "cannot compare: this kernel lacks sch_sfq" in res.output and "DISAGREE" not in res.output
    assert all(b.closed for b in twins)
    res = CliRunner().invoke(cli.app, ["diff", str(f), "--json"])
    assert res.exit_code == 3 and json.loads(res.output)["inconclusive"] == "cannot compare: this kernel lacks sch_sfq"


def test_cli_diff_cannot_compare_without_a_program(tmp_path, twins, monkeypatch):
    f = tmp_path / "s.yaml"
    f.write_text(SCENARIO.replace("echo hello", "iptables -A INPUT -j ACCEPT"))
    monkeypatch.setattr(cli, "_twin_lacks", _real_twin_lacks)
    monkeypatch.setattr(cli, "tool_missing", lambda tools: "no `iptables` on this machine (apt-get install iptables)"
                        if "iptables" in tools else None)
    res = CliRunner().invoke(cli.app, ["diff", str(f)])
    assert res.exit_code == 3, res.output
    assert "cannot compare: no `iptables` on this machine (apt-get install iptables)" in res.output


def test_cli_diff_long_outputs_are_a_unified_diff(tmp_path, twins, monkeypatch):
    """A long command output that differs is shown as a unified diff, not two wrapped columns."""
    f = tmp_path / "s.yaml"
    f.write_text(SCENARIO.replace('run: "echo hi"', 'run: "seq 1 30"'))
    real_run = FakeBackend.run

    def run(self, node, line):
        if line == "seq 1 30":
            from netplex.scenario.backend import CmdResult
            lines = [str(i) for i in range(1, 31)]
            if self.name == "linux":
                lines[14] = "fifteen"
            return CmdResult(0, "\n".join(lines) + "\n")
        return real_run(self, node, line)

    monkeypatch.setattr(FakeBackend, "run", run)
    res = CliRunner().invoke(cli.app, ["diff", str(f)])
    assert res.exit_code == 1, res.output
    assert "(30 lines: the unified diff is below)" in res.output
    assert "--- sim output" in res.output and "+++ linux output" in res.output
    assert "-15" in res.output and "+fifteen" in res.output and "\n│ 29" not in res.output
