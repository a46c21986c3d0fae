"""The backend seam: everything the scenario runner and the CLI ask of a backend (sim or linux).

A backend builds the scenario's nodes and links, places files and runs shell
lines inside a node, starts services, runs probes (ping, tcp, udp, iperf) and
traces one packet. Both backends return the same plain result objects, so the
runner, `netplex diff` and the tests treat them alike. SCENARIO.md is the
contract for every method's semantics. Nothing outside this Protocol is
reached on a backend: a method a backend cannot carry out raises
`BackendUnsupported` (a `NetplexError`) with the reason.

Implementations: `netplex.scenario.sim.SimBackend`, `netplex.twin.backend.LinuxBackend`.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

from netplex.errors import NetplexError
from netplex.scenario.model import IperfFlow, Link, Node
from netplex.shell.registry import Terminal

__all__ = ["ALL_FEATURES", "Backend", "BackendUnsupported", "CmdResult", "LinkNetnsAliases", "ProbeOutcome", "Progress",
           "TraceOutcome"]

ALL_FEATURES = frozenset({"ping", "tcp", "udp", "cmd", "iperf", "trace", "attach"})
"""Everything `Backend.supports` may name."""

Progress = Callable[[float], None]
"""Told the fraction (0..1) of a long probe (iperf) that is done."""

LinkNetnsAliases = Mapping[tuple[str, int], str]
"""{(namespace, ifindex of a user end's peer in it): the node at the far side} (see Backend)."""


class BackendUnsupported(NetplexError):
    """The backend cannot do what was asked (e.g. `trace` on the kernel twin); the message says what."""


@dataclass(slots=True)
class CmdResult:
    """What a shell line produced: exit status, standard output, standard error."""

    status: int
    output: str = ""
    error: str = ""
    aborted: str | None = None   # the simulation stopped itself while the line ran: why


@dataclass(slots=True)
class ProbeOutcome:
    """One probe's raw outcome: `ok` as SCENARIO.md defines it, and what was observed."""

    ok: bool
    observed: dict[str, Any] = field(default_factory=dict)
    # the run stopped itself (an event storm): the probe fails whatever it expected, with this reason
    aborted: str | None = None


@dataclass(slots=True)
class TraceOutcome:
    """`netplex trace`: the narrated path, line by line, and whether the packet was delivered."""

    lines: list[str]
    delivered: bool


class Backend(Protocol):
    """What both backends implement. Names are SCENARIO.md's."""

    name: str  # "sim" or "linux"
    notes: list[str]  # what this backend could not apply (e.g. a delay without sch_netem), in order
    progress: Progress | None  # set by the CLI before a run; fed by long probes
    # What this backend runs: the probe kinds of SCENARIO.md ("ping", "tcp", "udp", "cmd",
    # "iperf") and "trace". The runner refuses a scenario with a probe missing here before it
    # builds anything; the CLI refuses `netplex trace` likewise.
    supports: frozenset[str]

    @property
    def link_netns_aliases(self) -> LinkNetnsAliases:
        """Namespaces only this backend shows, named after the node the other backend shows.

        The kernel twin runs a link with rate, delay or loss through a hidden wire
        namespace, so a user end's peer is in it; the simulator names the far node.
        `netplex.scenario.diff` normalises one into the other with these. {} in the simulator.
        """
        ...

    def build(self, nodes: Mapping[str, Node], links: Sequence[Link]) -> None:
        """Create every node (a machine whose root namespace has `lo` down) and every link.

        `nodes` maps each node's name to its validated model (scenario/model.py);
        `links` are the validated `Link`s: `ends`, `kind` ("veth" or "tap") and the
        optional `rate_bps` (int), `delay_ns` (int), `loss` (float 0..1), `mtu` (int).
        """
        ...

    def write_file(self, node: str, path: str, data: bytes) -> None:
        """Place a file on `node`'s filesystem (SCENARIO.md `files:`), before its setup lines run."""
        ...

    def run(self, node: str, line: str, terminal: Terminal | None = None) -> CmdResult:
        """Run one shell line on `node` (setup line or `cmd` probe).

        `terminal`: the interactive terminal of `netplex shell`, where a command that
        runs until Ctrl-C (ping without -c) writes as it goes (the sim; the twin's
        output arrives when the line ends).
        """
        ...

    def start_node(self, node: str) -> None:
        """After every node's setup lines: start what the node's kind runs (`Node.start`: an MME's daemon)."""
        ...

    def start_services(self, node: str, services: list[tuple[str, int]]) -> None:
        """Start listeners: [("tcp", 80), ("udp", 53)] per SCENARIO.md's Services."""
        ...

    def ping(self, src: str, dst: str, count: int) -> ProbeOutcome:
        """observed: sent, replies, rtt_ms (float, average; absent with no reply)."""
        ...

    def tcp(self, src: str, dst: str, port: int) -> ProbeOutcome:
        """observed: peer, peer_port, reply, local on success; error otherwise."""
        ...

    def udp(self, src: str, dst: str, port: int) -> ProbeOutcome:
        """observed: peer, peer_port, reply on success; reply "" and error otherwise."""
        ...

    def iperf(self, duration_ns: int, flows: Sequence[IperfFlow]) -> ProbeOutcome:
        """SCENARIO.md's iperf probe: the flows run together for `duration_ns`.

        observed: duration_s and flows[i] with goodput_bps, wire_bps, intervals
        (and sent/received/lost for udp, error when a flow failed).
        """
        ...

    def attach(self, ue: str) -> ProbeOutcome:
        """A UE's attach (netplex.mobile): observed ip, teids {t1..t8}, steps; error when it failed."""
        ...

    def trace_attach(self, ue: str) -> TraceOutcome:
        """`netplex trace --attach UE`: the attach with tracing on, narrated step by step."""
        ...

    def trace(self, src: str, dst: str, proto: str = "icmp", dport: int | None = None) -> TraceOutcome:
        """Send one packet from `src` to `dst` with tracing on and narrate every stage it crosses.

        Raises BackendUnsupported where the backend cannot see inside its stack.
        """
        ...

    def close(self) -> None:
        """Tear everything down. Idempotent."""
        ...
