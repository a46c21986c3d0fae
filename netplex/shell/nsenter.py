"""`nsenter` (util-linux 2.38, nsenter(1)): run a program in another network namespace.

    nsenter --net=/run/netns/NAME CMD ...     a namespace `ip netns add` named
    nsenter --net=/proc/PID/ns/net CMD ...    a process's namespace (pid 1: the root one)
    nsenter -t PID -n CMD ...                 the same, by target pid

Only the network namespace is modelled; the other namespace options (-m, -u,
-i, -p, -U, -C, -T, -a) and running an interactive shell (no CMD) are refused.
"""
from __future__ import annotations

import re

from netplex.machine import NETNS_RUN_DIR, Machine
from netplex.shell.nsexec import exec_in
from netplex.shell.registry import Context, command
from netplex.shell.result import Result
from netplex.stack.netns import Namespace

__all__ = ["nsenter"]

_TRY = "Try 'nsenter --help' for more information.\n"
_OTHER_NS = {"m": "mount", "u": "uts", "i": "ipc", "p": "pid", "U": "user", "C": "cgroup", "T": "time"}
_LONG_NS = {v: k for k, v in _OTHER_NS.items()}
_PROC_NS = re.compile(r"/proc/(\d+|self|thread-self)/ns/net")


class _Fail(Exception):
    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.message = message
        self.status = status


def _open(machine: Machine, ctx_ns: Namespace, path: str) -> Namespace:
    """The namespace a file names, as open(2) + setns(2) find it."""
    p = machine.fs.norm(path)
    if p.startswith(NETNS_RUN_DIR + "/"):
        ns = machine.netns.get(p[len(NETNS_RUN_DIR) + 1:])
        if ns is not None:
            return ns
    m = _PROC_NS.fullmatch(p)
    if m is not None:
        who = m.group(1)
        if who in ("self", "thread-self"):
            return ctx_ns
        ns = machine.netns_of_pid(int(who))
        if ns is not None:
            return ns
    if machine.fs.read(p) is not None:
        raise _Fail("nsenter: reassociate to namespace 'ns/net' failed: Invalid argument\n")
    raise _Fail(f"nsenter: cannot open {path}: No such file or directory\n")


def _parse(argv: list[str]) -> tuple[str | None, str | None, bool, list[str]]:
    """(target pid, --net file, -n given, command) from getopt_long's `+` (stop at the command)."""
    target: str | None = None
    net_file: str | None = None
    net = False
    i = 1
    while i < len(argv):
        a = argv[i]
        if a == "--":
            i += 1
            break
        if a.startswith("--"):
            name, eq, value = a[2:].partition("=")
            if name == "target":
                if not eq:
                    i += 1
                    if i >= len(argv):
                        raise _Fail(f"nsenter: option '--target' requires an argument\n{_TRY}")
                    value = argv[i]
                target = value
            elif name == "net":
                net, net_file = True, (value if eq else None)
            elif name in ("no-fork", "preserve-credentials"):
                pass
            elif name in _LONG_NS or name in ("all", "root", "wd", "setuid", "setgid", "follow-context"):
                raise _Fail(f"netplex: nsenter --{name} is not supported (only the network namespace)\n", 2)
            elif name in ("help", "version"):
                raise _Fail(f"netplex: nsenter --{name} is not supported\n", 2)
            else:
                raise _Fail(f"nsenter: unrecognized option '{a}'\n{_TRY}")
        elif a.startswith("-") and len(a) > 1:
            j = 1
            while j < len(a):
                c = a[j]
                rest = a[j + 1:]
                if c == "t":
                    if rest:
                        target = rest
                    else:
                        i += 1
                        if i >= len(argv):
                            raise _Fail(f"nsenter: option requires an argument -- 't'\n{_TRY}")
                        target = argv[i]
                    break
                if c == "n":
                    net, net_file = True, (rest or None)
                    break
                if c == "F":
                    j += 1
                    continue
                if c in _OTHER_NS or c in "arwSGZhV":
                    raise _Fail(f"netplex: nsenter -{c} is not supported (only the network namespace)\n", 2)
                raise _Fail(f"nsenter: invalid option -- '{c}'\n{_TRY}")
        else:
            break
        i += 1
    return target, net_file, net, argv[i:]


@command("nsenter")
def nsenter(ctx: Context, argv: list[str]) -> Result:
    machine = ctx.machine
    if not isinstance(machine, Machine) or not isinstance(ctx.node, Namespace):
        return Result(2, "", "netplex: nsenter needs a machine (this shell has none)\n")
    try:
        target, net_file, net, cmd = _parse(argv)
        if target is not None and not target.isdigit():
            raise _Fail(f"nsenter: failed to parse pid: '{target}'\n")
        ns = ctx.node
        if net:
            if net_file is None:
                if target is None:
                    raise _Fail("nsenter: neither filename nor target pid supplied for ns/net\n")
                net_file = f"/proc/{target}/ns/net"
            ns = _open(machine, ctx.node, net_file)
        if not cmd:
            raise _Fail("netplex: nsenter without a command (an interactive shell) is not supported\n", 2)
    except _Fail as e:
        return Result(e.status, "", e.message)
    result = exec_in(ctx, ns, cmd)
    if result is None:
        return Result(127, "", f"nsenter: failed to execute {cmd[0]}: No such file or directory\n")
    return result
