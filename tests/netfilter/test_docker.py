"""docker-proxy and the Docker examples (the seed's two ways to publish -p 10080:80)."""
from __future__ import annotations

from pathlib import Path

import pytest

from netplex.scenario.loader import load_scenario
from netplex.scenario.runner import run_scenario
from netplex.scenario.sim import SimBackend
from netplex.shell.docker_proxy import parse_flags

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize("name", ["docker-nat", "docker-proxy", "docker-port-mapping", "floating-ip",
                                  "lockdown", "security-groups"])
def test_example(name: str) -> None:
    result = run_scenario(load_scenario(ROOT / "examples" / f"{name}.yaml"), SimBackend())
    assert result.error is None, result.error
    assert result.passed, [p.to_json() for p in result.probes if not p.passed]


def test_flags_go_style() -> None:
    vals, err = parse_flags(["-proto", "udp", "--host-port=53", "-container-ip", "1.2.3.4"])
    assert err is None and vals["proto"] == "udp" and vals["host-port"] == "53"
    _, err = parse_flags(["-bogus", "1"])
    assert err == "flag provided but not defined: -bogus"


def test_port_in_use() -> None:
    from netplex.network import Network
    net = Network()
    h = net.add_node("h")
    line = "docker-proxy -proto tcp -host-ip 0.0.0.0 -host-port 10080 -container-ip 172.17.0.2 -container-port 80"
    assert h.run(line).status == 0
    r = h.run(line)
    assert r.status == 1 and r.error == "listen tcp4 0.0.0.0:10080: bind: address already in use\n"
