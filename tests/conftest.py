"""Shared fixtures: small simulated topologies built the way users build them."""
from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator

import pytest

from netplex import Network


def run_ok(node, line: str) -> str:
    r = node.run(line)
    assert r.status == 0, f"{node.name}: {line!r} -> {r.status}: {r.error}"
    return r.output


@pytest.fixture
def two_hosts():
    """h1 10.0.0.1/24 — h2 10.0.0.2/24 on one veth pair, both up."""
    net = Network()
    h1, h2 = net.add_node("h1"), net.add_node("h2")
    net.add_link("h1:eth0", "h2:eth0")
    for node, a in ((h1, "10.0.0.1"), (h2, "10.0.0.2")):
        run_ok(node, f"ip addr add {a}/24 dev eth0 && ip link set eth0 up && ip link set lo up")
    return net, h1, h2


@pytest.fixture
def routed():
    """h1 — r1 — r2 — h2 over three /24s; forwarding on the routers."""
    net = Network()
    h1, r1, r2, h2 = (net.add_node(n) for n in ("h1", "r1", "r2", "h2"))
    net.add_link("h1:eth0", "r1:eth0")
    net.add_link("r1:eth1", "r2:eth0")
    net.add_link("r2:eth1", "h2:eth0")
    for line in ("ip addr add 10.0.1.10/24 dev eth0", "ip link set eth0 up", "ip route add default via 10.0.1.1"):
        run_ok(h1, line)
    for line in ("ip addr add 10.0.1.1/24 dev eth0", "ip addr add 10.0.12.1/24 dev eth1", "ip link set eth0 up",
                 "ip link set eth1 up", "ip route add 10.0.2.0/24 via 10.0.12.2", "sysctl -qw net.ipv4.ip_forward=1"):
        run_ok(r1, line)
    for line in ("ip addr add 10.0.12.2/24 dev eth0", "ip addr add 10.0.2.1/24 dev eth1", "ip link set eth0 up",
                 "ip link set eth1 up", "ip route add 10.0.1.0/24 via 10.0.12.1", "sysctl -qw net.ipv4.ip_forward=1"):
        run_ok(r2, line)
    for line in ("ip addr add 10.0.2.10/24 dev eth0", "ip link set eth0 up", "ip route add default via 10.0.2.1"):
        run_ok(h2, line)
    return net, h1, r1, r2, h2


def twin_unavailable() -> str | None:
    """Why the kernel twin cannot run here, or None."""
    if os.geteuid() != 0:
        return "the linux backend needs root (network namespaces, veth): run the suite as root"
    for tool in ("ip", "tc", "bash", "ping"):
        if shutil.which(tool) is None:
            return f"the linux backend needs `{tool}` on PATH"
    res = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
    if res.returncode != 0:
        return f"`ip netns` is unavailable: {res.stderr.strip()}"
    return None


@pytest.fixture(autouse=True)
def _linux_only(request: pytest.FixtureRequest) -> Iterator[None]:
    if request.node.get_closest_marker("linux") is not None:
        reason = twin_unavailable()
        if reason is not None:
            pytest.skip(reason)
    yield


def _hypothesis_profiles() -> None:
    """CI runs property tests derandomized, so a red run is reproducible; locally they explore."""
    import os

    from hypothesis import settings

    settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
    settings.register_profile("dev", deadline=None)
    settings.load_profile("ci" if os.environ.get("CI") else "dev")


_hypothesis_profiles()
