"""An Open vSwitch host s1 with two hosts h1 (10.0.0.1) and h2 (10.0.0.2) on its ports p1, p2."""
from __future__ import annotations

import pytest

from netplex import Network
from tests.conftest import run_ok


@pytest.fixture
def ovs_hosts():
    """s1's ports p1, p2 up, cabled to h1 and h2; no bridge yet."""
    net = Network()
    s1, h1, h2 = net.add_node("s1"), net.add_node("h1"), net.add_node("h2")
    net.add_link("h1:eth0", "s1:p1")
    net.add_link("h2:eth0", "s1:p2")
    for h, a in ((h1, "10.0.0.1"), (h2, "10.0.0.2")):
        run_ok(h, f"ip addr add {a}/24 dev eth0 && ip link set eth0 up")
    run_ok(s1, "ip link set p1 up && ip link set p2 up")
    return net, s1, h1, h2


@pytest.fixture
def ovs_lab(ovs_hosts):
    """p1 and p2 on the OVS bridge br0."""
    run_ok(ovs_hosts[1], "ovs-vsctl add-br br0 -- add-port br0 p1 -- add-port br0 p2")
    return ovs_hosts


def three_hosts(bridge: str) -> tuple[Network, object, list[object]]:
    """s1 with ports p1..p3 up, cabled to h1..h3 (10.0.0.1-3/24), and `bridge` the
    ovs-vsctl line that makes the bridge."""
    net = Network()
    s1 = net.add_node("s1")
    hosts = [net.add_node(f"h{i}") for i in (1, 2, 3)]
    for i, h in enumerate(hosts, 1):
        net.add_link(f"h{i}:eth0", f"s1:p{i}")
        run_ok(h, f"ip addr add 10.0.0.{i}/24 dev eth0 && ip link set eth0 up")
        run_ok(s1, f"ip link set p{i} up")
    run_ok(s1, bridge)
    return net, s1, hosts


def pings(h, dst: str) -> bool:
    return h.run(f"ping -c 1 -W 1 {dst}").status == 0
