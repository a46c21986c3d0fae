"""`netplex-controller` on the kernel twin: the same runtime and applications as on the simulator
(`ofapp.py`, `ofapps/`), their Host made of real sockets and the wall clock, inside the node's
network namespace (netplex/twin/bin/netplex-controller runs `python -m netplex.ovs.ofapp_real`).

    python -m netplex.ovs.ofapp_real [--ofp-tcp-listen-port N] [--ofp-listen-host IP] [--wsapi-port N]
                                     [--wsapi-host IP] [--log-file PATH] APP...

One thread, a selectors loop (os-ken's eventlet hub does the same job): the OpenFlow listener,
each switch's connection, the REST port and its clients, and the applications' timers. It
serves until SIGTERM/SIGINT, then closes every socket. An application file runs only when
NETPLEX_ALLOW_APPS=1 (`netplex run --allow-apps`), as on the simulator.
"""
from __future__ import annotations

import heapq
import itertools
import selectors
import signal
import socket
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from netplex.ovs.controller import TOOL, parse_controller_args
from netplex.ovs.ofapp import Receiver, Runtime, Stream
from netplex.ovs.ofapps import load_apps
from netplex.packet.addr import int_to_ip
from netplex.shell.result import Result

__all__ = ["RealHost", "main"]


class _RealStream:
    """A connected real socket as the runtime's Stream (blocking writes: the peers are local)."""

    def __init__(self, host: RealHost, sk: socket.socket) -> None:
        self.host = host
        self.sk = sk
        self.open = True

    def send(self, data: bytes) -> None:
        if not self.open:
            return
        try:
            self.sk.setblocking(True)
            self.sk.sendall(data)
            self.sk.setblocking(False)
        except OSError:
            self.close()

    def close(self) -> None:
        if self.open:
            self.open = False
            self.host.forget(self.sk)
            self.sk.close()


class RealHost:
    """The runtime's Host over real sockets: a selectors loop and a timer heap."""

    def __init__(self, log_file: str | None) -> None:
        self.sel = selectors.DefaultSelector()
        self.timers: list[tuple[int, int, Callable[..., None], tuple[Any, ...]]] = []
        self.seq = itertools.count()
        self.log_file = log_file
        self.running = True
        self.socks: list[socket.socket] = []

    def now(self) -> int:
        return time.monotonic_ns()

    def call_later(self, delay_ns: int, fn: Callable[..., None], *args: Any) -> None:
        heapq.heappush(self.timers, (self.now() + delay_ns, next(self.seq), fn, args))

    def serve_tcp(self, addr: int, port: int, accept: Callable[[Stream], Receiver]) -> str | None:
        lst = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        lst.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            lst.bind((int_to_ip(addr), port))
        except OSError as e:
            lst.close()
            return f"[Errno {e.errno}] {e.strerror}: port {port}"
        lst.listen(16)
        lst.setblocking(False)
        self.socks.append(lst)
        self.sel.register(lst, selectors.EVENT_READ, ("listen", accept))
        return None

    def log(self, text: str) -> None:
        if self.log_file is not None:
            with open(self.log_file, "a") as f:
                f.write(text + "\n")

    def forget(self, sk: socket.socket) -> None:
        try:
            self.sel.unregister(sk)
        except (KeyError, ValueError):
            pass
        if sk in self.socks:
            self.socks.remove(sk)

    def run(self) -> None:
        """Serve until stopped: accept, read, fire the timers that are due."""
        while self.running:
            timeout = 0.5
            if self.timers:
                timeout = max(0.0, min(timeout, (self.timers[0][0] - self.now()) / 1e9))
            for key, _ in self.sel.select(timeout):
                kind, what = key.data
                if kind == "listen":
                    try:
                        conn, _addr = key.fileobj.accept()      # type: ignore[union-attr]
                    except OSError:
                        continue
                    conn.setblocking(False)
                    conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                    self.socks.append(conn)
                    stream = _RealStream(self, conn)
                    receiver = what(stream)
                    self.sel.register(conn, selectors.EVENT_READ, ("conn", (stream, receiver)))
                else:
                    stream, receiver = what
                    try:
                        data = stream.sk.recv(65536)
                    except BlockingIOError:
                        continue
                    except OSError:
                        data = b""
                    if data:
                        receiver.data(data)
                    else:
                        stream.close()
                        receiver.closed()
            while self.timers and self.timers[0][0] <= self.now():
                _when, _n, fn, args = heapq.heappop(self.timers)
                fn(*args)

    def stop(self, *_args: Any) -> None:
        self.running = False

    def close(self) -> None:
        for sk in list(self.socks):
            self.forget(sk)
            sk.close()


def _fail(result: Result) -> int:
    sys.stderr.write(result.error)
    return result.status


def main(argv: list[str]) -> int:
    """The launcher: options and applications as on the simulator, then serve."""
    parsed = parse_controller_args([TOOL, *argv])
    if isinstance(parsed, Result):
        return _fail(parsed)
    opts, specs = parsed
    def read(spec: str) -> tuple[str, bytes] | None:
        path = Path(spec)
        return (str(path.resolve()), path.read_bytes()) if path.is_file() else None
    classes = load_apps(TOOL, specs, read)
    if isinstance(classes, str):
        return _fail(Result(1, "", classes))
    log_file = opts["log_file"]
    if log_file is not None and not Path(log_file).resolve().parent.is_dir():
        return _fail(Result(1, "", f"{TOOL}: [Errno 2] No such file or directory: '{log_file}'\n"))
    host = RealHost(log_file)
    runtime = Runtime(host, classes, {"wsapi_port": opts["wsapi_port"], "wsapi_host": opts["wsapi_host"]})
    err = runtime.start(opts["addr"], opts["port"])
    if err is not None:
        host.close()
        return _fail(Result(1, "", f"{TOOL}: {err}\n"))
    signal.signal(signal.SIGTERM, host.stop)
    signal.signal(signal.SIGINT, host.stop)
    try:
        host.run()
    finally:
        host.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
