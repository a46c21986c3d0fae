"""The EPC's user plane on the kernel twin: the same daemons over real sockets in real namespaces.

The scenario's nodes are built as Linux hosts by the linux backend, their setup
runs there, then each mobile node runs its daemon (`netplex.mobile.twin_daemon`,
the simulator's own classes over `realnet`'s sockets). The UE attaches over
real UDP/AF_PACKET, then its ping and TCP connections cross real GTP-U tunnels
through the kernel (veth, bridge, routing, ARP, the PGW's MASQUERADE) — and
must give what the simulator gives.
"""
from __future__ import annotations

import json
from pathlib import Path

import pytest

import netplex.mobile  # noqa: F401
from netplex.mobile.twin import ATTACH_LINE, as_linux, plan
from netplex.scenario.loader import load_scenario
from netplex.scenario.runner import prepare
from netplex.scenario.sim import SimBackend

ROOT = Path(__file__).resolve().parents[2]
ATTACH = ROOT / "examples" / "mobile" / "lte-attach.yaml"


def _probes(be) -> dict[str, object]:
    ping = be.ping("ue1", "8.8.8.8", 3)
    web = be.tcp("ue1", "93.184.216.34", 443)
    fb = be.tcp("ue1", "157.240.1.35", 443)
    return {"ping": ping.ok, "web": web.ok, "web_peer": web.observed.get("peer"), "facebook": fb.ok}


@pytest.mark.linux
def test_ping_crosses_real_gtp_tunnels_as_in_the_simulator() -> None:
    from netplex.twin.backend import LinuxBackend

    sc = load_scenario(ATTACH)
    sim = SimBackend()
    assert prepare(sc, sim) is None
    sim_attach = sim.attach("ue1")
    expected = _probes(sim)
    assert expected == {"ping": True, "web": True, "web_peer": "198.51.100.1", "facebook": False}

    twin_sc = sc.model_copy(update={"nodes": {n: as_linux(node) for n, node in sc.nodes.items()}})
    be = LinuxBackend()
    try:
        assert prepare(twin_sc, be) is None
        addresses = {}
        for name in sc.nodes:
            out = json.loads(be.run(name, "ip -j -4 addr show").output or "[]")
            addresses[name] = [a["local"] for dev in out if dev["ifname"] not in ("lo", "upf0")
                               for a in dev.get("addr_info", []) if a.get("scope") == "global"]
        for node, lines in plan(sc.nodes, sc.links, addresses, sc.seed).items():
            for line in lines:
                r = be.run(node, line)
                assert r.status == 0, (node, line, r.error)
        r = be.run("ue1", ATTACH_LINE)
        outcome = json.loads(r.output)
        assert outcome == {"imsi": "001010000000001", "ok": True, "ip": sim_attach.observed["ip"]}, r.error
        assert _probes(be) == expected
        # the tunnels really carried it: the UE's packets left its radio unencapsulated and the
        # PGW's kernel saw them decapsulated on upf0, counted by the kernel itself
        stats = json.loads(be.run("pgw1", "ip -j -s link show upf0").output)[0]["stats64"]
        assert stats["rx"]["packets"] >= 3 and stats["tx"]["packets"] >= 3
    finally:
        be.close()
