"""The `sim` backend: a scenario run in the simulator (SCENARIO.md semantics).

Builds a `Network`, runs setup lines through each node's shell, starts the
services as a daemon per node (`netplex.apps.services`; both backends read
their answer with `twin.probe.parse_reply`), and runs the probes on the
simulated clock — a probe's timeout costs simulated seconds, not wall seconds. `trace` sends
one packet with tracing on and narrates its path.
"""
from __future__ import annotations

import functools
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from netplex.apps.services import ProbeService
from netplex.engine.scheduler import EventStorm
from netplex.errors import NetplexError
from netplex.machine.fs import FsError
from netplex.network import Network
from netplex.packet.addr import int_to_ip, ip_to_int
from netplex.scenario.backend import (
    ALL_FEATURES,
    CmdResult,
    EventDone,
    FlowGaps,
    LinkNetnsAliases,
    ProbeOutcome,
    Progress,
    TraceOutcome,
)
from netplex.scenario.events import LinkEvents
from netplex.scenario.loader import load_scenario
from netplex.scenario.model import Event, IperfFlow, Link, Node
from netplex.scenario.runner import prepare
from netplex.shell.ping import ping_run
from netplex.shell.registry import Terminal
from netplex.stack import rtnl
from netplex.stack.netns import Namespace
from netplex.stack.sockets import ERRNO_TEXT
from netplex.stack.tcp import TcpSocket
from netplex.traffic.iperf import run_iperf
from netplex.twin.probe import parse_reply

NSEC_PER_SEC = 1_000_000_000
TCP_TIMEOUT_NS = 2 * NSEC_PER_SEC
UDP_TIMEOUT_NS = 1 * NSEC_PER_SEC
PROBE_LINE = b"netplex probe\n"


def _storm_safe(probe: Callable[..., ProbeOutcome]) -> Callable[..., ProbeOutcome]:
    """A probe that set off an event storm (a loop of zero-delay links) fails with the reason."""
    @functools.wraps(probe)
    def run(self: Any, *args: Any, **kwargs: Any) -> ProbeOutcome:
        storms = self.net.sched.storms
        try:
            outcome = probe(self, *args, **kwargs)
        except EventStorm as e:
            return ProbeOutcome(False, {"error": e.message}, aborted=e.message)
        if self.net.sched.storms != storms:   # a storm a command inside the probe caught
            outcome.aborted = self.net.sched.last_storm
            outcome.ok = False
        return outcome
    return run


class SimBackend:
    """The simulator behind the backend seam."""

    name = "sim"
    supports = ALL_FEATURES

    def __init__(self, seed: int = 0, pcap_dir: str | Path | None = None, network: Network | None = None) -> None:
        self.net = network if network is not None else Network(seed=seed)
        self.pcap_dir = pcap_dir
        self.services: list[Any] = []
        self.notes: list[str] = []  # the simulator applies everything; the seam's field stays empty
        self.progress: Progress | None = None
        self.links: list[Link] = []
        self._events: list[Event] = []
        self._done: list[EventDone] = []
        self._armed = 0          # the generation of the armed events; a stale callback does nothing
        self._link_events = LinkEvents([])
        if pcap_dir is not None:
            self.net.start_pcap(pcap_dir)

    # -- building ------------------------------------------------------------
    @property
    def link_netns_aliases(self) -> LinkNetnsAliases:
        return {}

    def build(self, nodes: Mapping[str, Node], links: Sequence[Link]) -> None:
        for name, node in nodes.items():
            self.net.add_node(name, kind=node.kind, params=node.params)
        self.links.extend(links)
        for link in links:
            (na, ia), (nb, ib) = link.ends
            self.net.add_link(f"{na}:{ia}", f"{nb}:{ib}", kind=link.kind, rate_bps=link.rate_bps,
                              delay_ns=link.delay_ns or 0, loss=link.loss or 0.0, mtu=link.mtu)

    def node(self, name: str) -> Any:
        return self.net.nodes[name]

    def write_file(self, node: str, path: str, data: bytes) -> None:
        """SCENARIO.md `files:`: the file on the node's own filesystem, its folders made."""
        try:
            self.node(node).machine.fs.write(path, data)
        except FsError as e:
            raise NetplexError(f"{node}: {path}: {e.message}", e.errno) from None

    def run(self, node: str, line: str, terminal: Terminal | None = None) -> CmdResult:
        storms = self.net.sched.storms
        shell = self.node(node).shell
        shell.terminal = terminal
        try:
            r = self.node(node).run(line)
        finally:
            shell.terminal = None
        aborted = self.net.sched.last_storm if self.net.sched.storms != storms else None
        return CmdResult(r.status, r.output, r.error, aborted)

    def start_node(self, node: str) -> None:
        self.node(node).start()

    # -- services ------------------------------------------------------------
    def start_services(self, node: str, services: list[tuple[str, int]], netns: str | None = None) -> None:
        """One `netplex-service` daemon per node (or server namespace) answers the probes (apps.services)."""
        if not services:
            return
        n = self.node(node)
        p = n.machine.procs.spawn(ProbeService.argv(services), self._probe_ns(node, netns), ProbeService(services))
        if not p.alive:
            raise NetplexError(p.error)
        self.services.append(p)

    # -- probes --------------------------------------------------------------
    def _probe_ns(self, src: str, netns: str | None) -> Namespace:
        """The node's namespace, or its named one `netns` (a cloud server's)."""
        node = self.node(src)
        return node.ns if netns is None else node.machine.netns_get(netns)

    @_storm_safe
    def ping(self, src: str, dst: str, count: int, netns: str | None = None) -> ProbeOutcome:
        st = ping_run(self._probe_ns(src, netns), ip_to_int(dst), count, timeout_ns=NSEC_PER_SEC)
        observed: dict[str, Any] = {"sent": st.transmitted, "replies": st.received}
        if st.rtts_us:
            observed["rtt_ms"] = round(sum(st.rtts_us) / len(st.rtts_us) / 1000, 3)
        return ProbeOutcome(st.received >= 1, observed)

    @_storm_safe
    def tcp(self, src: str, dst: str, port: int, netns: str | None = None) -> ProbeOutcome:
        ns = self._probe_ns(src, netns)
        sk = TcpSocket(ns.sockets)
        state: dict[str, Any] = {"data": b"", "done": False, "error": None}

        def on_connect(s: TcpSocket) -> None:
            state["local"] = f"{int_to_ip(s.laddr)}:{s.lport}"
            s.send(PROBE_LINE)

        def on_data(s: TcpSocket, data: bytes) -> None:
            state["data"] += data
            if b"\n" in state["data"]:
                state["done"] = True

        def on_close(s: TcpSocket) -> None:
            state["done"] = True

        def on_error(s: TcpSocket, err: int) -> None:
            state["error"] = err
            state["done"] = True

        sk.on_connect, sk.on_data, sk.on_close, sk.on_error = on_connect, on_data, on_close, on_error
        err = sk.connect(ip_to_int(dst), port)
        if err:
            return ProbeOutcome(False, {"error": ERRNO_TEXT.get(err, f"errno {err}")})
        # the twin's probe sets a 2 s socket timeout: connect() waits up to 2 s, then each recv()
        self.net.run_until(lambda: state["done"] or "local" in state, TCP_TIMEOUT_NS)
        while "local" in state and not state["done"]:
            got = len(state["data"])
            if not self.net.run_until(lambda got=got: state["done"] or len(state["data"]) > got, TCP_TIMEOUT_NS):
                break
        sk.close()
        self.net.settle()
        if state["error"] is not None:
            return ProbeOutcome(False, {"error": ERRNO_TEXT.get(state["error"], f"errno {state['error']}")})
        if not state["done"] and "local" not in state:
            sk._done()
            return ProbeOutcome(False, {"error": "timed out"})
        reply = state["data"].decode(errors="replace").strip()
        if not reply:
            if not state["done"]:
                return ProbeOutcome(False, {"error": "timed out"})
            return ProbeOutcome(False, {"error": "no answer", "reply": ""})
        observed = parse_reply(reply)
        observed["local"] = state["local"]
        return ProbeOutcome(True, observed)

    @_storm_safe
    def udp(self, src: str, dst: str, port: int, netns: str | None = None) -> ProbeOutcome:
        ns = self._probe_ns(src, netns)
        sk = ns.sockets.udp_socket()
        state: dict[str, Any] = {"reply": None, "error": 0}

        def on_recv(data: bytes, s: int, sport: int) -> None:
            state["reply"] = data

        def on_error(err: int) -> None:
            state["error"] = err

        sk.on_recv, sk.on_error = on_recv, on_error
        err = sk.connect(ip_to_int(dst), port)
        if not err:
            err = sk.sendto(PROBE_LINE)
        if err:
            sk.close()
            return ProbeOutcome(False, {"reply": "", "error": ERRNO_TEXT.get(err, f"errno {err}")})
        local = f"{int_to_ip(sk.laddr)}:{sk.lport}"
        self.net.run_until(lambda: state["reply"] is not None or bool(state["error"]), UDP_TIMEOUT_NS)
        sk.close()
        if state["reply"] is None:
            text = ERRNO_TEXT.get(state["error"], "timed out") if state["error"] else "timed out"
            return ProbeOutcome(False, {"reply": "", "error": text})
        observed = parse_reply(state["reply"].decode(errors="replace").strip())
        observed["local"] = local
        return ProbeOutcome(True, observed)

    @_storm_safe
    def iperf(self, duration_ns: int, flows: Sequence[IperfFlow]) -> ProbeOutcome:
        """SCENARIO.md's iperf probe: concurrent flows for `duration_ns` simulated time."""
        specs = [f.model_dump(exclude_none=True) for f in flows]
        gaps: list[FlowGaps] = []
        ok, observed = run_iperf(self.net, duration_ns, specs, progress=self.progress, gaps_out=gaps)
        return ProbeOutcome(ok, observed, flow_gaps=gaps)

    # -- events (simulated time) -------------------------------------------------
    def clock_ns(self) -> int:
        return self.net.now

    def arm_events(self, events: Sequence[Event]) -> None:
        """Each event is a scheduler event at now + at; the probes' simulated time runs them."""
        self._armed += 1
        self._events = list(events)
        self._done = [EventDone(None) for _ in events]
        self._link_events = LinkEvents(self.links)
        origin = self.net.now
        for i, ev in enumerate(events):
            self.net.sched.at(origin + ev.at_ns, self._fire, self._armed, i)

    def disarm_events(self) -> list[EventDone]:
        self._armed += 1
        return list(self._done)

    def _fire(self, gen: int, index: int) -> None:
        if gen != self._armed:
            return
        ev = self._events[index]
        done = self._done[index]
        done.time_ns = self.net.now
        if ev.run is not None:
            r = self.node(ev.run.node).run(ev.run.cmd)
            if r.status != 0:
                done.error = (r.error or r.output or f"exit {r.status}").removesuffix("\n")
            return
        def is_up(end: tuple[str, str]) -> bool:
            dev = self.node(end[0]).ns.devices.get(end[1])
            return dev is not None and dev.up

        ends, up = self._link_events.apply(ev, is_up)
        for node, ifname in ends:
            dev = self.node(node).ns.devices.get(ifname)
            if dev is not None:   # a setup line may have moved or deleted it
                rtnl.setlink(dev, up=up)

    @_storm_safe
    def attach(self, ue: str) -> ProbeOutcome:
        ok, observed = self.node(ue).procedure("attach")
        return ProbeOutcome(ok, observed)

    def trace_attach(self, ue: str) -> TraceOutcome:
        """The attach with tracing on: the events the kinds emit (stage `attach`), one line each."""
        tracer = self.net.tracer
        tracer.clear()
        tracer.on = True
        start = self.net.now
        try:
            outcome = self.attach(ue)
        finally:
            tracer.on = False
        lines = [f"trace attach {ue}"]
        for ev in tracer.events:
            if ev.stage.startswith("attach"):
                lines.append(f"{(ev.time - start) / 1000:12.3f} µs  {ev.node:<12} {ev.text}")
        if outcome.ok:
            lines.append(f"result: attached, {ue} has {outcome.observed.get('ip')}")
        else:
            lines.append(f"result: attach failed ({outcome.observed.get('error', 'no answer')})")
        return TraceOutcome(lines, outcome.ok)

    # -- trace -----------------------------------------------------------------
    def trace(self, src: str, dst: str, proto: str = "icmp", dport: int | None = None) -> TraceOutcome:
        """Send one packet from `src` to `dst` with tracing on; narrate every stage."""
        tracer = self.net.tracer
        tracer.clear()
        tracer.on = True
        start = self.net.now
        try:
            if proto == "icmp":
                outcome = self.ping(src, dst, 1)
                delivered = outcome.ok
            elif proto == "udp":
                outcome = self.udp(src, dst, dport or 9)
                delivered = outcome.ok or outcome.observed.get("error") == "Connection refused"
            else:
                outcome = self.tcp(src, dst, dport or 80)
                delivered = outcome.ok or outcome.observed.get("error") == "Connection refused"
        finally:
            tracer.on = False
        lines = [f"trace {proto} {src} → {dst}" + (f" port {dport}" if dport else "")]
        for ev in tracer.events:
            t_us = (ev.time - start) / 1000
            lines.append(f"{t_us:12.3f} µs  #{ev.packet:<3} {ev.node:<12} {ev.stage:<18} {ev.text}")
        target = ip_to_int(dst)
        owners = {n for n, node in self.net.nodes.items() if node.ns.is_local_addr(target)}
        reached = any(ev.stage == "ip_local_deliver" and ev.node in owners for ev in tracer.events)
        drops = [f"{ev.node}: {ev.text}" for ev in tracer.events if ev.stage == "drop"]
        if delivered:
            lines.append("result: delivered, answered")
        else:
            why = outcome.observed.get("error", "no reply")
            got = f"reached {', '.join(sorted(owners))}, but no answer came back" if reached else "not delivered"
            lines.append(f"result: {got} ({why})")
            lines.extend(f"  drop at {d}" for d in drops)
        return TraceOutcome(lines, delivered)

    def close(self) -> None:
        if self.pcap_dir is not None:
            self.net.stop_pcap()

    # -- Network.load ------------------------------------------------------------
    def load(self, path: str | Path) -> Any:
        scenario = load_scenario(path)
        err = prepare(scenario, self)
        if err is not None:
            raise NetplexError(f"{err['node']}: line {err['line']}: {err['command']}: {err['message']}")
        return scenario
