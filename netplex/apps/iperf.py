"""iperf3 as daemons: the server that counts what arrives and the client that sends.

    iperf3 -s -p PORT
    iperf3 -c DST -p PORT -t SECS [-u] [-b RATE] [-l SIZE] [-S TOS]

The mechanisms are `netplex.apps.generators` (a constant-rate or on/off
UDP sender, a bulk TCP sender, and their receivers); these programs own them,
so they show in `ps` while a probe runs and `kill` stops them. The `iperf`
probe (`netplex.traffic.iperf.run_iperf`) spawns one server per receiving
port and one client per flow, and ends them when the probe is over.
"""
from __future__ import annotations

from netplex.apps.generators import FlowStats, TcpBulk, TcpSink, UdpCbr, UdpSink
from netplex.apps.process import Program, ProgramExit
from netplex.packet.addr import int_to_ip

__all__ = ["Iperf3Client", "Iperf3Server"]

NSEC_PER_SEC = 1_000_000_000


class Iperf3Server(Program):
    """`iperf3 -s -p PORT`: a receiver on `port` counting into `stats`."""

    comm = "iperf3"
    vsz_kib, rss_kib = 8420, 3456

    def __init__(self, proto: str, port: int, stats: FlowStats) -> None:
        super().__init__()
        self.proto, self.port, self.stats = proto, port, stats

    def argv(self) -> list[str]:
        return ["iperf3", "-s", "-p", str(self.port)]

    def start(self) -> None:
        sink = self.own((UdpSink if self.proto == "udp" else TcpSink)(self.ns, self.port, self.stats))
        if sink.err:
            raise ProgramExit(1, "iperf3: error - unable to start listener for connections: "
                                 "Address already in use\n")


class Iperf3Client(Program):
    """`iperf3 -c DST`: one flow from `start` to `stop` (absolute simulated ns)."""

    comm = "iperf3"
    vsz_kib, rss_kib = 8420, 3328

    def __init__(self, proto: str, dst: int, port: int, start_ns: int, stop_ns: int, tos: int = 0,
                 rate_bps: int = 0, size: int = 0, on_ns: int = 0, off_ns: int = 0) -> None:
        super().__init__()
        self.proto, self.dst, self.port = proto, dst, port
        self.start_ns, self.stop_ns, self.tos = start_ns, stop_ns, tos
        self.rate_bps, self.size, self.on_ns, self.off_ns = rate_bps, size, on_ns, off_ns
        self.gen: UdpCbr | TcpBulk | None = None

    def argv(self) -> list[str]:
        secs = (self.stop_ns - self.start_ns) / NSEC_PER_SEC
        argv = ["iperf3", "-c", int_to_ip(self.dst), "-p", str(self.port), "-t", f"{secs:g}"]
        if self.proto == "udp":
            argv += ["-u", "-b", str(self.rate_bps), "-l", str(self.size)]
        else:
            argv += (["-b", str(self.rate_bps)] if self.rate_bps else []) + (["-l", str(self.size)] if self.size else [])
        if self.tos:
            argv += ["-S", str(self.tos)]
        return argv

    @property
    def error(self) -> int:
        """The errno the flow's socket reported (0: none)."""
        return self.gen.error if self.gen is not None else 0

    @property
    def sent(self) -> int:
        """UDP datagrams sent."""
        return self.gen.sent if isinstance(self.gen, UdpCbr) else 0

    def start(self) -> None:
        if self.proto == "udp":
            self.gen = self.own(UdpCbr(self.ns, self.dst, self.port, self.rate_bps, self.size, self.start_ns,
                                       self.stop_ns, tos=self.tos, on_ns=self.on_ns, off_ns=self.off_ns,
                                       task=self.proc))
        else:
            self.gen = self.own(TcpBulk(self.ns, self.dst, self.port, self.start_ns, self.stop_ns, tos=self.tos,
                                        rate_bps=self.rate_bps, size=self.size, task=self.proc))
