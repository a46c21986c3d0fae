"""The listeners of SCENARIO.md's `services` as one daemon per node.

    netplex-service tcp:80 udp:53 ...

`tcp:PORT` accepts connections; for each it reads up to one line and answers
`peer <ip>:<port>\\n` (the address it saw), then closes. `udp:PORT` answers
each datagram with the same line. The kernel twin runs the same program for
real (`netplex/twin/service.py`); this is its simulated twin, with the same
command line, so `ps` shows it on both.
"""
from __future__ import annotations

from netplex.apps.process import Program, ProgramExit
from netplex.packet.addr import int_to_ip
from netplex.stack.tcp import TcpSocket

__all__ = ["ProbeService"]


class ProbeService(Program):
    """Answers the probe line on each `(proto, port)` of `services`."""

    comm = "netplex-service"

    def __init__(self, services: list[tuple[str, int]]) -> None:
        super().__init__()
        self.services = list(services)
        self.linebuf: dict[TcpSocket, bytes] = {}

    @staticmethod
    def argv(services: list[tuple[str, int]]) -> list[str]:
        return ["netplex-service", *(f"{proto}:{int(port)}" for proto, port in services)]

    def start(self) -> None:
        for proto, port in self.services:
            if proto == "tcp":
                self._listen_tcp(port)
            else:
                self._bind_udp(port)

    def _listen_tcp(self, port: int) -> None:
        lst = self.own(TcpSocket(self.ns.sockets))
        if lst.listen(port):
            raise ProgramExit(1, f"tcp:{port} on {self.ns.name}: Address already in use")
        lst.on_accept = self._accept

    def _accept(self, sk: TcpSocket) -> None:
        self.linebuf[sk] = b""
        sk.on_data = self._data
        sk.on_close = self._answer

    def _data(self, sk: TcpSocket, data: bytes) -> None:
        if sk not in self.linebuf:
            return
        self.linebuf[sk] += data
        if b"\n" in self.linebuf[sk]:
            self._answer(sk)

    def _answer(self, sk: TcpSocket) -> None:
        if self.linebuf.pop(sk, None) is None:
            return     # answered already
        sk.send(f"peer {int_to_ip(sk.raddr)}:{sk.rport}\n".encode())
        sk.close()

    def _bind_udp(self, port: int) -> None:
        sk = self.own(self.ns.sockets.udp_socket())
        if sk.bind(0, port):
            raise ProgramExit(1, f"udp:{port} on {self.ns.name}: Address already in use")
        sk.on_recv = lambda data, src, sport: sk.sendto(f"peer {int_to_ip(src)}:{sport}\n".encode(), src, sport)
