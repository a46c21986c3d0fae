"""Starting and stopping FRR on a node: `/usr/lib/frr/frrinit.sh start|stop|restart|status`,
Debian's frr package's init script (what `systemctl start frr` runs, frr.service's ExecStart).

`start` reads /etc/frr/daemons (bgpd=yes|no, DAEMON_options="..."; absent, the
Debian package's file: only zebra and staticd), starts watchfrr, zebra, the
enabled daemons and staticd with the argv frrcommon.sh gives them (`-d -F
PROFILE` and the options), and loads /etc/frr/frr.conf into them, as watchfrr's
`vtysh -b` does. The profile is frr.conf's `frr defaults` line. A line of
frr.conf netplex does not model stops the start with the file, the line and the
statement, and nothing runs. `stop` stops them in frrcommon.sh's order (watchfrr,
then the daemons in reverse, zebra last); each daemon's own clean-up runs (bgpd
sends Cease, zebra removes its kernel routes). Messages as frrinit.sh prints them
through /lib/lsb/init-functions. `reload` (frr-reload.py) is not supported.

The daemons are processes of the node's machine (`ps` lists them, `kill` ends
them); `daemons_of(machine, ns)` finds them for vtysh.
"""
from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from typing import Any

from netplex.apps.process import Program
from netplex.frr.bgpd import Bgpd
from netplex.frr.config import FrrConfig, FrrConfigError, Parser
from netplex.frr.ospfd import Ospfd
from netplex.frr.zebra import Zebra, zebra_of
from netplex.machine import Machine
from netplex.shell.registry import Context, command
from netplex.shell.result import Result

__all__ = ["FrrDaemons", "daemons_of", "frrinit", "load_config"]

FRR_DIR = "/usr/lib/frr"
DAEMONS_FILE = "/etc/frr/daemons"
CONF_FILE = "/etc/frr/frr.conf"
# bgpd and ospfd are the routing daemons netplex models; the others of /etc/frr/daemons are refused when enabled
KNOWN_DAEMONS = ("bgpd", "ospfd", "ospf6d", "ripd", "ripngd", "isisd", "pimd", "pim6d", "ldpd", "nhrpd",
                 "eigrpd", "babeld", "sharpd", "pbrd", "bfdd", "fabricd", "vrrpd", "pathd")
DEBIAN_OPTIONS = {"zebra": "  -A 127.0.0.1 -s 90000000", "bgpd": "   -A 127.0.0.1", "ospfd": "  -A 127.0.0.1"}
MODELLED = ("bgpd", "ospfd")


class Watchfrr(Program):
    comm = "watchfrr"
    vsz_kib, rss_kib = 8712, 3536


class Staticd(Program):
    comm = "staticd"
    vsz_kib, rss_kib = 9992, 4936


class IdleDaemon(Program):
    """An enabled daemon netplex does not model (ldpd, pimd, ...): frr.conf cannot configure it
    here (its statements are refused), and such a daemon with no configuration does nothing."""

    vsz_kib, rss_kib = 9800, 4800

    def __init__(self, name: str) -> None:
        super().__init__()
        self.comm = name


@dataclass(slots=True)
class FrrDaemons:
    """The FRR processes of one network namespace."""

    watchfrr: Any = None
    zebra: Zebra | None = None
    bgpd: Bgpd | None = None
    staticd: Any = None
    ospfd: Ospfd | None = None
    idle: list[IdleDaemon] = field(default_factory=list)

    def running(self) -> list[tuple[str, Any]]:
        return [(n, d) for n, d in (("watchfrr", self.watchfrr), ("zebra", self.zebra), ("bgpd", self.bgpd),
                                    ("ospfd", self.ospfd), *((i.comm, i) for i in self.idle),
                                    ("staticd", self.staticd)) if d is not None]


def daemons_of(machine: Machine, ns: Any) -> FrrDaemons:
    d = FrrDaemons()
    for p in machine.procs.in_netns(ns):
        if not p.alive:
            continue
        prog = p.program
        if isinstance(prog, Watchfrr):
            d.watchfrr = prog
        elif isinstance(prog, Zebra):
            d.zebra = prog
        elif isinstance(prog, Bgpd):
            d.bgpd = prog
        elif isinstance(prog, Staticd):
            d.staticd = prog
        elif isinstance(prog, Ospfd):
            d.ospfd = prog
        elif isinstance(prog, IdleDaemon):
            d.idle.append(prog)
    return d


def _read_daemons(machine: Machine) -> tuple[dict[str, bool], dict[str, str]]:
    """/etc/frr/daemons: a shell fragment of NAME=yes|no and NAME_options="..." lines."""
    text = machine.fs.read(DAEMONS_FILE)
    enabled: dict[str, bool] = {}
    options = dict(DEBIAN_OPTIONS) if text is None else {}
    if text is None:
        return enabled, options
    for raw in text.decode(errors="replace").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        try:
            words = shlex.split(value)
        except ValueError:
            continue
        val = words[0] if words else ""
        if key.endswith("_options"):
            options[key.removesuffix("_options")] = " ".join(words) if words else ""
        elif key in KNOWN_DAEMONS:
            enabled[key] = val == "yes"
    return enabled, options


def load_config(machine: Machine) -> FrrConfig:
    """frr.conf read as `vtysh -b` reads it; FrrConfigError names the line."""
    conf = FrrConfig()
    text = machine.fs.read(CONF_FILE)
    if text is None:
        return conf
    parser = Parser(conf)
    for no, line in enumerate(text.decode(errors="replace").splitlines(), 1):
        try:
            parser.feed(line)
        except FrrConfigError as e:
            raise FrrConfigError(f"netplex: {CONF_FILE} line {no}: {e.message}") from e
    return conf


def _start(ctx: Context, machine: Machine) -> Result:
    ns: Any = ctx.node
    if daemons_of(machine, ns).watchfrr is not None:
        return Result(0, "", "")   # watchfrr's pid file is live: daemon_start says nothing new
    enabled, options = _read_daemons(machine)
    try:
        conf = load_config(machine)
    except FrrConfigError as e:
        return Result(1, "", e.message + "\n")
    profile = conf.profile
    names = ["zebra"] + [n for n in KNOWN_DAEMONS if enabled.get(n)] + ["staticd"]
    procs = machine.procs
    watch_cmd = f"  {FRR_DIR}/watchfrr  -d  -F {profile}   {' '.join(names)}"
    procs.spawn([f"{FRR_DIR}/watchfrr", "-d", "-F", profile, *names], ns, Watchfrr())

    def argv(name: str) -> list[str]:
        return [f"{FRR_DIR}/{name}", "-d", "-F", profile, *options.get(name, "").split()]

    zebra = Zebra(conf)
    procs.spawn(argv("zebra"), ns, zebra)
    if enabled.get("bgpd"):
        p = procs.spawn(argv("bgpd"), ns, Bgpd(conf, lambda: zebra_of(procs, ns)))
        if not p.alive:
            return Result(1, f"Starting watchfrr with command: '{watch_cmd}'.\n", p.error)
    if enabled.get("ospfd"):
        p = procs.spawn(argv("ospfd"), ns, Ospfd(conf, lambda: zebra_of(procs, ns)))
        if not p.alive:
            return Result(1, f"Starting watchfrr with command: '{watch_cmd}'.\n", p.error)
    for name in names[1:-1]:
        if name not in MODELLED:
            procs.spawn(argv(name), ns, IdleDaemon(name))
    procs.spawn(argv("staticd"), ns, Staticd())
    return Result(0, f"Starting watchfrr with command: '{watch_cmd}'.\nStarted watchfrr.\n")


def _stop(ctx: Context, machine: Machine) -> str:
    d = daemons_of(machine, ctx.node)
    out = ""
    order = [("watchfrr", d.watchfrr), ("bgpd", d.bgpd), ("ospfd", d.ospfd), *((i.comm, i) for i in d.idle),
             ("staticd", d.staticd), ("zebra", d.zebra)]
    for name, prog in order:
        if prog is None or prog.proc is None:
            continue
        machine.procs.kill(prog.proc.pid)
        out += f"Stopped {name}.\n"
    return out


@command(f"{FRR_DIR}/frrinit.sh")
def frrinit(ctx: Context, argv: list[str]) -> Result:
    if not isinstance(ctx.machine, Machine):
        return Result(1, "", "netplex: frrinit.sh: this shell runs on no machine\n")
    machine = ctx.machine
    verb = argv[1] if len(argv) > 1 else ""
    if len(argv) > 2:
        return Result(2, "", "netplex: frrinit.sh: FRR pathspaces (a second argument) are not supported\n")
    if verb == "start":
        return _start(ctx, machine)
    if verb == "stop":
        return Result(0, _stop(ctx, machine))
    if verb in ("restart", "force-reload"):
        out = _stop(ctx, machine)
        r = _start(ctx, machine)
        return Result(r.status, out + r.output, r.error)
    if verb == "status":
        d = daemons_of(machine, ctx.node)
        enabled, _ = _read_daemons(machine)
        names = ["watchfrr", "zebra"] + [n for n in KNOWN_DAEMONS if enabled.get(n)] + ["staticd"]
        running = dict(d.running())
        out = "".join(f"Status of {n}: {'running' if n in running else 'FAILED'}.\n" for n in names)
        return Result(0 if all(n in running for n in names) else 1, out)
    if verb == "reload":
        return Result(2, "", "netplex: frrinit.sh reload (frr-reload.py) is not supported\n")
    return Result(1, f"Usage:\n    {argv[0]} <start|stop|restart|force-reload|reload|status> [namespace]\n")
