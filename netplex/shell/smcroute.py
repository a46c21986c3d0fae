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

The daemon (`netplex.apps.smcroute`, a process of the machine: `ps` shows it,
`kill` ends it) and smcroutectl meet at the UNIX socket /run/NAME.sock (`-i
NAME`, default smcroute) in the machine's /run: two daemons on one machine,
in different network namespaces, need different `-i` names. `smcrouted
-n` (foreground) would block a setup line and is refused; `smcroutectl
show` (a terminal table) is not modelled. Interface wildcards (`eth+`) are.
"""
from __future__ import annotations

from typing import Any

from netplex.apps.smcroute import Rule, Smcrouted, find_daemon
from netplex.machine import Machine
from netplex.packet.addr import ip_to_int
from netplex.shell.registry import Context, command
from netplex.shell.result import Result

__all__ = ["smcroutectl", "smcrouted"]


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
    if not isinstance(ctx.machine, Machine):
        return Result(1, "", "netplex: smcrouted: this shell runs on no machine\n")
    path = sock or f"/run/{ident}.sock"
    if find_daemon(ctx.machine.procs, path) is not None:
        # not checked against SMCRoute: a second daemon on the same socket
        return Result(1, "", f"smcrouted: Daemon already running ({path})\n")
    p = ctx.machine.procs.spawn(argv, ns, Smcrouted(ident, path, vifs))
    if not p.alive:
        return Result(1, "", p.error)
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
    d = find_daemon(ctx.machine.procs, path) if isinstance(ctx.machine, Machine) else None
    if d is None:
        return Result(1, "", f"smcroutectl: Cannot find IPC socket {path}\n"
                             "smcroutectl: Daemon may be running with another -i NAME\n")
    if cmd == "kill":
        d.exit(0)
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
    if not d.join(iif, group, leave=cmd == "leave"):
        return Result(1, "", f"smcroutectl: No such interface {iif}\n")   # not checked against SMCRoute
    return Result(0)
