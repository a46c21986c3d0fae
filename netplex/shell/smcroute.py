"""`smcrouted` / `smcroutectl` (SMCRoute 2.5, smcrouted(8), smcroutectl(8)): static multicast routes.

`smcrouted` daemonizes (as it does without `-n`): it opens the namespace's
mroute socket (MRT_INIT), adds a VIF for every multicast-capable interface
(loopback excepted; none with `-N`) and waits. `smcroutectl add IIF
[SOURCE] GROUP OIF...` with no source stores a (*,G) template; the kernel's
IGMPMSG_NOCACHE upcall for traffic from S to G on IIF makes the daemon
install the (S,G) entry with TTL threshold 1 on each OIF (`ip mroute show`
then lists it). With a source the (S,G) entry is installed at once.
`remove` drops a rule and what it installed; `join`/`leave` join a group on
an interface; `kill` stops the daemon, which flushes the table (MRT_DONE).

The daemon and smcroutectl meet at the UNIX socket /run/NAME.sock (`-i
NAME`, default smcroute). /run is not per network namespace, so, as on the
kernel twin, two daemons in one run need different `-i` names. `smcrouted
-n` (foreground) would block a setup line and is refused; `smcroutectl
show` (a terminal table) is not modelled. Interface wildcards (`eth+`) are.
"""
from __future__ import annotations

from typing import Any

from netplex.errors import NetplexError
from netplex.packet.addr import ip_to_int
from netplex.shell.registry import Context, command
from netplex.shell.result import Result

__all__ = ["smcrouted", "smcroutectl"]


class Rule:
    """One `smcroutectl add`: inbound interface, source (0 = any), group/len, outbound interfaces."""

    __slots__ = ("iif", "source", "group", "glen", "oifs", "installed")

    def __init__(self, iif: str, source: int, group: int, glen: int, oifs: list[str]) -> None:
        self.iif = iif
        self.source = source
        self.group = group
        self.glen = glen
        self.oifs = oifs
        self.installed: list[tuple[int, int]] = []


def _ifmatch(pattern: str, name: str) -> bool:
    """smcroute's interface wildcard: `eth+` matches every name starting with eth."""
    return name.startswith(pattern[:-1]) if pattern.endswith("+") else name == pattern


class Smcrouted:
    """The daemon: its rules, and the upcall it answers."""

    def __init__(self, ns: Any, ident: str, vifs: bool) -> None:
        from netplex.stack.ipmr import mrt_init

        self.ns = ns
        self.ident = ident
        self.rules: list[Rule] = []
        self.mrt = mrt_init(ns, self.upcall)
        if vifs:
            for idx in sorted(ns.by_index):
                dev = ns.by_index[idx]
                if dev.kind != "loopback":
                    self.mrt.add_vif(dev)

    def _vif(self, pattern: str) -> list[int]:
        mrt = self.mrt
        return [i for i, v in enumerate(mrt.vifs) if v is not None and _ifmatch(pattern, v.dev.name)]

    def upcall(self, mrt: Any, vifi: int, source: int, group: int) -> None:
        """IGMPMSG_NOCACHE: the first (*,G) rule that covers the packet installs (S,G)."""
        v = mrt.live_vif(vifi)
        if v is None:
            return
        for r in self.rules:
            mask = (0xFFFFFFFF << (32 - r.glen)) & 0xFFFFFFFF if r.glen else 0
            if r.source or not _ifmatch(r.iif, v.dev.name) or (group & mask) != (r.group & mask):
                continue
            self._install(r, vifi, source, group)
            return

    def _install(self, r: Rule, parent: int, source: int, group: int) -> None:
        ttls = {i: 1 for p in r.oifs for i in self._vif(p) if i != parent}
        self.mrt.add_mfc(source, group, parent, ttls)
        if (source, group) not in r.installed:
            r.installed.append((source, group))

    def add(self, r: Rule) -> None:
        for old in self.rules:
            if (old.iif, old.source, old.group, old.glen) == (r.iif, r.source, r.group, r.glen):
                old.oifs = r.oifs
                return
        self.rules.append(r)
        if r.source:
            for parent in self._vif(r.iif):
                self._install(r, parent, r.source, r.group)

    def remove(self, iif: str, source: int, group: int, glen: int) -> bool:
        for r in self.rules:
            if (r.iif, r.source, r.group, r.glen) == (iif, source, group, glen):
                self.rules.remove(r)
                for s, g in r.installed:
                    self.mrt.del_mfc(s, g)
                return True
        return False

    def stop(self) -> None:
        from netplex.stack.ipmr import mrt_done

        if self.ns.mrt is self.mrt:
            mrt_done(self.ns)


def _daemons(ns: Any) -> dict[str, Smcrouted]:
    """The daemons by socket path: /run is shared by every namespace of the run."""
    return ns.world.__dict__.setdefault("smcroute_daemons", {})


_DAEMON_OPTS_WITH_ARG = set("cdefFilmPptu")


@command("smcrouted")
def smcrouted(ctx: Context, argv: list[str]) -> Result:
    ns: Any = ctx.node
    ident = "smcroute"
    sock = None
    vifs = True
    i = 1
    while i < len(argv):
        a = argv[i]
        if not a.startswith("-") or len(a) < 2:
            return Result(1, "", f"smcrouted: invalid argument '{a}'\n")   # not checked against SMCRoute
        for j, ch in enumerate(a[1:], 1):
            if ch in _DAEMON_OPTS_WITH_ARG:
                val = a[j + 1:] or (argv[i + 1] if i + 1 < len(argv) else None)
                if val is None:
                    return Result(1, "", f"smcrouted: option requires an argument -- '{ch}'\n")
                if not a[j + 1:]:
                    i += 1
                if ch == "i":
                    ident = val
                elif ch == "u":
                    sock = val
                elif ch in "fF":
                    return Result(2, "", "netplex: smcrouted -f/-F (a configuration file) is not supported\n")
                elif ch == "t" and val != "0":
                    return Result(2, "", "netplex: smcrouted -t (multicast routing tables) is not supported\n")
                break
            if ch == "n":
                return Result(2, "", "netplex: smcrouted -n (foreground) would block; start it without -n\n")
            if ch == "N":
                vifs = False
            elif ch == "h":
                return Result(0, "Usage:\n  smcrouted [-hnNsv] ...\n")
            elif ch == "v":
                return Result(0, "SMCRoute v2.5.6\n")
            elif ch != "s":
                return Result(1, "", f"smcrouted: invalid option -- '{ch}'\n")
        i += 1
    path = sock or f"/run/{ident}.sock"
    daemons = _daemons(ns)
    if path in daemons:
        # not checked against SMCRoute: a second daemon on the same socket
        return Result(1, "", f"smcrouted: Daemon already running ({path})\n")
    try:
        daemons[path] = Smcrouted(ns, ident, vifs)
    except NetplexError as e:
        return Result(1, "", f"smcrouted: Failed initializing IPv4 multicast routing API: {e.message}\n")
    return Result(0)


def _parse_addr(text: str) -> tuple[int, int] | None:
    addr, _, plen = text.partition("/")
    try:
        a = ip_to_int(addr)
    except ValueError:
        return None
    n = int(plen) if plen.isdigit() else 32
    return a, n


@command("smcroutectl")
def smcroutectl(ctx: Context, argv: list[str]) -> Result:
    ns: Any = ctx.node
    ident = "smcroute"
    sock = None
    i = 1
    while i < len(argv) and argv[i].startswith("-"):
        a = argv[i]
        if a in ("-i", "-u"):
            if i + 1 >= len(argv):
                return Result(1, "", f"smcroutectl: option requires an argument -- '{a[1]}'\n")
            if a == "-i":
                ident = argv[i + 1]
            else:
                sock = argv[i + 1]
            i += 2
            continue
        if a in ("-d", "-p", "-t"):
            i += 1
            continue
        if a == "-b":
            return Result(2, "", "netplex: smcroutectl -b (batch) is not supported\n")
        return Result(1, "", f"smcroutectl: invalid option -- '{a[1:]}'\n")
    args = argv[i:]
    if not args or args[0] in ("help", "-h"):
        return Result(0, "Usage:\n  smcroutectl [OPTIONS] CMD [ARGS]\n")
    cmd, rest = args[0], args[1:]
    if cmd == "version":
        return Result(0, "SMCRoute v2.5.6\n")
    path = sock or f"/run/{ident}.sock"
    d = _daemons(ns).get(path)
    if d is None:
        return Result(1, "", f"smcroutectl: Cannot find IPC socket {path}\n"
                             "smcroutectl: Daemon may be running with another -i NAME\n")
    if cmd == "kill":
        d.stop()
        del _daemons(ns)[path]
        return Result(0)
    if cmd in ("show", "flush", "reload"):
        return Result(2, "", f"netplex: smcroutectl {cmd} is not supported\n")
    if cmd not in ("add", "remove", "del", "join", "leave"):
        return Result(1, "", f"smcroutectl: Unknown command '{cmd}'\n")   # not checked against SMCRoute
    if len(rest) < 2:
        return Result(1, "", f"smcroutectl: Invalid arguments to {cmd}\n")   # not checked against SMCRoute
    iif = rest[0]
    first = _parse_addr(rest[1])
    if first is None:
        return Result(1, "", f"smcroutectl: Invalid address {rest[1]}\n")   # not checked against SMCRoute
    source, slen = 0, 32
    pos = 2
    if first[0] >> 28 != 14:
        source, slen = first
        if len(rest) < 3 or (g := _parse_addr(rest[2])) is None:
            return Result(1, "", f"smcroutectl: Invalid arguments to {cmd}\n")
        group, glen = g
        pos = 3
    else:
        group, glen = first
    if cmd == "add":
        oifs = rest[pos:]
        if not oifs:
            return Result(1, "", "smcroutectl: Invalid arguments to add\n")   # not checked against SMCRoute
        d.add(Rule(iif, source, group, glen, oifs))
        return Result(0)
    if cmd in ("remove", "del"):
        if not d.remove(iif, source, group, glen):
            return Result(1, "", f"smcroutectl: mroute: deleting route from {iif} "
                                 f"({ns.fmt_ip(source)}/{slen},{ns.fmt_ip(group)}/{glen})\n")
        return Result(0)
    from netplex.stack.igmp import ip_mc_join_group, ip_mc_leave_group

    dev = ns.devices.get(iif)
    if dev is None:
        return Result(1, "", f"smcroutectl: No such interface {iif}\n")   # not checked against SMCRoute
    (ip_mc_join_group if cmd == "join" else ip_mc_leave_group)(ns, dev, group)
    return Result(0)
