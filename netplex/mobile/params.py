"""The scenario keys of the mobile node kinds (issue 17's example), validated with file, line and field.

    ue1:   {kind: ue, imsi: "001010000000001", key: HEX32, opc: HEX32, apn: internet}
    enb1:  {kind: enodeb, mme: mme1}
    mme1:  {kind: mme, hss: hss1, sgw: sgw1, plmn: "00101"}
    hss1:  {kind: hss, subscribers: [{imsi: ..., key: ..., opc: ..., apn: internet, ambr_dl_kbps: 100000}]}
    sgw1:  {kind: sgw}
    pgw1:  {kind: pgw, pool: 10.45.0.0/16, pcrf: pcrf1}
    pcrf1: {kind: pcrf, rules: [{apn: internet, deny: 157.240.0.0/16}]}

Every kind also takes `addr:`, the IPv4 address its daemon binds to (by default
the node's one global address once its setup has run). A key naming another
node must name one of the right kind; `sgw:` on an MME and `pgw:` on a
subscriber may be left out when the scenario has exactly one such node.
"""
from __future__ import annotations

import ipaddress
import re
from collections.abc import Mapping
from typing import Annotated, Any

from pydantic import BeforeValidator, Field, field_validator

from netplex.network import NodeParams

__all__ = ["UeParams", "EnodebParams", "MmeParams", "HssParams", "Subscriber", "SgwParams", "PgwParams",
           "PcrfParams", "PcrfRule", "MsParams", "RanParams", "SgsnParams", "GprsSubscriber", "HlrParams",
           "GgsnParams", "TopologyParams"]

Loc = tuple[str | int, ...]


def _digits(n: str, lo: int, hi: int) -> Any:
    def check(v: Any) -> str:
        if isinstance(v, int) and not isinstance(v, bool):
            raise ValueError(f'write the {n} in quotes ("{v}"): a number loses its leading zeros')
        if not isinstance(v, str) or not v.isdigit() or not lo <= len(v) <= hi:
            size = f"{lo}" if lo == hi else f"{lo} to {hi}"
            raise ValueError(f'invalid {n} "{v}": {size} digits')
        return v
    return BeforeValidator(check)


def _hex128(v: Any) -> str:
    if not isinstance(v, str) or not re.fullmatch(r"[0-9a-fA-F]{32}", v):
        raise ValueError(f'invalid value "{v}": 128 bits as 32 hex digits')
    return v.lower()


def _ipv4(v: Any) -> str:
    try:
        return str(ipaddress.IPv4Address(str(v)))
    except ValueError:
        raise ValueError(f'invalid IPv4 address "{v}"') from None


def _network(v: Any) -> str:
    try:
        return str(ipaddress.IPv4Network(str(v), strict=True))
    except ValueError as e:
        raise ValueError(f'invalid IPv4 network "{v}": {e}') from None


def _apn(v: Any) -> str:
    if not isinstance(v, str) or not re.fullmatch(r"[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)*", v) or len(v) > 100:
        raise ValueError(f'invalid APN "{v}": labels of letters, digits and "-" joined by "."')
    return v.lower()


Imsi = Annotated[str, _digits("IMSI", 6, 15)]
Plmn = Annotated[str, _digits("PLMN (MCC and MNC)", 5, 6)]
Key = Annotated[str, BeforeValidator(_hex128)]
Addr = Annotated[str | None, BeforeValidator(lambda v: None if v is None else _ipv4(v))]
Net = Annotated[str, BeforeValidator(_network)]
Apn = Annotated[str, BeforeValidator(_apn)]
Kbps = Annotated[int, Field(ge=1, le=4_294_967_295)]


def _ref(kinds: Mapping[str, str], field: str, name: str | None, want: str) -> list[tuple[Loc, str]]:
    """`field` names node `name`, which must exist and be of kind `want`; absent (None): exactly one such node."""
    if name is None:
        found = sorted(n for n, k in kinds.items() if k == want)
        if len(found) == 1:
            return []
        which = "none" if not found else f"{len(found)}: {', '.join(found)}"
        return [((field,), f"required: say which node of kind {want} (the scenario has {which})")]
    if name not in kinds:
        return [((field,), f'unknown node "{name}"')]
    if kinds[name] != want:
        return [((field,), f'node "{name}" is of kind {kinds[name]}, not {want}')]
    return []


def _unique_imsis(subscribers: list[Any]) -> list[Any]:
    seen: set[str] = set()
    for s in subscribers:
        if s.imsi in seen:
            raise ValueError(f'IMSI "{s.imsi}" is listed twice')
        seen.add(s.imsi)
    return subscribers


def _subscriber_refs(kinds: Mapping[str, str], names: list[str | None], kind: str) -> list[tuple[Loc, str]]:
    """Each subscriber's `kind:` key (its gateway) names a node of that kind."""
    return [(("subscribers", i, *loc), m) for i, name in enumerate(names) for loc, m in _ref(kinds, kind, name, kind)]


class _Mobile(NodeParams):
    addr: Addr = None


class UeParams(_Mobile):
    """A phone: its USIM (IMSI, K, OPc), the APN it asks for, and (with radios to several eNodeBs) the
    one it camps on first (default: the first of its links to an eNodeB)."""

    imsi: Imsi
    key: Key
    opc: Key
    apn: Apn = "internet"
    enodeb: str | None = None

    def reference_issues(self, kinds: Mapping[str, str]) -> list[tuple[Loc, str]]:
        return [] if self.enodeb is None else _ref(kinds, "enodeb", self.enodeb, "enodeb")


class EnodebParams(_Mobile):
    """A base station: the MME it connects to over S1-MME, and its user inactivity timer (seconds of no
    user-plane packet after which it asks the MME to release the UE to ECM-IDLE; 0: never)."""

    mme: str
    inactivity: Annotated[int, Field(ge=0, le=86400)] = 0
    tac: Annotated[int, Field(ge=1, le=65533)] = 1       # TS 23.003 §19.4.2.3: 0000 and FFFE are reserved
    x2: list[str] = []                                     # neighbours it sets X2 up with (TS 36.423 §8.3.3)

    def reference_issues(self, kinds: Mapping[str, str]) -> list[tuple[Loc, str]]:
        return _ref(kinds, "mme", self.mme, "mme") + [
            (("x2", i), m) for i, n in enumerate(self.x2) for _loc, m in _ref(kinds, "x2", n, "enodeb")]


class MmeParams(_Mobile):
    """The control plane: its PLMN (the serving network), its HSS (S6a) and SGW (S11)."""

    hss: str
    sgw: str | None = None
    plmn: Plmn = "00101"
    t3412: int = 3240            # seconds: the periodic TAU timer given to UEs (TS 24.301 §10.2)

    @field_validator("t3412")
    @classmethod
    def _gprs_timer(cls, v: int) -> int:
        if not any(v % step == 0 and 0 < v // step <= 31 for step in (2, 60, 360)):
            raise ValueError(f"T3412 of {v} s is not a GPRS timer value (2..62 s by 2, up to 31 min by minutes, "
                             "up to 186 min by 6 minutes)")
        return v

    def reference_issues(self, kinds: Mapping[str, str]) -> list[tuple[Loc, str]]:
        return _ref(kinds, "hss", self.hss, "hss") + _ref(kinds, "sgw", self.sgw, "sgw")


class Subscriber(NodeParams):
    """A subscription (TS 29.272 §7.3.2 Subscription-Data): keys, APN, AMBR, the PGW that serves its APN."""

    imsi: Imsi
    key: Key
    opc: Key
    apn: Apn = "internet"
    ambr_dl_kbps: Kbps = 100_000
    ambr_ul_kbps: Kbps = 50_000
    pgw: str | None = None
    roaming: bool = True
    sqn: Annotated[int, Field(ge=0, lt=2**48)] = 0


class HssParams(_Mobile):
    subscribers: list[Subscriber] = []

    _unique = field_validator("subscribers")(classmethod(lambda cls, v: _unique_imsis(v)))

    def reference_issues(self, kinds: Mapping[str, str]) -> list[tuple[Loc, str]]:
        return _subscriber_refs(kinds, [s.pgw for s in self.subscribers], "pgw")


class SgwParams(_Mobile):
    """The serving gateway: S11 toward the MME, S1-U and S5/S8 for the user plane."""


class PgwParams(_Mobile):
    """The PDN gateway: the UEs' address pool (its first address is the gateway's own), its PCRF (Gx)."""

    pool: Net = "10.45.0.0/16"
    pcrf: str | None = None
    nat: bool = True

    @field_validator("pool")
    @classmethod
    def _room(cls, v: str) -> str:
        if ipaddress.IPv4Network(v).prefixlen > 29:
            raise ValueError(f'pool "{v}" is too small: at most /29')
        return v

    def reference_issues(self, kinds: Mapping[str, str]) -> list[tuple[Loc, str]]:
        return [] if self.pcrf is None else _ref(kinds, "pcrf", self.pcrf, "pcrf")


class PcrfRule(NodeParams):
    """A PCC rule for one APN: traffic to `deny` is gated off (TS 29.212 Flow-Status DISABLED)."""

    apn: Apn = "internet"
    deny: Annotated[list[Net], BeforeValidator(lambda v: [v] if isinstance(v, str) else v)]


class PcrfParams(_Mobile):
    rules: list[PcrfRule] = []


# --- 2.5G (GPRS) and 3G (UMTS) packet core (netplex.mobile.gprs) ------------------------------

Msisdn = Annotated[str, _digits("MSISDN", 5, 15)]


class MsParams(_Mobile):
    """A mobile station: its (U)SIM, the APN it activates a PDP context for, its MSISDN."""

    imsi: Imsi
    key: Key
    opc: Key
    apn: Apn = "internet"
    msisdn: Msisdn | None = None


class RanParams(_Mobile):
    """A PCU (2.5G, Gb) or an RNC (3G, Iu-PS): the SGSN it connects to."""

    sgsn: str | None = None

    def reference_issues(self, kinds: Mapping[str, str]) -> list[tuple[Loc, str]]:
        return _ref(kinds, "sgsn", self.sgsn, "sgsn")


class SgsnParams(_Mobile):
    """The SGSN: its HLR (Gr) and its PLMN (the routing area's)."""

    hlr: str | None = None
    plmn: Plmn = "00101"

    def reference_issues(self, kinds: Mapping[str, str]) -> list[tuple[Loc, str]]:
        return _ref(kinds, "hlr", self.hlr, "hlr")


class GprsSubscriber(NodeParams):
    """A GPRS subscription (TS 29.002 GPRSSubscriptionData): keys, the APN, the GGSN that serves it."""

    imsi: Imsi
    key: Key
    opc: Key
    apn: Apn = "internet"
    msisdn: Msisdn | None = None
    ggsn: str | None = None
    sqn: Annotated[int, Field(ge=0, lt=2**48)] = 0


class HlrParams(_Mobile):
    subscribers: list[GprsSubscriber] = []

    _unique = field_validator("subscribers")(classmethod(lambda cls, v: _unique_imsis(v)))

    def reference_issues(self, kinds: Mapping[str, str]) -> list[tuple[Loc, str]]:
        return _subscriber_refs(kinds, [s.ggsn for s in self.subscribers], "ggsn")


class GgsnParams(PgwParams):
    """The GGSN: the PDP addresses' pool (its first address is the GGSN's own), an optional PCRF (Gx)."""

    pool: Net = "10.46.0.0/16"


class TopologyParams(_Mobile):
    """An element of the older architectures that netplex places in the topology but runs no protocol of
    (circuit-switched voice is out of scope): MSC, VLR, AUC, EIR, GMSC; or a radio relay (BTS, BSC, Node B)."""
