"""FRR's configuration language (frr.conf, `vtysh -c 'conf t' ...`) for the statements
netplex models: the CLI nodes of lib/command.h (CONFIG, BGP, BGP_IPV4) and the
commands of bgpd/bgp_vty.c that shape an IPv4 unicast eBGP/iBGP speaker.

A line is read in the current node; a line the node does not know is tried in
the parent nodes, as vtysh's config reader does (`command_config_read_one_line`
walking up to CONFIG_NODE), so `neighbor ... remote-as` after `address-family`
still lands in `router bgp`. A statement netplex does not model is refused with
`FrrConfigError("... is not supported")` naming it: nothing of it is applied.
FRR's own checks are kept where netplex knows them: a neighbor option before
its `remote-as` ("% Specify remote-as or peer-group commands first"), a second
`router bgp` with another AS ("BGP is already running; AS is N").

`running_config` prints the configuration back in FRR 8.4's order and
indentation (bgp_config_write), as `show running-config` and `write memory` do.
"""
from __future__ import annotations

from dataclasses import dataclass, field

from netplex.errors import NetplexError
from netplex.frr.ospf_config import InterfaceConfig, OspfConfig, interface_line, interface_lines, ospf_line, ospf_lines
from netplex.packet.addr import int_to_ip, ip_to_int

__all__ = ["BgpConfig", "FrrConfigError", "FrrConfig", "Neighbor", "Parser", "parse_prefix", "running_config"]

FRR_VERSION = "8.4.4"
DEFAULT_KEEPALIVE, DEFAULT_HOLDTIME = 60, 180
# frr defaults datacenter (bgpd/bgp_vty.c FRR_CFG_DEFAULT_*): keepalive 3, hold 9, connect retry 10
DATACENTER_KEEPALIVE, DATACENTER_HOLDTIME = 3, 9
MULTIPATH_NUM = 64           # Debian's build: --enable-multipath=64


class FrrConfigError(NetplexError):
    """A configuration line FRR refuses (its message), or netplex does not model."""


@dataclass(slots=True)
class Neighbor:
    addr: int
    remote_as: int | None = None            # None with kind "external"/"internal"
    kind: str = "as"                        # "as" | "external" | "internal"
    description: str = ""
    keepalive: int | None = None
    holdtime: int | None = None
    connect_retry: int | None = None
    next_hop_self: bool = False
    shutdown: bool = False
    passive: bool = False
    activated: bool = True
    update_source: str | None = None        # `update-source A.B.C.D|IFNAME`: the session's source
    group: str | None = None                # `neighbor A peer-group NAME`: a member of NAME
    name: str = ""                          # a peer-group's own entry: its name (addr 0)


@dataclass(slots=True)
class BgpConfig:
    asn: int
    router_id: int | None = None
    ebgp_requires_policy: bool = True
    import_check: bool = True
    multipath_relax: bool = False
    compare_routerid: bool = False
    deterministic_med: bool = False
    default_ipv4_unicast: bool = True
    local_pref: int = 100
    keepalive: int | None = None
    holdtime: int | None = None
    neighbors: dict[int, Neighbor] = field(default_factory=dict)
    groups: dict[str, Neighbor] = field(default_factory=dict)     # `neighbor NAME peer-group`
    networks: list[tuple[int, int]] = field(default_factory=list)
    redistribute: list[str] = field(default_factory=list)
    maximum_paths: int = MULTIPATH_NUM
    maximum_paths_ibgp: int = MULTIPATH_NUM
    log_neighbor_changes: bool | None = None

    def effective(self, n: Neighbor) -> Neighbor:
        """A neighbor's settings with its peer-group's filling what it does not set itself."""
        g = self.groups.get(n.group) if n.group is not None else None
        if g is None:
            return n
        own_timers = n.keepalive is not None
        return Neighbor(n.addr, n.remote_as if n.kind else g.remote_as, n.kind or g.kind or "as",
                        n.description or g.description, n.keepalive if own_timers else g.keepalive,
                        n.holdtime if own_timers else g.holdtime, n.connect_retry or g.connect_retry,
                        n.next_hop_self or g.next_hop_self, n.shutdown or g.shutdown, n.passive or g.passive,
                        n.activated and g.activated, n.update_source or g.update_source, n.group)


@dataclass(slots=True)
class FrrConfig:
    profile: str = "traditional"
    hostname: str | None = None
    bgp: BgpConfig | None = None
    extra: list[str] = field(default_factory=list)     # lines kept verbatim (log, service ...)
    interfaces: dict[str, InterfaceConfig] = field(default_factory=dict)   # `interface IFNAME` (ospf_config.py)
    ospf: OspfConfig | None = None                                          # `router ospf`

    def keepalive_holdtime(self) -> tuple[int, int]:
        """The speaker-wide timers: `timers bgp`, else the profile's."""
        b = self.bgp
        if b is not None and b.keepalive is not None and b.holdtime is not None:
            return b.keepalive, b.holdtime
        if self.profile == "datacenter":
            return DATACENTER_KEEPALIVE, DATACENTER_HOLDTIME
        return DEFAULT_KEEPALIVE, DEFAULT_HOLDTIME

    def connect_retry(self) -> int:
        return 10 if self.profile == "datacenter" else 120


def parse_prefix(text: str) -> tuple[int, int] | None:
    """A.B.C.D/M with no host bits set (FRR: "% Inconsistent address and mask"); None if not a prefix."""
    addr, sep, plen = text.partition("/")
    if not sep or not plen.isdigit() or int(plen) > 32:
        return None
    try:
        a = ip_to_int(addr)
    except ValueError:
        return None
    n = int(plen)
    mask = ((1 << n) - 1) << (32 - n) if n else 0
    return (a & mask, n)


def _addr(text: str) -> int | None:
    try:
        return ip_to_int(text) if text.count(".") == 3 else None
    except ValueError:
        return None


def _asn(text: str) -> int | None:
    if text.isdigit() and 1 <= int(text) <= 0xFFFFFFFF:
        return int(text)
    return None


def _unsupported(line: str) -> FrrConfigError:
    return FrrConfigError(f'"{line}" is not supported')


# The CLI nodes (lib/command.h): what a line is read in.
CONFIG_NODE, BGP_NODE, BGP_IPV4_NODE = "config", "bgp", "bgp-ipv4"
INTERFACE_NODE, OSPF_NODE = "interface", "ospf"
_PARENT = {BGP_IPV4_NODE: BGP_NODE, BGP_NODE: CONFIG_NODE, INTERFACE_NODE: CONFIG_NODE, OSPF_NODE: CONFIG_NODE}
# lines accepted anywhere in CONFIG that only touch logging or vtysh (no routing effect)
_KEPT_PREFIXES = ("log ", "service integrated-vtysh-config", "no service integrated-vtysh-config",
                  "line vty", "no ipv6 forwarding", "ipv6 forwarding")


class Parser:
    """Applies configuration lines to an `FrrConfig`, keeping the CLI node between lines."""

    def __init__(self, conf: FrrConfig) -> None:
        self.conf = conf
        self.node = CONFIG_NODE
        self.ifname = ""

    def feed(self, raw: str) -> None:
        """One line; FrrConfigError with FRR's (or netplex's) message when it is refused."""
        line = " ".join(raw.split())
        if not line or line.startswith("!") or line.startswith("#"):
            return
        if line == "end":
            self.node = CONFIG_NODE
            return
        node = self.node
        while True:
            done = self._in_node(node, line)
            if done:
                return
            if node not in _PARENT:
                raise _unsupported(line)
            node = _PARENT[node]
            self.node = node

    def _in_node(self, node: str, line: str) -> bool:
        if node == CONFIG_NODE:
            return self._config(line) or self._config_ospf(line)
        if node in (INTERFACE_NODE, OSPF_NODE):
            return self._ospf_nodes(node, line)
        if node == BGP_NODE:
            return self._bgp(line)
        return self._bgp_ipv4(line)

    # -- CONFIG_NODE -----------------------------------------------------------
    def _config(self, line: str) -> bool:
        w = line.split()
        c = self.conf
        if line == "exit":
            return True
        if w[:2] == ["frr", "version"]:
            return True
        if w[:2] == ["frr", "defaults"] and len(w) == 3 and w[2] in ("traditional", "datacenter"):
            c.profile = w[2]
            return True
        if w[0] == "hostname" and len(w) == 2:
            c.hostname = w[1]
            return True
        if line.startswith(_KEPT_PREFIXES) or line == "log stdout":
            if line not in c.extra:
                c.extra.append(line)
            return True
        if w[:2] == ["router", "bgp"] and len(w) == 3:
            asn = _asn(w[2])
            if asn is None:
                raise _unsupported(line)
            if c.bgp is not None and c.bgp.asn != asn:
                raise FrrConfigError(f"BGP is already running; AS is {c.bgp.asn}")
            if c.bgp is None:
                c.bgp = BgpConfig(asn, ebgp_requires_policy=c.profile != "datacenter",
                                  deterministic_med=c.profile == "datacenter")
            self.node = BGP_NODE
            return True
        if w[:2] == ["no", "router"] and len(w) == 4 and w[2] == "bgp" and c.bgp is not None:
            c.bgp = None
            return True
        return False

    # -- INTERFACE_NODE and OSPF_NODE (ospf_config.py) ------------------------------
    def _config_ospf(self, line: str) -> bool:
        w = line.split()
        c = self.conf
        if w[0] == "interface" and len(w) == 2:
            c.interfaces.setdefault(w[1], InterfaceConfig(w[1]))
            self.ifname, self.node = w[1], INTERFACE_NODE
            return True
        if w == ["router", "ospf"]:
            if c.ospf is None:
                c.ospf = OspfConfig()
            self.node = OSPF_NODE
            return True
        if w == ["no", "router", "ospf"]:
            c.ospf = None
            return True
        return False

    def _ospf_nodes(self, node: str, line: str) -> bool:
        if line in ("exit", "quit", "exit-interface"):
            self.node = CONFIG_NODE
            return True
        c = self.conf
        try:
            if node == INTERFACE_NODE:
                return interface_line(c.interfaces[self.ifname], line.split())
            assert c.ospf is not None
            return ospf_line(c.ospf, c.interfaces, line.split())
        except ValueError:
            raise _unsupported(line) from None

    # -- BGP_NODE ----------------------------------------------------------------
    def _bgp(self, line: str) -> bool:
        b = self.conf.bgp
        assert b is not None
        w = line.split()
        neg = w[0] == "no"
        body = w[1:] if neg else w
        if line in ("exit", "quit"):
            self.node = CONFIG_NODE
            return True
        if body[:2] == ["bgp", "router-id"] and len(body) in (2, 3):
            if neg:
                b.router_id = None
                return True
            rid = _addr(body[2]) if len(body) == 3 else None
            if rid is None:
                raise _unsupported(line)
            b.router_id = rid
            return True
        if body == ["bgp", "ebgp-requires-policy"]:
            b.ebgp_requires_policy = not neg
            return True
        if body == ["bgp", "network", "import-check"]:
            b.import_check = not neg
            return True
        if body == ["bgp", "bestpath", "as-path", "multipath-relax"]:
            b.multipath_relax = not neg
            return True
        if body == ["bgp", "bestpath", "compare-routerid"]:
            b.compare_routerid = not neg
            return True
        if body == ["bgp", "deterministic-med"]:
            b.deterministic_med = not neg
            return True
        if body == ["bgp", "default", "ipv4-unicast"]:
            b.default_ipv4_unicast = not neg
            return True
        if body == ["bgp", "log-neighbor-changes"]:
            b.log_neighbor_changes = not neg
            return True
        if body[:3] == ["bgp", "default", "local-preference"] and len(body) == 4 and body[3].isdigit():
            b.local_pref = 100 if neg else int(body[3])
            return True
        if body[:2] == ["timers", "bgp"]:
            if neg:
                b.keepalive = b.holdtime = None
                return True
            if len(body) == 4 and body[2].isdigit() and body[3].isdigit():
                b.keepalive, b.holdtime = _timers(int(body[2]), int(body[3]))
                return True
            raise _unsupported(line)
        if body[:1] == ["neighbor"] and len(body) >= 3:
            return self._neighbor(b, body, neg, line, in_af=False)
        if w[:2] == ["address-family", "ipv4"] and w[2:] in ([], ["unicast"]):
            self.node = BGP_IPV4_NODE
            return True
        if body[:1] == ["maximum-paths"]:      # in the BGP node FRR applies it to ipv4 unicast
            return self._maximum_paths(b, body, neg, line)
        return False

    def _neighbor(self, b: BgpConfig, body: list[str], neg: bool, line: str, in_af: bool) -> bool:
        addr = _addr(body[1])
        opt = body[2:]
        if addr is None:                 # a peer-group's name (interface neighbors are not modelled)
            name = body[1]
            if opt == ["peer-group"] and not in_af:
                if neg:
                    if name not in b.groups:
                        raise FrrConfigError("% Create the peer-group first")   # not checked against FRR
                    del b.groups[name]
                    for a in [a for a, m in b.neighbors.items() if m.group == name]:
                        del b.neighbors[a]
                elif name not in b.groups:
                    b.groups[name] = Neighbor(0, None, "", name=name, activated=b.default_ipv4_unicast)
                return True
            n = b.groups.get(name)
            if n is None:
                raise _unsupported(line)
            if opt[0] == "remote-as" and not in_af and not neg:
                return self._remote_as(n, opt, line)
            return self._options(n, opt, neg, line, in_af)
        n = b.neighbors.get(addr)
        if opt[0] == "peer-group" and len(opt) == 2 and not in_af:
            if opt[1] not in b.groups:
                raise FrrConfigError("% Configure the peer-group first")
            if neg:
                if n is not None and n.group == opt[1]:
                    del b.neighbors[addr]
                return True
            g = b.groups[opt[1]]
            if n is None:
                if not g.kind:
                    raise FrrConfigError("% Specify remote-as or peer-group remote AS first")  # not checked
                b.neighbors[addr] = Neighbor(addr, None, "", group=opt[1], activated=b.default_ipv4_unicast)
            else:
                n.group = opt[1]
            return True
        if opt[0] == "remote-as" and not in_af:
            if neg:
                if n is None:
                    raise FrrConfigError("% Specify remote-as or peer-group commands first")
                del b.neighbors[addr]
                return True
            if n is not None and n.group is not None and b.groups[n.group].kind:
                raise FrrConfigError("% Peer-group member cannot override remote-as of peer-group.")
            new = Neighbor(addr, None, "", activated=b.default_ipv4_unicast)
            self._remote_as(n if n is not None else new, opt, line)    # refused: nothing made
            if n is None:
                b.neighbors[addr] = new
            return True
        if n is None:
            raise FrrConfigError("% Specify remote-as or peer-group commands first")
        return self._options(n, opt, neg, line, in_af)

    @staticmethod
    def _remote_as(n: Neighbor, opt: list[str], line: str) -> bool:
        if len(opt) != 2:
            raise _unsupported(line)
        if opt[1] in ("external", "internal"):
            n.remote_as, n.kind = None, opt[1]
            return True
        asn = _asn(opt[1])
        if asn is None:
            raise _unsupported(line)
        n.remote_as, n.kind = asn, "as"
        return True

    @staticmethod
    def _options(n: Neighbor, opt: list[str], neg: bool, line: str, in_af: bool) -> bool:
        """The per-neighbor (or per-peer-group) options netplex models."""
        if opt[0] == "activate" and len(opt) == 1:
            n.activated = not neg
            return True
        if opt[0] == "next-hop-self" and len(opt) == 1:
            n.next_hop_self = not neg
            return True
        if in_af:
            raise _unsupported(line)
        if opt[0] == "description":
            n.description = "" if neg else " ".join(opt[1:])
            return True
        if opt == ["shutdown"]:
            n.shutdown = not neg
            return True
        if opt == ["passive"]:
            n.passive = not neg
            return True
        if opt[0] == "update-source" and len(opt) == 2:
            n.update_source = None if neg else opt[1]
            return True
        if opt[0] == "timers" and len(opt) == 3 and opt[1] == "connect" and opt[2].isdigit():
            n.connect_retry = None if neg else int(opt[2])
            return True
        if opt[0] == "timers" and len(opt) == 3 and opt[1].isdigit() and opt[2].isdigit():
            n.keepalive, n.holdtime = (None, None) if neg else _timers(int(opt[1]), int(opt[2]))
            return True
        raise _unsupported(line)

    @staticmethod
    def _maximum_paths(b: BgpConfig, body: list[str], neg: bool, line: str) -> bool:
        ibgp = len(body) >= 2 and body[1] == "ibgp"
        rest = body[2:] if ibgp else body[1:]
        if len(rest) != 1 or not rest[0].isdigit() or not 1 <= int(rest[0]) <= MULTIPATH_NUM:
            raise _unsupported(line)
        value = MULTIPATH_NUM if neg else int(rest[0])
        if ibgp:
            b.maximum_paths_ibgp = value
        else:
            b.maximum_paths = value
        return True

    # -- BGP_IPV4_NODE -------------------------------------------------------------
    def _bgp_ipv4(self, line: str) -> bool:
        b = self.conf.bgp
        assert b is not None
        w = line.split()
        neg = w[0] == "no"
        body = w[1:] if neg else w
        if line in ("exit-address-family", "exit"):
            self.node = BGP_NODE
            return True
        if body[:1] == ["network"] and len(body) == 2:
            p = parse_prefix(body[1])
            if p is None:
                raise _unsupported(line)
            if neg:
                if p not in b.networks:
                    raise FrrConfigError("% Can't find static route specified")
                b.networks.remove(p)
            elif p not in b.networks:
                b.networks.append(p)
            return True
        if body[:1] == ["redistribute"] and len(body) == 2 and body[1] in ("connected", "static", "kernel"):
            if neg:
                if body[1] in b.redistribute:
                    b.redistribute.remove(body[1])
            elif body[1] not in b.redistribute:
                b.redistribute.append(body[1])
            return True
        if body[:1] == ["maximum-paths"]:
            return self._maximum_paths(b, body, neg, line)
        if body[:1] == ["neighbor"] and len(body) >= 3:
            return self._neighbor(b, body, neg, line, in_af=True)
        return False


def _timers(keepalive: int, holdtime: int) -> tuple[int, int]:
    if holdtime != 0 and holdtime < 3:
        raise FrrConfigError("% hold time value must be either 0 or greater than 3")   # bgp_vty.c
    return keepalive, holdtime


def running_config(conf: FrrConfig, hostname: str, forwarding: bool = False) -> str:
    """bgp_config_write and vtysh's header, as `show running-config` prints them."""
    out = ["Building configuration...", "", "Current configuration:", "!"]
    out += config_lines(conf, hostname, forwarding)
    out += ["end", ""]
    return "\n".join(out)


def config_lines(conf: FrrConfig, hostname: str, forwarding: bool = False) -> list[str]:
    """The configuration as `write memory` saves it (without the running-config header); zebra
    writes `no ip forwarding` when the kernel's net.ipv4.ip_forward is 0 (zebra_ip_config)."""
    out = [f"frr version {FRR_VERSION}", f"frr defaults {conf.profile}", f"hostname {hostname}",
           *([] if forwarding else ["no ip forwarding"]), "no ipv6 forwarding", "service integrated-vtysh-config",
           "!"]
    out += [x for x in conf.extra if x not in out and not x.startswith("line vty")]
    out += interface_lines(conf.interfaces)
    b = conf.bgp
    if b is not None:
        out.append(f"router bgp {b.asn}")
        if b.router_id is not None:
            out.append(f" bgp router-id {int_to_ip(b.router_id)}")
        if b.log_neighbor_changes is not None and b.log_neighbor_changes != (conf.profile == "datacenter"):
            out.append(f" {'' if b.log_neighbor_changes else 'no '}bgp log-neighbor-changes")
        if b.ebgp_requires_policy != (conf.profile != "datacenter"):
            out.append(f" {'' if b.ebgp_requires_policy else 'no '}bgp ebgp-requires-policy")
        if not b.default_ipv4_unicast:
            out.append(" no bgp default ipv4-unicast")
        if b.local_pref != 100:
            out.append(f" bgp default local-preference {b.local_pref}")
        if not b.import_check:
            out.append(" no bgp network import-check")
        if b.deterministic_med != (conf.profile == "datacenter"):
            out.append(f" {'' if b.deterministic_med else 'no '}bgp deterministic-med")
        if b.compare_routerid:
            out.append(" bgp bestpath compare-routerid")
        if b.multipath_relax:
            out.append(" bgp bestpath as-path multipath-relax")
        if b.keepalive is not None:
            out.append(f" timers bgp {b.keepalive} {b.holdtime}")
        for n in [*b.groups.values(), *b.neighbors.values()]:
            a = n.name or int_to_ip(n.addr)
            if n.name:
                out.append(f" neighbor {a} peer-group")
            elif n.group is not None:
                out.append(f" neighbor {a} peer-group {n.group}")
            if n.kind:
                out.append(f" neighbor {a} remote-as {n.remote_as if n.kind == 'as' else n.kind}")
            if n.description:
                out.append(f" neighbor {a} description {n.description}")
            if n.passive:
                out.append(f" neighbor {a} passive")
            if n.update_source is not None:
                out.append(f" neighbor {a} update-source {n.update_source}")
            if n.shutdown:
                out.append(f" neighbor {a} shutdown")
            if n.keepalive is not None:
                out.append(f" neighbor {a} timers {n.keepalive} {n.holdtime}")
            if n.connect_retry is not None:
                out.append(f" neighbor {a} timers connect {n.connect_retry}")
        af: list[str] = []
        for p, plen in b.networks:
            af.append(f"  network {int_to_ip(p)}/{plen}")
        for r in b.redistribute:
            af.append(f"  redistribute {r}")
        for n in [*b.groups.values(), *b.neighbors.values()]:
            a = n.name or int_to_ip(n.addr)
            if n.activated != b.default_ipv4_unicast:
                af.append(f"  {'' if n.activated else 'no '}neighbor {a} activate")
            if n.next_hop_self:
                af.append(f"  neighbor {a} next-hop-self")
        if b.maximum_paths != MULTIPATH_NUM:
            af.append(f"  maximum-paths {b.maximum_paths}")
        if b.maximum_paths_ibgp != MULTIPATH_NUM:
            af.append(f"  maximum-paths ibgp {b.maximum_paths_ibgp}")
        if af:
            out += [" !", " address-family ipv4 unicast", *af, " exit-address-family"]
        out += ["exit", "!"]
    out += ospf_lines(conf.ospf)
    return out
