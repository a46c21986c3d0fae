"""A machine's process table: the userspace programs that run on it.

Each `Process` has a pid, a parent pid, a command line, the network namespace
it runs in, a state (`ps` STAT letters: S sleeping, T stopped) and, once it
ended, an exit status. A process runs a `Program` (a daemon: the scenario's
services, iperf, docker-proxy, smcrouted, ...) which owns what it opened —
sockets and timers — so that ending the process closes them, as the kernel
closes a dead task's files (do_exit → exit_files).

Pids are allocated as Linux does without pid reuse in view: pid 1 is the
machine's init, every new process gets the next number (kernel/pid.c
alloc_pid, which only wraps at pid_max). Signals follow signal(7)'s default
dispositions: SIGKILL always ends a process without letting it clean up,
SIGSTOP/SIGCONT stop and continue it, SIGCHLD/SIGURG/SIGWINCH are ignored,
every other signal ends it unless its program handles it. `ps`, `kill`,
`pidof` (netplex.shell.procps) and `ip netns pids`/`identify` read this table.

This package sits above `stack/` (programs use its sockets) and below
`machine/` and `shell/`.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any, Protocol

from netplex.errors import NetplexError

if TYPE_CHECKING:
    from netplex.machine.fs import FileSystem
    from netplex.stack.netns import Namespace

__all__ = ["SIGNALS", "Closable", "Process", "ProcessTable", "Program", "ProgramExit", "RunFile", "signal_number"]

TASK_COMM_LEN = 16            # include/linux/sched.h: comm holds 15 characters and a NUL

# signal(7) numbers on x86-64, as `kill -l` lists them (bash's list, 32 and 33 are glibc's)
SIGNALS: dict[int, str] = {
    1: "HUP", 2: "INT", 3: "QUIT", 4: "ILL", 5: "TRAP", 6: "ABRT", 7: "BUS", 8: "FPE", 9: "KILL",
    10: "USR1", 11: "SEGV", 12: "USR2", 13: "PIPE", 14: "ALRM", 15: "TERM", 16: "STKFLT", 17: "CHLD",
    18: "CONT", 19: "STOP", 20: "TSTP", 21: "TTIN", 22: "TTOU", 23: "URG", 24: "XCPU", 25: "XFSZ",
    26: "VTALRM", 27: "PROF", 28: "WINCH", 29: "IO", 30: "PWR", 31: "SYS",
}
SIGRTMIN, SIGRTMAX = 34, 64
for _n in range(SIGRTMIN, SIGRTMAX + 1):
    _off = _n - SIGRTMIN
    SIGNALS[_n] = ("RTMIN" if _off == 0 else f"RTMIN+{_off}") if _off <= 15 else \
        ("RTMAX" if _n == SIGRTMAX else f"RTMAX-{SIGRTMAX - _n}")
SIGHUP, SIGINT, SIGKILL, SIGTERM, SIGCHLD, SIGCONT, SIGSTOP = 1, 2, 9, 15, 17, 18, 19
SIGTSTP, SIGTTIN, SIGTTOU, SIGURG, SIGWINCH = 20, 21, 22, 23, 28
_IGNORED = frozenset({SIGCHLD, SIGURG, SIGWINCH})     # default disposition "Ign"
_STOPS = frozenset({SIGSTOP, SIGTSTP, SIGTTIN, SIGTTOU})
_BY_NAME = {name: num for num, name in SIGNALS.items()}
_BY_NAME.update({"IOT": 6, "POLL": 29, "CLD": 17})


def signal_number(spec: str) -> int | None:
    """A signal given as a number or a name (`TERM`, `SIGTERM`, `term`), or None."""
    if spec.isdigit():
        n = int(spec)
        return n if n == 0 or n in SIGNALS else None
    name = spec.upper()
    name = name.removeprefix("SIG")
    return _BY_NAME.get(name)


class Closable(Protocol):
    """What a program owns: a socket, a listener, anything the kernel closes at exit."""

    def close(self) -> None: ...


class ProgramExit(NetplexError):
    """Raised by `Program.start` when the program exits at once (bad option, bind failed)."""

    def __init__(self, status: int, message: str = "") -> None:
        super().__init__(message, status=status)


class Program:
    """A userspace program, subclassed per daemon (template methods).

    A subclass implements `start()` — open sockets (registered with `own`),
    schedule timers (`after`), raise `ProgramExit` to fail — and may implement
    `stop()` (its own clean-up on a catchable signal) and `on_signal()`
    (a handled signal). Whatever it owns is closed when the process ends,
    however it ends.
    """

    comm = ""            # the process name when it differs from argv[0]'s basename
    vsz_kib = 2200       # what `ps aux` shows; a daemon may say what it is like
    rss_kib = 1100

    def __init__(self) -> None:
        self.proc: Process | None = None
        self.owned: list[Closable] = []
        self.queued: set[Callable[[], Any]] = set()   # coalesced calls not yet run (`soon`)

    @property
    def ns(self) -> Namespace:
        assert self.proc is not None and self.proc.netns is not None
        return self.proc.netns

    @property
    def alive(self) -> bool:
        return self.proc is not None and self.proc.exit_status is None

    @property
    def fs(self) -> FileSystem | None:
        """The machine's files (/etc, /run, ...), where a daemon reads its configuration."""
        return self.proc.table.fs if self.proc is not None and self.proc.table is not None else None

    def own(self, obj: Any) -> Any:
        """Register a socket (or anything with `close()`) to be closed at exit; returns it."""
        self.owned.append(obj)
        return obj

    def after(self, delay_ns: int, fn: Callable[..., Any], *args: Any) -> None:
        """A timer: `fn(*args)` in `delay_ns` unless the process has ended by then."""
        self.ns.sched.after(delay_ns, self._fire, fn, args)

    def at(self, when_ns: int, fn: Callable[..., Any], *args: Any) -> None:
        """A timer at absolute simulated time `when_ns`, cancelled by the process's end."""
        self.ns.sched.at(when_ns, self._fire, fn, args)

    def soon(self, fn: Callable[[], Any]) -> None:
        """`fn()` at the current simulated time, once however often this is asked before it runs: a
        daemon's one reaction to a burst of notifications (rtnetlink's, a socket's)."""
        if fn not in self.queued:
            self.queued.add(fn)
            self.after(0, self._soon, fn)

    def _soon(self, fn: Callable[[], Any]) -> None:
        self.queued.discard(fn)
        fn()

    def _fire(self, fn: Callable[..., Any], args: tuple[Any, ...]) -> None:
        if self.alive:
            fn(*args)

    def exit(self, status: int = 0) -> None:
        """The program ends itself (exit(3))."""
        if self.proc is not None and self.proc.table is not None:
            self.proc.table.exit(self.proc, status)

    # -- template methods ----------------------------------------------------
    def start(self) -> None:
        """Open sockets and timers; raise ProgramExit(status, message) to fail."""

    def stop(self) -> None:
        """Clean up on a catchable terminating signal (before owned sockets close)."""

    def on_signal(self, sig: int) -> bool:
        """A signal arrived: True when the program handles it (it keeps running)."""
        return False

    def close_owned(self) -> None:
        owned, self.owned = self.owned, []
        for obj in reversed(owned):
            obj.close()


class Process:
    """One task in a machine's process table."""

    __slots__ = (
        "argv",
        "error",
        "exit_status",
        "net_cls_cgroup",
        "net_cls_classid",
        "netns",
        "on_exit",
        "pid",
        "ppid",
        "program",
        "start_ns",
        "state",
        "table",
        "tty",
        "uid",
    )

    def __init__(self, pid: int, argv: list[str], netns: Namespace | None = None,
                 program: Program | None = None, ppid: int = 1, start_ns: int = 0) -> None:
        self.pid = pid
        self.ppid = ppid
        self.argv = list(argv)
        self.netns = netns
        self.program = program
        self.state = "S"
        self.exit_status: int | None = None
        self.start_ns = start_ns
        self.tty = "?"
        self.uid = 0                  # every netplex command runs as root
        self.error = ""               # what the program wrote to stderr when it failed to start
        self.table: ProcessTable | None = None
        self.on_exit: list[Callable[[Process], None]] = []
        # its cgroup in the net_cls hierarchy and that cgroup's classid, which its sockets
        # carry (sk_cgrp_data); kept by netplex.machine.cgroup, inherited at fork
        self.net_cls_cgroup = "/"
        self.net_cls_classid = 0

    def __repr__(self) -> str:
        return f"<Process {self.pid} {self.comm}>"

    @property
    def comm(self) -> str:
        """/proc/PID/comm: the program's name, at most 15 characters."""
        if self.program is not None and self.program.comm:
            name = self.program.comm
        else:
            name = self.argv[0].rsplit("/", 1)[-1] if self.argv else ""
        return name[:TASK_COMM_LEN - 1]

    name = comm

    @property
    def args(self) -> str:
        """/proc/PID/cmdline joined by spaces (`ps` args)."""
        return " ".join(self.argv)

    @property
    def alive(self) -> bool:
        return self.exit_status is None

    @property
    def sockets(self) -> list[Any]:
        return list(self.program.owned) if self.program is not None else []


class RunFile:
    """A file a daemon creates in the machine's filesystem (its control socket,
    its pid file) and removes when it exits: own it with `Program.own`. (A
    daemon killed with SIGKILL leaves a stale file behind on Linux; netplex
    removes it however the daemon ends.)"""

    def __init__(self, fs: FileSystem, path: str, data: bytes = b"") -> None:
        self.fs = fs
        self.path = path
        fs.write(path, data)

    def close(self) -> None:
        self.fs.unlink(self.path)


class ProcessTable:
    """A machine's processes by pid; pid 1 is its init. `fs` is the machine's filesystem."""

    def __init__(self, fs: FileSystem | None = None) -> None:
        self.fs = fs
        self.procs: dict[int, Process] = {}
        self.next_pid = 1
        init = self._new(["/sbin/init"], None, None, ppid=0)
        init.state = "Ss"

    def _new(self, argv: list[str], netns: Namespace | None, program: Program | None, ppid: int) -> Process:
        p = Process(self.next_pid, argv, netns, program, ppid, netns.sched.now if netns is not None else 0)
        self.next_pid += 1
        parent = self.procs.get(ppid)
        if parent is not None:   # fork: the child starts in its parent's cgroup (cgroup_post_fork)
            p.net_cls_cgroup, p.net_cls_classid = parent.net_cls_cgroup, parent.net_cls_classid
        p.table = self
        self.procs[p.pid] = p
        return p

    def spawn(self, argv: list[str], netns: Namespace | None = None, program: Program | None = None,
              ppid: int = 1) -> Process:
        """fork + exec of `argv` in `netns`, running `program` (None: a bare task the
        caller ends with `exit`). A program that fails to start has exited when this
        returns: `alive` is False, `exit_status` and `error` say why."""
        p = self._new(argv, netns, program, ppid)
        if program is not None:
            program.proc = p
            try:
                program.start()
            except ProgramExit as e:
                p.error = e.message
                self.exit(p, e.status, clean=False)
        return p

    def get(self, pid: int) -> Process | None:
        return self.procs.get(pid)

    def __iter__(self) -> Any:
        return iter(sorted(self.procs.values(), key=lambda p: p.pid))

    def __len__(self) -> int:
        return len(self.procs)

    def in_netns(self, netns: Namespace) -> list[Process]:
        """The processes whose network namespace is `netns` (`ip netns pids`)."""
        return [p for p in self if p.netns is netns]

    def pidof(self, name: str) -> list[int]:
        """pidof(8): pids whose name or argv[0] is `name`, newest first."""
        out = []
        for p in self:
            base = p.argv[0].rsplit("/", 1)[-1] if p.argv else ""
            if name in (p.comm, base, p.argv[0] if p.argv else ""):
                out.append(p.pid)
        return sorted(out, reverse=True)

    def by_program(self, cls: type[Program]) -> list[Process]:
        return [p for p in self if isinstance(p.program, cls)]

    def kill(self, pid: int, sig: int = SIGTERM) -> bool:
        """kill(2): False when there is no such process (ESRCH)."""
        p = self.procs.get(pid)
        if p is None:
            return False
        if sig == 0 or p.pid == 1:
            return True                # signal 0 probes; init ignores signals it does not handle
        prog = p.program
        if sig == SIGKILL:
            self.exit(p, 128 + sig, clean=False)
        elif sig in _STOPS:
            if prog is None or sig == SIGSTOP or not prog.on_signal(sig):
                p.state = "T"
        elif sig == SIGCONT:
            if p.state == "T":
                p.state = "S"
            if prog is not None:
                prog.on_signal(sig)
        elif prog is not None and prog.on_signal(sig):
            pass
        elif sig not in _IGNORED:
            self.exit(p, 128 + sig)
        return True

    def exit(self, p: Process, status: int, clean: bool = True) -> None:
        """do_exit: the program cleans up (unless SIGKILLed), its sockets close, it leaves the table."""
        if p.exit_status is not None:
            return
        p.exit_status = status
        prog = p.program
        if prog is not None:
            if clean:
                prog.stop()
            prog.close_owned()
        if self.procs.get(p.pid) is p:
            del self.procs[p.pid]
        for fn in p.on_exit:
            fn(p)
