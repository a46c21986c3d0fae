from __future__ import annotations

from pathlib import Path

import pytest

from netplex.network import Network

ROOT = Path(__file__).resolve().parents[2]


def run_ok(node, *lines: str) -> None:
    for line in lines:
        r = node.run(line)
        assert r.status == 0, f"{node.name}: {line}: {r.error}"


@pytest.fixture
def pair() -> tuple[Network, object, object]:
    """Two nodes on one cable, 192.168.0.1 and .2 on eth0."""
    net = Network()
    a, b = net.add_node("a"), net.add_node("b")
    net.add_link("a:eth0", "b:eth0")
    for n, i in ((a, 1), (b, 2)):
        run_ok(n, f"ip addr add 192.168.0.{i}/24 dev eth0", "ip link set eth0 up", "ip link set lo up")
    return net, a, b
