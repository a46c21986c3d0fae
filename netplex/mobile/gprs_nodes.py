"""The 2G/2.5G/3G node kinds (`@node_kind`): ms, bts, bsc, pcu, nodeb, rnc, sgsn, ggsn, hlr, and
msc, vlr, auc, eir, gmsc as topology elements.

    2.5G  ms -Um- bts -Abis- bsc -- pcu -Gb- sgsn -Gn- ggsn -Gi- internet     hlr on Gr
    3G    ms -Uu- nodeb -Iub- rnc -Iu-PS- sgsn -Gn- ggsn -Gi- internet

The BTS, the BSC and the Node B relay the radio to the controller: once the
setup has run, each bridges its links (`ip link add ran0 type bridge`, every
port enslaved), the Abis/Iub transport as layer 2. The PCU and the RNC are
the controllers (`gprs_ran.RanController`), the SGSN, GGSN and HLR the core
(`gprs`). The MSC, VLR, AUC, EIR and GMSC are Linux machines in the picture
and run no protocol: circuit-switched voice is out of scope (the AuC's
function is the HLR's Milenage). The MS's `attach` procedure (the `attach:`
probe) is the GPRS attach then the PDP context activation; it then sets the
PDP address and a default route on the radio, as a modem's driver does.

These kinds run in the simulator only: on the kernel twin the daemons and
relays are refused by name (`twin_start`).
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from netplex.errors import NetplexError
from netplex.mobile.daemon import hex_teid
from netplex.mobile.gateways import UPF_DEV
from netplex.mobile.gprs import Ggsn, Hlr, HlrSubscriber, Sgsn
from netplex.mobile.gprs_ran import MsModem, RanController
from netplex.mobile.nodes import MobileNode
from netplex.mobile.params import GgsnParams, HlrParams, MsParams, RanParams, SgsnParams, TopologyParams
from netplex.mobile.twin import pgw_sgi_commands
from netplex.network import node_kind
from netplex.stack.tun import TunFile

__all__ = ["MsNode", "RelayNode", "PcuNode", "RncNode", "SgsnNode", "GgsnNode", "HlrNode", "TopologyNode",
           "RELAY_KINDS", "PDP_TIMEOUT_NS", "GPRS_ATTACH_TIMEOUT_NS"]

NSEC_PER_SEC = 1_000_000_000
GPRS_ATTACH_TIMEOUT_NS = 15 * NSEC_PER_SEC   # T3310 (TS 24.008 §11.2.2)
PDP_TIMEOUT_NS = 30 * NSEC_PER_SEC           # T3380 (TS 24.008 §11.2.3)
RELAY_KINDS = ("bts", "bsc", "nodeb")
RAN_BRIDGE = "ran0"


class _GprsNode(MobileNode):
    @classmethod
    def twin_start(cls, name: str, nodes: Mapping[str, Any], links: Sequence[Any],
                   addresses: Mapping[str, Sequence[str]]) -> list[str]:
        raise NetplexError(f"{name}: the 2.5G/3G packet core (kind {nodes[name].kind}) runs in the simulator only; "
                           "the kernel twin runs the 4G EPC")


@node_kind("ms")
class MsNode(_GprsNode):
    """A mobile station: its radio is its one link to a BTS (2.5G) or a Node B (3G)."""

    params_model = MsParams
    params: MsParams

    def controller(self) -> tuple[Any, MobileNode, MobileNode, str]:
        """(the radio device, its BTS/Node B, the PCU/RNC reached through the relays, the generation)."""
        radios = self.radio_links("bts") + self.radio_links("nodeb")
        if len(radios) != 1:
            raise NetplexError(f"{self.name}: a mobile station needs exactly one link to a BTS or a Node B "
                               f"(its radio), it has {len(radios)}")
        dev, cell = radios[0]
        gen, want = ("2.5G", "pcu") if cell.kind == "bts" else ("3G", "rnc")
        seen, todo = {cell.name}, [cell]
        while todo:
            relay = todo.pop()
            for kind in (want, *RELAY_KINDS):
                for _dev, far in relay.radio_links(kind):
                    if far.kind == want:
                        return dev, cell, far, gen
                    if far.name not in seen:
                        seen.add(far.name)
                        todo.append(far)
        raise NetplexError(f"{self.name}: its {cell.kind} {cell.name} reaches no {want} "
                           f"({'2.5G' if want == 'pcu' else '3G'}: {cell.kind} to {want} through the relays)")

    def start(self) -> None:
        self.radio, self.cell, self.ran, self.generation = self.controller()
        self.sh(f"ip link set {self.radio.name} up")
        p = self.params
        self.modem = MsModem(self.name, p.imsi, bytes.fromhex(p.key), bytes.fromhex(p.opc), p.apn,
                             self.radio.ifindex, self.generation, self.ran.name)
        self.spawn(self.modem)

    def procedure(self, name: str) -> tuple[bool, dict[str, Any]]:
        if name != "attach":
            return super().procedure(name)
        modem = self.modem
        if modem.pdp == "ACTIVE":
            return False, {"error": f"{self.name} is attached already", "ip": modem.ip}
        modem.attach()
        self.net.run_until(lambda: modem.state != "GMM-REGISTERED-INITIATED", GPRS_ATTACH_TIMEOUT_NS)
        ran = self.ran
        assert isinstance(ran.params, RanParams)
        sgsn_node = ran.peer(ran.params.sgsn, "sgsn")
        sgsn = sgsn_node.daemon
        assert isinstance(sgsn, Sgsn)
        observed: dict[str, Any] = {"imsi": modem.imsi, "generation": self.generation, "cell": self.cell.name,
                                    "ran": ran.name, "sgsn": sgsn_node.name}
        if modem.state == "GMM-REGISTERED-INITIATED":
            modem.state = "GMM-DEREGISTERED"
            observed["error"] = "timed out: no answer to the GPRS Attach Request within 15 s (T3310)"
            return False, observed
        ctx = sgsn.by_imsi(modem.imsi)
        if modem.error is None:
            self.net.run_until(lambda: modem.pdp != "ACTIVE-PENDING", PDP_TIMEOUT_NS)
            if modem.pdp == "ACTIVE-PENDING":
                modem.pdp = "INACTIVE"
                observed["error"] = "timed out: no answer to the Activate PDP Context Request within 30 s (T3380)"
                return False, observed
        if modem.error is not None:
            self.net.run_for(NSEC_PER_SEC // 10)   # the MS's last word reaching the SGSN
            observed["error"] = modem.error
            if ctx is not None and ctx.cause:
                observed["network"] = ctx.cause
            return False, observed
        assert ctx is not None and ctx.ggsn is not None
        ggsn = sgsn.name_of(ctx.ggsn)
        teids = {"sgsn_teid_c": (ctx.teid_c, sgsn_node.name, "Gn SGSN GTP-C"),
                 "sgsn_teid_u": (ctx.teid_u, sgsn_node.name, "Gn SGSN GTP-U"),
                 "ggsn_teid_c": (ctx.ggsn_teid_c, ggsn, "Gn GGSN GTP-C"),
                 "ggsn_teid_u": (ctx.ggsn_teid_u, ggsn, "Gn GGSN GTP-U")}
        if self.generation == "3G":
            teids["sgsn_iu_teid"] = (ctx.iu_teid, sgsn_node.name, "Iu-U SGSN GTP-U")
            teids["rnc_iu_teid"] = (ctx.rnc_teid, ran.name, "Iu-U RNC GTP-U")
        observed.update({"ip": modem.ip, "apn": ctx.apn, "ggsn": ggsn, "p_tmsi": modem.ptmsi,
                         "teids": {k: hex_teid(v[0]) for k, v in teids.items()},
                         "allocated_by": {k: f"{v[1]} ({v[2]})" for k, v in teids.items()}})
        dev = self.radio.name
        self.sh(f"ip addr flush dev {dev}")
        self.sh(f"ip addr add {modem.ip}/32 dev {dev}")
        self.sh(f"ip route replace default dev {dev}")
        return True, observed


class RelayNode(_GprsNode):
    """A BTS, a BSC or a Node B: the radio's transport to the controller, a bridge over its links."""

    params_model = TopologyParams

    def start(self) -> None:
        ports = sorted({mine.name for a, b, _l in self.net.links for mine in (a, b) if mine.ns is self.ns})
        if not ports or RAN_BRIDGE in self.ns.devices:
            return
        self.sh(f"ip link add {RAN_BRIDGE} type bridge")
        self.sh(f"ip link set {RAN_BRIDGE} up")
        for port in ports:
            self.sh(f"ip link set {port} master {RAN_BRIDGE}")
            self.sh(f"ip link set {port} up")


for _kind in RELAY_KINDS:
    node_kind(_kind)(type(f"{_kind.capitalize()}Node", (RelayNode,), {"__doc__": RelayNode.__doc__}))


class _Controller(_GprsNode):
    params_model = RanParams
    params: RanParams
    generation = "3G"
    faces: tuple[str, ...] = ()

    def start(self) -> None:
        radios = [dev for kind in self.faces for dev, _far in self.radio_links(kind)]
        for dev in radios:
            self.sh(f"ip link set {dev.name} up")
        sgsn = self.peer(self.params.sgsn, "sgsn")
        stations = {dev.mac: node.name for node in self.net.nodes.values() if node.kind == "ms"
                    for dev in node.ns.devices.values() if dev.name != "lo"}
        self.spawn(RanController(self.name, self.bind_address(), self.names(), sgsn.bind_address(), self.generation,
                                 [d.ifindex for d in radios], stations))


@node_kind("pcu")
class PcuNode(_Controller):
    """The packet control unit (2.5G): its radio side toward a BSC or BTS, Gb toward the SGSN."""

    generation = "2.5G"
    faces = ("bsc", "bts", "ms")


@node_kind("rnc")
class RncNode(_Controller):
    """The radio network controller (3G): its radio side toward its Node Bs, Iu-PS toward the SGSN."""

    generation = "3G"
    faces = ("nodeb", "ms")


@node_kind("sgsn")
class SgsnNode(_GprsNode):
    params_model = SgsnParams
    params: SgsnParams

    def start(self) -> None:
        p = self.params
        self.spawn(Sgsn(self.name, self.bind_address(), self.names(), self.peer(p.hlr, "hlr").bind_address(), p.plmn))


@node_kind("hlr")
class HlrNode(_GprsNode):
    params_model = HlrParams
    params: HlrParams

    def start(self) -> None:
        ggsn = self.addresses_of([s.ggsn for s in self.params.subscribers], "ggsn")
        subs = [HlrSubscriber(s.imsi, bytes.fromhex(s.key), bytes.fromhex(s.opc), s.apn, s.msisdn, ggsn[s.ggsn], s.sqn)
                for s in self.params.subscribers]
        self.spawn(Hlr(self.name, self.bind_address(), self.names(), subs))


@node_kind("ggsn")
class GgsnNode(_GprsNode):
    """The GGSN: its Gi side set up as the PGW's SGi is (`ogstun`, forwarding, MASQUERADE)."""

    params_model = GgsnParams
    params: GgsnParams

    def start(self) -> None:
        p = self.params
        addr, names = self.bind_address(), self.names()
        for line in pgw_sgi_commands(p.pool, p.nat):
            self.sh(line)
        pcrf = None if p.pcrf is None else self.peer(p.pcrf, "pcrf").bind_address()
        self.spawn(Ggsn(self.name, addr, names, p.pool, pcrf, lambda: TunFile(self.ns, UPF_DEV)))


class TopologyNode(MobileNode):
    """MSC, VLR, AUC, EIR, GMSC: a Linux machine in the picture; circuit-switched voice is not modelled."""

    params_model = TopologyParams

    @classmethod
    def twin_start(cls, name: str, nodes: Mapping[str, Any], links: Sequence[Any],
                   addresses: Mapping[str, Sequence[str]]) -> list[str]:
        return []


for _kind in ("msc", "vlr", "auc", "eir", "gmsc"):
    node_kind(_kind)(type(f"{_kind.capitalize()}Node", (TopologyNode,), {"__doc__": TopologyNode.__doc__}))
