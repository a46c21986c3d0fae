"""netem (stack/qdisc/netem.py, shell/tc/q_netem.py) through the `tc` and `ping` a user types:
delay seen in ping's rtt, loss over 1000 pings, `change` on a running link, netem as a
leaf of htb/prio/tbf, and tc 6.1's output, errors and exit statuses."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from netplex import Network


def pair(seed: int = 3) -> tuple[Network, object, object]:
    net = Network(seed=seed)
    a, b = net.add_node("a"), net.add_node("b")
    net.add_link("a:eth0", "b:eth0")
    for node, ip in ((a, "10.0.0.1"), (b, "10.0.0.2")):
        assert node.run(f"ip addr add {ip}/24 dev eth0 && ip link set eth0 up").status == 0
    assert a.run("ping -c 1 10.0.0.2").status == 0   # neighbours resolved before measuring
    return net, a, b


def rtts(node: object, count: int, interval: str = "0.2") -> list[float]:
    r = node.run(f"ping -c {count} -i {interval} 10.0.0.2")
    return [float(x) for x in re.findall(r"time=([\d.]+) ms", r.output)]


def run(node: object, cmd: str) -> object:
    r = node.run(cmd)
    assert r.status == 0, (cmd, r.error)
    return r


def test_delay_shows_in_ping_rtt_and_change_applies_on_a_running_link() -> None:
    _, a, _ = pair()
    base = max(rtts(a, 3))
    run(a, "tc qdisc add dev eth0 root netem delay 20ms")
    got = rtts(a, 5)
    assert len(got) == 5 and all(20.0 <= t <= 20.0 + base + 0.5 for t in got), got
    run(a, "tc qdisc change dev eth0 root netem delay 50ms")
    got = rtts(a, 3)
    assert len(got) == 3 and all(50.0 <= t <= 50.0 + base + 0.5 for t in got), got
    run(a, "tc qdisc del dev eth0 root")
    assert max(rtts(a, 3)) < 1.0


def test_jitter_spreads_rtt_within_delay_plus_minus_jitter() -> None:
    _, a, _ = pair()
    run(a, "tc qdisc add dev eth0 root netem delay 10ms 4ms")
    got = rtts(a, 60, "0.05")
    assert len(got) == 60
    assert all(6.0 <= t <= 14.5 for t in got), got
    assert max(got) - min(got) > 4.0          # uniform over [6ms, 14ms): it does spread


@pytest.mark.parametrize("pct", [10, 30])
def test_loss_rate_over_1000_pings(pct: int) -> None:
    _, a, _ = pair()
    run(a, f"tc qdisc add dev eth0 root netem loss {pct}%")
    r = a.run("ping -c 1000 -i 0.01 -q 10.0.0.2")
    m = re.search(r"1000 packets transmitted, (\d+) received", r.output)
    assert m, r.output
    lost = (1000 - int(m.group(1))) / 1000
    assert abs(lost - pct / 100) < 0.04, lost   # 1000 Bernoulli trials: sd under 1.5 points
    stats = run(a, "tc -s qdisc show dev eth0").output
    dropped = int(re.search(r"dropped (\d+)", stats).group(1))
    assert dropped == 1000 - int(m.group(1))


def test_loss_is_deterministic_for_a_seed() -> None:
    outs = []
    for _ in range(2):
        _, a, _ = pair(seed=11)
        run(a, "tc qdisc add dev eth0 root netem loss 20%")
        outs.append(a.run("ping -c 200 -i 0.01 -q 10.0.0.2").output)
    assert outs[0] == outs[1]


def test_limit_drops_past_the_queue() -> None:
    _, a, _ = pair()
    run(a, "tc qdisc add dev eth0 root netem limit 5 delay 100ms")
    r = a.run("ping -c 20 -i 0.001 -q 10.0.0.2")
    m = re.search(r"20 packets transmitted, (\d+) received", r.output)
    assert m and int(m.group(1)) == 5, r.output
    assert "dropped 15," in run(a, "tc -s qdisc show dev eth0").output


@pytest.mark.parametrize("parent", [
    "tc qdisc add dev eth0 root handle 1: htb default 10 && "
    "tc class add dev eth0 parent 1: classid 1:10 htb rate 10mbit && "
    "tc qdisc add dev eth0 parent 1:10 handle 10: netem delay 15ms",
    "tc qdisc add dev eth0 root handle 1: prio && tc qdisc add dev eth0 parent 1:1 handle 10: netem delay 15ms && "
    "tc qdisc add dev eth0 parent 1:2 handle 20: netem delay 15ms && "
    "tc qdisc add dev eth0 parent 1:3 handle 30: netem delay 15ms",
    "tc qdisc add dev eth0 root handle 1: tbf rate 10mbit burst 10k latency 50ms && "
    "tc qdisc add dev eth0 parent 1:1 handle 10: netem delay 15ms",
])
def test_netem_as_a_leaf_delays(parent: str) -> None:
    _, a, _ = pair()
    run(a, parent)
    got = rtts(a, 4)
    assert len(got) == 4 and all(15.0 <= t <= 16.0 for t in got), got
    assert "qdisc netem 10: parent 1:" in run(a, "tc qdisc show dev eth0").output


def test_show_text_and_json_as_tc_prints_them() -> None:
    _, a, _ = pair()
    run(a, "tc qdisc add dev eth0 root netem delay 10ms 1ms loss 1%")
    out = run(a, "tc qdisc show dev eth0").output
    assert re.fullmatch(r"qdisc netem 8\w+: root refcnt \d+ limit 1000 delay 10ms  1ms loss 1%\n", out), out
    run(a, "tc qdisc replace dev eth0 root netem limit 200 delay 10ms 2ms 25% loss random 0.5% 10 "
           "reorder 25% 50% gap 5 rate 1mbit 20")
    out = run(a, "tc qdisc show dev eth0").output
    assert out.endswith("limit 200 delay 10ms  2ms 25% loss 0.5% 10% reorder 25% 50% rate 1Mbit "
                        "packetoverhead 20 gap 5\n"), out
    (obj,) = json.loads(run(a, "tc -j qdisc show dev eth0").output)
    assert obj["kind"] == "netem"
    assert obj["options"] == {"limit": 200, "delay": {"delay": 0.01, "jitter": 0.002, "correlation": 0.25},
                              "loss-random": {"loss": 0.005, "correlation": 0.1},
                              "reorder": {"reorder": 0.25, "correlation": 0.5},
                              "rate": {"rate": 125000, "packetoverhead": 20, "cellsize": 0, "celloverhead": 0},
                              "ecn": False, "gap": 5}
    run(a, "tc qdisc replace dev eth0 root netem delay 5ms reorder 10%")
    assert run(a, "tc qdisc show dev eth0").output.endswith("limit 1000 delay 5ms reorder 10% gap 1\n")
    stats = run(a, "tc -s qdisc show dev eth0").output
    assert " Sent " in stats and "backlog 0b 0p" in stats


@pytest.mark.parametrize("args,status,err", [
    ("gap 3 loss 1%", 1, "gap specified without reorder probability\nUsage: ... netem [ limit PACKETS ]\n"),
    ("reorder 10%", 1, "reordering not possible without specifying some delay\n"),
    ("loss 1% loss 2%", 1, 'Illegal "duplicate loss argument\n"\n'),
    ("loss 101%", 1, 'Illegal "loss percent"\n'),
    ("loss bogus", 1, "Unknown loss parameter: bogus\n"),
    ("delay soon", 1, 'Illegal "latency"\n'),
    ("limit x", 1, 'Illegal "limit"\n'),
    ("frobnicate", 1, 'What is "frobnicate"?\nUsage: ... netem'),
    ("delay", 255, 'Command line is not complete. Try option "help"\n'),
    ("duplicate 1%", 2, "netplex: tc netem duplicate is not supported\n"),
    ("corrupt 1%", 2, "netplex: tc netem corrupt is not supported\n"),
    ("loss state 1%", 2, "netplex: tc netem loss state is not supported\n"),
    ("delay 10ms distribution normal", 2, "netplex: tc netem distribution is not supported\n"),
])
def test_errors_are_tcs_and_change_nothing(args: str, status: int, err: str) -> None:
    _, a, _ = pair()
    r = a.run(f"tc qdisc add dev eth0 root netem {args}")
    assert r.status == status and r.error.startswith(err), (r.status, r.error)
    assert "netem" not in run(a, "tc qdisc show dev eth0").output


def test_kernel_refusals() -> None:
    _, a, _ = pair()
    run(a, "tc qdisc add dev eth0 root handle 1: netem delay 1ms")
    r = a.run("tc qdisc add dev eth0 root netem delay 2ms")
    assert r.status == 2 and r.error == "Error: Exclusivity flag on, cannot modify.\n", r.error
    r = a.run("tc qdisc change dev eth0 root tbf rate 1mbit burst 10k latency 5ms")
    assert r.status == 2 and "Invalid qdisc name" in r.error
    assert "delay 1ms" in run(a, "tc qdisc show dev eth0").output


HTB_NETEM = Path(__file__).parent / "scenarios" / "htb-netem-leaves.yaml"


def test_htb_passes_over_a_netem_leaf_whose_head_is_not_yet_due(differential) -> None:
    """Two netem leaves (50 ms, 5 ms) under one HTB, both flows inside their class rates: the
    round moves past the 50 ms leaf while its head waits (htb_dequeue_tree), so neither flow is
    held back by the other and nothing is lost (before: the 5 ms leaf waited for the 50 ms one's
    head, the qdisc woke every nanosecond and the run never ended). The kernel twin runs the same
    file in test_twin_differential.py where this kernel has sch_netem."""
    r = differential.sim(HTB_NETEM)
    assert r.passed, [p.to_json() for p in r.probes if not p.passed]
    assert r.probes[0].observed["rtt_ms"] == pytest.approx((10 + 5 + 5) / 3, abs=0.1)   # ARP, then 5 ms each
    flows = r.probes[1].observed["flows"]
    assert [(f["sent"], f["received"], f["lost"]) for f in flows] == [(625, 625, 0), (2500, 2500, 0)]
    classes = r.probes[2].observed["output"]
    assert re.search(r"class htb 1:10 .*\n Sent \d+ bytes 625 pkt \(dropped 0,", classes), classes
    assert re.search(r"class htb 1:20 .*\n Sent \d+ bytes 2505 pkt \(dropped 0,", classes), classes
