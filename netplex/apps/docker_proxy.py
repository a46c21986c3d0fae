"""docker-proxy: dockerd's userland port proxy as a daemon (moby's cmd/docker-proxy).

    docker-proxy -proto tcp -host-ip 0.0.0.0 -host-port 10080 -container-ip 172.17.0.2 -container-port 80

Listens on host-ip:host-port; each TCP connection accepted there is relayed
to container-ip:container-port over a new connection from the host (so the
container sees the host's address as its peer, as with the real proxy); each
UDP client gets its own upstream socket. Every socket belongs to the process,
so `kill` ends the proxying. The command line is parsed by the shell command
(`netplex.shell.docker_proxy`); on the kernel twin the same command is
`netplex/twin/docker_proxy.py`, a real program.
"""
from __future__ import annotations

from typing import Any

from netplex.apps.process import Program, ProgramExit
from netplex.packet.addr import int_to_ip
from netplex.stack.sockets import UdpSocket
from netplex.stack.tcp import TcpSocket

__all__ = ["DockerProxy"]


class DockerProxy(Program):
    """One proxied port: `proto` ("tcp" or "udp") host_ip:hport → cip:cport."""

    comm = "docker-proxy"
    vsz_kib, rss_kib = 1238644, 4096

    def __init__(self, proto: str, host_ip: int, hport: int, cip: int, cport: int) -> None:
        super().__init__()
        self.proto, self.host_ip, self.hport, self.cip, self.cport = proto, host_ip, hport, cip, cport
        self.flows: dict[tuple[int, int], UdpSocket] = {}
        self.sock: UdpSocket | None = None

    def start(self) -> None:
        err = self._listen_tcp() if self.proto == "tcp" else self._bind_udp()
        if err:
            raise ProgramExit(1, f"listen {self.proto}4 {int_to_ip(self.host_ip)}:{self.hport}: bind: "
                                 "address already in use\n")

    # -- proxy.TCPProxy: accept, dial the container, copy both ways, half-close in turn
    def _listen_tcp(self) -> int:
        lst = self.own(TcpSocket(self.ns.sockets))
        err = lst.listen(self.hport, self.host_ip)
        if err:
            return err
        lst.on_accept = self._accept
        return 0

    def _accept(self, client: TcpSocket) -> None:
        self.own(client)
        up = self.own(TcpSocket(self.ns.sockets))
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
        up.on_connect, up.on_data, up.on_close, up.on_error = up_connect, up_data, up_close, up_error
        if up.connect(self.cip, self.cport):
            client.close()

    # -- proxy.UDPProxy: one upstream socket per client address
    def _bind_udp(self) -> int:
        sk = self.own(self.ns.sockets.udp_socket())
        err = sk.bind(self.host_ip, self.hport)
        if err:
            return err
        sk.on_recv = self._from_client
        self.sock = sk
        return 0

    def _from_client(self, data: bytes, src: int, sport: int) -> None:
        up = self.flows.get((src, sport))
        if up is None:
            up = self.own(self.ns.sockets.udp_socket())

            def back(d: bytes, s: int, p: int, _src: int = src, _sport: int = sport) -> None:
                if self.sock is not None:
                    self.sock.sendto(d, _src, _sport)

            up.on_recv = back
            if up.connect(self.cip, self.cport):
                return
            self.flows[(src, sport)] = up
        up.sendto(data)
