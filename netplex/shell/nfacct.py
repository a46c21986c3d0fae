"""`nfacct` (nfacct 1.0.2): add, del, get, list [reset], flush of extended accounting objects.

The objects are the stack's (netplex/stack/netfilter/matches_xt.py, what the
iptables `nfacct` match counts into). Output and errors as nfacct prints them:
`{ pkts = %020u, bytes = %020u } = NAME;`, `nfacct v1.0.2: error: <strerror>`.
"""
from __future__ import annotations

from netplex.shell.registry import Context, command
from netplex.shell.result import Result
from netplex.stack.netfilter.matches_xt import NfacctObject, nfacct_in_use, nfacct_objects

PROG = "nfacct v1.0.2"


def line(o: NfacctObject) -> str:
    return f"{{ pkts = {o.pkts:020d}, bytes = {o.bytes:020d} }} = {o.name};\n"


def fail(errno_text: str) -> Result:
    return Result(1, "", f"{PROG}: error: {errno_text}\n")


@command("nfacct")
def nfacct(ctx: Context, argv: list[str]) -> Result:
    ns = ctx.node
    objs = nfacct_objects(ns)
    args = argv[1:]
    if not args:
        return Result(1, "", f"{PROG}: missing command\nUsage: nfacct command [parameters]...\n")
    cmd, rest = args[0], args[1:]
    if cmd == "list":
        reset = rest[:1] == ["reset"]
        out = "".join(line(o) for o in objs.values())
        if reset:
            for o in objs.values():
                o.pkts = o.bytes = 0
        return Result(0, out)
    if cmd in ("add", "del", "get"):
        if not rest:
            return Result(1, "", f"{PROG}: missing object name\n")
        name = rest[0]
        if len(name) > 31:
            return fail("Numerical result out of range")
        if cmd == "add":
            if name in objs:
                return fail("Device or resource busy")
            objs[name] = NfacctObject(name)
            return Result(0)
        obj = objs.get(name)
        if obj is None:
            return fail("No such file or directory")
        if cmd == "get":
            return Result(0, line(obj))
        if nfacct_in_use(ns, name):
            return fail("Device or resource busy")
        del objs[name]
        return Result(0)
    if cmd == "flush":
        for name in [n for n in objs if not nfacct_in_use(ns, n)]:
            del objs[name]
        return Result(0)
    if cmd == "version":
        return Result(0, f"{PROG}: utility for the Netfilter extended accounting infrastructure\n")
    if cmd == "help":
        return Result(0, "Usage: nfacct command [parameters]...\n\nCommands:\n  list [reset]\n  add object-name\n"
                         "  delete object-name\n  get object-name [reset]\n  flush\n  version\n  help\n")
    return Result(1, "", f"{PROG}: Unknown command: {cmd}\nUsage: nfacct command [parameters]...\n")
