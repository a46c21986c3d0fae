"""A small in-memory backend for testing the runner and the CLI without a stack.

It understands just enough: `ip addr add A/N dev IF` gives a node an address;
a line in `fail` returns that CmdResult; `echo TEXT` prints TEXT; `false`
exits 1. ping reaches any address some node holds; tcp/udp succeed when the
node holding the address runs the service, and the peer is the sender's first
address (or `nat` maps it). Every call is recorded in `calls`.
"""
from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from netplex.scenario.backend import (
    BackendUnsupported,
    CmdResult,
    EventDone,
    LinkNetnsAliases,
    ProbeOutcome,
    Progress,
    TraceOutcome,
)
from netplex.scenario.model import Event, IperfFlow, Link, Node


class FakeBackend:
    name = "fake"
    supports = frozenset({"ping", "tcp", "udp", "cmd", "trace"})

    def __init__(self, seed: int = 0, pcap_dir: Path | None = None,
                 fail: dict[str, CmdResult] | None = None, nat: dict[str, str] | None = None) -> None:
        self.seed = seed
        self.pcap_dir = pcap_dir
        self.fail = fail or {}
        self.nat = nat or {}
        self.calls: list[tuple[Any, ...]] = []
        self.addrs: dict[str, list[str]] = {}
        self.services: dict[str, list[tuple[str, int]]] = {}
        self.closed = 0
        self.notes: list[str] = []
        self.progress: Progress | None = None
        self.files: dict[tuple[str, str], bytes] = {}
        self.armed: list[Event] = []

    @property
    def link_netns_aliases(self) -> LinkNetnsAliases:
        return {}

    def build(self, nodes: Mapping[str, Node], links: Sequence[Link]) -> None:
        self.calls.append(("build", list(nodes), list(links)))
        self.addrs = {n: [] for n in nodes}

    def write_file(self, node: str, path: str, data: bytes) -> None:
        self.calls.append(("write_file", node, path))
        self.files[(node, path)] = data

    def run(self, node: str, line: str, terminal: object = None) -> CmdResult:
        self.calls.append(("run", node, line))
        if line in self.fail:
            return self.fail[line]
        words = line.split()
        if words[:3] == ["ip", "addr", "add"]:
            self.addrs[node].append(words[3].split("/")[0])
        elif words[:1] == ["echo"]:
            return CmdResult(0, " ".join(words[1:]) + "\n")
        elif words[:1] == ["false"]:
            return CmdResult(1, "", "")
        return CmdResult(0)

    def start_node(self, node: str) -> None:
        """A fake node runs nothing of its kind's own."""

    def start_services(self, node: str, services: list[tuple[str, int]], netns: str | None = None) -> None:
        self.calls.append(("services", node, services))
        self.services[node] = list(services)

    def _owner(self, dst: str) -> str | None:
        return next((n for n, a in self.addrs.items() if dst in a), None)

    def ping(self, src: str, dst: str, count: int, netns: str | None = None) -> ProbeOutcome:
        self.calls.append(("ping", src, dst, count))
        if self._owner(dst) is None:
            return ProbeOutcome(False, {"sent": count, "replies": 0})
        return ProbeOutcome(True, {"sent": count, "replies": count, "rtt_ms": 0.21})

    def _connect(self, proto: str, src: str, dst: str, port: int) -> ProbeOutcome:
        self.calls.append((proto, src, dst, port))
        owner = self._owner(dst)
        if owner is None:
            return ProbeOutcome(False, {"reply": "", "error": "No route to host"} if proto == "udp"
                                else {"error": "No route to host"})
        if (proto, port) not in self.services.get(owner, []):
            return ProbeOutcome(False, {"reply": "", "error": "Connection refused"} if proto == "udp"
                                else {"error": "Connection refused"})
        mine = self.addrs[src][0] if self.addrs[src] else "0.0.0.0"
        peer = self.nat.get(mine, mine)
        observed = {"peer": peer, "peer_port": 40312, "reply": f"peer {peer}:40312"}
        if proto == "tcp":
            observed["local"] = f"{mine}:40312"
        return ProbeOutcome(True, observed)

    def tcp(self, src: str, dst: str, port: int, netns: str | None = None) -> ProbeOutcome:
        return self._connect("tcp", src, dst, port)

    def udp(self, src: str, dst: str, port: int, netns: str | None = None) -> ProbeOutcome:
        return self._connect("udp", src, dst, port)

    def iperf(self, duration_ns: int, flows: Sequence[IperfFlow]) -> ProbeOutcome:
        raise BackendUnsupported("the fake backend runs no iperf")

    def attach(self, ue: str) -> ProbeOutcome:
        raise BackendUnsupported("the fake backend runs no attach")

    def trace_attach(self, ue: str) -> TraceOutcome:
        raise BackendUnsupported("the fake backend runs no attach")

    def trace(self, src: str, dst: str, proto: str = "icmp", dport: int | None = None) -> TraceOutcome:
        self.calls.append(("trace", src, dst, proto, dport))
        owner = self._owner(dst)
        lines = [f"{src}: OUTPUT filter ACCEPT {proto} -> {dst}"]
        lines.append(f"{owner}: INPUT delivered" if owner else f"{src}: no route to {dst}")
        return TraceOutcome(lines, owner is not None)

    def clock_ns(self) -> int:
        return 0

    def arm_events(self, events: Sequence[Event]) -> None:
        """Every event "runs" at once (the fake has no clock)."""
        self.calls.append(("arm_events", [e.describe() for e in events]))
        self.armed = list(events)

    def disarm_events(self) -> list[EventDone]:
        self.calls.append(("disarm_events",))
        return [EventDone(e.at_ns) for e in self.armed]

    def close(self) -> None:
        self.calls.append(("close",))
        self.closed += 1

