"""labeld (netplex's LDP daemon, apps/labeld.py) on examples/mpls-ldp.yaml: the labels follow the
routing table, the path is rebuilt when a router fails, LDP's messages decode in tshark."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from netplex.fabric import network
from netplex.network import Network
from netplex.scenario.loader import load_scenario_text
from netplex.scenario.runner import run_scenario
from netplex.scenario.sim import SimBackend

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "mpls-ldp.yaml"
NSEC = 1_000_000_000


def lab(seconds: int = 3) -> Network:
    net = network(EXAMPLE.read_text())
    net.world.run_for(seconds * NSEC)
    return net


def test_example_rebuilds_the_path_when_r2_fails(tmp_path: Path) -> None:
    res = run_scenario(load_scenario_text(EXAMPLE.read_text(), "mpls-ldp.yaml"), SimBackend(pcap_dir=tmp_path))
    assert res.passed, [p.to_json() for p in res.probes if not p.passed]
    (flow,) = res.events[0]["flows"]
    assert flow["outage_ms"] <= 16 and flow["lost"] <= 2 and "recovered" not in flow, flow
    if shutil.which("tshark") is None:
        return
    # what labeld sent are LDP PDUs to tshark: Hello (0x100), Address (0x300), Label Mapping (0x400)
    out = subprocess.run(["tshark", "-r", str(tmp_path / "r1-eth1.pcap"), "-Y", "ldp", "-T", "fields",
                          "-e", "ldp.msg.type", "-e", "ldp.msg.tlv.fec.pfval", "-e", "ldp.msg.tlv.generic.label",
                          "-e", "_ws.malformed", "-e", "_ws.expert"], capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    rows = [r.split("\t") for r in out.stdout.splitlines()]
    assert rows and not any(r[3] for r in rows), rows[:3]
    assert {"0x0100", "0x0300", "0x0400"} <= set(rows[0][0].split(",")), rows[0]
    assert any("10.2.0.0" in r[1] for r in rows)


def test_the_lsp_follows_the_routes() -> None:
    net = lab()
    r1, r2 = net.nodes["r1"], net.nodes["r2"]
    # r4 is the egress of 10.2.0.0/24 (implicit null): r2 pops, r1 pushes r2's label
    assert "10.2.0.0/24 local 17" in r2.cmd("labelctl")
    assert "17 via inet 10.0.24.4 dev eth1 \n" in r2.cmd("ip -M route")
    assert r1.cmd("ip route show 10.2.0.0/24").startswith("10.2.0.0/24  encap mpls  17 via 10.0.12.2 dev eth1")
    assert net.nodes["h1"].run("ping -c 2 -W 1 10.2.0.10").status == 0
    # a route the operator adds gets a label too
    assert net.nodes["r4"].run("ip addr add 10.9.0.1/24 dev eth1").status == 0
    for n in ("r1", "r2"):
        assert net.nodes[n].run("ip route add 10.9.0.0/24 via " + ("10.0.12.2" if n == "r1" else "10.0.24.4")).status == 0
    net.world.run_for(2 * NSEC)
    assert "10.9.0.0/24 local 18" in r2.cmd("labelctl")
    assert "encap mpls  18 via 10.0.12.2" in r1.cmd("ip route show 10.9.0.0/24")


def test_a_silent_peer_takes_its_labels_with_it() -> None:
    net = lab()
    r1, r2 = net.nodes["r1"], net.nodes["r2"]
    assert r2.run("kill $(pidof labeld)").status == 0
    # ending the daemon removes what it installed
    assert r2.cmd("ip -M route") == ""
    net.world.run_for(4 * NSEC)              # past the 3 s hold time
    assert "peer 10.0.12.2: down, 0 labels" in r1.cmd("labelctl")
    assert r1.cmd("ip route show 10.2.0.0/24").startswith("10.2.0.0/24 via 10.0.12.2 dev eth1 metric 10")
    assert net.nodes["h1"].run("ping -c 1 -W 1 10.2.0.10").status == 0     # plain IPv4 now


@pytest.mark.parametrize("argv, error", [
    ("labeld", "labeld: at least one PEER is needed\n"),
    ("labeld --interval 5 --holdtime 3 10.0.12.2", "labeld: the hold time must be longer than the interval\n"),
    ("labeld --interval x 10.0.12.2", "labeld: invalid interval: x\n"),
    ("labeld 10.0.12", "labeld: invalid peer address: 10.0.12\n"),
    ("labeld --bogus 1", "labeld: unknown option --bogus\n"),
])
def test_bad_input(argv: str, error: str) -> None:
    net = Network()
    a = net.add_node("a")
    r = a.run(argv)
    assert (r.status, r.error) == (1, error + "usage: labeld [--interval SECONDS] [--holdtime SECONDS] PEER [PEER ...]\n")


def test_without_mpls_or_twice() -> None:
    net = Network()
    a = net.add_node("a")
    r = a.run("labeld 10.0.0.2")
    assert (r.status, r.error) == (1, "labeld: the mpls_router module is not loaded (modprobe mpls_iptunnel)\n")
    net = lab(0)
    r = net.nodes["r1"].run("labeld 10.0.12.2")
    assert (r.status, r.error) == (1, "labeld: already running in this network namespace\n")
    doc = yaml.safe_load(EXAMPLE.read_text())
    assert all("labeld" in spec["setup"] for name, spec in doc["nodes"].items() if name.startswith("r"))
