"""getent(1) for the hosts databases (glibc 2.36 nss/getent.c): `hosts` and `ahostsv4`.

    getent hosts NAME...      one line per name: ADDRESS (left in 15 columns), canonical name, aliases
    getent ahostsv4 NAME...   getaddrinfo(AF_INET): the address once per socket type (STREAM with the
                              canonical name, DGRAM, RAW)

Names are resolved by netplex's stub resolver (`netplex.shell.resolv`: /etc/hosts, then DNS
as /etc/resolv.conf says). Exit status 2 when a key is not found, as getent's. Other
databases (passwd, group, services, ahosts with IPv6, ...) are refused in netplex's words.
"""
from __future__ import annotations

from netplex.packet.addr import int_to_ip
from netplex.shell.registry import Context, command
from netplex.shell.resolv import GaiError, gethostbyname
from netplex.shell.result import Result, unsupported

__all__ = ["getent"]

_KNOWN = {"ahosts", "ahostsv4", "ahostsv6", "aliases", "ethers", "group", "gshadow", "hosts", "initgroups",
          "netgroup", "networks", "passwd", "protocols", "rpc", "services", "shadow"}


@command("getent")
def getent(ctx: Context, argv: list[str]) -> Result:
    args = argv[1:]
    if not args:
        return Result(1, "", "getent: wrong number of arguments\nTry `getent --help' or `getent --usage' "
                             "for more information.\n")
    db, keys = args[0], args[1:]
    if db not in _KNOWN:
        return Result(1, "", f"Unknown database: {db}\nTry `getent --help' or `getent --usage' for more "
                             "information.\n")
    if db not in ("hosts", "ahostsv4"):
        return unsupported(f"getent {db}", "netplex's getent has the hosts and ahostsv4 databases")
    if not keys:
        return unsupported(f"getent {db} without a key", "netplex's getent looks names up, it does not list")
    out: list[str] = []
    status = 0
    for key in keys:
        found = gethostbyname(ctx, key)
        if isinstance(found, GaiError):
            status = 2
            continue
        addr, names = found
        a = int_to_ip(addr)
        if db == "hosts":
            out.append(f"{a:<15} " + " ".join(names) + "\n")
        else:
            out += [f"{a:<15} STREAM {names[0]}\n", f"{a:<15} DGRAM  \n", f"{a:<15} RAW    \n"]
    return Result(status, "".join(out))
