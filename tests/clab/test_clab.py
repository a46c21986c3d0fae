"""containerlab topology files run by `netplex run`: real labs, a lab of netplex's own on both
backends, and one located message per bad file."""
from __future__ import annotations

import os
import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netplex.clab import load_clab
from netplex.cli import app
from netplex.errors import ScenarioError
from netplex.scenario.model import Probe
from netplex.scenario.runner import run_scenario
from netplex.scenario.sim import SimBackend

DATA = Path(__file__).resolve().parent.parent / "data" / "containerlab"
runner = CliRunner()

LANS_PINGS = [("h1", "192.168.1.12"), ("h1", "192.168.2.13"), ("h3", "192.168.1.11"), ("h2", "192.168.2.1")]


def _with_pings(path: Path, pings: list[tuple[str, str]]):
    lab = load_clab(path)
    lab.scenario.probes.extend(Probe.model_validate({"ping": {"from": a, "to": b}}) for a, b in pings)
    return lab


def test_lans_lab_hosts_reach_each_other_over_bridge_ovs_bridge_and_router() -> None:
    lab = _with_pings(DATA / "lans.clab.yml", LANS_PINGS)
    result = run_scenario(lab.scenario, SimBackend())
    assert result.error is None, result.error
    assert [p.ok for p in result.probes] == [True] * len(LANS_PINGS)


def test_lans_lab_setup_is_what_containerlab_would_do() -> None:
    lab = load_clab(DATA / "lans.clab.yml")
    h3 = [(s.file_line, s.command) for s in lab.scenario.nodes["h3"].setup_lines()]
    assert h3 == [(29, "sysctl -qw net.ipv4.ip_forward=1"),     # a container inherits the docker host's
                  (46, "ip link set dev eth1 address 02:00:00:00:00:13"), (44, "ip link set eth1 up"),
                  (31, "export GW='192.168.2.1'"), (33, "ip addr add 192.168.2.13/24 dev eth1"),
                  (34, "ip route add default via $GW")]
    assert [s.command for s in lab.scenario.nodes["lan2"].setup_lines()][:2] == [
        "ovs-vsctl add-br lan2", "ovs-vsctl add-port lan2 r1-port"]
    assert [s.command for s in lab.scenario.nodes["r1"].setup_lines()][3] == "sysctl -w net.ipv4.ip_forward=1"


@pytest.mark.linux
@pytest.mark.parametrize("switch", ["bridge", "ovs-bridge"])
def test_lans_lab_agrees_with_the_kernel(tmp_path: Path, switch: str) -> None:
    if os.geteuid() != 0:
        pytest.skip("the kernel twin needs root")
    from netplex.twin.backend import LinuxBackend
    from netplex.twin.features import kernel_has
    if switch == "ovs-bridge" and (shutil.which("ovs-vsctl") is None or not kernel_has("openvswitch")):
        pytest.skip("needs ovs-vsctl and TUN/TAP (the twin's userspace Open vSwitch)")
    lab = tmp_path / "lans.clab.yml"
    lab.write_text((DATA / "lans.clab.yml").read_text().replace("kind: ovs-bridge", f"kind: {switch}"))
    sim = run_scenario(_with_pings(lab, LANS_PINGS).scenario, SimBackend())
    twin = run_scenario(_with_pings(lab, LANS_PINGS).scenario, LinuxBackend())
    assert twin.error is None, twin.error
    assert [p.ok for p in sim.probes] == [p.ok for p in twin.probes] == [True] * len(LANS_PINGS)


def test_frr01_imports_with_its_binds_and_exec() -> None:
    """containerlab's lab-examples/frr01: every node linux; the PCs' exec runs, the routers' FRR
    files are placed where the image's daemons read them, and FRR starts as the image's entrypoint
    starts it (tests/frr/test_ospf.py pings across it)."""
    r = runner.invoke(app, ["run", str(DATA / "frr01" / "frr01.clab.yml")])
    assert r.exit_code == 0, r.stderr
    assert "node PC1 is pc1 in netplex" in r.stderr
    assert "image quay.io/frrouting/frr:10.5.1 (router1, router2, router3)" in r.stderr
    lab = load_clab(DATA / "frr01" / "frr01.clab.yml")
    assert set(lab.scenario.nodes) == {"router1", "router2", "router3", "pc1", "pc2", "pc3"}
    conf = lab.scenario.nodes["router1"].file_contents()["/etc/frr/frr.conf"]
    assert b"router ospf" in conf
    router1 = [s.command for s in lab.scenario.nodes["router1"].setup_lines()]
    assert router1[-1] == "/usr/lib/frr/frrinit.sh start"
    pc1 = [(s.file_line, s.command) for s in lab.scenario.nodes["pc1"].setup_lines()]
    assert pc1[1] == (53, "ip link set eth1 up") and pc1[-1] == (34, "ip route add 10.10.10.0/24 via 192.168.11.1 dev eth1")
    shell = runner.invoke(app, ["shell", str(DATA / "frr01" / "frr01.clab.yml"), "router2"],
                          input="cat /etc/frr/frr.conf\nexit\n")
    assert "hostname router2" in shell.stdout


def test_smoke_single_node_runs_and_host_link_is_refused() -> None:
    r = runner.invoke(app, ["run", str(DATA / "smoke" / "07-linux-single-node.clab.yml")])
    assert r.exit_code == 0 and "netplex has no management network" in r.stderr
    r = runner.invoke(app, ["run", str(DATA / "smoke" / "03-linux-nodes-to-bridge-and-host.clab.yml")])
    assert r.exit_code == 2
    assert r.stderr.startswith(f"{DATA / 'smoke' / '03-linux-nodes-to-bridge-and-host.clab.yml'}:25: "
                               "topology.links.2.endpoints.1: endpoint \"host:l1-01-03-eth3\" is on this machine")


LAB = """name: bad
topology:
  nodes:
    n1:
      kind: linux
      exec:
        - ip addr add 10.0.0.1/24 dev eth1
        - ip link set eth9 up
    n2:
      kind: linux
  links:
    - endpoints: ["n1:eth1", "n2:eth1"]
"""


@pytest.mark.parametrize("change,line,field,message", [
    (("kind: linux\n      exec", "kind: nokia_srlinux\n      exec"), 5, "topology.nodes.n1.kind",
     'kind "nokia_srlinux" is not supported'),
    (('"n2:eth1"', '"n3:eth1"'), 12, "topology.links.0.endpoints.1", 'node "n3" is not defined'),
    (("    n2:\n      kind: linux\n", "    n2:\n      kind: linux\n      binds:\n        - /etc/passwd:/etc/passwd\n"),
     12, "topology.nodes.n2.binds.0", "is outside the lab's folder"),
    (("      kind: linux\n  links", "      kind: linux\n      colour: red\n  links"), 11, "topology.nodes.n2.colour",
     'unknown node key "colour"'),
    (("  links:\n", "  links:\n    - type: macvlan\n      endpoint: {node: n1, interface: m0}\n"), 12,
     "topology.links.0.type", 'link type "macvlan" is not supported'),
])
def test_bad_lab_one_message_naming_file_line_field(tmp_path: Path, change, line, field, message) -> None:
    p = tmp_path / "bad.clab.yml"
    p.write_text(LAB.replace(*change))
    with pytest.raises(ScenarioError) as e:
        load_clab(p)
    assert (e.value.line, e.value.field) == (line, field)
    assert message in str(e.value)
    r = runner.invoke(app, ["run", str(p)])
    assert r.exit_code == 2 and r.stderr.startswith(f"{p}:{line}: {field}: ")


def test_failing_exec_line_is_reported_at_its_line_in_the_lab(tmp_path: Path) -> None:
    p = tmp_path / "bad.clab.yml"
    p.write_text(LAB)
    r = runner.invoke(app, ["run", str(p)])
    assert r.exit_code == 2
    assert f"{p}:8: n1: setup line 4 failed: ip link set eth9 up" in r.stderr
    assert 'Cannot find device "eth9"' in r.stderr
