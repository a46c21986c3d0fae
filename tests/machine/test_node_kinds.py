"""Node kinds: one visible table (NODE_KINDS), a kind is a Node subclass registered with one
line, chosen by `add_node(kind=...)` or a scenario's `kind:` key."""
from __future__ import annotations

import pytest

from netplex.errors import NetplexError, ScenarioError
from netplex.network import NODE_KINDS, Network, Node, node_kind
from netplex.scenario.loader import load_scenario_text
from netplex.scenario.runner import run_scenario
from netplex.scenario.sim import SimBackend


@pytest.fixture
def toy_kind():
    @node_kind("toy-host")
    class ToyHost(Node):
        """A Linux host that comes up with its loopback up, as a later kind might."""

        def __init__(self, net: Network, name: str) -> None:
            super().__init__(net, name)
            self.run("ip link set lo up")

    yield ToyHost
    del NODE_KINDS["toy-host"]


def test_default_kind_is_linux():
    net = Network()
    h = net.add_node("h1")
    assert type(h) is Node and h.kind == "linux" and NODE_KINDS["linux"] is Node
    assert h.machine.root is h.ns


def test_registered_kind_without_touching_network(toy_kind):
    net = Network()
    t = net.add_node("t1", kind="toy-host")
    assert isinstance(t, toy_kind) and t.kind == "toy-host"
    assert "UP" in t.cmd("ip link show lo")


def test_unknown_kind():
    net = Network()
    with pytest.raises(NetplexError, match='unknown node kind "nope"'):
        net.add_node("x", kind="nope")
    assert "x" not in net.nodes


SCENARIO = """\
nodes:
  h1:
    setup: |
      ip addr add 10.0.0.1/24 dev eth0
      ip link set eth0 up
  t1:
    kind: {kind}
    setup: |
      ip addr add 10.0.0.2/24 dev eth0
      ip link set eth0 up
links:
  - ends: [h1:eth0, t1:eth0]
probes:
  - cmd: {{node: t1, run: "ip -br link show lo"}}
    expect_output: "lo               UNKNOWN        00:00:00:00:00:00 <LOOPBACK,UP,LOWER_UP>"
  - ping: {{from: h1, to: 10.0.0.2}}
"""


def test_scenario_kind_key(toy_kind):
    sc = load_scenario_text(SCENARIO.format(kind="toy-host"), "kinds.yaml")
    assert sc.nodes["t1"].kind == "toy-host" and sc.nodes["h1"].kind == "linux"
    backend = SimBackend()
    result = run_scenario(sc, backend)
    assert result.exit_status == 0, result
    assert isinstance(backend.net.nodes["t1"], toy_kind)


def test_scenario_linux_kind_is_v1():
    sc = load_scenario_text(SCENARIO.format(kind="linux"), "kinds.yaml")
    assert run_scenario(sc, SimBackend()).exit_status == 1   # lo is down on a plain host


def test_scenario_unknown_kind_is_one_line():
    with pytest.raises(ScenarioError) as e:
        load_scenario_text(SCENARIO.format(kind="ovs"), "kinds.yaml")
    assert str(e.value).startswith('kinds.yaml:7: nodes.t1.kind: unknown node kind "ovs"')
