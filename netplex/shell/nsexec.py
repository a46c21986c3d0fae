"""Running a command in another network namespace of the same machine.

What `ip netns exec NAME CMD` and `nsenter --net=PATH CMD` leave behind once
they have called setns(2): the same program, the same files (the machine's),
another network namespace. The command is looked up in the shell's one table
of commands; /proc/sys and /sys files are read in the target namespace, as
`ip netns exec` remounts /sys for it.
"""
from __future__ import annotations

import dataclasses

from netplex.machine.fs import NetnsEtcView
from netplex.shell import sysfs
from netplex.shell.registry import Context, lookup
from netplex.shell.result import Result
from netplex.stack.netns import Namespace

__all__ = ["exec_in"]


def exec_in(ctx: Context, ns: Namespace, argv: list[str], etc_netns: str = "") -> Result | None:
    """Run `argv` with `ns` as its network namespace; None when no such program exists. `etc_netns`:
    the name `ip netns exec` entered by (its /etc/netns/NAME files bound over /etc)."""
    fn = lookup(argv[0])
    if fn is None:
        return None
    fs = ctx.fs if not etc_netns else NetnsEtcView(ctx.fs, etc_netns)

    def read_file(path: str) -> str | None:   # /proc and /sys of the target namespace; the files stay the machine's
        if path.startswith(("/proc/", "/sys/")):
            return sysfs.read_file(ns, path)
        return ctx.read_file(fs.norm(path, ctx.cwd) if etc_netns else path)

    sub = dataclasses.replace(ctx, node=ns, read_file=read_file, list_dir=lambda path: sysfs.list_dir(ns, path),
                              fs=fs)
    return fn(sub, argv)
