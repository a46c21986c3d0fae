"""Fixtures the shell command tests share."""
from __future__ import annotations

import pytest

from netplex.scenario.model import Node as ScenarioNode
from netplex.scenario.sim import SimBackend
from tests.conftest import run_ok


@pytest.fixture
def sim_pair() -> tuple[SimBackend, object, object]:
    """h 10.0.0.1/24 — s 10.0.0.2/24 on one cable, built by the sim backend (for its probe services)."""
    be = SimBackend()
    be.build({"h": ScenarioNode(), "s": ScenarioNode()}, [])
    h, s = be.node("h"), be.node("s")
    be.net.add_link("h:eth0", "s:eth0")
    for node, a in ((h, "10.0.0.1"), (s, "10.0.0.2")):
        run_ok(node, f"ip addr add {a}/24 dev eth0 && ip link set eth0 up && ip link set lo up")
    return be, h, s
