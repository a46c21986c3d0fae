"""`netplex sweep` and scenario parameters (docs/sweep.md), the way users run them.

The command line on the example `examples/sweep/lossy-uplink.yaml` in a pool of
2 processes, on a real Dask LocalCluster (its scheduler and one worker on TCP in
the test's process; benchmarks/sweep.py runs one of 2 worker processes), and the one
variant again through `netplex run --param`: every variant's result is the
same wherever it ran. Bad input exits 2 with one netplex message.
"""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netplex import cli
from netplex.errors import ScenarioError
from netplex.scenario.loader import load_scenario_text
from netplex.sweep.grid import SweepUsage, parse_param, parse_params, variants
from netplex.sweep.run import Job, run_local

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "sweep" / "lossy-uplink.yaml"
GRID = ["--param", "rate=1mbit,10mbit", "--param", "seed=1..10"]   # 20 variants
runner = CliRunner()

PARAMS = """\
name: p
params:
  count: 2
  addr: 10.0.0.2
  target: 10.0.0.2
nodes:
  a:
    setup: |
      ip addr add 10.0.0.1/24 dev eth0
      ip link set eth0 up
      for i in 1 2; do echo "host ${i}"; done > /tmp/loop
  b:
    setup: |
      ip addr add ${addr}/24 dev eth0
      ip link set eth0 up
links:
  - {ends: [a:eth0, b:eth0]}
probes:
  - ping: {from: a, to: ${target}, count: ${count}}
  - cmd: {node: a, run: "cat /tmp/loop"}
    expect_output: host 2
"""


def netplex(*args: str, timeout: int = 120) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    return subprocess.run([sys.executable, "-m", "netplex.cli", *args], capture_output=True, text=True,
                          timeout=timeout, cwd=ROOT, env=env)


def example_jobs(rates: list[str], seeds: range) -> list[Job]:
    grid = {"rate": rates, "seed": [str(s) for s in seeds]}
    return [Job(str(EXAMPLE.relative_to(ROOT)), EXAMPLE.read_text(), v) for v in variants(grid)]


# --- parameters in a scenario file ------------------------------------------------------


def test_defaults_and_given_values_are_substituted_and_shell_variables_left_alone():
    s = load_scenario_text(PARAMS, "p.yaml")
    assert s.probes[0].ping.to == "10.0.0.2" and s.probes[0].ping.count == 2 and s.seed == 0
    assert "for i in 1 2; do echo \"host ${i}\"; done > /tmp/loop" in [ln.command for ln in s.nodes["a"].setup_lines()]
    s = load_scenario_text(PARAMS, "p.yaml", {"count": "5", "addr": "10.0.0.9", "target": "10.0.0.9"})
    assert s.probes[0].ping.count == 5 and s.probes[0].ping.to == "10.0.0.9"
    assert [ln.command for ln in s.nodes["b"].setup_lines()][0] == "ip addr add 10.0.0.9/24 dev eth0"
    assert load_scenario_text(PARAMS, "p.yaml", {"seed": "42"}).seed == 42


@pytest.mark.parametrize("text, given, where, message", [
    (PARAMS, {"rate": "1mbit"}, "p.yaml:2: --param rate",
     'the scenario declares no parameter "rate" (its params: addr, count, target)'),
    (PARAMS.replace("  addr: 10.0.0.2\n", "  addr: 10.0.0.2\n  loss: 1%\n"), {}, "p.yaml:5: params.loss",
     "declared but never used as ${loss}"),
    (PARAMS, {"count": "1\n2"}, "p.yaml", "--param count: a value must be one line"),
    (PARAMS, {"seed": "x"}, "p.yaml", '--param seed: must be a whole number, not "x"'),
    (PARAMS, {"count": "two"}, "p.yaml:19: probes[0].ping.count", "must be a whole number"),
    (PARAMS.replace("  count: 2\n", "  2count: 2\n").replace("${count}", "1"), {}, "p.yaml:3: params.2count",
     'invalid parameter name "2count"'),
])
def test_bad_parameters_name_file_line_and_field(text, given, where, message):
    with pytest.raises(ScenarioError) as e:
        load_scenario_text(text, "p.yaml", given)
    assert str(e.value).startswith(f"{where}: {message}"), str(e.value)


# --- the grid ---------------------------------------------------------------------------


def test_grid_lists_ranges_and_product_order():
    assert parse_param("rate=1mbit,10mbit") == ("rate", ["1mbit", "10mbit"])
    assert parse_param("seed=3..5") == ("seed", ["3", "4", "5"])
    assert parse_param("seed=-1..1") == ("seed", ["-1", "0", "1"])
    assert parse_param("want=209kbit..231kbit") == ("want", ["209kbit..231kbit"])   # a value, not a range
    vs = variants(parse_params(["rate=a,b", "seed=1..3"]))
    assert [(v.index, v.params) for v in vs][:4] == [
        (0, {"rate": "a", "seed": "1"}), (1, {"rate": "a", "seed": "2"}), (2, {"rate": "a", "seed": "3"}),
        (3, {"rate": "b", "seed": "1"})]
    assert len(vs) == 6


@pytest.mark.parametrize("spec, message", [
    ("seed=1..", "--param seed=1..: a range is FIRST..LAST in whole numbers, e.g. seed=1..100"),
    ("seed=..5", "--param seed=..5: a range is FIRST..LAST in whole numbers, e.g. seed=1..100"),
    ("seed=1..x", "--param seed=1..x: a range is FIRST..LAST in whole numbers, e.g. seed=1..100"),
    ("seed=5..1", "--param seed=5..1: the range is empty (5 > 1)"),
    ("rate", '--param "rate": expected NAME=VALUE[,VALUE...] or NAME=FIRST..LAST'),
    ("rate=1mbit,", "--param rate=1mbit,: an empty value (write each value between commas)"),
    ("9x=1", '--param "9x=1": "9x" is not a parameter name (letters, digits and _)'),
])
def test_bad_grid(spec, message):
    with pytest.raises(SweepUsage) as e:
        parse_params([spec])
    assert e.value.message == message and e.value.status == 2


# --- the command ------------------------------------------------------------------------


def test_sweep_in_a_pool_matches_one_process_and_netplex_run(tmp_path):
    out = tmp_path / "sweep.json"
    p = netplex("sweep", "examples/sweep/lossy-uplink.yaml", *GRID, "--workers", "2", "--json", str(out))
    assert p.returncode == 0, p.stderr
    lines = p.stdout.splitlines()
    assert lines[0] == "lossy-uplink  (examples/sweep/lossy-uplink.yaml, 20 variants)"
    assert lines[1].split() == ["#", "rate", "seed", "result", "probes", "iperf", "wire", "udp", "lost", "ping",
                                "loss", "rtt", "ms"]
    assert len(lines) == 2 + 20 + 1 and lines[2].split()[:5] == ["0", "1mbit", "1", "PASS", "2/2"]
    assert lines[-1].startswith("20 variants: 20 passed, 0 failed, 0 could not run (2 workers, ")
    doc = json.loads(out.read_text())
    assert doc["params"] == {"rate": ["1mbit", "10mbit"], "seed": [str(s) for s in range(1, 11)]}
    assert doc["workers"] == 2 and doc["summary"] == {"variants": 20, "passed": 20, "failed": 0, "errors": 0}
    rows = doc["variants"]
    # the pool's rows are the in-process rows, whatever process ran them and in whatever order
    assert rows == run_local(example_jobs(["1mbit", "10mbit"], range(1, 11)), workers=1)
    # the seed decides which frames the cable loses; the rate what the bucket lets through
    assert len({r["metrics"]["ping_replies"] for r in rows}) > 1
    slow, fast = rows[0]["metrics"]["wire_bps"][0], rows[10]["metrics"]["wire_bps"][0]
    assert 1_000_000 < slow < 1_400_000 and 10_000_000 < fast < 14_000_000
    # one variant through a plain `netplex run`: the same result object
    p = netplex("run", "examples/sweep/lossy-uplink.yaml", "--param", "rate=10mbit", "--param", "seed=7", "--json")
    assert p.returncode == 0, p.stderr
    assert json.loads(p.stdout) == rows[16]["result"] and rows[16]["params"] == {"rate": "10mbit", "seed": "7"}


def test_sweep_json_on_stdout_and_a_failing_variant(tmp_path):
    f = tmp_path / "p.yaml"
    f.write_text(PARAMS)
    r = runner.invoke(cli.app, ["sweep", str(f), "--param", "target=10.0.0.2,10.0.0.3", "--workers", "1",
                                "--json", "-"])
    assert r.exit_code == 1, r.output
    doc = json.loads(r.stdout)
    assert [(v["params"], v["exit_status"], v["probes_passed"], v["probes_failed"]) for v in doc["variants"]] == [
        ({"target": "10.0.0.2"}, 0, 2, 0), ({"target": "10.0.0.3"}, 1, 1, 1)]
    assert doc["variants"][1]["metrics"]["ping_loss_pct"] == 100.0
    r = runner.invoke(cli.app, ["sweep", str(f), "--param", "count=0,1", "--workers", "1"])
    assert r.exit_code == 2 and "count" in r.stderr


def test_a_variant_that_cannot_run_is_a_row_and_exit_2(monkeypatch):
    monkeypatch.chdir(ROOT)
    r = runner.invoke(cli.app, ["sweep", "examples/sweep/lossy-uplink.yaml", "--param", "rate=1mbit,fast",
                                "--workers", "1"])
    assert r.exit_code == 2, r.output
    rows = r.stdout.splitlines()[2:4]
    assert rows[0].split()[:4] == ["0", "1mbit", "PASS", "2/2"]
    assert rows[1].split()[:4] == ["1", "fast", "ERROR", "0/0"]
    assert 'host: setup line 3: tc qdisc add dev eth0 root handle 1: tbf rate fast latency 50ms burst 1540: ' \
           'tbf: illegal value for "rate": "fast"\n' in r.stdout
    assert r.stdout.splitlines()[-1].startswith("2 variants: 1 passed, 0 failed, 1 could not run (1 worker, ")


@pytest.mark.parametrize("args, message", [
    (["--param", "rat=1mbit"], "examples/sweep/lossy-uplink.yaml:7: --param rat: the scenario declares no "
                               'parameter "rat" (its params: loss, rate)\n'),
    (["--param", "seed=1.."], "netplex: --param seed=1..: a range is FIRST..LAST in whole numbers, "
                              "e.g. seed=1..100\n"),
    (["--param", "loss=2%,lots"], "examples/sweep/lossy-uplink.yaml:25: links[0].loss: "),
    (["--workers", "0"], "netplex: --workers 0: at least 1\n"),
    (["--json", "/nonexistent/out.json"], "netplex: --json /nonexistent/out.json: no folder /nonexistent\n"),
    (["--workers", "2", "--cluster", "tcp://127.0.0.1:1"],
     "netplex: --workers and --cluster: on a cluster, its own workers run the variants\n"),
])
def test_bad_input_exits_2_with_one_message(args, message, monkeypatch):
    monkeypatch.chdir(ROOT)
    r = runner.invoke(cli.app, ["sweep", "examples/sweep/lossy-uplink.yaml", *args])
    assert r.exit_code == 2 and r.stdout == "", r.output
    assert r.stderr.startswith(message) and "Traceback" not in r.stderr, r.stderr


def test_unreachable_cluster_exits_2(monkeypatch):
    monkeypatch.chdir(ROOT)
    r = runner.invoke(cli.app, ["sweep", "examples/sweep/lossy-uplink.yaml", "--param", "seed=1..2",
                                "--cluster", "tcp://127.0.0.1:1"])
    assert r.exit_code == 2 and r.stdout == "" and "Traceback" not in r.stderr, r.output
    try:
        import distributed  # noqa: F401
    except ModuleNotFoundError:
        assert r.stderr.startswith("netplex: --cluster needs Dask distributed, which is not installed")
    else:
        assert r.stderr == "netplex: --cluster tcp://127.0.0.1:1: cannot reach the Dask scheduler: Connection refused\n"


# --- on a Dask cluster ------------------------------------------------------------------


@pytest.fixture(scope="module")
def dask_cluster():
    distributed = pytest.importorskip("distributed", reason="Dask distributed is not installed "
                                                            "(pip install 'netplex[cluster]')")
    with distributed.LocalCluster(n_workers=1, threads_per_worker=1, processes=False, protocol="tcp", dashboard_address=None,
                                  worker_dashboard_address=None) as cluster:
        yield cluster.scheduler_address


def test_sweep_on_a_local_dask_cluster(dask_cluster, tmp_path):
    out = tmp_path / "sweep.json"
    p = netplex("sweep", "examples/sweep/lossy-uplink.yaml", "--param", "rate=1mbit,10mbit", "--param", "seed=1..5",
                "--cluster", dask_cluster, "--json", str(out))
    assert p.returncode == 0, p.stderr
    assert p.stdout.splitlines()[-1].startswith(f"10 variants: 10 passed, 0 failed, 0 could not run "
                                                f"(cluster {dask_cluster}, ")
    doc = json.loads(out.read_text())
    assert doc["cluster"] == dask_cluster
    assert doc["variants"] == run_local(example_jobs(["1mbit", "10mbit"], range(1, 6)), workers=1)
