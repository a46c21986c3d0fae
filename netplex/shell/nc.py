"""`nc` as netcat-openbsd (Debian 12, nc(1)) on the simulated clock.

Client: `nc [-u] [-v] [-z] [-w SECS] [-q SECS] HOST PORT` connects, sends its stdin, and
prints what comes back until the peer closes (TCP), until `-w` seconds pass without data,
or until `-q` seconds after stdin's end (netcat-openbsd's readwrite loop); without either,
the run stops after 60 simulated seconds (what Ctrl-C would do). `-z` only connects: with
`-v`, `Connection to HOST PORT port [tcp/http] succeeded!` on stderr (the service name
from /etc/services, `*` when unknown); a UDP `-z` succeeds unless a port unreachable comes
back for one of its four "X" writes (udptest(): then status 1 and no message).
A connection refused is status 1; with `-v` it also says `nc: connect to HOST port PORT
(tcp) failed: Connection refused` (and `timed out: Operation now in progress` when `-w`
ran out): netcat-openbsd warns about a failed connect only under `vflag`.

Listener: `nc -l [-u] [-p] PORT` starts a process in the machine's table (`NcListener`,
a netplex.apps Program, so `&` makes it the job and `$!` its pid; `ps`, `kill` see it). It
accepts one connection, sends the stdin it was given, and ends when the peer closes;
what the peer sends is not shown (a background job's output has no terminal here).
"""
from __future__ import annotations

from typing import Any

from netplex.apps.process import Program, ProgramExit
from netplex.machine import Machine
from netplex.packet.addr import int_to_ip
from netplex.shell.registry import Context, command
from netplex.shell.resolv import GaiError, getaddrinfo
from netplex.shell.result import Result, unsupported
from netplex.stack.sockets import ERRNO_TEXT
from netplex.stack.tcp import TcpSocket

__all__ = ["NcListener", "nc"]

NSEC_PER_SEC = 1_000_000_000
RUN_LIMIT_NS = 60 * NSEC_PER_SEC
UDPTEST_GAP_NS = 1_000_000      # the simulated time between -z -u's writes (a syscall's, rounded up)
# /etc/services (netbase) for the ports a scenario uses most: getservbyport in -v's message
SERVICES = {("tcp", 21): "ftp", ("tcp", 22): "ssh", ("tcp", 23): "telnet", ("tcp", 25): "smtp",
            ("tcp", 53): "domain", ("udp", 53): "domain", ("udp", 67): "bootps", ("udp", 68): "bootpc",
            ("tcp", 80): "http", ("udp", 123): "ntp", ("tcp", 443): "https", ("tcp", 3306): "mysql",
            ("tcp", 5432): "postgresql", ("tcp", 6379): "redis", ("tcp", 8080): "http-alt"}
USAGE = ("usage: nc [-46CDdFhklNnrStUuvZz] [-I length] [-i interval] [-M ttl]\n"
         "\t  [-m minttl] [-O length] [-P proxy_username] [-p source_port]\n"
         "\t  [-q seconds] [-s sourceaddr] [-T keyword] [-V rtable] [-W recvlimit]\n"
         "\t  [-w timeout] [-X proxy_protocol] [-x proxy_address[:port]]\n"
         "\t  [destination] [port]\n")
_WITH_ARG = set("IiMmOPpqsTVWwXx")
_MODELLED = set("lnpquvwz")


class NcListener(Program):
    """`nc -l`: one connection (TCP) or one peer (UDP) on `port`, answered with `data`."""

    comm = "nc"

    def __init__(self, proto: str, port: int, data: bytes) -> None:
        super().__init__()
        self.proto, self.port, self.data = proto, port, data

    def start(self) -> None:
        if self.proto == "udp":
            sk = self.own(self.ns.sockets.udp_socket())
            if sk.bind(0, self.port):
                raise ProgramExit(1, "nc: Address already in use")

            def on_recv(_data: bytes, src: int, sport: int) -> None:
                if self.data:
                    sk.sendto(self.data, src, sport)
                    self.data = b""
            sk.on_recv = on_recv
            return
        lst = self.own(TcpSocket(self.ns.sockets))
        if lst.listen(self.port):
            raise ProgramExit(1, "nc: Address already in use")
        lst.on_accept = self._accept

    def _accept(self, sk: TcpSocket) -> None:
        self.own(sk)
        sk.table.tcp_listen.pop(self.port, None)     # nc -l serves one connection
        if self.data:
            sk.send(self.data)
        sk.on_close = self._closed

    def _closed(self, sk: TcpSocket) -> None:
        sk.close()
        self.exit(0)


def _connect_failed(verbose: bool, dst: int, port: int, proto: str, how: str, why: str) -> str:
    """What a failed connect prints: netcat-openbsd warns only under -v (vflag)."""
    if not verbose:
        return ""
    return f"nc: connect to {int_to_ip(dst)} port {port} ({proto}) {how}: {why}\n"


def _client(ns: Any, proto: str, dst: int, port: int, data: bytes, zero: bool, verbose: bool,
            wait_ns: int | None, quit_ns: int | None) -> Result:
    world = ns.world
    out = bytearray()
    err: list[int] = []
    state = {"connected": False, "closed": False, "last": world.sched.now}
    limit = RUN_LIMIT_NS
    if quit_ns is not None:
        limit = min(limit, quit_ns)
    name = SERVICES.get((proto, port), "*")
    ok = f"Connection to {int_to_ip(dst)} {port} port [{proto}/{name}] succeeded!\n"
    if proto == "udp":
        sk = ns.sockets.udp_socket()
        e = sk.connect(dst, port)
        if e:
            return Result(1, "", _connect_failed(verbose, dst, port, "udp", "failed",
                                                 ERRNO_TEXT.get(e, "Unknown error")))
        if zero:
            # udptest(): four one-byte writes of "X"; a port unreachable that came back
            # for one makes a later write fail with ECONNREFUSED: status 1, no message
            failed = False
            for _ in range(4):
                if sk.error or sk.sendto(b"X"):
                    failed = True
                    break
                world.run_until(lambda: bool(sk.error), UDPTEST_GAP_NS)
            sk.close()
            if failed:
                return Result(1, "", "")
            return Result(0, "", ok if verbose else "")

        def on_recv(payload: bytes, _src: int, _sport: int) -> None:
            out.extend(payload)
            state["last"] = world.sched.now
        sk.on_recv = on_recv
        if data:
            sk.sendto(data)
        if wait_ns is not None:
            limit = min(limit, wait_ns)
        world.run_for(limit)
        sk.close()
        return Result(0, out.decode("utf-8", "replace"), ok if verbose else "")
    tsk = TcpSocket(ns.sockets)

    def on_connect(s: TcpSocket) -> None:
        state["connected"] = True
        if data and not zero:
            s.send(data)
        if zero:
            s.close()

    def on_data(_s: TcpSocket, payload: bytes) -> None:
        if zero:
            return       # -z only connects: nothing is read
        out.extend(payload)
        state["last"] = world.sched.now

    def on_close(s: TcpSocket) -> None:
        state["closed"] = True
        s.close()

    def on_error(_s: TcpSocket, errno_: int) -> None:
        err.append(errno_)

    tsk.on_connect, tsk.on_data, tsk.on_close, tsk.on_error = on_connect, on_data, on_close, on_error
    e = tsk.connect(dst, port)
    if e:
        err.append(e)
    else:
        connect_limit = wait_ns if wait_ns is not None else RUN_LIMIT_NS
        world.run_until(lambda: state["connected"] or bool(err), connect_limit)
        if not state["connected"] and not err:
            tsk.close()
            if wait_ns is not None:     # -w: the connect timed out (EINPROGRESS still)
                return Result(1, "", _connect_failed(verbose, dst, port, "tcp", "timed out",
                                                     "Operation now in progress"))
            err.append(110)
    if err:
        tsk.close()
        return Result(1, "", _connect_failed(verbose, dst, port, "tcp", "failed",
                                             ERRNO_TEXT.get(err[0], "Unknown error")))
    if not zero:
        if quit_ns is not None:
            tsk.close()        # stdin ended: -q shuts the connection down after the wait
        world.run_until(lambda: state["closed"] or bool(err), limit)
        tsk.close()
    else:
        world.run_until(lambda: state["closed"], NSEC_PER_SEC)
    return Result(0, out.decode("utf-8", "replace"), ok if verbose else "")


def _secs(val: str) -> int | None:
    try:
        f = float(val)
    except ValueError:
        return None
    return int(f * NSEC_PER_SEC) if f >= 0 else -1


@command("nc", "netcat")
def nc(ctx: Context, argv: list[str]) -> Result:
    """nc(1) of netcat-openbsd: client, -u, -z -v, -w, -q, and -l as a process."""
    ns: Any = ctx.node
    flags: set[str] = set()
    vals: dict[str, str] = {}
    words: list[str] = []
    args = argv[1:]
    i = 0
    while i < len(args):
        a = args[i]
        i += 1
        if not a.startswith("-") or a == "-":
            words.append(a)
            continue
        j = 1
        while j < len(a):
            o = a[j]
            if o in _WITH_ARG:
                val = a[j + 1:] or (args[i] if i < len(args) else None)
                if not a[j + 1:]:
                    i += 1
                if val is None:
                    return Result(1, "", f"nc: option requires an argument -- '{o}'\n{USAGE}")
                if o not in _MODELLED:
                    return unsupported(f"nc -{o}", "netplex's nc has -l -n -p -q -u -v -w -z")
                vals[o] = val
                break
            if o not in "46CDdFhklNnrStUuvZz":
                return Result(1, "", f"nc: invalid option -- '{o}'\n{USAGE}")
            if o not in _MODELLED:
                return unsupported(f"nc -{o}", "netplex's nc has -l -n -p -q -u -v -w -z")
            flags.add(o)
            j += 1
    proto = "udp" if "u" in flags else "tcp"
    data = ctx.stdin.encode() if isinstance(ctx.stdin, str) else bytes(ctx.stdin or b"")
    if "l" in flags:
        port_s = vals.get("p") or (words[0] if words else None)
        if port_s is None or (words and "p" in vals) or len(words) > 1:
            return Result(1, "", USAGE)
        if not port_s.isdigit() or not 0 < int(port_s) < 65536:
            return Result(1, "", f"nc: port number invalid: {port_s}\n")
        if not isinstance(ctx.machine, Machine):
            return Result(1, "", "netplex: nc -l: this shell runs on no machine\n")
        p = ctx.machine.procs.spawn(argv, ns, NcListener(proto, int(port_s), data))
        if not p.alive:
            return Result(1, "", p.error + "\n" if p.error else "")
        return Result(0, "", "")
    if "p" in vals:
        return unsupported("nc -p without -l", "netplex's nc picks the source port itself")
    if len(words) != 2:
        return Result(1, "", USAGE)
    host, port_s = words
    if not port_s.isdigit() or not 0 < int(port_s) < 65536:
        return Result(1, "", f"nc: port number invalid: {port_s}\n")
    found = getaddrinfo(ctx, host)
    if isinstance(found, GaiError):
        return Result(1, "", f"nc: getaddrinfo for host \"{host}\" port {port_s}: {found.value}\n")
    dst = found
    wait_ns = quit_ns = None
    if "w" in vals:
        wait_ns = _secs(vals["w"])
        if wait_ns is None or wait_ns < 0:
            return Result(1, "", f"nc: timeout {'invalid' if wait_ns is None else 'too small'}: {vals['w']}\n")
    if "q" in vals:
        quit_ns = _secs(vals["q"])
        if quit_ns is None:
            return Result(1, "", f"nc: quit timer invalid: {vals['q']}\n")
        if quit_ns < 0:
            quit_ns = None
    return _client(ns, proto, dst, int(port_s), data, "z" in flags, "v" in flags, wait_ns, quit_ns)
