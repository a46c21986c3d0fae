"""The mobile node kinds: ue, enodeb, mme, hss, sgw, pgw, pcrf (`@node_kind`, docs/arch/machine.md).

Each is a Linux machine like any node — its links, setup lines, files and
services are a scenario's as usual — that runs its EPC daemon once every
node's setup has run (`start`). The daemon binds the node's address (`addr:`,
or its one global IPv4 address) and reaches its peers at theirs; a key naming
another node (`mme: mme1`) is how it finds them, as Open5GS's YAML names
addresses. The UE's radio is its link to an eNodeB. The UE's `attach`
procedure is the `attach:` probe: it runs the attach, then configures the
UE's address and default route on the radio as a modem's driver does.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from netplex.apps.process import Program
from netplex.errors import NetplexError
from netplex.mobile.daemon import hex_teid
from netplex.mobile.diameter_servers import Hss, HssSubscriber, Pcrf
from netplex.mobile.gateways import UPF_DEV, Pgw, Sgw
from netplex.mobile.mme import Mme
from netplex.mobile.params import (
    EnodebParams,
    HssParams,
    MmeParams,
    PcrfParams,
    PgwParams,
    SgwParams,
    UeParams,
    _Mobile,
)
from netplex.mobile.ran import Enodeb, UeModem
from netplex.mobile.twin import ATTACH_LINE, choose_address, pgw_sgi_commands, plan
from netplex.network import Node, NodeParams, node_kind
from netplex.packet.addr import int_to_ip, ip_to_int
from netplex.stack.route import RT_SCOPE_UNIVERSE
from netplex.stack.tun import TunFile

__all__ = ["MobileNode", "UeNode", "EnodebNode", "MmeNode", "HssNode", "SgwNode", "PgwNode", "PcrfNode",
           "ATTACH_TIMEOUT_NS"]

NSEC_PER_SEC = 1_000_000_000
ATTACH_TIMEOUT_NS = 15 * NSEC_PER_SEC   # T3410 (TS 24.301 §10.2): the UE gives up on an attach after 15 s
SETTLE_NS = NSEC_PER_SEC                # for the network to finish steps 9-10 after the UE's Attach Complete


class MobileNode(Node):
    """A node of the EPC: its kind's keys, its daemon."""

    params: _Mobile

    def __init__(self, net: Any, name: str) -> None:
        super().__init__(net, name)
        self.daemon: Program | None = None

    @classmethod
    def twin_start(cls, name: str, nodes: Mapping[str, Any], links: Sequence[Any],
                   addresses: Mapping[str, Sequence[str]]) -> list[str]:
        """On the kernel twin: the same daemon as a process of the node (`twin.plan`)."""
        return plan(nodes, links, addresses, 0)[name]

    def configure(self, params: NodeParams) -> None:
        assert isinstance(params, _Mobile)
        self.params = params

    def bind_address(self) -> int:
        """`addr:`, or the node's one global IPv4 address (the PGW's pool gateway on ogstun aside)."""
        found = []
        for ifindex, addrs in self.ns.addrs.items():
            dev = self.ns.by_index.get(ifindex)
            if dev is None or dev.name in ("lo", UPF_DEV):
                continue
            found.extend(int_to_ip(a.addr) for a in addrs if a.scope == RT_SCOPE_UNIVERSE)
        try:
            return ip_to_int(choose_address(self.name, self.kind, self.params.addr, found))
        except ValueError as e:
            raise NetplexError(str(e)) from None

    def peer(self, name: str | None, kind: str) -> MobileNode:
        """The node a key names (None: the scenario's only node of `kind`; the loader checked both)."""
        if name is None:
            name = next(n for n, node in self.net.nodes.items() if node.kind == kind)
        node = self.net.nodes[name]
        assert isinstance(node, MobileNode)
        return node

    def names(self) -> dict[int, str]:
        """Every EPC node's address -> its name, for the narration and the `show` commands."""
        out: dict[int, str] = {}
        for node in self.net.nodes.values():
            if isinstance(node, MobileNode) and not isinstance(node, UeNode):
                try:
                    out[node.bind_address()] = node.name
                except NetplexError:
                    pass
        return out

    def spawn(self, program: Program) -> None:
        p = self.machine.procs.spawn([program.comm], self.ns, program)
        if not p.alive:
            raise NetplexError(p.error.rstrip("\n"))
        self.daemon = program

    def radio_links(self, kind: str) -> list[tuple[Any, MobileNode]]:
        """This node's devices cabled to a node of `kind`, with that node (each device's cable peer: linear
        in this node's devices, not in the scenario's links)."""
        out: list[tuple[Any, MobileNode]] = []
        for dev in self.ns.devices.values():
            far = dev.peer
            node = None if far is None else self.net.nodes.get(far.ns.name)
            if isinstance(node, MobileNode) and node.ns is far.ns and node.kind == kind:
                out.append((dev, node))
        return out

    def addresses_of(self, names: list[str | None], kind: str) -> dict[str | None, int]:
        """The bind address of each node `names` name (None: the scenario's only one of `kind`), each
        looked up once however many subscribers name it."""
        return {name: self.peer(name, kind).bind_address() for name in set(names)}

    def sh(self, line: str) -> None:
        r = self.run(line)
        if r.status != 0:
            raise NetplexError(f"{self.name}: {line}: {(r.error or r.output).rstrip()}")


@node_kind("ue")
class UeNode(MobileNode):
    """A phone: the USIM's IMSI, K and OPc, and the APN it asks for."""

    params_model = UeParams
    params: UeParams

    @classmethod
    def twin_procedure(cls, name: str) -> str | None:
        return ATTACH_LINE if name == "attach" else None

    def start(self) -> None:
        radios = self.radio_links("enodeb")
        if not radios:
            raise NetplexError(f"{self.name}: a UE needs a link to an eNodeB (its radio), it has none")
        p = self.params
        first = [r for r in radios if r[1].name == p.enodeb] if p.enodeb is not None else radios[:1]
        if not first:
            raise NetplexError(f"{self.name}: no radio link to {p.enodeb}")
        self.radio, self.enb = first[0]
        for dev, _enb in radios:
            self.sh(f"ip link set {dev.name} up")
        self.modem = UeModem(self.name, p.imsi, bytes.fromhex(p.key), bytes.fromhex(p.opc), p.apn, self.radio.ifindex,
                             self.enb.name, {dev.ifindex: enb.name for dev, enb in radios}, self._cell_changed)
        self.spawn(self.modem)

    def _cell_changed(self, old: int, new: int, ip: str | None) -> None:
        """After a handover the modem's host interface is the new radio: the address and the default
        route move to it, as a modem driver's network configuration would."""
        olddev, newdev = self.ns.by_index[old], self.ns.by_index[new]
        self.radio = newdev
        self.enb = next(enb for dev, enb in self.radio_links("enodeb") if dev is newdev)
        self.sh(f"ip addr flush dev {olddev.name}")
        if ip is not None:
            self.sh(f"ip addr replace {ip}/32 dev {newdev.name}")
            self.sh(f"ip route replace default dev {newdev.name}")

    def procedure(self, name: str) -> tuple[bool, dict[str, Any]]:
        if name != "attach":
            return super().procedure(name)
        modem = self.modem
        if modem.state == "EMM-REGISTERED":
            return False, {"error": f"{self.name} is attached already", "ip": modem.ip}
        modem.attach()
        self.net.run_until(lambda: modem.state != "EMM-REGISTERED-INITIATED", ATTACH_TIMEOUT_NS)
        mme = self.enb.peer(self.enb.params.mme, "mme")   # type: ignore[attr-defined]
        daemon = mme.daemon
        assert isinstance(daemon, Mme)
        observed: dict[str, Any] = {"imsi": modem.imsi, "mme": mme.name}
        if modem.state == "EMM-REGISTERED-INITIATED":
            modem.state = "EMM-DEREGISTERED"
            observed["error"] = "timed out: no answer to the Attach Request within 15 s (T3410)"
            return False, observed
        ctx = daemon.by_imsi(modem.imsi)
        if modem.error is not None:
            self.net.run_for(SETTLE_NS // 10)
            observed["error"] = modem.error
            if ctx is not None and ctx.cause:
                observed["network"] = ctx.cause
            return False, observed
        assert ctx is not None
        self.net.run_until(lambda: ctx.state in ("ATTACHED", "REJECTED"), SETTLE_NS)
        if ctx.state != "ATTACHED":
            observed["error"] = f"the network did not complete the attach (MME state {ctx.state})"
            return False, observed
        sgw_node = self.net.nodes[daemon.name_of(ctx.sgw or 0)]
        sgw = sgw_node.daemon   # type: ignore[attr-defined]
        assert isinstance(sgw, Sgw)
        s = sgw.by_imsi(modem.imsi)
        assert s is not None
        pgw_name = daemon.name_of(s.pgw)
        teids = {"t1": (ctx.t1, mme.name, "S11 MME GTP-C"), "t2": (s.t2, sgw_node.name, "S5/S8 SGW GTP-C"),
                 "t3": (s.t3, sgw_node.name, "S5/S8 SGW GTP-U"), "t4": (s.t4, pgw_name, "S5/S8 PGW GTP-C"),
                 "t5": (s.t5, pgw_name, "S5/S8 PGW GTP-U"), "t6": (ctx.t6, sgw_node.name, "S11/S4 SGW GTP-C"),
                 "t7": (ctx.t7, sgw_node.name, "S1-U SGW GTP-U"), "t8": (ctx.t8, self.enb.name, "S1-U eNodeB GTP-U")}
        observed.update({
            "ip": modem.ip, "apn": ctx.apn, "enodeb": self.enb.name, "sgw": sgw_node.name, "pgw": pgw_name,
            "teids": {k: hex_teid(v[0]) for k, v in teids.items()},
            "allocated_by": {k: f"{v[1]} ({v[2]})" for k, v in teids.items()}})
        dev = self.radio.name
        self.sh(f"ip addr flush dev {dev}")   # a detach left the previous PDN's address
        self.sh(f"ip addr add {modem.ip}/32 dev {dev}")
        self.sh(f"ip route replace default dev {dev}")
        return True, observed


class _Daemon(MobileNode):
    def make(self) -> Program:
        raise NotImplementedError

    def start(self) -> None:
        self.spawn(self.make())


@node_kind("enodeb")
class EnodebNode(_Daemon):
    params_model = EnodebParams
    params: EnodebParams

    def make(self) -> Program:
        radios = self.radio_links("ue")
        for dev, _ue in radios:
            self.sh(f"ip link set {dev.name} up")
        mme = self.peer(self.params.mme, "mme")
        assert isinstance(mme.params, MmeParams)
        x2 = {self.peer(n, "enodeb").bind_address(): n for n in self.params.x2}
        return Enodeb(self.name, self.bind_address(), self.names(), mme.bind_address(), mme.params.plmn,
                      {dev.ifindex: ue.name for dev, ue in radios}, self.params.inactivity, self.params.tac, x2)


@node_kind("mme")
class MmeNode(_Daemon):
    params_model = MmeParams
    params: MmeParams

    def make(self) -> Program:
        p = self.params
        return Mme(self.name, self.bind_address(), self.names(), self.peer(p.hss, "hss").bind_address(),
                   self.peer(p.sgw, "sgw").bind_address(), p.plmn, p.t3412)


@node_kind("hss")
class HssNode(_Daemon):
    params_model = HssParams
    params: HssParams

    def make(self) -> Program:
        pgw = self.addresses_of([s.pgw for s in self.params.subscribers], "pgw")
        subs = [HssSubscriber(s.imsi, bytes.fromhex(s.key), bytes.fromhex(s.opc), s.apn, s.ambr_ul_kbps,
                              s.ambr_dl_kbps, pgw[s.pgw], s.roaming, s.sqn)
                for s in self.params.subscribers]
        return Hss(self.name, self.bind_address(), self.names(), subs)


@node_kind("sgw")
class SgwNode(_Daemon):
    params_model = SgwParams
    params: SgwParams

    def make(self) -> Program:
        return Sgw(self.name, self.bind_address(), self.names())


@node_kind("pgw")
class PgwNode(_Daemon):
    """The PGW: before its daemon starts, its SGi side as an Open5GS operator sets up `ogstun`."""

    params_model = PgwParams
    params: PgwParams

    def make(self) -> Program:
        p = self.params
        addr = self.bind_address()
        names = self.names()
        for line in pgw_sgi_commands(p.pool, p.nat):
            self.sh(line)
        pcrf = None if p.pcrf is None else self.peer(p.pcrf, "pcrf").bind_address()
        return Pgw(self.name, addr, names, p.pool, pcrf, self.open_tun)

    def open_tun(self) -> TunFile:
        """The daemon's open("/dev/net/tun") + TUNSETIFF IFF_TUN|IFF_NO_PI on `ogstun`."""
        return TunFile(self.ns, UPF_DEV)


@node_kind("pcrf")
class PcrfNode(_Daemon):
    params_model = PcrfParams
    params: PcrfParams

    def make(self) -> Program:
        return Pcrf(self.name, self.bind_address(), self.names(), [(r.apn, list(r.deny)) for r in self.params.rules])


