"""`netplex-controller`: netplex's own OpenFlow controller, running applications written to the
os-ken-shaped API of `ofapp.py` on a node, shaped like osken-manager:

    netplex-controller [--ofp-tcp-listen-port N] [--ofp-listen-host IP] [--wsapi-port N]
                       [--wsapi-host IP] [--log-file PATH] APP... &

APP is a built-in application by module name (`simple_switch_13`, `simple_hub`, `ofctl_rest`, also
spelled `netplex.ovs.ofapps.NAME`, `os_ken.app.NAME`, `ryu.app.NAME`), or a Python file on the
node (a scenario's `files:`) defining `App` subclasses, which runs only when the user allowed the
scenario's code (`netplex run --allow-apps`; `ofapps.apps_allowed`). Switches connect to
N (6653, os-ken's `--ofp-tcp-listen-port` default) over the node's simulated TCP; `ofctl_rest`
serves HTTP on `--wsapi-port` (8080). What the applications log (`packet in ...`, a handler's
exception) is appended to `--log-file`. It runs as a daemon in the node's process table
(`ps`, `kill`); in the foreground it would block the shell, and is refused.

`SimHost` is the runtime's transport here: the node's TcpSocket and its scheduler. On the kernel
twin the same runtime and applications run over real sockets (`ofapp_real.py`,
netplex/twin/bin/netplex-controller).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from netplex.apps.process import Program, ProgramExit
from netplex.ovs.ofapp import App, Receiver, Runtime, Stream
from netplex.ovs.ofapps import load_apps
from netplex.packet.addr import ip_to_int
from netplex.shell.registry import Context, command
from netplex.shell.result import Result
from netplex.stack.tcp import TcpSocket

__all__ = ["ControllerProgram", "netplex_controller", "parse_controller_args"]

OFP_TCP_PORT = 6653
TOOL = "netplex-controller"


class _SimStream:
    """A simulated TCP connection as the runtime's Stream."""

    def __init__(self, sk: TcpSocket) -> None:
        self.sk = sk

    def send(self, data: bytes) -> None:
        self.sk.send(data)

    def close(self) -> None:
        self.sk.close()


class ControllerProgram(Program):
    """The controller daemon: the runtime, its applications, and the node's sockets as its Host."""

    comm = "netplex-control"
    vsz_kib = 60000
    rss_kib = 30000

    def __init__(self, apps: list[type[App]], port: int, addr: int, config: dict[str, int],
                 log_file: str | None) -> None:
        Program.__init__(self)
        self.app_classes = apps
        self.port = port
        self.addr = addr
        self.config = config
        self.log_file = log_file
        self.runtime: Runtime | None = None

    def start(self) -> None:
        self.runtime = Runtime(self, self.app_classes, self.config)
        err = self.runtime.start(self.addr, self.port)
        if err is not None:
            raise ProgramExit(1, f"{TOOL}: {err}")

    # -- Host --------------------------------------------------------------------------------
    def now(self) -> int:
        return self.ns.sched.now

    def call_later(self, delay_ns: int, fn: Callable[..., None], *args: Any) -> None:
        self.after(delay_ns, fn, *args)

    def serve_tcp(self, addr: int, port: int, accept: Callable[[Stream], Receiver]) -> str | None:
        lst = self.own(TcpSocket(self.ns.sockets))
        if lst.listen(port, addr):
            return f"[Errno 98] Address already in use: port {port}"

        def accepted(sk: TcpSocket) -> None:
            self.own(sk)
            receiver = accept(_SimStream(sk))
            sk.on_data = lambda s, data: receiver.data(data)
            sk.on_close = lambda s: receiver.closed()
            sk.on_error = lambda s, err: receiver.closed()
        lst.on_accept = accepted
        return None

    def log(self, text: str) -> None:
        fs = self.fs
        if self.log_file is not None and fs is not None:
            fs.write_bytes(self.log_file, (text + "\n").encode(), append=fs.is_file(self.log_file))


def _usage(msg: str) -> Result:
    return Result(2, "", f"usage: {TOOL} [--ofp-tcp-listen-port N] [--ofp-listen-host IP] [--wsapi-port N] "
                         f"[--wsapi-host IP] [--log-file PATH] APP...\n{TOOL}: error: {msg}\n")


def parse_controller_args(argv: list[str]) -> tuple[dict[str, Any], list[str]] | Result:
    """The launcher's options (port, addr, wsapi_port, wsapi_host, log_file) and its APPs."""
    opts: dict[str, Any] = {"port": OFP_TCP_PORT, "addr": 0, "wsapi_port": 8080, "wsapi_host": 0, "log_file": None}
    names = {"--ofp-tcp-listen-port": "port", "--ofp-listen-host": "addr", "--wsapi-port": "wsapi_port",
             "--wsapi-host": "wsapi_host", "--log-file": "log_file"}
    apps: list[str] = []
    i = 1
    while i < len(argv):
        a = argv[i]
        name, eq, value = a.partition("=")
        if name in names:
            if not eq:
                i += 1
                if i >= len(argv):
                    return _usage(f"argument {name}: expected one argument")
                value = argv[i]
            key = names[name]
            try:
                if key in ("port", "wsapi_port"):
                    opts[key] = int(value)
                    if not 0 < opts[key] < 65536:
                        raise ValueError(value)
                elif key in ("addr", "wsapi_host"):
                    opts[key] = 0 if value == "0.0.0.0" else ip_to_int(value)
                else:
                    opts[key] = value
            except ValueError:
                return _usage(f"argument {name}: invalid value: {value!r}")
        elif a.startswith("-"):
            return _usage(f"unrecognized arguments: {a}")
        else:
            apps.append(a)
        i += 1
    if not apps:
        return _usage("no application given")
    return opts, apps


@command(TOOL)
def netplex_controller(ctx: Context, argv: list[str]) -> Result:
    """netplex-controller: OpenFlow applications (ofapp.py's API) for the switches that connect."""
    parsed = parse_controller_args(argv)
    if isinstance(parsed, Result):
        return parsed
    opts, specs = parsed
    if not ctx.background:
        return Result(2, "", f"netplex: {TOOL} in the foreground would block; run it in the background with &\n")
    def read(spec: str) -> tuple[str, bytes] | None:
        if not ctx.fs.is_file(spec, ctx.cwd):
            return None
        return ctx.fs.norm(spec, ctx.cwd), ctx.fs.read_bytes(spec, ctx.cwd)
    classes = load_apps(TOOL, specs, read)
    if isinstance(classes, str):
        return Result(1, "", classes)
    log_file = opts["log_file"]
    if log_file is not None:
        log_file = ctx.fs.norm(log_file, ctx.cwd)
        parent = log_file.rsplit("/", 1)[0] or "/"
        if not ctx.fs.is_dir(parent):
            return Result(1, "", f"{TOOL}: [Errno 2] No such file or directory: '{opts['log_file']}'\n")
    machine = ctx.machine
    if machine is None:
        return Result(1, "", f"{TOOL}: no machine\n")
    program = ControllerProgram(classes, opts["port"], opts["addr"],
                                {"wsapi_port": opts["wsapi_port"], "wsapi_host": opts["wsapi_host"]}, log_file)
    p = machine.procs.spawn(argv, ctx.node, program)   # type: ignore[attr-defined]
    if not p.alive:
        return Result(1, "", (p.error or "") + "\n")
    return Result(0)
