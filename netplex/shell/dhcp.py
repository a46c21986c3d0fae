"""`dnsmasq` (as a DHCP server) and `dhclient`, the commands that start the DHCP daemons
of `netplex.apps.dnsmasq` and `netplex.apps.dhclient` (dnsmasq(8), dhclient(8)).

`dnsmasq ARGS`: parses the command line as dnsmasq 2.90 does (its errors, a blank line
then `dnsmasq: bad command line options: ...`, status 1; `--test` checks only) and starts
the daemon, which returns at once as the forking dnsmasq does.

`dhclient [-4] [-v] [-1] [-nw] [-lf FILE] [-pf FILE] [-r|-x] IFACE`: ISC dhclient 4.4.
It stays in the foreground until it is bound (the simulated clock runs meanwhile), then
goes on as a daemon; `-1` gives up with status 2 when no lease came within the timeout,
`-nw` returns at once. A dhclient already running with the same pid file is killed
first (its address stays, as SIGTERM leaves it); `-r IFACE` then releases the lease the
lease file holds for IFACE (DHCPRELEASE, addresses flushed), `-x` only stops. `-v` prints ISC's lines on stderr.
"""
from __future__ import annotations

from netplex.apps.dhclient import BOUND, TIMEOUT, Dhclient, last_lease
from netplex.apps.dnsmasq import Dnsmasq, DnsmasqError, parse_args
from netplex.apps.process import SIGTERM
from netplex.machine import Machine
from netplex.shell.registry import Context, command
from netplex.shell.result import UNSUPPORTED_STATUS, Result, unsupported

__all__ = ["dhclient", "dnsmasq"]

NSEC = 1_000_000_000
DHCLIENT_PID = "/run/dhclient.pid"
DHCLIENT_DB = "/var/lib/dhcp/dhclient.leases"
DHCLIENT_USAGE = ("Usage: dhclient [-4|-6] [-SNTPRI1dvrxi] [-nw] [-p <port>] [-D LL|LLT]\n"
                  "                [--dad-wait-time <seconds>] [--prefix-len-hint <length>]\n"
                  "                [--decline-wait-time <seconds>]\n"
                  "                [--address-prefix-len <length>]\n"
                  "                [-s server-addr] [-cf config-file]\n"
                  "                [-df duid-file] [-lf lease-file]\n"
                  "                [-pf pid-file] [--no-pid] [-e VAR=val]\n"
                  "                [-sf script-file] [interface]*\n"
                  "       dhclient {--version|--help|-h}\n")


@command("dnsmasq")
def dnsmasq(ctx: Context, argv: list[str]) -> Result:
    try:
        cfg, seen = parse_args(argv[1:])
    except DnsmasqError as e:
        status = UNSUPPORTED_STATUS if e.message.startswith("netplex:") else 1
        return Result(status, "", e.message + "\n")
    if "--test" in seen:
        return Result(0, "", "dnsmasq: syntax check OK.\n")
    if not isinstance(ctx.machine, Machine):
        return Result(1, "", "netplex: dnsmasq: this shell runs on no machine\n")
    p = ctx.machine.procs.spawn(argv, ctx.node, Dnsmasq(cfg))  # type: ignore[arg-type]
    if not p.alive:
        return Result(p.exit_status or 1, "", p.error)
    return Result(0)


def _running(machine: Machine, pidfile: str) -> Dhclient | None:
    data = machine.fs.read(machine.fs.norm(pidfile))
    text = data.decode().strip() if data else ""
    p = machine.procs.get(int(text)) if text.isdigit() else None
    return p.program if p is not None and isinstance(p.program, Dhclient) else None


@command("dhclient")
def dhclient(ctx: Context, argv: list[str]) -> Result:
    flags: set[str] = set()
    files = {"-lf": DHCLIENT_DB, "-pf": DHCLIENT_PID}
    ifaces: list[str] = []
    i = 1
    while i < len(argv):
        a = argv[i]
        i += 1
        if a in ("-4", "-v", "-1", "-r", "-x", "-nw", "-q"):
            flags.add(a)
        elif a in files:
            if i >= len(argv):
                return Result(1, "", DHCLIENT_USAGE)
            files[a] = argv[i]
            i += 1
        elif a in ("--version",):
            return Result(0, "", "isc-dhclient-4.4.3-P1\n")
        elif a.startswith("-"):
            if a in ("-6", "-d", "-sf", "-cf", "-s", "-p", "-e", "-df", "-D", "-N", "-T", "-P", "-S", "-I", "-i",
                     "--no-pid"):
                return unsupported(f"dhclient {a}")
            return Result(1, "", DHCLIENT_USAGE)
        else:
            ifaces.append(a)
    if len(ifaces) > 1:
        return unsupported("dhclient with more than one interface")
    if not isinstance(ctx.machine, Machine):
        return Result(1, "", "netplex: dhclient: this shell runs on no machine\n")
    machine = ctx.machine
    verbose = "-v" in flags
    err: list[str] = [] if not verbose else ["Internet Systems Consortium DHCP Client 4.4.3-P1\n"
                                             "Copyright 2004-2022 Internet Systems Consortium.\n"
                                             "All rights reserved.\n"
                                             "For info, please visit https://www.isc.org/software/dhcp/\n\n"]
    old = _running(machine, files["-pf"])
    if old is not None and old.proc is not None:
        machine.procs.kill(old.proc.pid, SIGTERM)
        err.append("Killed old client process\n")
    if "-r" in flags or "-x" in flags:
        # -r: DHCPRELEASE of the lease file's lease on each interface named; -x: stop only
        data = machine.fs.read(machine.fs.norm(files["-lf"])) if "-r" in flags else None
        for ifname in ifaces:
            lease = last_lease(data.decode(errors="replace"), ifname) if data else None
            if lease is None:
                continue
            rel = Dhclient(ifname, files["-lf"], files["-pf"], err.append if verbose else None, release_only=True)
            p = machine.procs.spawn(argv, ctx.node, rel)  # type: ignore[arg-type]
            if p.alive:
                rel.release(*lease)
                ctx.node.world.run_for(NSEC // 1000)   # the DHCPRELEASE leaves before dhclient exits  # type: ignore[attr-defined]
                machine.procs.exit(p, 0)
        return Result(0, "", "".join(err))
    if not ifaces:
        return unsupported("dhclient without an interface")
    live = verbose

    def log(line: str) -> None:
        if live:
            err.append(line)

    prog = Dhclient(ifaces[0], files["-lf"], files["-pf"], log)
    p = machine.procs.spawn(argv, ctx.node, prog)  # type: ignore[arg-type]
    if not p.alive:
        return Result(1, "", "".join(err) + p.error)
    if "-nw" not in flags:
        ctx.node.world.run_until(lambda: prog.state == BOUND or prog.gave_up or not prog.alive,  # type: ignore[attr-defined]
                                 (TIMEOUT + 1) * NSEC)
    live = False    # from here on dhclient logs to syslog only
    if prog.gave_up and "-1" in flags:
        machine.procs.exit(p, 2)
        return Result(2, "", "".join(err))
    if prog.gave_up:
        err.append("No working leases in persistent database - sleeping.\n" if verbose else "")
    return Result(0, "", "".join(err))
