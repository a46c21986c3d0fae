"""smcrouted (SMCRoute 2.5, smcrouted(8)): the static multicast routing daemon.

It opens the namespace's mroute socket (MRT_INIT), adds a VIF for every
multicast-capable interface (loopback excepted; none with `-N`) and waits.
A (*,G) rule with no source is a template: the kernel's IGMPMSG_NOCACHE
upcall for traffic from S to G on IIF makes the daemon install the (S,G)
entry with TTL threshold 1 on each OIF. With a source the (S,G) entry is
installed at once. The daemon is a process of its machine; its control
socket is /run/NAME.sock in the machine's /run (`find_daemon`), and its end
(`smcroutectl kill`, `kill PID`, even `kill -9`) closes the mroute socket,
which flushes the table (mrtsock_destruct). Interface wildcards (`eth+`) are
modelled. The command lines are parsed by `netplex.shell.smcroute`.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from netplex.apps.process import ProcessTable, Program, ProgramExit, RunFile
from netplex.errors import NetplexError
from netplex.stack.igmp import ip_mc_join_group, ip_mc_leave_group
from netplex.stack.ipmr import MrTable, mrt_done, mrt_init

if TYPE_CHECKING:
    from netplex.stack.netns import Namespace

__all__ = ["MrouteSocket", "Rule", "Smcrouted", "find_daemon"]


class Rule:
    """One `smcroutectl add`: inbound interface, source (0 = any), group/len, outbound interfaces."""

    __slots__ = ("glen", "group", "iif", "installed", "oifs", "source")

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


class MrouteSocket:
    """The daemon's mroute socket (MRT_INIT); closing it is MRT_DONE (mrtsock_destruct)."""

    def __init__(self, ns: Namespace, upcall: Callable[[MrTable, int, int, int], None]) -> None:
        self.ns = ns
        self.mrt = mrt_init(ns, upcall)

    def close(self) -> None:
        if self.ns.mrt is self.mrt:
            mrt_done(self.ns)


class Smcrouted(Program):
    """The daemon: its rules, and the upcall it answers; `sock_path` is its control socket."""

    comm = "smcrouted"
    vsz_kib, rss_kib = 2568, 1408

    def __init__(self, ident: str = "smcroute", sock_path: str | None = None, vifs: bool = True) -> None:
        super().__init__()
        self.ident = ident
        self.sock_path = sock_path or f"/run/{ident}.sock"
        self.vifs = vifs
        self.rules: list[Rule] = []
        self.mrt: MrTable          # opened by start()

    def start(self) -> None:
        try:
            self.mrt = self.own(MrouteSocket(self.ns, self.upcall)).mrt
        except NetplexError as e:
            raise ProgramExit(1, f"smcrouted: Failed initializing IPv4 multicast routing API: {e.message}\n") from e
        if self.fs is not None:
            try:
                self.own(RunFile(self.fs, self.sock_path))      # bind(2) of the IPC socket
            except NetplexError as e:   # not checked against SMCRoute
                raise ProgramExit(1, f"smcrouted: Failed creating IPC socket {self.sock_path}: {e.message}\n") from e
        if self.vifs:
            ns = self.ns
            for idx in sorted(ns.by_index):
                dev = ns.by_index[idx]
                if dev.kind != "loopback":
                    self.mrt.add_vif(dev)

    def _vif(self, pattern: str) -> list[int]:
        mrt = self.mrt
        return [i for i, v in enumerate(mrt.vifs) if v is not None and _ifmatch(pattern, v.dev.name)]

    def upcall(self, mrt: MrTable, vifi: int, source: int, group: int) -> None:
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

    def join(self, iif: str, group: int, leave: bool = False) -> bool:
        """`smcroutectl join|leave`: False when there is no such interface."""
        dev = self.ns.devices.get(iif)
        if dev is None:
            return False
        (ip_mc_leave_group if leave else ip_mc_join_group)(self.ns, dev, group)
        return True


def find_daemon(procs: ProcessTable, sock_path: str) -> Smcrouted | None:
    """The running daemon listening on `sock_path` in this machine's /run (while the
    socket file is there: smcroutectl connects to it by path)."""
    if procs.fs is not None and not procs.fs.exists(sock_path):
        return None
    for p in procs.by_program(Smcrouted):
        if isinstance(p.program, Smcrouted) and p.program.sock_path == sock_path:
            return p.program
    return None

