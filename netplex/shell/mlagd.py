"""`mlagd` / `mlagctl`: netplex's MLAG daemon (netplex/apps/mlagd.py) and its status.

```
mlagd --peer-link IFNAME --peer-ip A.B.C.D BOND:ID [BOND:ID ...]
mlagctl
```
`mlagd` starts the daemon in the background (a process of the node: `ps` shows it,
`kill` ends it) and returns; one per network namespace. `mlagctl` prints whether the
peer is alive and, per dual-connected bond, the local and peer states, whether the
split horizon is on and how many of the peer's MACs are synced. Bad input gets a
usage line and status 1, and nothing starts. This is netplex's own tool (Cumulus's
clagd/clagctl have their own syntax, not modelled).
"""
from __future__ import annotations

from typing import Any

from netplex.apps.mlagd import Mlagd, find_mlagd
from netplex.machine import Machine
from netplex.packet.addr import ip_to_int
from netplex.shell.registry import Context, command
from netplex.shell.result import Result

__all__ = ["mlagctl", "mlagd"]

USAGE = "usage: mlagd --peer-link IFNAME --peer-ip A.B.C.D BOND:ID [BOND:ID ...]\n"


def _bad(message: str) -> Result:
    return Result(1, "", f"mlagd: {message}\n{USAGE}")


@command("mlagd")
def mlagd(ctx: Context, argv: list[str]) -> Result:
    ns: Any = ctx.node
    if not isinstance(ctx.machine, Machine):
        return Result(1, "", "netplex: mlagd: this shell runs on no machine\n")
    peer_link = peer_ip = None
    bonds: list[tuple[str, int]] = []
    args = argv[1:]
    i = 0
    while i < len(args):
        a = args[i]
        if a in ("--peer-link", "--peer-ip"):
            if i + 1 >= len(args):
                return _bad(f"option {a} needs an argument")
            if a == "--peer-link":
                peer_link = args[i + 1]
            else:
                try:
                    peer_ip = ip_to_int(args[i + 1])
                except ValueError:
                    return _bad(f"invalid peer address: {args[i + 1]}")
            i += 2
            continue
        if a.startswith("-"):
            return _bad(f"unknown option {a}")
        name, sep, ident = a.partition(":")
        if not sep or not name or not ident.isdigit() or not 1 <= int(ident) <= 65535:
            return _bad(f"invalid bond {a} (write BOND:ID, ID 1-65535)")
        if any(n == name or j == int(ident) for n, j in bonds):
            return _bad(f"bond {name} or id {ident} given twice")
        bonds.append((name, int(ident)))
        i += 1
    if peer_link is None or peer_ip is None or not bonds:
        return _bad("--peer-link, --peer-ip and at least one BOND:ID are needed")
    for name in (peer_link, *(n for n, _ in bonds)):
        if name not in ns.devices:
            return Result(1, "", f"mlagd: {name}: no such device\n")
    if find_mlagd(ctx.machine.procs, ns) is not None:
        return Result(1, "", "mlagd: already running in this network namespace\n")
    p = ctx.machine.procs.spawn(argv, ns, Mlagd(peer_link, peer_ip, bonds))
    if not p.alive:
        return Result(1, "", p.error)
    return Result(0)


@command("mlagctl")
def mlagctl(ctx: Context, argv: list[str]) -> Result:
    if len(argv) > 1:
        return Result(1, "", "usage: mlagctl\n")
    d = find_mlagd(ctx.machine.procs, ctx.node) if isinstance(ctx.machine, Machine) else None
    if d is None:
        return Result(1, "", "mlagctl: mlagd is not running\n")
    return Result(0, d.status())
