"""A bridge loop without STP and zero-delay links: the simulation stops itself and says why."""
from __future__ import annotations

from netplex import Network


def _loop() -> Network:
    net = Network()
    a, b, h = net.add_node("a"), net.add_node("b"), net.add_node("h")
    net.add_link("a:p1", "b:p1")
    net.add_link("a:p2", "b:p2")
    net.add_link("h:eth0", "a:p3")
    for sw in (a, b):
        ports = "p1 p2 p3" if sw is a else "p1 p2"
        sw.run("ip link add br0 type bridge && ip link set br0 up")
        for p in ports.split():
            sw.run(f"ip link set {p} master br0 && ip link set {p} up")
    h.run("ip addr add 10.0.0.1/24 dev eth0 && ip link set eth0 up")
    return net


def test_loop_without_stp_is_reported_not_hung() -> None:
    net = _loop()
    r = net["h"].run("ping -c 1 10.0.0.2")
    assert r.status == 2
    assert "without simulated time passing" in r.error and "bridge loop without STP" in r.error


def test_probe_reports_the_storm() -> None:
    net = _loop()
    out = net.probe({"ping": {"from": "h", "to": "10.0.0.2"}})
    assert not out.ok and "bridge loop without STP" in out.observed["error"]
