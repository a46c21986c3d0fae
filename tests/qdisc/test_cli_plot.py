"""`netplex run FILE --plot out.png` and the iperf probe's JSON time series."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netplex.cli import app

ROOT = Path(__file__).resolve().parents[2]


def test_plot_writes_a_png_and_json_has_series(tmp_path: Path) -> None:
    pytest.importorskip("matplotlib")
    out = tmp_path / "qos.png"
    r = CliRunner().invoke(app, ["run", str(ROOT / "examples" / "qos-tbf.yaml"), "--json", "--plot", str(out)])
    assert r.exit_code == 0, r.output
    assert out.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    payload = json.loads(r.stdout)
    probe = payload["probes"][0]["observed"]
    (flow,) = probe["flows"]
    assert len(flow["intervals"]) == 10 and len(flow["wire_intervals"]) == 10
    assert set(flow) >= {"goodput_bps", "wire_bps", "lost", "intervals"}
    assert "host:eth0:1:1" in probe["classes"]


def test_udp_on_off_generator_halves_the_rate() -> None:
    from netplex import Network
    from netplex.traffic.iperf import run_iperf

    net = Network(seed=1)
    a, b = net.add_node("a"), net.add_node("b")
    net.add_link("a:eth0", "b:eth0")
    for node, ip in ((a, "10.0.0.1"), (b, "10.0.0.2")):
        assert node.run(f"ip addr add {ip}/24 dev eth0 && ip link set eth0 up").status == 0
    ok, obs = run_iperf(net, 4_000_000_000, [{"src": "a", "to": "10.0.0.2", "port": 7, "proto": "udp",
                                              "rate_bps": 800_000, "size": 1000,
                                              "on_ns": 500_000_000, "off_ns": 500_000_000}])
    assert ok
    assert abs(obs["flows"][0]["goodput_bps"] - 400_000) <= 20_000, obs["flows"][0]
