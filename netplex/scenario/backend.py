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
from netplex.scenario.model import Event, IperfFlow, Link, Node
from netplex.shell.registry import Terminal

__all__ = ["ALL_FEATURES", "Backend", "BackendUnsupported", "CmdResult", "EventDone", "FlowGaps", "LinkNetnsAliases",
           "ProbeOutcome", "Progress", "TraceOutcome", "gap_threshold_ns", "paced_interval_ns"]

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


MIN_GAP_NS = 20_000_000
"""A pause in a flow's arrivals shorter than this is jitter, not an outage (20 ms)."""


def gap_threshold_ns(interval_ns: int) -> int:
    """The shortest pause between two arrivals that counts as an outage: three sending
    intervals of a paced (UDP) flow, and never less than MIN_GAP_NS."""
    return max(3 * interval_ns, MIN_GAP_NS)


UDP_DEFAULT_RATE = 1_000_000   # iperf3 -u without -b: 1 Mbit/s
UDP_DEFAULT_SIZE = 1460


def paced_interval_ns(proto: str, rate_bps: int | None, size: int | None) -> int:
    """A UDP flow's sending interval (`size` bytes at `rate_bps`, iperf's defaults); 0 for TCP."""
    if proto != "udp":
        return 0
    return (size or UDP_DEFAULT_SIZE) * 8 * 1_000_000_000 // max(rate_bps or UDP_DEFAULT_RATE, 1)


@dataclass(slots=True)
class FlowGaps:
    """Where a traffic flow stopped arriving, on the backend's clock (`Backend.clock_ns`).

    `gaps` are (last arrival before, first arrival after) pairs longer than
    `gap_threshold_ns(interval_ns)`; a pause still open when the flow ended is
    (last arrival, `end_ns`) with `open_at_end`. `interval_ns` is a paced flow's
    sending interval (UDP), 0 for TCP.
    """

    start_ns: int
    end_ns: int
    interval_ns: int
    gaps: list[tuple[int, int]] = field(default_factory=list)
    open_at_end: bool = False


@dataclass(slots=True)
class EventDone:
    """What became of one scheduled event: the backend-clock time it ran at (None: the
    probes ended first), and the error it met (a `run` line that failed, ...)."""

    time_ns: int | None
    error: str | None = None


@dataclass(slots=True)
class ProbeOutcome:
    """One probe's raw outcome: `ok` as SCENARIO.md defines it, and what was observed."""

    ok: bool
    observed: dict[str, Any] = field(default_factory=dict)
    # the run stopped itself (an event storm): the probe fails whatever it expected, with this reason
    aborted: str | None = None
    # an iperf probe: each flow's pauses, for the outage of each event (not part of the JSON)
    flow_gaps: list[FlowGaps] | None = None


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

    def start_services(self, node: str, services: list[tuple[str, int]], netns: str | None = None) -> None:
        """Start listeners: [("tcp", 80), ("udp", 53)] per SCENARIO.md's Services; in the node's
        named namespace `netns` when given (a cloud server's)."""
        ...

    def ping(self, src: str, dst: str, count: int, netns: str | None = None) -> ProbeOutcome:
        """observed: sent, replies, rtt_ms (float, average; absent with no reply).

        `netns`: the named namespace on `src` the probe runs in (`ip netns exec NETNS ...`: a
        cloud server on its compute host), for tcp and udp too; None: the node's own."""
        ...

    def tcp(self, src: str, dst: str, port: int, netns: str | None = None) -> ProbeOutcome:
        """observed: peer, peer_port, reply, local on success; error otherwise."""
        ...

    def udp(self, src: str, dst: str, port: int, netns: str | None = None) -> ProbeOutcome:
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

    def clock_ns(self) -> int:
        """Now, in nanoseconds, on the clock events and `FlowGaps` use (sim: simulated time;
        linux: wall time)."""
        ...

    def arm_events(self, events: Sequence[Event]) -> None:
        """Schedule SCENARIO.md's `events:` at `clock_ns() + event.at_ns` each, to run while the
        probes that follow run: `cut`/`restore` a link end (both ends of its cable down, then
        back up), `fail`/`recover` a node (every link end of it), `run` a shell line."""
        ...

    def disarm_events(self) -> list[EventDone]:
        """Cancel the events not yet run; one `EventDone` per armed event, in order."""
        ...

    def trace(self, src: str, dst: str, proto: str = "icmp", dport: int | None = None) -> TraceOutcome:
        """Send one packet from `src` to `dst` with tracing on and narrate every stage it crosses.

        Raises BackendUnsupported where the backend cannot see inside its stack.
        """
        ...

    def close(self) -> None:
        """Tear everything down. Idempotent."""
        ...
