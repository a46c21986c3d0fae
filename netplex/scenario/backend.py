"""The backend seam: what the scenario runner asks of a backend (sim or linux).

A backend builds the scenario's nodes and links, runs shell lines inside a
node, starts services and runs probes. Both backends return the same plain
result objects, so the runner, `netplex diff` and the tests treat them alike.
SCENARIO.md is the contract for every method's semantics.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol


@dataclass(slots=True)
class CmdResult:
    """What a shell line produced: exit status, standard output, standard error."""

    status: int
    output: str = ""
    error: str = ""


@dataclass(slots=True)
class ProbeOutcome:
    """One probe's raw outcome: `ok` as SCENARIO.md defines it, and what was observed."""

    ok: bool
    observed: dict[str, Any] = field(default_factory=dict)


class Backend(Protocol):
    """What both backends implement. Names are SCENARIO.md's."""

    name: str  # "sim" or "linux"

    def build(self, nodes: list[str], links: list[dict[str, Any]]) -> None:
        """Create every node (a netns with `lo` down) and every link.

        Each link dict has: `ends` [(node, ifname), (node, ifname)], `kind`
        ("veth" or "tap"), and optional `rate_bps` (int), `delay_ns` (int),
        `loss` (float 0..1), `mtu` (int).
        """

    def run(self, node: str, line: str) -> CmdResult:
        """Run one shell line on `node` (setup line or `cmd` probe)."""

    def start_services(self, node: str, services: list[tuple[str, int]]) -> None:
        """Start listeners: [("tcp", 80), ("udp", 53)] per SCENARIO.md's Services."""

    def ping(self, src: str, dst: str, count: int) -> ProbeOutcome:
        """observed: sent, replies, rtt_ms (float, average; absent with no reply)."""

    def tcp(self, src: str, dst: str, port: int) -> ProbeOutcome:
        """observed: peer, peer_port, reply, local on success; error otherwise."""

    def udp(self, src: str, dst: str, port: int) -> ProbeOutcome:
        """observed: peer, peer_port, reply on success; reply "" and error otherwise."""

    def close(self) -> None:
        """Tear everything down. Idempotent."""
