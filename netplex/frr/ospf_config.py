"""frr.conf's `interface IFNAME` and `router ospf` nodes, for zebra's addresses and ospfd
(FRR 8.4: zebra/interface.c, ospfd/ospf_vty.c).

Modelled: in an interface, zebra's `ip address A.B.C.D/M` and `description`, and ospfd's
`ip ospf cost|hello-interval|dead-interval|priority|network point-to-point|broadcast|
passive|area`; in `router ospf`, `ospf router-id`, `network A.B.C.D/M area AREA` (the area
dotted or a number, printed back as written), `passive-interface IFNAME` (FRR 8.4 turns it
into the interface's `ip ospf passive`), `log-adjacency-changes [detail]`. Anything else
is refused by its caller (`config.py`) naming the line. `interface_lines`/`ospf_lines` print
them as `show running-config` does: vtysh sorts an interface's lines; `router ospf` follows
ospf_config_write_one's order. A value out of FRR's range raises ValueError (the line is
then refused as FRR's parser does not match it).
"""
from __future__ import annotations

from dataclasses import dataclass, field

from netplex.packet.addr import int_to_ip, ip_to_int

__all__ = ["InterfaceConfig", "OspfConfig", "OspfIfParams", "interface_line", "interface_lines", "ospf_line",
           "ospf_lines", "parse_area"]


@dataclass(slots=True)
class OspfIfParams:
    cost: int | None = None
    hello: int | None = None
    dead: int | None = None
    priority: int | None = None
    network: str | None = None         # "point-to-point" | "broadcast"
    passive: bool = False
    area: tuple[int, str] | None = None


@dataclass(slots=True)
class InterfaceConfig:
    name: str
    addresses: list[tuple[int, int]] = field(default_factory=list)   # zebra's `ip address` (address, plen)
    description: str = ""
    ospf: OspfIfParams = field(default_factory=OspfIfParams)


@dataclass(slots=True)
class OspfConfig:
    router_id: int | None = None
    networks: list[tuple[int, int, int, str]] = field(default_factory=list)  # prefix, plen, area, as written
    log_adjacency: str | None = None   # None, "" or "detail"


def _num(text: str, lo: int, hi: int) -> int:
    if not text.isdigit() or not lo <= int(text) <= hi:
        raise ValueError(text)
    return int(text)


def _addr(text: str) -> int:
    if text.count(".") != 3:
        raise ValueError(text)
    return ip_to_int(text)


def parse_area(text: str) -> tuple[int, str]:
    """An area ID as FRR reads it: A.B.C.D or 0-4294967295; kept with its written form."""
    if text.count(".") == 3:
        return _addr(text), text
    return _num(text, 0, 0xFFFFFFFF), text


def _prefix(text: str, host_bits_ok: bool) -> tuple[int, int]:
    addr, sep, plen = text.partition("/")
    if not sep:
        raise ValueError(text)
    n = _num(plen, 0, 32)
    a = _addr(addr)
    mask = ((1 << n) - 1) << (32 - n) if n else 0
    return (a if host_bits_ok else a & mask), n


def interface_line(ic: InterfaceConfig, words: list[str]) -> bool:
    """One line inside `interface IFNAME`; False when it is not one netplex models."""
    neg = words[0] == "no"
    w = words[1:] if neg else words
    if w[:1] == ["description"]:
        ic.description = "" if neg else " ".join(w[1:])
        return True
    if w[:2] == ["ip", "address"] and len(w) == 3:
        p = _prefix(w[2], host_bits_ok=True)
        if neg:
            if p in ic.addresses:
                ic.addresses.remove(p)
        elif p not in ic.addresses:
            ic.addresses.append(p)
        return True
    if w[:2] != ["ip", "ospf"] or len(w) < 3:
        return False
    o = ic.ospf
    key, args = w[2], w[3:]
    if key == "passive" and not args:
        o.passive = not neg
        return True
    if key == "network" and (neg or len(args) == 1):
        if not neg and args[0] not in ("point-to-point", "broadcast"):
            return False
        o.network = None if neg else args[0]
        return True
    if key == "area" and (neg or len(args) == 1):
        o.area = None if neg else parse_area(args[0])
        return True
    ranges = {"cost": (1, 65535), "hello-interval": (1, 65535), "dead-interval": (1, 65535), "priority": (0, 255)}
    if key not in ranges or (not neg and len(args) != 1) or len(args) > 1:
        return False
    value = None if neg else _num(args[0], *ranges[key])
    if key == "cost":
        o.cost = value
    elif key == "hello-interval":
        o.hello = value
    elif key == "dead-interval":
        o.dead = value
    else:
        o.priority = value
    return True


def ospf_line(oc: OspfConfig, interfaces: dict[str, InterfaceConfig], words: list[str]) -> bool:
    """One line inside `router ospf`; False when it is not one netplex models."""
    neg = words[0] == "no"
    w = words[1:] if neg else words
    if w[:2] == ["ospf", "router-id"] and len(w) in (2, 3):
        oc.router_id = None if neg else _addr(w[2]) if len(w) == 3 else None
        return len(w) == 3 or neg
    if w[:1] == ["network"] and len(w) == 4 and w[2] == "area":
        dst, plen = _prefix(w[1], host_bits_ok=False)
        area, text = parse_area(w[3])
        entry = (dst, plen, area, text)
        same = [n for n in oc.networks if n[:2] == (dst, plen)]
        if neg:
            for n in same:
                oc.networks.remove(n)
        elif not same:
            oc.networks.append(entry)
        return True
    if w[:1] == ["passive-interface"] and len(w) == 2 and w[1] != "default":
        interfaces.setdefault(w[1], InterfaceConfig(w[1])).ospf.passive = not neg
        return True
    if w[:1] == ["log-adjacency-changes"] and len(w) <= 2 and w[1:] in ([], ["detail"]):
        oc.log_adjacency = None if neg else ("detail" if w[1:] else "")
        return True
    return False


def interface_lines(interfaces: dict[str, InterfaceConfig]) -> list[str]:
    """The interface blocks, each's lines sorted as vtysh's config merge keeps them."""
    out: list[str] = []
    for name in sorted(interfaces):
        ic = interfaces[name]
        o = ic.ospf
        body = [f" ip address {int_to_ip(a)}/{n}" for a, n in ic.addresses]
        if ic.description:
            body.append(f" description {ic.description}")
        if o.network is not None:
            body.append(f" ip ospf network {o.network}")
        for key, value in (("cost", o.cost), ("hello-interval", o.hello), ("dead-interval", o.dead),
                           ("priority", o.priority)):
            if value is not None:
                body.append(f" ip ospf {key} {value}")
        if o.area is not None:
            body.append(f" ip ospf area {o.area[1]}")
        if o.passive:
            body.append(" ip ospf passive")
        out += [f"interface {name}", *sorted(body), "exit", "!"]
    return out


def ospf_lines(oc: OspfConfig | None) -> list[str]:
    if oc is None:
        return []
    out = ["router ospf"]
    if oc.router_id is not None:
        out.append(f" ospf router-id {int_to_ip(oc.router_id)}")
    if oc.log_adjacency is not None:
        out.append(" log-adjacency-changes" + (" detail" if oc.log_adjacency else ""))
    for dst, plen, _area, text in sorted(oc.networks):    # config_write_network_area: the table's order
        out.append(f" network {int_to_ip(dst)}/{plen} area {text}")
    return out + ["exit", "!"]
