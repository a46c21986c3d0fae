"""`docker-proxy`: dockerd's userland port proxy, as simulated sockets on the node.

    docker-proxy -proto tcp -host-ip 0.0.0.0 -host-port 10080 -container-ip 172.17.0.2 -container-port 80

Listens on host-ip:host-port; each TCP connection accepted there is relayed
to container-ip:container-port over a new connection from the host (so the
container sees the host's address as its peer, as with the real proxy); each
UDP client gets its own upstream socket. The command returns at once and the
proxy keeps running in the background until the simulation ends, as dockerd
leaves its proxies running. Flags are parsed as Go's `flag` package does
(`-name value`, `--name value`, `-name=value`). On the kernel twin the same
command is `netplex/twin/docker_proxy.py`, a real program.
"""
from __future__ import annotations

from typing import Any

from netplex.packet.addr import ip_to_int
from netplex.shell.registry import Context, command
from netplex.shell.result import Result

FLAGS = {"proto": "tcp", "host-ip": "", "host-port": "-1", "container-ip": "", "container-port": "-1"}
BOOL_FLAGS = {"use-listen-fd"}
USAGE = """Usage of docker-proxy:
  -container-ip string
    \tcontainer ip
  -container-port int
    \tcontainer port (default -1)
  -host-ip string
    \thost ip
  -host-port int
    \thost port (default -1)
  -proto string
    \tproxy protocol (default "tcp")
  -use-listen-fd
    \tuse a supplied listen fd
"""


def parse_flags(args: list[str]) -> tuple[dict[str, str], str | None]:
    """Go's flag.Parse over `args`: the values, or the error line."""
    vals = dict(FLAGS)
    i = 0
    while i < len(args):
        a = args[i]
        i += 1
        if not a.startswith("-") or a == "-":
            break
        if a == "--":
            break
        name = a.lstrip("-")
        value = None
        if "=" in name:
            name, value = name.split("=", 1)
        if name in ("h", "help"):
            return vals, ""
        if name in BOOL_FLAGS:
            continue
        if name not in FLAGS:
            return vals, f"flag provided but not defined: -{name}"
        if value is None:
            if i >= len(args):
                return vals, f"flag needs an argument: -{name}"
            value = args[i]
            i += 1
        if name.endswith("port"):
            try:
                int(value, 0)
            except ValueError:
                return vals, f'invalid value "{value}" for flag -{name}: parse error'
        vals[name] = value
    return vals, None


@command("docker-proxy")
def docker_proxy(ctx: Context, argv: list[str]) -> Result:
    vals, error = parse_flags(argv[1:])
    if error is not None:
        return Result(0 if error == "" else 2, "", (error + "\n" if error else "") + USAGE)
    proto = vals["proto"]
    try:
        host_ip = ip_to_int(vals["host-ip"]) if vals["host-ip"] else 0
        cip = ip_to_int(vals["container-ip"])
    except Exception:
        return Result(1, "", f"Unsupported protocol {proto}\n" if proto not in ("tcp", "udp") else
                      "invalid container or host address\n")
    hport, cport = int(vals["host-port"], 0), int(vals["container-port"], 0)
    ns = ctx.node
    if proto == "tcp":
        err = TcpProxy(ns, host_ip, hport, cip, cport).start()
    elif proto == "udp":
        err = UdpProxy(ns, host_ip, hport, cip, cport).start()
    else:
        return Result(1, "", f"Unsupported protocol {proto}\n")
    if err:
        ip = vals["host-ip"] or "0.0.0.0"
        return Result(1, "", f"listen {proto}4 {ip}:{hport}: bind: address already in use\n")
    return Result(0, "", "")


def _keep(ns: Any, proxy: Any) -> None:
    lst = getattr(ns, "userland", None)
    if lst is None:
        lst = ns.userland = []
    lst.append(proxy)


class TcpProxy:
    """proxy.TCPProxy: accept, dial the container, copy both ways, half-close in turn."""

    def __init__(self, ns: Any, host_ip: int, hport: int, cip: int, cport: int) -> None:
        self.ns, self.host_ip, self.hport, self.cip, self.cport = ns, host_ip, hport, cip, cport

    def start(self) -> int:
        from netplex.stack.tcp import TcpSocket
        lst = TcpSocket(self.ns.sockets)
        err = lst.listen(self.hport, self.host_ip)
        if err:
            return err
        lst.on_accept = self._accept
        self.listener = lst
        _keep(self.ns, self)
        return 0

    def _accept(self, client: Any) -> None:
        from netplex.stack.tcp import TcpSocket
        up = TcpSocket(self.ns.sockets)
        pending: list[bytes] = []
        state = {"connected": False, "client_closed": False}

        def client_data(sk: Any, data: bytes) -> None:
            if state["connected"]:
                up.send(data)
            else:
                pending.append(data)

        def client_close(sk: Any) -> None:
            state["client_closed"] = True
            if state["connected"]:
                up.close()

        def up_connect(sk: Any) -> None:
            state["connected"] = True
            for d in pending:
                up.send(d)
            pending.clear()
            if state["client_closed"]:
                up.close()

        def up_data(sk: Any, data: bytes) -> None:
            client.send(data)

        def up_close(sk: Any) -> None:
            client.close()

        def up_error(sk: Any, err: int) -> None:
            client.close()

        def client_error(sk: Any, err: int) -> None:
            up.close()

        client.on_data, client.on_close, client.on_error = client_data, client_close, client_error
        if client.rcvbuf:
            data = bytes(client.rcvbuf)
            client.rcvbuf.clear()
            pending.append(data)
        up.on_connect, up.on_data, up.on_close, up.on_error = up_connect, up_data, up_close, up_error
        if up.connect(self.cip, self.cport):
            client.close()


class UdpProxy:
    """proxy.UDPProxy: one upstream socket per client address."""

    def __init__(self, ns: Any, host_ip: int, hport: int, cip: int, cport: int) -> None:
        self.ns, self.host_ip, self.hport, self.cip, self.cport = ns, host_ip, hport, cip, cport
        self.flows: dict[tuple[int, int], Any] = {}

    def start(self) -> int:
        sk = self.ns.sockets.udp_socket()
        err = sk.bind(self.host_ip, self.hport)
        if err:
            return err
        sk.on_recv = self._from_client
        self.sock = sk
        _keep(self.ns, self)
        return 0

    def _from_client(self, data: bytes, src: int, sport: int) -> None:
        up = self.flows.get((src, sport))
        if up is None:
            up = self.ns.sockets.udp_socket()

            def back(d: bytes, s: int, p: int, _src: int = src, _sport: int = sport) -> None:
                self.sock.sendto(d, _src, _sport)

            up.on_recv = back
            if up.connect(self.cip, self.cport):
                return
            self.flows[(src, sport)] = up
        up.sendto(data)
