"""`osken-manager`: a real os-ken application driving netplex's simulated switches.

    osken-manager [--ofp-tcp-listen-port N] [--ofp-listen-host IP] [os-ken options] APP... &

On a simulated node this starts the real os-ken (the host's Python with the `os-ken`
package, running `data/osken-manager.py`: os-ken 4.x ships no manager command of its own)
as a host process listening on 127.0.0.1 at a free port, and a `Program` in the node's
process table listening on the simulated TCP port N (6653 by default, os-ken's). Each
switch that connects to it in the simulation gets its own real TCP connection to os-ken,
and the bytes are relayed unchanged both ways: the application sees the simulated
switch's OpenFlow 1.3 (HELLO, FEATURES, PORT_DESC, PACKET_IN, ...) and what it sends
(FLOW_MOD, PACKET_OUT, MULTIPART requests) reaches the switch over the simulated TCP.

Simulated time waits for the controller: after relaying a message os-ken answers (HELLO,
FEATURES_REPLY, PACKET_IN, ECHO_REQUEST), the relay blocks on the real socket for up to
`ANSWER_WAIT` seconds of wall time for the first answer, then takes whatever follows within
`QUIET` seconds, all at the same simulated instant; after other messages (PORT_STATUS, replies)
it gives os-ken `QUIET` seconds to react. What os-ken sends on its own (echo requests, statistics
requests from its threads) is picked up every 100 ms of simulated time, each look waiting up to
20 ms of wall time while the last exchange is less than 0.5 s old, so that an application
thread answering late is not outrun by the simulation. The run is as deterministic as the
application is.

An APP that is a file on the node (a scenario's `files:`) is given to os-ken as a copy; any
other APP is a module name (or a file of the host's). An APP that is a file (a path, `.py`) is
code the scenario brings: it runs only when the user allowed it (`netplex run --allow-apps`,
NETPLEX_ALLOW_APPS=1; `ofapps.apps_allowed`), as netplex-controller's file applications, and is
otherwise refused naming the flag; a module name always runs. `--log-file` is a path on the node:
os-ken logs to a private folder on the host and what it writes is copied there as it grows
(`cat` it on the node). The os-ken process dies with the simulated process (`kill`, the
machine's end) and with the Python that started it (PR_SET_PDEATHSIG, and at exit). On the kernel twin, `osken-manager` (netplex/twin/bin) runs the same
launcher inside the node's namespace, beside the real ovs-vswitchd.
"""
from __future__ import annotations

import atexit
import ctypes
import importlib.util
import select
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import weakref
from pathlib import Path

from netplex.apps.process import Program, ProgramExit
from netplex.ovs.ofapps import apps_allowed, refused_file
from netplex.ovs.openflow import OFPT, Reader
from netplex.packet.addr import ip_to_int
from netplex.shell.registry import Context, command
from netplex.shell.result import Result
from netplex.stack.tcp import TcpSocket

__all__ = ["LAUNCHER", "OsKenManager", "osken_manager", "osken_missing"]

LAUNCHER = Path(__file__).resolve().parent / "data" / "osken-manager.py"
ANSWER_WAIT = 3.0           # wall seconds for os-ken's first answer to a message it answers
QUIET = 0.05                # wall seconds without bytes that end an answer
START_WAIT = 30.0           # wall seconds for os-ken to listen
POLL_NS = 100_000_000       # simulated time between two looks at what os-ken sent on its own
LINGER = 0.5                # wall seconds after the last exchange during which each look waits ...
LINGER_WAIT = 0.02          # ... this long: an application thread's late FLOW_MOD is not outrun
OFP_TCP_PORT = 6653
_ANSWERED = frozenset({OFPT["HELLO"], OFPT["FEATURES_REPLY"], OFPT["PACKET_IN"], OFPT["ECHO_REQUEST"]})
_PR_SET_PDEATHSIG = 1
_CHILDREN: set[subprocess.Popen[bytes]] = set()


def osken_missing() -> str | None:
    """Why os-ken cannot run here, or None."""
    if importlib.util.find_spec("os_ken") is None:
        return "os-ken is not installed for this Python (pip install os-ken)"
    return None


def _die_with_parent() -> None:
    """In the child before exec: SIGTERM when the Python that started it dies."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(_PR_SET_PDEATHSIG, signal.SIGTERM, 0, 0, 0)


def _kill(child: subprocess.Popen[bytes]) -> None:
    if child.poll() is None:
        child.terminate()
        try:
            child.wait(5)
        except subprocess.TimeoutExpired:
            child.kill()
            child.wait()
    _CHILDREN.discard(child)


def _release(child: subprocess.Popen[bytes], socks: list[socket.socket], folder: str) -> None:
    """The host's side of a manager: its sockets, its os-ken process, its folder (also run when
    a simulation is dropped without ending the process: weakref.finalize)."""
    for sk in socks:
        sk.close()
    socks.clear()
    _kill(child)
    shutil.rmtree(folder, ignore_errors=True)


@atexit.register
def _kill_all() -> None:
    for child in list(_CHILDREN):
        _kill(child)


def _listening(port: int) -> bool:
    """A TCP socket listens on 127.0.0.1:port (/proc/net/tcp, state 0A), found without
    connecting to it (a connection would be a switch to os-ken)."""
    want = f"0100007F:{port:04X}"
    try:
        lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    except OSError:
        return False
    return any(f[1] == want and f[3] == "0A" for f in (ln.split() for ln in lines) if len(f) > 3)


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class _Relay:
    """One simulated switch's connection and its real connection to os-ken."""

    def __init__(self, mgr: OsKenManager, sk: TcpSocket, real: socket.socket) -> None:
        self.mgr = mgr
        self.sk = sk
        self.real = real
        self.reader = Reader()
        self.closed = False
        self.active = time.monotonic()      # when bytes last went either way

    def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        self.real.close()
        self.sk.close()
        self.mgr.relays.discard(self)
        if self.real in self.mgr.host_socks:
            self.mgr.host_socks.remove(self.real)

    def from_switch(self, sk: TcpSocket, data: bytes) -> None:
        if self.closed:
            return
        try:
            self.real.sendall(data)
        except OSError:
            self.close()
            return
        self.active = time.monotonic()
        answered = any(mtype in _ANSWERED for mtype, _xid, _body in self.reader.feed(data))
        self.pump(ANSWER_WAIT if answered else QUIET)

    def pump(self, wait: float) -> None:
        """Relay what os-ken sends: wait up to `wait` s for the first bytes, then until QUIET."""
        deadline = time.monotonic() + wait
        got = False
        while not self.closed:
            timeout = QUIET if got else max(0.0, deadline - time.monotonic())
            ready, _, _ = select.select([self.real], [], [], timeout)
            if not ready:
                return
            try:
                data = self.real.recv(65536)
            except OSError:
                data = b""
            if not data:
                self.close()
                return
            self.sk.send(data)
            self.active = time.monotonic()
            got = True


class OsKenManager(Program):
    """The simulated end of os-ken: a listener on the node, a relay per switch."""

    comm = "osken-manager"
    vsz_kib = 180000
    rss_kib = 52000

    def __init__(self, options: list[str], apps: list[str | tuple[str, bytes]], port: int, addr: int,
                 log_file: str | None = None) -> None:
        super().__init__()
        self.options = options
        self.apps = apps
        self.port = port
        self.addr = addr
        self.log_file = log_file        # a path on the node: os-ken's log is copied there as it grows
        self.log_copied = 0
        self.real_port = 0
        self.child: subprocess.Popen[bytes] | None = None
        self.dir: str | None = None
        self.relays: set[_Relay] = set()
        self.host_socks: list[socket.socket] = []      # the relays' real sockets
        self.release: weakref.finalize[..., OsKenManager] | None = None

    def start(self) -> None:
        missing = osken_missing()
        if missing is not None:
            raise ProgramExit(1, f"netplex: osken-manager: {missing}")
        lst = self.own(TcpSocket(self.ns.sockets))
        if lst.listen(self.port, self.addr):
            raise ProgramExit(1, f"osken-manager: [Errno 98] Address already in use: port {self.port}")
        lst.on_accept = self._accept
        self.dir = tempfile.mkdtemp(prefix="netplex-osken-")
        self.real_port = _free_port()
        apps: list[str] = []
        for app in self.apps:
            if isinstance(app, tuple):      # a file of the node's: os-ken reads a host copy
                Path(f"{self.dir}/apps").mkdir(exist_ok=True)
                Path(f"{self.dir}/apps/{app[0]}").write_bytes(app[1])
                apps.append(f"{self.dir}/apps/{app[0]}")
            else:
                apps.append(app)
        argv = [sys.executable, str(LAUNCHER), "--ofp-listen-host", "127.0.0.1",
                "--ofp-tcp-listen-port", str(self.real_port), "--log-file", f"{self.dir}/osken.log",
                "--nouse-stderr", *self.options, *apps]
        with open(f"{self.dir}/stderr", "wb") as err:
            child = subprocess.Popen(argv, stdin=subprocess.DEVNULL, stdout=err, stderr=subprocess.STDOUT,
                                     preexec_fn=_die_with_parent)
        self.child = child
        _CHILDREN.add(child)
        self.release = weakref.finalize(self, _release, child, self.host_socks, self.dir)
        self.own(self)      # closed (os-ken killed) when the process ends, however it ends
        deadline = time.monotonic() + START_WAIT
        while not _listening(self.real_port):
            if child.poll() is not None or time.monotonic() > deadline:
                why = Path(f"{self.dir}/stderr").read_text(errors="replace").strip().splitlines()
                self.close()
                raise ProgramExit(1, why[-1] if why else "osken-manager: os-ken did not start")
            time.sleep(0.05)
        self.after(POLL_NS, self._poll)

    def close(self) -> None:
        for r in list(self.relays):
            r.close()
        if self.child is not None:
            _kill(self.child)
            self.child = None
            self.copy_log()
        if self.release is not None:
            self.release()
        elif self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
        self.dir = None

    def _accept(self, sk: TcpSocket) -> None:
        self.own(sk)
        try:
            real = socket.create_connection(("127.0.0.1", self.real_port), timeout=5)
        except OSError:
            sk.close()
            return
        relay = _Relay(self, sk, real)
        self.relays.add(relay)
        self.host_socks.append(real)
        sk.on_data = relay.from_switch
        sk.on_close = lambda s: relay.close()
        sk.on_error = lambda s, err: relay.close()
        relay.pump(ANSWER_WAIT)       # os-ken's HELLO

    def _poll(self) -> None:
        if self.child is not None and self.child.poll() is not None:
            self.exit(1)            # os-ken died: its simulated end goes too
            return
        for r in list(self.relays):
            r.pump(LINGER_WAIT if time.monotonic() - r.active < LINGER else 0.0)
        self.copy_log()
        self.after(POLL_NS, self._poll)

    def copy_log(self) -> None:
        """What os-ken logged since the last look, appended to `--log-file` on the node."""
        fs = self.fs
        if self.log_file is None or self.dir is None or fs is None:
            return
        try:
            with open(f"{self.dir}/osken.log", "rb") as f:
                f.seek(self.log_copied)
                data = f.read()
        except OSError:
            return
        if data:
            fs.write_bytes(self.log_file, data, append=self.log_copied > 0)
            self.log_copied += len(data)


def _is_file_app(app: str) -> bool:
    """An APP os-ken would load from a file (os_ken.utils.import_module: a path, `.py`), not a module name."""
    return "/" in app or app.endswith(".py")


@command("osken-manager")
def osken_manager(ctx: Context, argv: list[str]) -> Result:
    """osken-manager: start a real os-ken application for the switches of the simulation."""
    argv = [a.split("\0", 1)[0] for a in argv]   # an argv string ends at NUL (execve takes C strings)
    port, addr = OFP_TCP_PORT, 0
    options: list[str] = []
    apps: list[str | tuple[str, bytes]] = []
    log_file: str | None = None
    i = 1
    while i < len(argv):
        a = argv[i]
        name, eq, value = a.partition("=")
        if name in ("--ofp-tcp-listen-port", "--ofp-listen-host"):
            if not eq:
                i += 1
                if i >= len(argv):
                    return Result(2, "", f"osken-manager: error: argument {name}: expected one argument\n")
                value = argv[i]
            try:
                if name == "--ofp-tcp-listen-port":
                    port = int(value)
                    if not 0 < port < 65536:
                        raise ValueError(value)
                else:
                    addr = 0 if value == "0.0.0.0" else ip_to_int(value)
            except ValueError:
                return Result(2, "", f"osken-manager: error: argument {name}: Invalid value {value!r}\n")
        elif a in ("--ofp-ssl-listen-port", "--ctl-privkey", "--ctl-cert", "--ca-certs", "--ofp-switch-address-list"):
            return Result(2, "", f"netplex: osken-manager {a} is not supported (TCP listening only)\n")
        elif name == "--log-file":
            if not eq:
                i += 1
                if i >= len(argv):
                    return Result(2, "", "osken-manager: error: argument --log-file: expected one argument\n")
                value = argv[i]
            log_file = ctx.fs.norm(value, ctx.cwd)
            parent = log_file.rsplit("/", 1)[0] or "/"
            if not ctx.fs.is_dir(parent):
                return Result(1, "", f"osken-manager: [Errno 2] No such file or directory: '{value}'\n")
        elif name in ("--log-dir", "--log-config-file", "--config-file", "--config-dir"):
            return Result(2, "", f"netplex: osken-manager {name} is not supported\n")
        elif a.startswith("-"):
            options.append(a)
            if a == "--default-log-level" and i + 1 < len(argv):
                i += 1
                options.append(argv[i])
        elif _is_file_app(a) and not apps_allowed():
            return Result(1, "", refused_file("osken-manager", a))
        elif ctx.fs.is_file(a, ctx.cwd):
            apps.append((a.rsplit("/", 1)[-1], ctx.fs.read_bytes(a, ctx.cwd)))   # the node's file
        else:
            apps.append(a)      # a module name (or a file of the host's)
        i += 1
    machine = ctx.machine
    if machine is None:
        return Result(1, "", "osken-manager: no machine\n")
    p = machine.procs.spawn(argv, ctx.node, OsKenManager(options, apps, port, addr, log_file))   # type: ignore[attr-defined]
    if not p.alive:
        return Result(1, "", (p.error or "") + "\n")
    return Result(0)
