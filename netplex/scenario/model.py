"""The scenario file's schema, v1 (SCENARIO.md is the contract).

Pydantic models with `extra="forbid"` everywhere, so a mistyped key is an
error rather than silently ignored. Units are parsed here, once, into
integers (`rate_bps`, `delay_ns`); checks that need the whole file (a link
end naming an undeclared node) live in `Scenario.reference_issues`, which
the loader calls so that every issue carries its exact location.
"""
from __future__ import annotations

import ipaddress
import re
from collections.abc import Callable
from typing import Annotated, Any, Literal, NamedTuple

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PrivateAttr,
    field_validator,
    model_validator,
)

from netplex.machine.fs import TOP_DIRS, FileSystem
from netplex.network import DEFAULT_NODE_KIND, NODE_KINDS, REFUSED_NODE_KINDS, NodeParams
from netplex.scenario.params import PARAM_NAME
from netplex.shell.parse import complete
from netplex.units import parse_rate, parse_size, parse_time

__all__ = [
    "Scenario", "Node", "Link", "Probe", "SetupLine",
    "PingProbe", "TcpProbe", "UdpProbe", "CmdProbe", "IperfProbe", "IperfFlow", "AttachProbe", "ATTACH_KINDS",
    "PROBE_KINDS", "Loc", "Event", "EventRun", "EVENT_ACTIONS", "Endpoint", "ENDPOINTS",
]

PROBE_KINDS = ("ping", "tcp", "udp", "cmd", "iperf", "attach")
Loc = tuple[str | int, ...]

_NODE_NAME = re.compile(r"[a-z][a-z0-9-]*")
IFNAMSIZ = 16  # include/uapi/linux/if.h; names hold at most IFNAMSIZ-1 chars


def check_node_name(v: Any) -> str:
    if not isinstance(v, str) or not _NODE_NAME.fullmatch(v) or len(v) > 12:
        raise ValueError(f'invalid node name "{v}": use [a-z][a-z0-9-]*, at most 12 characters')
    return v


def check_ifname(v: str) -> str:
    """Linux's dev_valid_name(): 1..15 chars, not "." or "..", no "/", ":" or whitespace."""
    if not v or len(v) >= IFNAMSIZ or v in (".", "..") or any(c in "/:" or c.isspace() for c in v):
        raise ValueError(f'invalid interface name "{v}": 1 to 15 characters, no "/", ":" or spaces')
    return v


def _ipv4(v: Any) -> str:
    s = str(v) if not isinstance(v, bool) else ""
    if "/" in s:
        raise ValueError(f'"{s}" is a network; an IPv4 address is expected here')
    try:
        return str(ipaddress.IPv4Address(s))
    except ValueError:
        raise ValueError(f'invalid IPv4 address "{s}"') from None


def _loss(v: Any) -> float:
    if isinstance(v, bool):
        raise ValueError(f'invalid loss "{v}"')
    if isinstance(v, str):
        s = v.strip()
        try:
            f = float(s[:-1]) / 100 if s.endswith("%") else float(s)
        except ValueError:
            raise ValueError(f'invalid loss "{v}": write 1% or 0.01') from None
    elif isinstance(v, (int, float)):
        f = float(v)
    else:
        raise ValueError(f'invalid loss "{v}": write 1% or 0.01')
    if not 0.0 <= f <= 1.0:
        raise ValueError(f'loss "{v}" is not between 0% and 100%')
    return f


def _unit(parse: Any) -> Any:
    def check(v: Any) -> Any:
        if v is None:
            return None
        return parse(v)  # ValueError carries the unit message
    return BeforeValidator(check)


def _ipv4_or_name(v: Any) -> str:
    """A probe's `to:`: an IPv4 address, or the name of an endpoint a system adds (a cloud's
    server, whose address it stands for); anything with a digit first is an address."""
    if isinstance(v, str) and _NODE_NAME.fullmatch(v):
        return v
    return _ipv4(v)


NodeName = Annotated[str, BeforeValidator(check_node_name)]
IPv4 = Annotated[str, BeforeValidator(_ipv4)]
IPv4OrName = Annotated[str, BeforeValidator(_ipv4_or_name)]
Port = Annotated[int, Field(ge=1, le=65535)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid")


# --- nodes -----------------------------------------------------------------------


class SetupLine(_Model):
    """One command of a node's setup: its number within the setup (from 1,
    blank and comment lines counted) and its line in the file."""

    line: int
    file_line: int
    command: str


def _service(v: Any) -> tuple[str, int]:
    if isinstance(v, str):
        proto, sep, port = v.partition(":")
        if sep and proto in ("tcp", "udp") and port.isdigit() and 1 <= int(port) <= 65535:
            return proto, int(port)
    raise ValueError(f'invalid service "{v}": write tcp:PORT or udp:PORT, PORT 1..65535')


Service = Annotated[tuple[str, int], BeforeValidator(_service)]


def _kind(v: Any) -> str:
    if isinstance(v, str) and v in REFUSED_NODE_KINDS:
        raise ValueError(f'node kind "{v}" is not supported: {REFUSED_NODE_KINDS[v]}')
    if not isinstance(v, str) or v not in NODE_KINDS:
        known = ", ".join(sorted(NODE_KINDS))
        raise ValueError(f'unknown node kind "{v}" (known: {known})')
    return v


# The folders a node owns on both backends (on the kernel twin: its private mounts).
NODE_FILE_DIRS = ("/etc", "/run", "/var/lib", "/tmp")


def check_file_path(v: Any) -> str:
    """A `files:` key: an absolute path on the node, outside the modelled /proc, /sys and /dev."""
    if not isinstance(v, str) or not v.startswith("/"):
        raise ValueError(f'invalid path "{v}": files are placed at absolute paths, e.g. /etc/app.conf')
    p = FileSystem.norm(v)
    if "\0" in v or v.endswith("/") or p == "/":
        raise ValueError(f'invalid path "{v}": name a file, e.g. /etc/app.conf')
    if FileSystem.is_virtual(p):
        raise ValueError(f'invalid path "{v}": /proc, /sys and /dev are modelled, not files a scenario places '
                         "(use sysctl in setup)")
    if p in TOP_DIRS:
        raise ValueError(f'invalid path "{v}": {p} is a directory')
    if not any(p.startswith(d + "/") for d in NODE_FILE_DIRS):
        raise ValueError(f'invalid path "{v}": a node\'s files live under {", ".join(NODE_FILE_DIRS)}')
    return p


def _file_value(v: Any) -> str:
    if not isinstance(v, str):
        raise ValueError("a file's value is its content (text) or a path beside the scenario file")
    return v


class Node(_Model):
    # A kind's own keys (`imsi:` on a ue) are the extra keys, validated by the kind's `params_model`.
    model_config = ConfigDict(extra="allow")

    kind: Annotated[str, BeforeValidator(_kind)] = DEFAULT_NODE_KIND   # a name in netplex.network.NODE_KINDS
    files: dict[Annotated[str, BeforeValidator(check_file_path)], Annotated[str, BeforeValidator(_file_value)]] = {}
    setup: str = ""
    services: list[Service] = []
    # Filled by the loader from the YAML marks: the file line of the setup text's first line.
    _setup_first_line: int = PrivateAttr(default=0)
    _setup_lines: list[SetupLine] | None = PrivateAttr(default=None)
    # Filled by the loader: each file's bytes, read from beside the scenario where the value names a file.
    _file_data: dict[str, bytes] | None = PrivateAttr(default=None)
    _params: NodeParams | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _kind_params(self) -> Node:
        """The keys beside kind/files/setup/services belong to the kind (errors located inside the node)."""
        self._params = NODE_KINDS[self.kind].params_model.model_validate(self.model_extra or {})
        return self

    @property
    def params(self) -> NodeParams:
        """The kind's own keys, validated (an empty `NodeParams` for a Linux host)."""
        assert self._params is not None
        return self._params

    def set_lines_and_files(self, lines: list[SetupLine], files: dict[str, bytes]) -> None:
        """A node read from another format (a containerlab file): its setup lines, each with
        its line in that file, and its files' bytes, as the YAML loader fills them."""
        self._setup_lines = list(lines)
        self._file_data = dict(files)

    def file_contents(self) -> dict[str, bytes]:
        """path -> bytes for `files:`, in file order (values as content unless the loader read a file)."""
        if self._file_data is not None:
            return self._file_data
        return {path: value.encode() for path, value in self.files.items()}

    @field_validator("setup", mode="before")
    @classmethod
    def _setup_text(cls, v: Any) -> Any:
        if v is None:
            return ""
        if not isinstance(v, str):
            raise ValueError("setup must be text: one shell line per line (use `setup: |`)")
        return v

    @field_validator("services")
    @classmethod
    def _unique_services(cls, v: list[tuple[str, int]]) -> list[tuple[str, int]]:
        seen: set[tuple[str, int]] = set()
        for s in v:
            if s in seen:
                raise ValueError(f'service "{s[0]}:{s[1]}" is listed twice')
            seen.add(s)
        return v

    def setup_lines(self) -> list[SetupLine]:
        """The commands to run, in order; blank lines and `#` comments skipped but counted.

        The setup is a shell script: a command that is not complete at the end
        of its line (a here-document, a `for` loop, an open quote) takes the
        following lines too, and is numbered by its first line.
        """
        if self._setup_lines is not None:
            return self._setup_lines
        out: list[SetupLine] = []
        rows = self.setup.splitlines()
        i = 0
        while i < len(rows):
            cmd = rows[i].strip()
            first = i + 1
            i += 1
            if not cmd or cmd.startswith("#"):
                continue
            while not complete(cmd) and i < len(rows):
                cmd += "\n" + rows[i]
                i += 1
            fl = self._setup_first_line + first - 1 if self._setup_first_line else 0
            out.append(SetupLine(line=first, file_line=fl, command=cmd.rstrip()))
        self._setup_lines = out
        return out


# --- links -----------------------------------------------------------------------


def _end(v: Any) -> tuple[str, str]:
    if not isinstance(v, str) or ":" not in v:
        raise ValueError(f'invalid link end "{v}": write NODE:IFNAME')
    node, _, ifname = v.partition(":")
    check_node_name(node)
    check_ifname(ifname)
    return node, ifname


End = Annotated[tuple[str, str], BeforeValidator(_end)]


class Link(_Model):
    """A veth pair (or, with kind tap, a TAP device and the guest NIC behind it)."""

    ends: list[End]
    kind: Literal["veth", "tap"] = "veth"
    rate_bps: Annotated[int | None, _unit(parse_rate)] = Field(default=None, alias="rate")
    delay_ns: Annotated[int | None, _unit(lambda v: parse_time(v, "s"))] = Field(default=None, alias="delay")
    loss: Annotated[float | None, BeforeValidator(lambda v: None if v is None else _loss(v))] = None
    mtu: Annotated[int, Field(ge=68, le=65535)] | None = None


    @field_validator("ends")
    @classmethod
    def _two_ends(cls, v: list[tuple[str, str]]) -> list[tuple[str, str]]:
        if len(v) != 2:
            raise ValueError(f"a link has exactly two ends, not {len(v)}")
        return v


# --- probes ----------------------------------------------------------------------


class _FromTo(_Model):
    src: NodeName = Field(alias="from")
    to: IPv4


class _ProbeFromTo(_Model):
    src: NodeName = Field(alias="from")
    to: IPv4OrName


class PingProbe(_ProbeFromTo):
    count: Annotated[int, Field(ge=1)] = 1


class TcpProbe(_ProbeFromTo):
    port: Port


class UdpProbe(_ProbeFromTo):
    port: Port


class CmdProbe(_Model):
    node: NodeName
    run: str


def _rate_range(v: Any) -> tuple[int, int]:
    if not isinstance(v, str) or ".." not in v:
        raise ValueError(f'invalid rate range "{v}": write LOW..HIGH, e.g. 27kbit..33kbit')
    lo, _, hi = v.partition("..")
    low, high = parse_rate(lo), parse_rate(hi)
    if low > high:
        raise ValueError(f'invalid rate range "{v}": low end above high end')
    return low, high


def _tos(v: Any) -> int:
    try:
        t = int(v, 0) if isinstance(v, str) else int(v)
    except (TypeError, ValueError):
        raise ValueError(f'invalid tos "{v}"') from None
    if isinstance(v, bool) or not 0 <= t <= 255:
        raise ValueError(f'invalid tos "{v}": 0..255')
    return t


class IperfFlow(_FromTo):
    port: Port
    proto: Literal["udp", "tcp"] = "tcp"
    rate_bps: Annotated[int | None, _unit(parse_rate)] = Field(default=None, alias="rate")
    size: Annotated[int | None, _unit(parse_size)] = None
    tos: Annotated[int | None, BeforeValidator(lambda v: None if v is None else _tos(v))] = None
    expect_rate: Annotated[tuple[int, int] | None, BeforeValidator(lambda v: None if v is None else _rate_range(v))] = None
    # the net_cls cgroup the client runs in (cgexec -g net_cls:PATH iperf3 -c ...): its sockets carry its classid
    cgroup: Annotated[str | None, BeforeValidator(lambda v: None if v is None else _cgroup_path(v))] = None


def _cgroup_path(v: Any) -> str:
    if not isinstance(v, str) or not v.startswith("/"):
        raise ValueError(f'invalid cgroup "{v}": a path in the net_cls hierarchy, e.g. /web')
    return "/" + v.strip("/") if v.strip("/") else "/"


def _iperf_duration(v: Any) -> int:
    """iperf3 -t: more than 0 and at most iperf3's MAX_TIME (86400 s): a longer test never ends."""
    ns = parse_time(v, "s")
    if not 0 < ns <= IPERF_MAX_DURATION_NS:
        raise ValueError(f'invalid duration "{v}": must be more than 0s and at most 86400s (iperf3\'s limit)')
    return ns


IPERF_MAX_DURATION_NS = 86_400 * 1_000_000_000


class IperfProbe(_Model):
    duration_ns: Annotated[int, _unit(_iperf_duration)] = Field(alias="duration")
    flows: Annotated[list[IperfFlow], Field(min_length=1)]


def _exactly_one(data: dict[str, Any], keys: tuple[str, ...], what: str) -> str:
    """The one key of `keys` present in `data`, or the error naming what was found."""
    present = [k for k in keys if k in data]
    if len(present) != 1:
        found = f"found {', '.join(present)}" if present else "found none"
        raise ValueError(f"{what} has exactly one of {', '.join(keys)} ({found})")
    return present[0]


ATTACH_KINDS = ("ue", "ms")   # a 4G UE (TS 23.401 attach) or a 2.5G/3G MS (GPRS attach + PDP context)


class AttachProbe(_Model):
    """A UE's attach (TS 23.401 §5.3.2): observed are its IP address and the tunnel ids t1..t8.
    An MS's (kind ms): the GPRS attach and PDP context activation (TS 23.060), its address and Gn TEIDs."""

    ue: NodeName


class Probe(_Model):
    ping: PingProbe | None = None
    tcp: TcpProbe | None = None
    udp: UdpProbe | None = None
    cmd: CmdProbe | None = None
    iperf: IperfProbe | None = None
    attach: AttachProbe | None = None
    expect: Literal["ok", "fail"] = "ok"
    expect_peer: IPv4 | None = None
    expect_output: str | None = None
    _file_line: int = PrivateAttr(default=0)  # set by the loader

    @property
    def file_line(self) -> int:
        """The probe's line in its file (0 when not loaded from a file)."""
        return self._file_line

    @model_validator(mode="before")
    @classmethod
    def _one_kind(cls, data: Any) -> Any:
        if isinstance(data, dict):
            kind = _exactly_one(data, PROBE_KINDS, "a probe")
            if data[kind] is None:   # `ping:` with nothing after it
                raise ValueError(f"{kind}: a probe's {kind} needs its fields (found nothing)")
            if "expect_peer" in data and kind not in ("tcp", "udp"):
                raise ValueError(f"expect_peer applies to tcp and udp probes, not {kind}")
            if "expect_output" in data and kind != "cmd":
                raise ValueError(f"expect_output applies to cmd probes, not {kind}")
        return data

    @property
    def kind(self) -> str:
        return next(k for k in PROBE_KINDS if getattr(self, k) is not None)

    @property
    def spec(self) -> Any:
        return getattr(self, self.kind)

    def describe(self) -> str:
        """A short human label: `ping web → 203.0.113.20`."""
        s = self.spec
        if isinstance(s, PingProbe):
            return f"ping {s.src} → {s.to}" + (f" ×{s.count}" if s.count > 1 else "")
        if isinstance(s, (TcpProbe, UdpProbe)):
            return f"{self.kind} {s.src} → {s.to}:{s.port}"
        if isinstance(s, CmdProbe):
            return f"{s.node}# {s.run}"
        if isinstance(s, AttachProbe):
            return f"attach {s.ue}"
        flows = ", ".join(f"{f.src} → {f.to}:{f.port}/{f.proto}" for f in s.flows)
        return f"iperf {flows}"


# --- events (v1.1) ------------------------------------------------------------------

EVENT_ACTIONS = ("cut", "restore", "fail", "recover", "run")


class EventRun(_Model):
    """`run: {node, cmd}`: a shell line run on a node at the event's time."""

    node: NodeName
    cmd: str


def _at(v: Any) -> int:
    if isinstance(v, bool):
        raise ValueError(f'invalid time "{v}": write 5s, 500ms or 1.5')
    ns = parse_time(v, "s")
    if ns < 0:
        raise ValueError(f'invalid time "{v}": an event happens at 0s or later')
    return ns


class Event(_Model):
    """A timed action during the probes: `at` (from the first probe) and exactly one action.

    `cut: NODE:IFNAME` takes the cable at that link end down on both sides;
    `restore:` brings back what the cut took down; `fail: NODE` takes every
    link end of the node down (its peers lose carrier); `recover:` undoes it;
    `run: {node, cmd}` runs one shell line on a node.
    """

    at_ns: Annotated[int, BeforeValidator(_at)] = Field(alias="at")
    cut: End | None = None
    restore: End | None = None
    fail: NodeName | None = None
    recover: NodeName | None = None
    run: EventRun | None = None
    _file_line: int = PrivateAttr(default=0)  # set by the loader

    @model_validator(mode="before")
    @classmethod
    def _one_action(cls, data: Any) -> Any:
        if isinstance(data, dict):
            act = _exactly_one(data, EVENT_ACTIONS, "an event")
            if data[act] is None:
                raise ValueError(f"{act}: an event's {act} needs its value (found nothing)")
        return data

    @property
    def file_line(self) -> int:
        return self._file_line

    @property
    def action(self) -> str:
        return next(k for k in EVENT_ACTIONS if getattr(self, k) is not None)

    @property
    def target(self) -> str:
        """What the action applies to, as written: `tor1:p3`, `agg1`, `r1: ip route del default`."""
        v = getattr(self, self.action)
        if isinstance(v, EventRun):
            return f"{v.node}: {v.cmd}"
        if isinstance(v, tuple):
            return f"{v[0]}:{v[1]}"
        return str(v)

    def describe(self) -> str:
        return f"at {self.at_ns / 1e9:g}s {self.action} {self.target}"


# --- the file --------------------------------------------------------------------


def parse_network_vlan_ranges(text: str) -> dict[str, list[tuple[int, int]]]:
    """ml2's `network_vlan_ranges` (neutron_lib.plugins.utils.parse_network_vlan_ranges): comma-separated
    `PHYSNET` (provider networks only) or `PHYSNET:MIN:MAX` entries; a bad one is Neutron's
    NetworkVlanRangeError text (`Invalid network VLAN range: 'ENTRY' - 'WHY'.`)."""
    ranges: dict[str, list[tuple[int, int]]] = {}
    for entry in (e.strip() for e in text.split(",")):
        physnet, *bounds = entry.split(":")
        if not bounds:
            ranges.setdefault(physnet, [])
            continue
        if len(bounds) != 2:
            why = ("not enough values to unpack (expected 3, got 2)" if len(bounds) < 2
                   else "too many values to unpack (expected 3)")
            raise ValueError(f"Invalid network VLAN range: '{entry}' - '{why}'.")
        for b in bounds:
            if not b.strip().lstrip("+-").isdigit():
                raise ValueError(f"Invalid network VLAN range: '{entry}' - 'invalid literal for int() with base 10: "
                                 f"'{b}''.")
        lo, hi = int(bounds[0]), int(bounds[1])
        for tag in (lo, hi):
            if not 1 <= tag <= 4094:
                raise ValueError(f"Invalid network VLAN range: '({lo}, {hi})' - '{tag} is not a valid VLAN tag'.")
        if hi < lo:
            raise ValueError(f"Invalid network VLAN range: '({lo}, {hi})' - 'End of VLAN range is less than start "
                             "of VLAN range'.")
        ranges.setdefault(physnet, []).append((lo, hi))
    return ranges


class CloudSpec(_Model):
    """The top-level `cloud:` (netplex.cloud): its compute hosts and its `openstack` commands."""

    hosts: Annotated[list[NodeName], Field(min_length=1)]
    # ml2 mechanism_drivers: the linuxbridge agent, or the openvswitch agent (netplex.cloud.ovs_agent)
    mechanism: Literal["linuxbridge", "openvswitch"] = "linuxbridge"
    commands: str = ""
    # listeners in servers, by server name, as a node's `services:` (probes' tcp/udp to a server)
    services: dict[NodeName, list[Service]] = {}
    # ml2's [ml2_type_vlan] network_vlan_ranges ("physnet1:100:199,physnet2") and [ml2]
    # tenant_network_types (netplex.cloud.controller reads both)
    network_vlan_ranges: str | None = None
    tenant_network_types: list[Literal["vxlan", "vlan"]] = ["vxlan"]
    # Filled by the loader: the file line of the commands text's first line.
    _first_line: int = PrivateAttr(default=0)
    # `netplex run --cloud-state DB`: the saved cloud the commands apply on top of (netplex.cloud.state's
    # SQL text), set by the command line (a scenario file never names a host path)
    _resumed: str | None = PrivateAttr(default=None)

    def resume(self, state: str | None) -> None:
        """Start from a saved cloud (netplex.cloud.state.dump's text) instead of an empty one."""
        self._resumed = state

    @property
    def resumed(self) -> str | None:
        return self._resumed

    @field_validator("network_vlan_ranges")
    @classmethod
    def _vlan_ranges(cls, v: str | None) -> str | None:
        if v is not None:
            parse_network_vlan_ranges(v)
        return v

    def vlan_ranges(self) -> dict[str, list[tuple[int, int]]] | None:
        """network_vlan_ranges parsed: physical network -> its (min, max) ranges (none: provider only)."""
        return parse_network_vlan_ranges(self.network_vlan_ranges) if self.network_vlan_ranges is not None else None

    def command_lines(self) -> list[tuple[int, str]]:
        """(file line, command) of each command; blank lines and `#` comments skipped."""
        start = self._first_line or 0
        return [(start + i if start else 0, row.strip()) for i, row in enumerate(self.commands.splitlines())
                if row.strip() and not row.strip().startswith("#")]


def _param_name(v: Any) -> str:
    if not isinstance(v, str) or not PARAM_NAME.fullmatch(v):
        raise ValueError(f'invalid parameter name "{v}": use letters, digits and _, not starting with a digit')
    return v


ParamName = Annotated[str, BeforeValidator(_param_name)]


class Endpoint(NamedTuple):
    """A probe endpoint a system adds beside the nodes (a cloud's server): the named network
    namespace on a node a probe `from:` it runs in, and the address a probe `to:` it goes to."""

    node: str
    netns: str
    address: str | None
    services: tuple[tuple[str, int], ...] = ()   # listeners it runs (`cloud: services:`)


# Top-level sections that add probe endpoints (netplex.cloud registers "cloud": its servers,
# by name): section -> scenario -> {name: Endpoint}.
ENDPOINTS: dict[str, Callable[[Scenario], dict[str, Endpoint]]] = {}


class Scenario(_Model):
    name: str = ""
    description: str | None = None
    seed: int = 0
    # parameters the text uses as ${name}, with their defaults (scenario/params.py substitutes them)
    params: dict[ParamName, str | int | float | bool] = {}
    nodes: Annotated[dict[NodeName, Node], Field(min_length=1)]
    links: list[Link] = []
    probes: list[Probe] = []
    events: list[Event] = []
    cloud: CloudSpec | None = None
    _file: str = PrivateAttr(default="<scenario>")
    _endpoints: dict[str, Endpoint] | None = PrivateAttr(default=None)

    @property
    def file(self) -> str:
        return self._file

    def probe_endpoints(self) -> dict[str, Endpoint]:
        """The endpoints the scenario's systems add (a cloud's servers by name), computed once."""
        if self._endpoints is None:
            self._endpoints = {}
            if self.cloud is not None and "cloud" in ENDPOINTS:
                self._endpoints = ENDPOINTS["cloud"](self)
        return self._endpoints

    def set_file(self, file: str) -> None:
        """The file errors and results name (a scenario built from another format)."""
        self._file = file

    def reference_issues(self) -> list[tuple[Loc, str]]:
        """Whole-file checks, each with the location it concerns, in file order."""
        issues: list[tuple[Loc, str]] = []
        nodes = self.nodes
        kinds = {name: node.kind for name, node in nodes.items()}
        for name, node in nodes.items():
            issues.extend(((("nodes", name, *loc)), message) for loc, message in node.params.reference_issues(kinds))
        used: dict[tuple[str, str], int] = {}
        for li, link in enumerate(self.links):
            for ei, (node, ifname) in enumerate(link.ends):
                loc: Loc = ("links", li, "ends", ei)
                if node not in nodes:
                    issues.append((loc, f'unknown node "{node}"'))
                elif ifname == "lo":
                    issues.append((loc, f'"lo" already exists on node "{node}"'))
                elif (node, ifname) in used:
                    issues.append((loc, f'interface "{ifname}" of node "{node}" is already used by links[{used[(node, ifname)]}]'))
                else:
                    used[(node, ifname)] = li
        for pi, probe in enumerate(self.probes):
            spec = probe.spec
            if isinstance(spec, CmdProbe):
                if spec.node not in nodes:
                    issues.append(((("probes", pi, "cmd", "node")), f'unknown node "{spec.node}"'))
            elif isinstance(spec, AttachProbe):
                if spec.ue not in nodes:
                    issues.append((("probes", pi, "attach", "ue"), f'unknown node "{spec.ue}"'))
                elif nodes[spec.ue].kind not in ATTACH_KINDS:
                    issues.append((("probes", pi, "attach", "ue"),
                                   f'node "{spec.ue}" is of kind {nodes[spec.ue].kind}; attach takes a node of kind ue or ms'))
            elif isinstance(spec, IperfProbe):
                for fi, flow in enumerate(spec.flows):
                    if flow.src not in nodes:
                        issues.append((("probes", pi, "iperf", "flows", fi, "from"), f'unknown node "{flow.src}"'))
            else:
                issues.extend(self._from_to_issues(pi, probe.kind, spec))
        issues.extend(self.event_issues())
        for hi, host in enumerate(self.cloud.hosts if self.cloud is not None else []):
            if host not in nodes:
                issues.append((("cloud", "hosts", hi), f'unknown node "{host}"'))
            elif nodes[host].kind != "cloud-host":
                issues.append((("cloud", "hosts", hi), f'node "{host}" is of kind {nodes[host].kind}; a cloud host is of kind cloud-host'))
        for server in self.cloud.services if self.cloud is not None else {}:
            if server not in self.probe_endpoints():
                issues.append((("cloud", "services", server), f'unknown cloud server "{server}"'))
        return issues

    def _from_to_issues(self, pi: int, kind: str, spec: PingProbe | TcpProbe | UdpProbe) -> list[tuple[Loc, str]]:
        """`from:` a node or a system's endpoint (a cloud server); `to:` an address or an endpoint's name."""
        issues: list[tuple[Loc, str]] = []
        nodes = self.nodes
        if spec.src not in nodes and spec.src not in self.probe_endpoints():
            what = "node or cloud server" if self.cloud is not None else "node"
            issues.append((("probes", pi, kind, "from"), f'unknown {what} "{spec.src}"'))
        if not spec.to[0].isdigit():
            ep = self.probe_endpoints().get(spec.to)
            if ep is None:
                where = " nor a cloud server" if self.cloud is not None else ""
                issues.append((("probes", pi, kind, "to"), f'invalid IPv4 address "{spec.to}": not an address{where}'))
            elif ep.address is None:
                issues.append((("probes", pi, kind, "to"), f'cloud server "{spec.to}" has no IPv4 address'))
        return issues

    def event_issues(self) -> list[tuple[Loc, str]]:
        """An event must name a link end of `links` (cut, restore) or a node (fail, recover, run)."""
        issues: list[tuple[Loc, str]] = []
        ends = {end for link in self.links for end in link.ends}
        for i, ev in enumerate(self.events):
            act = ev.action
            if ev.cut is not None or ev.restore is not None:
                end = ev.cut or ev.restore
                assert end is not None
                if end[0] not in self.nodes:
                    issues.append((("events", i, act), f'unknown node "{end[0]}"'))
                elif end not in ends:
                    issues.append((("events", i, act), f'no link has the end "{end[0]}:{end[1]}"'))
            elif ev.run is not None:
                if ev.run.node not in self.nodes:
                    issues.append((("events", i, "run", "node"), f'unknown node "{ev.run.node}"'))
            elif getattr(ev, act) not in self.nodes:
                issues.append((("events", i, act), f'unknown node "{getattr(ev, act)}"'))
        return issues
