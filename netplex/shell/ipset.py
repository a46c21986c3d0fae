"""`ipset` (ipset 7.17 as on Debian 12): create, add, del, test, list, save, restore, flush, destroy, swap, rename.

Parses and prints as the real tool (ipset(8), lib/print.c, lib/errcode.c):
`ipset v7.17: MESSAGE` on stderr, exit 1 for what the kernel refuses and
for syntax errors in an argument, 2 with `Try `ipset help' ...` for usage
errors. The sets themselves are the stack's (netplex/stack/netfilter/ipset.py).
`Size in memory` is a model (a base per type plus a size per element), and
`initval` comes from the simulation's random generator: the differential
tests normalise both, as they sort members (the kernel lists a hash in bucket
order).
"""
from __future__ import annotations

from typing import Any

from netplex.shell.registry import Context, command
from netplex.shell.result import Result
from netplex.stack.netfilter.ipset import (
    IPSET_VERSION,
    SET_TYPES,
    IpSet,
    IpsetError,
    ipsets,
    set_references,
)

PREFIX = f"ipset {IPSET_VERSION}: "
HINT = "Try `ipset help' for more information.\n"
COMMAND_NAMES = {
    "create": "create", "n": "create", "new": "create", "-N": "create", "add": "add", "-A": "add",
    "del": "del", "-D": "del", "test": "test", "-T": "test", "list": "list", "-L": "list", "save": "save",
    "-S": "save", "restore": "restore", "-R": "restore", "flush": "flush", "-F": "flush",
    "destroy": "destroy", "x": "destroy", "-X": "destroy", "swap": "swap", "-W": "swap", "rename": "rename",
    "e": "rename", "-E": "rename", "version": "version", "-v": "version", "-V": "version",
    "help": "help", "-h": "help",
}
GLOBAL_FLAGS = {"-exist": "exist", "-!": "exist", "-quiet": "quiet", "-q": "quiet", "-name": "name", "-n": "name",
                "-terse": "terse", "-t": "terse", "-sorted": "sorted", "-s": "sorted", "-resolve": "resolve",
                "-r": "resolve"}
SUPPORTED_FAMILIES = ("inet", "ipv4")


class _Out:
    def __init__(self) -> None:
        self.out: list[str] = []
        self.err: list[str] = []


def _flags(args: list[str]) -> tuple[set[str], list[str]]:
    flags: set[str] = set()
    rest: list[str] = []
    i = 0
    while i < len(args):
        a = args[i]
        i += 1
        key = a[1:] if a.startswith("--") else a
        if key in GLOBAL_FLAGS:
            flags.add(GLOBAL_FLAGS[key])
        elif key in ("-output", "-o"):
            if i < len(args):
                flags.add("output-" + args[i])
                i += 1
        else:
            rest.append(a)
    return flags, rest


def _set(ns: Any, name: str) -> IpSet:
    s = ipsets(ns).get(name)
    if s is None:
        raise IpsetError("The set with the given name does not exist")
    s.expire(ns.sched.now)
    return s


def missing(cmd: str, args: list[str]) -> IpsetError:
    """ipset's message for a command without its set name, or without the argument after it."""
    which = "second mandatory" if args else "mandatory"
    return IpsetError(f"Missing {which} argument to command {cmd}", 2)


def create(ns: Any, args: list[str], flags: set[str]) -> None:
    if len(args) < 2:
        raise missing("create", args)
    name, typ = args[0], args[1]
    if len(name) > 31:
        raise IpsetError(f"Syntax error: setname '{name}' is longer than 31 characters")
    if typ not in SET_TYPES:
        raise IpsetError(f"Syntax error: typename '{typ}' is unknown")
    s = IpSet(name, typ, ns.world.rng.getrandbits(32))
    i = 2
    while i < len(args):
        opt = args[i]
        i += 1
        if opt not in ("family", "hashsize", "maxelem", "timeout", "range", "bucketsize", "initval") or \
                (opt == "range") != (typ == "bitmap:port") and opt != "timeout":
            if opt in ("counters", "comment", "skbinfo", "netmask", "forceadd"):
                raise IpsetError(f"netplex: ipset create option `{opt}' is not supported", 1)
            raise IpsetError(f"Unknown argument: `{opt}'", 2)
        if i >= len(args):
            raise IpsetError(f"Missing mandatory argument of option `{opt}'", 2)
        val = args[i]
        i += 1
        if opt == "family":
            if val not in ("inet", "inet6", "ipv4", "ipv6"):
                raise IpsetError(f"Syntax error: unknown family '{val}'")
            if val not in SUPPORTED_FAMILIES:
                raise IpsetError("netplex: ipset family inet6 is not supported (the simulator has no IPv6 data path)")
        elif opt == "range":
            a, _, b = val.partition("-")
            if not (a.isdigit() and b.isdigit()) or int(a) > 65535 or int(b) > 65535:
                raise IpsetError(f"Syntax error: cannot parse '{val}' as a port range")
            lo, hi = sorted((int(a), int(b)))
            s.prange = (lo, hi)
        elif opt == "initval":
            try:
                s.initval = int(val, 0) & 0xFFFFFFFF
            except ValueError:
                raise IpsetError(f"Syntax error: '{val}' is invalid as number") from None
        elif opt == "bucketsize":
            pass    # ipset 7.17 always shows 12
        else:
            if not val.isdigit() or int(val) > 0xFFFFFFFF:
                raise IpsetError(f"Syntax error: '{val}' is invalid as number")
            v = int(val)
            if opt == "timeout":
                s.timeout = v
            elif opt == "maxelem":
                s.maxelem = v
            else:
                hs = 64
                while hs < v:
                    hs <<= 1
                s.hashsize = hs
    if typ == "bitmap:port" and s.prange is None:
        raise IpsetError("Mandatory option `range' is missing", 2)
    sets = ipsets(ns)
    old = sets.get(name)
    if old is not None:
        if "exist" in flags and old.type == typ:
            return
        raise IpsetError("Set cannot be created: set with the same name already exists")
    sets[name] = s


def _elems(s: IpSet, args: list[str], cmd: str) -> tuple[list[Any], int | None]:
    if not args:
        raise missing(cmd, [s.name])
    elems = s.parse_elem(args[0])
    timeout = None
    i = 1
    while i < len(args):
        opt = args[i]
        i += 1
        if opt == "timeout" and cmd == "add":
            if s.timeout is None:
                raise IpsetError("Timeout cannot be used: set was created without timeout support")
            if i >= len(args) or not args[i].isdigit():
                raise IpsetError(f"Missing mandatory argument of option `{opt}'", 2)
            timeout = int(args[i])
            i += 1
        else:
            raise IpsetError(f"Unknown argument: `{opt}'", 2)
    return elems, timeout


def add(ns: Any, args: list[str], flags: set[str]) -> None:
    if not args:
        raise missing("add", args)
    s = _set(ns, args[0])
    elems, timeout = _elems(s, args[1:], "add")
    now = ns.sched.now
    secs = timeout if timeout is not None else s.timeout
    for k in elems:
        if k in s.members and "exist" not in flags:
            raise IpsetError("Element cannot be added to the set: it's already added")
        if k not in s.members and len(s.members) >= s.maxelem:
            raise IpsetError("Hash is full, cannot add more elements")
        s.members[k] = now + secs * 1_000_000_000 if secs else None


def delete(ns: Any, args: list[str], flags: set[str]) -> None:
    if not args:
        raise missing("del", args)
    s = _set(ns, args[0])
    elems, _ = _elems(s, args[1:], "del")
    for k in elems:
        if k not in s.members:
            if "exist" in flags:
                continue
            raise IpsetError("Element cannot be deleted from the set: it's not added")
        del s.members[k]


def test(ns: Any, args: list[str], out: _Out) -> int:
    if len(args) < 2:
        raise missing("test", args)
    s = _set(ns, args[0])
    elems, _ = _elems(s, args[1:], "test")
    if len(elems) > 1 and s.type == "bitmap:port":
        raise IpsetError("FROM-TO port range is not allowed in command test with set type bitmap:port "
                         "and family unspec")
    text = s.elem_text(elems[0])
    if all(s.contains(k) for k in elems):
        out.err.append(f"Warning: {text} is in set {s.name}.\n")
        return 0
    out.err.append(f"{text} is NOT in set {s.name}.\n")
    return 1


def list_set(ns: Any, s: IpSet, flags: set[str]) -> str:
    if "name" in flags:
        return f"{s.name}\n"
    lines = [f"Name: {s.name}", f"Type: {s.type}", f"Revision: {s.revision}", f"Header: {s.header()}",
             f"Size in memory: {s.memsize()}", f"References: {set_references(ns, s.name)}",
             f"Number of entries: {len(s.members)}"]
    if "terse" not in flags:
        lines.append("Members:")
        lines.extend(member_lines(ns, s, sort="sorted" in flags))
    return "".join(ln + "\n" for ln in lines)


def member_lines(ns: Any, s: IpSet, sort: bool = False) -> list[str]:
    now = ns.sched.now
    items = list(s.members.items())
    if sort:
        items.sort(key=lambda kv: kv[0])
    out = []
    for k, exp in items:
        t = s.elem_text(k)
        if s.timeout is not None:
            # ip_set_timeout_get: whole seconds left, and no simulated time passes between commands
            left = max(1, -((now - exp) // 1_000_000_000)) if exp is not None else 0
            t += f" timeout {left}"
        out.append(t)
    return out


def save_set(ns: Any, s: IpSet) -> str:
    head = f"create {s.name} {s.type} {s.header()}"
    return "".join(ln + "\n" for ln in [head, *(f"add {s.name} {m}" for m in member_lines(ns, s))])


def _named(ns: Any, args: list[str]) -> list[IpSet]:
    if args:
        return [_set(ns, args[0])]
    sets = list(ipsets(ns).values())
    for s in sets:
        s.expire(ns.sched.now)
    return sets


def run(ns: Any, argv: list[str], stdin: str, out: _Out, restore_line: int = 0) -> int:
    flags, args = _flags(argv)
    if not args:
        raise IpsetError("No command specified.", 2)
    cmd = COMMAND_NAMES.get(args[0])
    if cmd is None:
        raise IpsetError(f"No command specified: unknown argument {args[0]}", 2)
    rest = args[1:]
    sets = ipsets(ns)
    if cmd == "version":
        out.out.append(f"ipset {IPSET_VERSION}, protocol version: 7\n")
    elif cmd == "help":
        out.out.append(f"ipset {IPSET_VERSION}\n\nUsage: ipset [options] COMMAND\n\nCommands:\n"
                       "create SETNAME TYPENAME [type-specific-options]\nadd SETNAME ENTRY\ndel SETNAME ENTRY\n"
                       "test SETNAME ENTRY\ndestroy [SETNAME]\nlist [SETNAME]\nsave [SETNAME]\nrestore\n"
                       "flush [SETNAME]\nrename FROM-SETNAME TO-SETNAME\nswap FROM-SETNAME TO-SETNAME\n"
                       "help [TYPENAME]\nversion\n\nSupported set types (netplex):\n"
                       + "".join(f"    {t}\t{SET_TYPES[t][0]}\n" for t in SET_TYPES)
                       + "IPv6 sets (family inet6) are refused: the simulator has no IPv6 data path.\n")
    elif cmd == "create":
        create(ns, rest, flags)
    elif cmd == "add":
        add(ns, rest, flags)
    elif cmd == "del":
        delete(ns, rest, flags)
    elif cmd == "test":
        return test(ns, rest, out)
    elif cmd == "list":
        chosen = _named(ns, rest)
        if "output-save" in flags:
            out.out.append("".join(save_set(ns, s) for s in chosen))
        else:
            sep = "" if "name" in flags else "\n"
            out.out.append(sep.join(list_set(ns, s, flags) for s in chosen))
    elif cmd == "save":
        out.out.append("".join(save_set(ns, s) for s in _named(ns, rest)))
    elif cmd == "flush":
        for s in _named(ns, rest):
            s.members.clear()
    elif cmd == "destroy":
        targets = _named(ns, rest)
        for s in targets:
            if set_references(ns, s.name):
                raise IpsetError("Set cannot be destroyed: it is in use by a kernel component")
        for s in targets:
            del sets[s.name]
    elif cmd in ("swap", "rename"):
        if len(rest) < 2:
            raise missing(cmd, rest)
        a = _set(ns, rest[0])
        if cmd == "rename":
            if rest[1] in sets:
                raise IpsetError("Set cannot be renamed: a set with the new name already exists")
            if set_references(ns, a.name):
                raise IpsetError("Set cannot be renamed: it is in use by a kernel component")
            new = {(rest[1] if k == a.name else k): v for k, v in sets.items()}
            a.name = rest[1]
            sets.clear()
            sets.update(new)
        else:
            b = sets.get(rest[1])
            if b is None:
                raise IpsetError("Sets cannot be swapped: the second set does not exist")
            if a.type != b.type:
                raise IpsetError("The sets cannot be swapped: their type does not match")
            na, nb = a.name, b.name
            a.name, b.name = nb, na
            sets[na], sets[nb] = b, a
    elif cmd == "restore":
        return restore(ns, stdin, flags, out)
    return 0


def restore(ns: Any, text: str, flags: set[str], out: _Out) -> int:
    for lineno, line in enumerate(text.splitlines(), 1):
        words = line.split()
        if not words or words[0].startswith("#"):
            continue
        if words[0] in ("COMMIT", "quit"):
            continue
        if words[0] not in COMMAND_NAMES:
            raise IpsetError(f"No command specified: unknown argument {words[0]}", 2)
        if COMMAND_NAMES[words[0]] == "restore":
            raise IpsetError("Command `restore' is invalid in restore mode.", 2)
        try:
            run(ns, [*(f"-{f}" for f in flags if f == "exist"), *words], "", out)
        except IpsetError as e:
            if not e.msg.startswith("Error in line"):
                e.msg = f"Error in line {lineno}: {e.msg}"
            raise
    return 0


@command("ipset")
def ipset(ctx: Context, argv: list[str]) -> Result:
    out = _Out()
    try:
        status = run(ctx.node, argv[1:], ctx.stdin, out)
    except IpsetError as e:
        text = PREFIX + e.msg + "\n" + (HINT if e.status == 2 else "")
        return Result(e.status, "".join(out.out), "".join(out.err) + text)
    return Result(status, "".join(out.out), "".join(out.err))
