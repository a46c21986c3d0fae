"""Fixtures for the netfilter tests: hosts configured with the commands users type."""
from __future__ import annotations

import pytest

from netplex import Network
from netplex.scenario.sim import SimBackend
from tests.conftest import run_ok


@pytest.fixture
def pair():
    """h1 10.0.0.1/24 — h2 10.0.0.2/24; h2 serves tcp:22, tcp:80, udp:53. Returns (net, h1, h2, backend)."""
    net = Network()
    h1, h2 = net.add_node("h1"), net.add_node("h2")
    net.add_link("h1:eth0", "h2:eth0")
    for node, a in ((h1, "10.0.0.1"), (h2, "10.0.0.2")):
        run_ok(node, f"ip addr add {a}/24 dev eth0 && ip link set eth0 up && ip link set lo up")
    be = SimBackend(network=net)
    be.start_services("h2", [("tcp", 22), ("tcp", 80), ("udp", 53)])
    return net, h1, h2, be
