"""`ip netns` (ip-netns(8), iproute2 6.1 `ip/ipnetns.c`): a machine's named namespaces.

    ip netns [ list ]            names, newest first, `(id: N)` when this namespace has an nsid for it
    ip netns list-id             the nsids this namespace holds
    ip netns add NAME            ip netns attach NAME PID is refused
    ip netns set NAME NSID       ip netns del NAME
    ip netns identify [PID]      ip netns pids NAME
    ip netns exec NAME CMD ...   CMD runs in NAME on the same machine (same files)

The namespaces themselves are the machine's (`netplex.machine.Machine`);
this module parses and prints, with iproute2's messages and exit statuses.
"""
from __future__ import annotations

from netplex.machine import Machine, NetnsError
from netplex.machine.machine import valid_netns_name
from netplex.shell.iproute_fmt import IpError, invarg, matches
from netplex.shell.nsexec import exec_in
from netplex.shell.registry import Context
from netplex.shell.result import Result
from netplex.stack.netns import Namespace

__all__ = ["do_ipnetns"]

USAGE = """Usage:	ip netns list
	ip netns add NAME
	ip netns attach NAME PID
	ip netns set NAME NETNSID
	ip [-all] netns delete [NAME]
	ip netns identify [PID]
	ip netns pids NAME
	ip [-all] netns exec [NAME] cmd ...
	ip netns monitor
	ip netns list-id [target-nsid POSITIVE-INT] [nsid POSITIVE-INT]
NETNSID := auto | POSITIVE-INT
"""

NO_NAME = NetnsError("No netns name specified", 1)


def _list(machine: Machine, ns: Namespace) -> Result:
    out = []
    for name in machine.netns_list():
        nsid = machine.peernet2id(ns, machine.netns[name])
        out.append(name if nsid is None else f"{name} (id: {nsid})")
    return Result(0, "".join(line + "\n" for line in out))


def _list_id(machine: Machine, ns: Namespace, args: list[str]) -> Result:
    if args:
        raise NetnsError("netplex: ip netns list-id filters are not supported", 2)
    rows = sorted((nsid, peer) for peer, nsid in machine.nsids_of(ns).items())
    out = []
    for nsid, peer in rows:
        name = machine.netns_name(peer)
        out.append(f"nsid {nsid} " + (f"(iproute2 netns name: {name})" if name is not None else "") + "\n")
    return Result(0, "".join(out))


def _ns_of_pid(machine: Machine, text: str) -> Namespace:
    if not text.isdigit():
        raise NetnsError(f"Specified string '{text}' is not a pid", 1)
    ns = machine.netns_of_pid(int(text))
    if ns is None:
        raise NetnsError("Cannot open network namespace: No such file or directory", 1)
    return ns


def _identify(machine: Machine, ns: Namespace, args: list[str]) -> Result:
    if len(args) > 1:
        raise NetnsError("extra arguments specified", 1)
    target = ns if not args else _ns_of_pid(machine, args[0])
    name = machine.netns_name(target)
    return Result(0, (name or "") + "\n")


def _pids(machine: Machine, args: list[str]) -> Result:
    if not args:
        raise NO_NAME
    if len(args) > 1:
        raise NetnsError("extra arguments specified", 1)
    target = machine.netns.get(args[0])
    if target is None:
        raise NetnsError("Cannot open network namespace: No such file or directory", 1)
    pids = [p.pid for p in machine.procs.in_netns(target) if p.alive]
    return Result(0, "".join(f"{pid}\n" for pid in pids))


def _set(machine: Machine, args: list[str]) -> Result:
    if not args:
        raise NO_NAME
    if len(args) < 2:
        raise NetnsError("No nsid specified", 1)
    name, value = args[0], args[1]
    if value == "auto":
        target = machine.netns_get(name)
        machine.peernet2id_alloc(machine.root, target)
        return Result(0)
    if not value.isdigit() or int(value) > 0x7FFFFFFF:
        raise invarg('Invalid "netnsid" value', value)
    machine.netns_set_id(name, int(value))
    return Result(0)


def _exec(ctx: Context, machine: Machine, args: list[str]) -> Result:
    if not args:
        raise NO_NAME
    if len(args) < 2:
        raise NetnsError("No command specified", 1)
    target = machine.netns_get(args[0])
    result = exec_in(ctx, target, args[1:], etc_netns=args[0])
    if result is None:
        return Result(1, "", f'exec of "{args[1]}" failed: No such file or directory\n')
    return result


def do_ipnetns(ctx: Context, ns: Namespace, opts: object, args: list[str]) -> Result:
    """`ip netns ARGS` on the machine `ctx` runs on, seen from namespace `ns`."""
    machine = ctx.machine
    if not isinstance(machine, Machine):
        return Result(2, "", "netplex: ip netns needs a machine (this shell has none)\n")
    if not args:
        return _list(machine, ns)
    cmd, rest = args[0], args[1:]
    if rest and not valid_netns_name(rest[0]):
        raise NetnsError(f'Invalid netns name "{rest[0]}"', 255)
    if matches(cmd, "list") or matches(cmd, "show") or matches(cmd, "lst"):
        return _list(machine, ns)
    if cmd == "list-id":
        return _list_id(machine, ns, rest)
    if matches(cmd, "help"):
        return Result(255, "", USAGE)
    if matches(cmd, "add"):
        if not rest:
            raise NO_NAME
        machine.netns_add(rest[0])
        return Result(0)
    if matches(cmd, "set"):
        return _set(machine, rest)
    if matches(cmd, "delete"):
        if not rest:
            raise NO_NAME
        machine.netns_del(rest[0])
        return Result(0)
    if matches(cmd, "identify"):
        return _identify(machine, ns, rest)
    if matches(cmd, "pids"):
        return _pids(machine, rest)
    if matches(cmd, "exec"):
        return _exec(ctx, machine, rest)
    if matches(cmd, "monitor") or matches(cmd, "attach"):
        raise IpError(f"netplex: ip netns {'monitor' if matches(cmd, 'monitor') else 'attach'} is not supported", 2)
    raise NetnsError(f'Command "{cmd}" is unknown, try "ip netns help".', 255)
