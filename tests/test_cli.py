"""The `netplex` command, with an in-memory backend put in `cli.BACKENDS`."""
from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netplex import __version__, cli


def _fake_module():
    if "fake_backend" not in sys.modules:
        path = Path(__file__).parent / "scenario" / "fake_backend.py"
        spec = importlib.util.spec_from_file_location("fake_backend", path)
        module = importlib.util.module_from_spec(spec)
        sys.modules["fake_backend"] = module
        spec.loader.exec_module(module)
    return sys.modules["fake_backend"]


FakeBackend = _fake_module().FakeBackend

GOOD = """\
name: nat
description: Two hosts and a service.
seed: 5
nodes:
  host:
    setup: |
      ip addr add 203.0.113.10/24 dev eth0
    services: [tcp:80]
  client:
    setup: |
      ip addr add 203.0.113.20/24 dev eth0
      ip link set eth0 up
links:
  - ends: [host:eth0, client:eth0]
probes:
  - ping: {from: client, to: 203.0.113.10}
  - tcp: {from: client, to: 203.0.113.10, port: 80}
    expect_peer: 203.0.113.20
  - udp: {from: client, to: 203.0.113.10, port: 53}
    expect: fail
  - cmd: {node: host, run: "echo hello"}
    expect_output: hello
"""
FAILING = GOOD.replace("name: nat\ndescription: Two hosts and a service.",
                       "name: unreachable\ndescription: Fails on purpose - nobody has 198.51.100.1.") \
    + "  - ping: {from: client, to: 198.51.100.1}\n"
BAD_SCHEMA = GOOD.replace("    services:", "    servics:")
BAD_SETUP = GOOD.replace("ip link set eth0 up", "ip link set eth9 up")

runner = CliRunner()


@pytest.fixture
def backends(monkeypatch):
    """Route `--backend sim` to FakeBackend; returns the backends made, in order."""
    made: list[FakeBackend] = []

    def factory(seed, pcap_dir):
        from netplex.scenario.backend import CmdResult
        be = FakeBackend(seed=seed, pcap_dir=pcap_dir,
                         fail={"ip link set eth9 up": CmdResult(1, "", 'Cannot find device "eth9"\n')})
        made.append(be)
        return be

    monkeypatch.setitem(cli.BACKENDS, "sim", factory)
    return made


def write(tmp_path: Path, name: str, text: str) -> Path:
    path = tmp_path / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text)
    return path


def test_version():
    r = runner.invoke(cli.app, ["--version"])
    assert r.exit_code == 0 and r.stdout == f"netplex {__version__}\n"


def test_run_human_table(tmp_path, backends):
    f = write(tmp_path, "nat.yaml", GOOD)
    r = runner.invoke(cli.app, ["run", str(f)])
    assert r.exit_code == 0, r.output
    out = r.stdout
    assert "nat" in out and "backend fake" in out
    assert "ping client → 203.0.113.10" in out and "1/1 replies, rtt 0.21 ms" in out
    assert "peer 203.0.113.20:40312" in out and "Connection refused" in out
    assert "exit 0, output matched" in out
    assert out.count("PASS") == 4 and "FAIL" not in out
    assert "passed: 4/4 probes" in out
    assert backends[0].seed == 5 and backends[0].closed == 1


def test_run_json(tmp_path, backends):
    f = write(tmp_path, "nat.yaml", GOOD)
    r = runner.invoke(cli.app, ["run", "--json", str(f)])
    assert r.exit_code == 0
    out = json.loads(r.stdout)
    assert list(out) == ["scenario", "backend", "passed", "probes"]
    assert out["passed"] is True and [p["kind"] for p in out["probes"]] == ["ping", "tcp", "udp", "cmd"]


def test_run_seed_and_pcap_reach_the_backend(tmp_path, backends):
    f = write(tmp_path, "nat.yaml", GOOD)
    r = runner.invoke(cli.app, ["run", "--seed", "42", "--pcap", str(tmp_path / "caps"), str(f)])
    assert r.exit_code == 0
    assert backends[0].seed == 42 and backends[0].pcap_dir == tmp_path / "caps"


def test_run_probe_failure_exits_1(tmp_path, backends):
    f = write(tmp_path, "u.yaml", FAILING)
    r = runner.invoke(cli.app, ["run", str(f)])
    assert r.exit_code == 1
    assert "FAIL" in r.stdout and "0/1 replies" in r.stdout and "FAILED: 1 of 5 probes" in r.stdout


def test_run_schema_error_one_line(tmp_path, backends):
    f = write(tmp_path, "bad.yaml", BAD_SCHEMA)
    r = runner.invoke(cli.app, ["run", str(f)])
    assert r.exit_code == 2
    assert r.stderr.splitlines()[0] == f'{f}:8: nodes.host.servics: unknown field; did you mean "services"?'
    assert backends == []  # nothing was built


def test_run_schema_error_json(tmp_path, backends):
    f = write(tmp_path, "bad.yaml", BAD_SCHEMA)
    r = runner.invoke(cli.app, ["run", "--json", str(f)])
    assert r.exit_code == 2
    assert json.loads(r.stdout) == {
        "scenario": "bad", "backend": "sim", "passed": False, "exit_status": 2,
        "error": {"file": str(f), "file_line": 8, "field": "nodes.host.servics",
                  "message": 'unknown field; did you mean "services"?'},
        "probes": []}


def test_run_setup_failure(tmp_path, backends):
    f = write(tmp_path, "s.yaml", BAD_SETUP)
    r = runner.invoke(cli.app, ["run", str(f)])
    assert r.exit_code == 2
    assert r.stderr.splitlines()[:2] == [f"{f}:12: client: setup line 2 failed: ip link set eth9 up",
                                         'Cannot find device "eth9"']
    r = runner.invoke(cli.app, ["run", "--json", str(f)])
    assert r.exit_code == 2
    assert json.loads(r.stdout) == {
        "scenario": "nat", "backend": "fake", "passed": False, "exit_status": 2,
        "error": {"node": "client", "line": 2, "file_line": 12, "command": "ip link set eth9 up",
                  "message": 'Cannot find device "eth9"'},
        "probes": []}


def test_run_several_files_json_list_worst_status(tmp_path, backends):
    a, b = write(tmp_path, "a.yaml", GOOD), write(tmp_path, "b.yaml", FAILING)
    r = runner.invoke(cli.app, ["run", "--json", str(a), str(b)])
    assert r.exit_code == 1
    out = json.loads(r.stdout)
    assert [o["passed"] for o in out] == [True, False]
    r = runner.invoke(cli.app, ["run", str(a), str(b), str(write(tmp_path, "c.yaml", BAD_SCHEMA))])
    assert r.exit_code == 2


def test_unknown_backend(tmp_path):
    f = write(tmp_path, "nat.yaml", GOOD)
    r = runner.invoke(cli.app, ["run", "--backend", "qemu", str(f)])
    assert r.exit_code == 2 and r.stderr == 'netplex: unknown backend "qemu" (choose sim, linux)\n'


def test_demo_meets_expectations(tmp_path, backends):
    write(tmp_path, "ex/01-nat.yaml", GOOD)
    write(tmp_path, "ex/02-unreachable.yaml", FAILING)
    write(tmp_path, "ex/broken/typo.yaml", BAD_SCHEMA)
    write(tmp_path, "ex/notes.txt", "not a scenario")
    r = runner.invoke(cli.app, ["demo", str(tmp_path / "ex")])
    assert r.exit_code == 0, r.output
    summary = r.stdout[r.stdout.index("demo summary"):]
    assert "01-nat.yaml  passed" in summary
    assert "02-unreachable.yaml  failed on purpose (exit 1)" in summary
    assert "typo.yaml  failed on purpose (exit 2)" in summary
    assert "all 3 scenarios behaved as expected" in summary


def test_demo_unexpected_failure_exits_1(tmp_path, backends):
    write(tmp_path, "ex/01-nat.yaml", GOOD)
    write(tmp_path, "ex/02-oops.yaml", FAILING.replace("Fails on purpose", "Should work"))
    r = runner.invoke(cli.app, ["demo", str(tmp_path / "ex")])
    assert r.exit_code == 1
    assert "WRONG" in r.stdout and "02-oops.yaml  exit 1, expected: passes" in r.stdout


def test_shell_piped(tmp_path, backends):
    f = write(tmp_path, "nat.yaml", GOOD)
    r = runner.invoke(cli.app, ["shell", str(f), "host"], input="echo one\n\n# note\nfalse\necho two\nexit\necho never\n")
    assert r.exit_code == 0, r.output
    assert r.stdout == "one\ntwo\n"
    be = backends[0]
    assert ("services", "host", [("tcp", 80)]) in be.calls
    assert [c for c in be.calls if c[0] == "run" and c[1] == "host"][-3:] == [
        ("run", "host", "echo one"), ("run", "host", "false"), ("run", "host", "echo two")]
    assert be.closed >= 1


def test_shell_eof_and_setup_failure_still_opens(tmp_path, backends):
    f = write(tmp_path, "s.yaml", BAD_SETUP)
    r = runner.invoke(cli.app, ["shell", str(f), "client"], input="echo still here\n")
    assert r.exit_code == 0
    assert "setup line 2 failed" in r.stderr and r.stdout == "still here\n"


def test_shell_unknown_node(tmp_path, backends):
    f = write(tmp_path, "nat.yaml", GOOD)
    r = runner.invoke(cli.app, ["shell", str(f), "db"])
    assert r.exit_code == 2 and r.stderr == f'netplex: {f}: no node "db" (nodes: host, client)\n'


def test_trace(tmp_path, backends):
    f = write(tmp_path, "nat.yaml", GOOD)
    r = runner.invoke(cli.app, ["trace", str(f), "--from", "client", "--to", "203.0.113.10",
                                "--proto", "tcp", "--dport", "80"])
    assert r.exit_code == 0
    assert r.stdout == "client: OUTPUT filter ACCEPT tcp -> 203.0.113.10\nhost: INPUT delivered\n"
    assert ("trace", "client", "203.0.113.10", "tcp", 80) in backends[0].calls
    r = runner.invoke(cli.app, ["trace", str(f), "--from", "client", "--to", "198.51.100.1"])
    assert r.exit_code == 1 and "no route" in r.stdout


def test_trace_bad_arguments(tmp_path, backends):
    f = write(tmp_path, "nat.yaml", GOOD)
    r = runner.invoke(cli.app, ["trace", str(f), "--from", "client", "--to", "1.2.3"])
    assert r.exit_code == 2 and r.stderr == 'netplex: --to: invalid IPv4 address "1.2.3"\n'
    r = runner.invoke(cli.app, ["trace", str(f), "--from", "client", "--to", "1.2.3.4", "--proto", "sctp"])
    assert r.exit_code == 2 and "sctp" in r.stderr


def test_entry_point_runs():
    exe = Path(sys.executable).parent / "netplex"
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "netplex.cli"]
    p = subprocess.run([*cmd, "--version"], capture_output=True, text=True, timeout=60)
    assert p.returncode == 0 and p.stdout == f"netplex {__version__}\n"


def test_backend_that_cannot_start_here(tmp_path, monkeypatch):
    from netplex.errors import NetplexError

    def factory(seed, pcap_dir):
        raise NetplexError("the linux backend needs root (netns, veth)", 1)

    monkeypatch.setitem(cli.BACKENDS, "linux", factory)
    f = write(tmp_path, "nat.yaml", GOOD)
    r = runner.invoke(cli.app, ["run", "--backend", "linux", str(f)])
    assert r.exit_code == 2 and r.stderr == "netplex: the linux backend needs root (netns, veth)\n"
