"""The QoS issue's acceptance figures, measured in the simulator through the files users write.

HTB 30/10/60 kbps within 5% with every class saturated, one class alone at
the 100 kbps ceiling within 5%; TBF never above rate + burst over any
window; sfq shares a link among 4 TCP flows within 10% of equal.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from netplex import Network
from netplex.scenario.loader import load_scenario
from netplex.scenario.runner import run_scenario
from netplex.scenario.sim import SimBackend

ROOT = Path(__file__).resolve().parents[2]
KBPS = 8000   # tc's kbps: kilobytes per second, in bits per second


def flows(name: str, seed: int = 0) -> list[dict]:
    result = run_scenario(load_scenario(ROOT / "examples" / name), SimBackend(seed=seed))
    assert result.error is None, result.error
    return [p for p in result.probes if p.kind == "iperf"][0].observed["flows"]


@pytest.mark.parametrize("seed", [0, 1, 7])
def test_htb_saturated_classes_get_their_rates(seed: int) -> None:
    got = [f["wire_bps"] for f in flows("qos-htb-seed.yaml", seed)]
    for bps, want in zip(got, (30 * KBPS, 10 * KBPS, 60 * KBPS)):
        assert abs(bps - want) <= 0.05 * want, (got, want)


def test_htb_one_class_borrows_up_to_ceil() -> None:
    (f,) = flows("qos-htb-borrow.yaml")
    assert abs(f["wire_bps"] - 100 * KBPS) <= 0.05 * 100 * KBPS, f["wire_bps"]


def test_sfq_shares_among_four_tcp_flows() -> None:
    got = [f["wire_bps"] for f in flows("qos-sfq.yaml")]
    fair = sum(got) / len(got)
    for bps in got:
        assert abs(bps - fair) <= 0.10 * fair, got


def test_pfifo_fast_serves_band_0_first() -> None:
    hi, lo = (f["wire_bps"] for f in flows("qos-pfifo-fast.yaml"))
    assert hi >= 580_000 and lo < 420_000 and hi > lo


@pytest.mark.parametrize("cmd,rate_bps,burst", [
    ("tbf rate 220kbit latency 50ms burst 1540", 220_000, 1539),
    ("tbf rate 1mbit burst 10k limit 30000", 1_000_000, 10240),
    ("tbf rate 500kbit burst 3000 latency 20ms", 500_000, 3000),
])
def test_tbf_never_exceeds_rate_plus_burst(cmd: str, rate_bps: int, burst: int) -> None:
    net = Network(seed=2)
    a, b = net.add_node("a"), net.add_node("b")
    net.add_link("a:eth0", "b:eth0")
    for node, ip in ((a, "10.0.0.1"), (b, "10.0.0.2")):
        assert node.run(f"ip addr add {ip}/24 dev eth0 && ip link set eth0 up").status == 0
    assert a.run(f"tc qdisc add dev eth0 root {cmd}").status == 0
    sent: list[tuple[int, int]] = []
    dev = a.ns.devices["eth0"]
    # the capture hook sees both directions: keep what eth0 sends
    net.capture = lambda d, frame: (sent.append((net.now, frame.wire_len()))
                                    if d is dev and frame.src == dev.mac else None)
    from netplex.traffic.iperf import run_iperf

    ok, obs = run_iperf(net, 5_000_000_000, [{"src": "a", "to": "10.0.0.2", "port": 9, "proto": "udp",
                                              "rate_bps": 3 * rate_bps, "size": 1000}])
    assert ok and len(sent) > 50
    # every window [t_i, t_j]: bytes of packets i..j <= burst + rate * (t_j - t_i)
    rate_Bps = rate_bps / 8
    worst = 0.0
    for i in range(len(sent)):
        total = 0
        for j in range(i, min(len(sent), i + 400)):
            total += sent[j][1]
            excess = total - (burst + rate_Bps * (sent[j][0] - sent[i][0]) / 1e9)
            worst = max(worst, excess)
    assert worst <= 1.0, f"{worst} bytes above rate + burst"
    assert abs(obs["flows"][0]["wire_bps"] - rate_bps) <= 0.05 * rate_bps


def test_htb_counters_move_in_the_right_classes() -> None:
    result = run_scenario(load_scenario(ROOT / "examples" / "qos-htb-seed.yaml"), SimBackend())
    out = result.probes[1].observed["output"]
    blocks = {b.split()[2]: b for b in out.strip().split("\n\n")}
    for cid in ("1:1", "1:10", "1:20", "1:30"):
        sent = int(blocks[cid].split("Sent ")[1].split()[0])
        assert sent > 0, blocks[cid]
    assert "lended: 0 borrowed: 0" not in blocks["1:10"]
