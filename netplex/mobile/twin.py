"""The EPC on the kernel twin: what each mobile node runs there, as shell lines.

`plan(nodes, links, addresses, seed)` turns a scenario's mobile nodes into the
lines a twin node's shell runs once every node's setup has run: the PGW's SGi
side (the same commands the simulator's PGW node runs), then one
`netplex.mobile.twin_daemon` process per node with its JSON configuration
(its address and its peers' from `addresses`, each node's global IPv4
addresses as the twin found them). `ATTACH_LINE` asks a UE's modem to attach
and prints the outcome as JSON.
"""
from __future__ import annotations

import json
import shlex
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from netplex.mobile.gateways import UPF_DEV
from netplex.mobile.params import (
    EnodebParams,
    HssParams,
    MmeParams,
    PcrfParams,
    PgwParams,
    UeParams,
    _Mobile,
)
from netplex.scenario.model import Link, Node

__all__ = ["plan", "as_linux", "ATTACH_LINE", "choose_address", "pgw_sgi_commands", "MOBILE_KINDS"]

MOBILE_KINDS = ("ue", "enodeb", "mme", "hss", "sgw", "pgw", "pcrf")
ROOT = Path(__file__).resolve().parents[2]

# the previous attach's answer goes first, or a second attach (after a detach) would read it at once
ATTACH_LINE = ("rm -f /tmp/netplex-mobile-attach.json && kill -USR1 $(cat /tmp/netplex-mobile.pid) && "
               "for i in $(seq 200); do "
               "[ -s /tmp/netplex-mobile-attach.json ] && break; sleep 0.1; done; cat /tmp/netplex-mobile-attach.json")


def choose_address(node: str, kind: str, addr: str | None, found: Sequence[str]) -> str:
    """`addr:`, or the node's one global IPv4 address; ValueError saying what to write otherwise."""
    if addr is not None:
        return addr
    if len(found) != 1:
        what = "no IPv4 address" if not found else f"{len(found)} IPv4 addresses ({', '.join(found)})"
        raise ValueError(f'{node}: the {kind} has {what}; configure one in its setup or say which with "addr:"')
    return found[0]


def pgw_sgi_commands(pool: str, nat: bool) -> list[str]:
    """The PGW's SGi side as an Open5GS operator sets up `ogstun` (its daemon then opens the TUN device)."""
    base, plen = pool.split("/")
    a, b, c, d = (int(x) for x in base.split("."))
    gw = f"{a}.{b}.{c}.{d + 1}/{plen}"
    out = [f"ip tuntap add name {UPF_DEV} mode tun", f"ip addr add {gw} dev {UPF_DEV}",
           f"ip link set {UPF_DEV} up", "sysctl -q -w net.ipv4.ip_forward=1"]
    if nat:
        out.append(f"iptables -t nat -A POSTROUTING -s {pool} ! -o {UPF_DEV} -j MASQUERADE")
    return out


def as_linux(node: Node) -> Node:
    """The node as a plain Linux host (what the twin builds): its setup, files and services, no kind keys."""
    data: dict[str, Any] = {"setup": node.setup, "services": [f"{p}:{n}" for p, n in node.services],
                            "files": dict(node.files)}
    return Node.model_validate(data)


def plan(nodes: Mapping[str, Node], links: Sequence[Link], addresses: Mapping[str, Sequence[str]],
         seed: int) -> dict[str, list[str]]:
    """Shell lines per mobile node, in the order they must run (PGWs' SGi first, then every daemon)."""
    kinds = {n: node.kind for n, node in nodes.items()}

    def addr_of(name: str) -> str:
        p = nodes[name].params
        assert isinstance(p, _Mobile)
        return choose_address(name, kinds[name], p.addr, addresses.get(name, []))

    def peer(name: str | None, kind: str) -> str:
        return name if name is not None else next(n for n, k in kinds.items() if k == kind)

    names = {addr_of(n): n for n, k in kinds.items() if k in MOBILE_KINDS and k != "ue"}
    radio: dict[str, list[tuple[str, str]]] = {}   # node -> [(its ifname, the far node)] toward the other radio kind
    for link in links:
        (na, ia), (nb, ib) = link.ends
        for (me, ifn), (far, _) in (((na, ia), (nb, ib)), ((nb, ib), (na, ia))):
            if {kinds.get(me), kinds.get(far)} == {"ue", "enodeb"}:
                radio.setdefault(me, []).append((ifn, far))
    out: dict[str, list[str]] = {}
    for name, node in nodes.items():
        p, kind = node.params, node.kind
        if kind not in MOBILE_KINDS:
            continue
        c: dict[str, Any] = {"role": kind, "node": name, "seed": seed, "names": names}
        lines: list[str] = []
        if isinstance(p, UeParams):
            cells = radio[name]
            ifn, enb = next((r for r in cells if r[1] == p.enodeb), cells[0])
            c.update(imsi=p.imsi, key=p.key, opc=p.opc, apn=p.apn, radio=ifn, enb=enb, cells=dict(cells))
            lines += [f"ip link set {i} up" for i, _ in cells]
        else:
            c["addr"] = addr_of(name)
        if isinstance(p, EnodebParams):
            mme = nodes[p.mme].params
            assert isinstance(mme, MmeParams)
            c.update(mme=addr_of(p.mme), plmn=mme.plmn, radios=dict(radio.get(name, [])), inactivity=p.inactivity,
                     tac=p.tac, x2={addr_of(n): n for n in p.x2})
            lines += [f"ip link set {ifn} up" for ifn, _ in radio.get(name, [])]
        elif isinstance(p, MmeParams):
            c.update(hss=addr_of(p.hss), sgw=addr_of(peer(p.sgw, "sgw")), plmn=p.plmn, t3412=p.t3412)
        elif isinstance(p, HssParams):
            c["subscribers"] = [dict(s.model_dump(), pgw=addr_of(peer(s.pgw, "pgw"))) for s in p.subscribers]
        elif isinstance(p, PgwParams):
            c.update(pool=p.pool, pcrf=None if p.pcrf is None else addr_of(p.pcrf))
            lines += pgw_sgi_commands(p.pool, p.nat)
        elif isinstance(p, PcrfParams):
            c["rules"] = [(r.apn, list(r.deny)) for r in p.rules]
        cmd = (f"PYTHONPATH={shlex.quote(str(ROOT))} \"$NETPLEX_PYTHON\" -m netplex.mobile.twin_daemon "
               f"{shlex.quote(json.dumps(c))} >/tmp/netplex-mobile.log 2>&1 &")
        wait = ("for i in $(seq 100); do [ -s /tmp/netplex-mobile.pid ] && break; sleep 0.1; done; "
                "[ -s /tmp/netplex-mobile.pid ] || { cat /tmp/netplex-mobile.log >&2; false; }")
        out[name] = [*lines, cmd, wait]
    return out
