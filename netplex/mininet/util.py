"""mininet.util: the helpers Mininet scripts import (irange, custom, ipAdd, fmtBps, dump*).

Addresses as Mininet numbers them (`ipAdd(1) == "10.0.0.1"` in 10.0.0.0/8), the
`--topo tree,2,2` argument syntax (`splitArgs`), iperf-style rates (`fmtBps`) and
the connection dumps the CLI prints. `quietRun`/`errRun`/`errFail` run their
line on a simulated machine standing for the one Mininet runs on (never on the real
machine): they see netplex's tools and change nothing on the network's nodes.
`node.popen` runs the command to its end at once (simulated time) and `pmonitor` reads
the finished processes' output, host after host.
"""
from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator
from typing import Any

from netplex.mininet.log import error, output
from netplex.mininet.session import MininetUnsupported, current, note

BaseString = str

__all__ = ["BaseString", "buildTopo", "custom", "customClass", "dumpNetConnections", "dumpNodeConnections",
           "decode", "dumpPorts", "encode", "ensureRoot", "StrictVersion", "waitListening", "fmtBps", "ipAdd", "ipParse", "ipStr", "irange", "macColonHex",
           "makeNumeric", "natural", "naturalSeq", "netParse", "quietRun", "specialClass", "splitArgs"]


def irange(start: int, end: int) -> range:
    """The integers from start to end, both included."""
    return range(start, end + 1)


def natural(text: Any) -> list[Any]:
    """A sort key that orders h2 before h10."""
    return [int(part) if part.isdigit() else part for part in re.split(r"(\d+)", str(text))]


def naturalSeq(items: Iterable[Any]) -> list[list[Any]]:
    return [natural(x) for x in items]


def makeNumeric(s: str) -> Any:
    """'3' -> 3, '2.5' -> 2.5, anything else unchanged."""
    for conv in (int, float):
        try:
            return conv(s)
        except ValueError:
            pass
    return s


def splitArgs(argstr: str) -> tuple[str, list[Any], dict[str, Any]]:
    """'tree,2,fanout=3' -> ('tree', [2], {'fanout': 3})."""
    name, *params = argstr.split(",")
    args = [makeNumeric(p) for p in params if "=" not in p]
    kwargs = {}
    for p in params:
        if "=" in p:
            key, _, val = p.partition("=")
            kwargs[key] = makeNumeric(val)
    return name, args, kwargs


def custom(cls: Callable[..., Any], **params: Any) -> Callable[..., Any]:
    """A constructor for `cls` with `params` added to each call's keywords."""
    def customized(*args: Any, **kwargs: Any) -> Any:
        return cls(*args, **{**kwargs, **params})
    customized.__name__ = f"custom({cls},{params})"
    return customized


def specialClass(cls: type, prepend: list[Any] | None = None, append: list[Any] | None = None,
                 defaults: dict[str, Any] | None = None, override: dict[str, Any] | None = None) -> type:
    """A subclass of `cls` whose constructor adds arguments (functools.partial that stays a class)."""
    pre, post = list(prepend or []), list(append or [])
    base_kw, over_kw = dict(defaults or {}), dict(override or {})

    def __init__(self: Any, *args: Any, **params: Any) -> None:
        cls.__init__(self, *pre, *args, *post, **{**base_kw, **params, **over_kw})

    return type(f"{cls.__name__}{base_kw}", (cls,), {"__init__": __init__})


def customClass(classes: dict[str, Any], argStr: str) -> Any:
    """'tc,bw=10' looked up in `classes` and specialised with its arguments."""
    name, args, kwargs = splitArgs(argStr)
    cls = classes.get(name)
    if cls is None:
        raise MininetUnsupported(name, f"{name} is unknown - please specify one of {sorted(classes)}")
    if not args and not kwargs:
        return cls
    return specialClass(cls, append=args, defaults=kwargs)


def buildTopo(topos: dict[str, Any], topoStr: str) -> Any:
    """'tree,2,2' -> TreeTopo(2, 2)."""
    name, args, kwargs = splitArgs(topoStr)
    if name not in topos:
        raise MininetUnsupported("topo", f"Invalid topo name {name} (known: {', '.join(sorted(topos))})")
    return topos[name](*args, **kwargs)


def ipStr(ip: int) -> str:
    return ".".join(str((ip >> s) & 0xFF) for s in (24, 16, 8, 0))


def ipNum(w: int, x: int, y: int, z: int) -> int:
    return (w << 24) | (x << 16) | (y << 8) | z


def ipAdd(i: int, prefixLen: int = 8, ipBaseNum: int = 0x0A000000) -> str:
    """Host number `i` inside the network ipBaseNum/prefixLen, as dotted text."""
    imax = 0xFFFFFFFF >> prefixLen
    if i > imax:
        raise MininetUnsupported("ipAdd", f"Not enough IP addresses in the subnet: host {i} > {imax}")
    mask = (0xFFFFFFFF ^ imax) & 0xFFFFFFFF
    return ipStr((ipBaseNum & mask) + i)


def ipParse(ip: str) -> int:
    parts = [int(x) for x in ip.split(".")]
    while len(parts) < 4:
        parts.append(0)
    return ipNum(*parts[:4])


def netParse(ipstr: str) -> tuple[int, int]:
    """'10.0.0.0/8' -> (0x0a000000, 8); a bare address is a /24 as in Mininet."""
    prefixLen = 0
    if "/" in ipstr:
        ipstr, _, pf = ipstr.partition("/")
        prefixLen = int(pf)
    if not prefixLen:
        prefixLen = 24
    return ipParse(ipstr), prefixLen


def macColonHex(mac: int) -> str:
    return ":".join(f"{(mac >> s) & 0xFF:02x}" for s in range(40, -1, -8))


def unitScale(num: float, prefix: str = "") -> tuple[str, float]:
    scale = "kMGTP"
    if prefix:
        return prefix, float(10 ** (3 * (scale.lower().index(prefix.lower()) + 1)))
    found, factor = "", 1
    for i, c in enumerate(scale, start=1):
        if num < 10 ** (3 * i):
            break
        found, factor = c, 10 ** (3 * i)
    return found, float(factor)


def fmtBps(bps: float, prefix: str = "", fmt: str = "%.1f %sbits/sec") -> str:
    """12345678 -> '12.3 Mbits/sec', as iperf prints a rate."""
    bps = float(bps)
    p, factor = unitScale(bps, prefix)
    return fmt % (bps / factor, p)


def dumpNodeConnections(nodes: Iterable[Any]) -> None:
    """One line per node: its name, then each interface and the interface at its link's other end."""
    for node in nodes:
        output(node.name)
        for intf in node.intfList():
            output(f" {intf}:")
            if intf.link is not None:
                other = intf.link.intf2 if intf.link.intf1 is intf else intf.link.intf1
                output(other)
            else:
                output(" ")
        output("\n")


def dumpNetConnections(net: Any) -> None:
    dumpNodeConnections(net.controllers + net.switches + net.hosts)


def dumpPorts(switches: Iterable[Any]) -> None:
    for switch in switches:
        output(f"{switch.name} ")
        for intf in switch.intfList():
            port = switch.ports[intf]
            output(f"{intf}:{port} ")
        output("\n")


def decode(s: bytes | str) -> str:
    """Bytes from a program as text (Mininet decodes as UTF-8)."""
    return s.decode("utf-8", "replace") if isinstance(s, bytes) else s


def encode(s: str | bytes) -> bytes:
    return s.encode() if isinstance(s, str) else s


class StrictVersion:
    """'2.3.1' compared part by part, as distutils' StrictVersion (which Mininet re-exports)."""

    def __init__(self, text: str) -> None:
        self.parts = tuple(int(x) for x in re.findall(r"\d+", str(text))[:3])

    def __lt__(self, other: StrictVersion) -> bool:
        return self.parts < other.parts

    def __gt__(self, other: StrictVersion) -> bool:
        return self.parts > other.parts

    def __eq__(self, other: object) -> bool:
        return isinstance(other, StrictVersion) and self.parts == other.parts

    def __hash__(self) -> int:
        return hash(self.parts)


WAIT_LIMIT_S = 60


def waitListening(client: Any = None, server: Any = "127.0.0.1", port: int = 80, timeout: float | None = None) -> bool:
    """Wait (simulated seconds) until `server` accepts TCP on `port`, trying from `client` with nc."""
    if client is None:
        raise MininetUnsupported("waitListening", "waitListening without a client node would connect from this "
                                 "machine; give the client node")
    address = server if isinstance(server, str) else server.IP()
    waited = 0.0
    if timeout is None:   # Mininet waits for ever; netplex stops where an unbounded ping stops
        timeout = WAIT_LIMIT_S
        note(f"waitListening without a timeout waits at most {WAIT_LIMIT_S} s of simulated time here")
    while "Connected" not in client.cmd(f"nc -z -w 1 {address} {port} && echo Connected"):
        if waited >= timeout:
            error(f"could not connect to {server} on port {port}\n")
            return False
        client.cmd("sleep 0.5")
        waited += 1.5
    return True


def ensureRoot() -> None:
    """Mininet needs root; netplex's simulator does not."""


def _machine_line(cmd: Any) -> str:
    line = " ".join(str(c) for c in cmd) if isinstance(cmd, (list, tuple)) else str(cmd)
    # `which` is not one of netplex's tools; bash's `command -v` answers the same question
    return "command -v " + line[len("which "):] if line.startswith("which ") else line


def errRun(*cmd: Any, **kwargs: Any) -> tuple[str, str, int]:
    """Run a line on the machine (netplex's stand-in for it: session.this_machine); (out, err, status)."""
    r = current().this_machine().run(_machine_line(cmd[0] if len(cmd) == 1 else cmd))
    return r.output, r.error, r.status


def quietRun(cmd: Any, **kwargs: Any) -> str:
    """Output and errors of a line run on the machine (netplex's stand-in for it)."""
    out, err, _ = errRun(cmd)
    return out + err


def errFail(*cmd: Any, **kwargs: Any) -> tuple[str, str, int]:
    out, err, status = errRun(*cmd)
    if status:
        raise Exception(f"errFail: {cmd} failed with return code {status}: {err}")
    return out, err, status


def run(cmd: Any) -> str:
    return errRun(cmd)[0]


def checkRun(cmd: Any) -> str:
    return errFail(cmd)[0]


def _refused(name: str) -> Callable[..., Any]:
    def refuse(*args: Any, **kwargs: Any) -> Any:
        raise MininetUnsupported(name, f"mininet.util.{name} watches processes' output as files (popen); "
                                 "run the program on a node with node.cmd() instead")
    refuse.__name__ = name
    return refuse


def pmonitor(popens: dict[Any, Any], timeoutms: int = 500, readline: bool = True,
             readmax: int = 1024) -> Iterator[tuple[Any, str]]:
    """(host, line) for each line each finished popen printed, host after host; each host leaves
    `popens` once read to its end, as Mininet's pmonitor removes a process at its end."""
    for host in list(popens):
        stream = popens[host].stdout
        while True:
            chunk = stream.readline() if readline else stream.read(readmax)
            if not chunk:
                break
            yield host, decode(chunk)
        del popens[host]
