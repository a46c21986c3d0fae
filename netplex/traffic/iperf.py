"""The `iperf` probe in the simulator (SCENARIO.md, Traffic probes).

All flows start together and run for `duration` simulated seconds. Per flow,
`observed` holds `goodput_bps` (payload per second), `wire_bps` (Ethernet
frame bytes per second at the receiver, the unit of tc rates), `lost` (UDP
datagrams sent but not received once the queues drained), `intervals`
(goodput per one-second interval) and `wire_intervals`. `observed.classes`
is the time series of every tc class on the path: bits per second per
interval, keyed `node:dev:classid`, with each class's `lended`/`borrowed`.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from netplex.apps.generators import FlowStats
from netplex.apps.iperf import Iperf3Client, Iperf3Server
from netplex.apps.process import Process
from netplex.machine.fs import FsError
from netplex.packet.addr import ip_to_int
from netplex.scenario.backend import FlowGaps, gap_threshold_ns, paced_interval_ns
from netplex.stack.sockets import ERRNO_TEXT

NSEC_PER_SEC = 1_000_000_000
START_DELAY_NS = 10_000_000
DRAIN_NS = 2 * NSEC_PER_SEC
UDP_DEFAULT_RATE = 1_000_000     # iperf3 -u without -b: 1 Mbit/s
UDP_DEFAULT_SIZE = 1460


def _owner(net: Any, addr: int) -> Any:
    for node in net.nodes.values():
        if node.ns.is_local_addr(addr):
            return node
    return None


def _class_series(net: Any) -> list[tuple[str, Any, Any]]:
    out = []
    from netplex.stack.qdisc import walk

    for node in net.nodes.values():
        for dev in node.ns.devices.values():
            for q in walk(getattr(dev, "qdisc", None)):
                for cl in q.classes():
                    cid = cl.classid
                    out.append((f"{node.name}:{dev.name}:{cid >> 16:x}:{cid & 0xFFFF:x}", q, cl))
    return out


def _interval_ns(f: dict[str, Any]) -> int:
    return paced_interval_ns(f.get("proto", "tcp"), f.get("rate_bps"), f.get("size"))


def run_iperf(net: Any, duration_ns: int, flows: list[dict[str, Any]],
              progress: Callable[[float], None] | None = None,
              gaps_out: list[FlowGaps] | None = None) -> tuple[bool, dict[str, Any]]:
    """Run the flows; `gaps_out`, when given, receives each flow's pauses (`FlowGaps`)."""
    if duration_ns <= 0:
        raise ValueError(f"iperf duration {duration_ns} ns: must be more than 0")
    start = net.now + START_DELAY_NS
    stop = start + duration_ns
    stats: list[FlowStats] = []
    clients: list[Iperf3Client] = []
    procs: list[Process] = []
    servers: dict[tuple[str, str, int], Process] = {}
    errors: list[str | None] = []
    for f in flows:
        st = FlowStats(start, gap_ns=gap_threshold_ns(_interval_ns(f)))
        stats.append(st)
        dst = ip_to_int(f["to"])
        src_node = net.nodes[f["src"]]
        proto = f.get("proto", "tcp")
        rx = _owner(net, dst)
        err = None
        if rx is None:
            err = "no node has this address"
        else:
            key = (rx.name, proto, int(f["port"]))
            server = servers.get(key)
            if server is None:
                prog = Iperf3Server(proto, int(f["port"]), st)
                server = servers[key] = rx.machine.procs.spawn(prog.argv(), rx.ns, prog)
            elif isinstance(server.program, Iperf3Server):
                st = server.program.stats
                stats[-1] = st
        client = Iperf3Client(proto, dst, int(f["port"]), start, stop, tos=int(f.get("tos") or 0),
                              rate_bps=int(f.get("rate_bps") or (UDP_DEFAULT_RATE if proto == "udp" else 0)),
                              size=int(f.get("size") or (UDP_DEFAULT_SIZE if proto == "udp" else 0)),
                              on_ns=int(f.get("on_ns") or 0), off_ns=int(f.get("off_ns") or 0))
        clients.append(client)
        proc = src_node.machine.procs.spawn(client.argv(), src_node.ns, client)
        procs.append(proc)
        if f.get("cgroup") and err is None:     # as cgexec: the client's task joins the cgroup
            try:
                src_node.machine.net_cls.attach(f["cgroup"], proc.pid)
            except FsError as e:
                err = f"net_cls cgroup {f['cgroup']}: {e.message}"
                src_node.machine.procs.exit(proc, 1)
        errors.append(err)
    series = _class_series(net)
    samples: dict[str, list[int]] = {name: [] for name, _, _ in series}
    last = {name: cl.bytes for name, _, cl in series}

    def sample() -> None:
        for name, _, cl in series:
            samples[name].append((cl.bytes - last[name]) * 8)
            last[name] = cl.bytes
        if net.now + NSEC_PER_SEC <= stop:
            net.sched.at(net.now + NSEC_PER_SEC, sample)

    net.sched.at(start + NSEC_PER_SEC, sample)
    step = NSEC_PER_SEC
    t = net.now
    end = stop + DRAIN_NS
    while t < end:
        t = min(t + step, end)
        net.run_for(t - net.now)
        if progress is not None:
            progress(min(1.0, (t - (start - START_DELAY_NS)) / (end - start + START_DELAY_NS)))
    for p in [*procs, *servers.values()]:     # the clients' time is up; the servers are stopped
        if p.table is not None:
            p.table.exit(p, 0)
    if gaps_out is not None:
        for f, st in zip(flows, stats):
            fg = FlowGaps(start, stop, _interval_ns(f), [g for g in st.gaps if g[0] < stop])
            if st.packets and stop - st.last > st.gap_ns:
                fg.gaps.append((st.last, stop))
                fg.open_at_end = True
            elif not st.packets:
                fg.gaps.append((start, stop))
                fg.open_at_end = True
            gaps_out.append(fg)
    secs = duration_ns / NSEC_PER_SEC
    nint = max(1, -(-duration_ns // NSEC_PER_SEC))
    out_flows = []
    ok = True
    for f, st, g, err in zip(flows, stats, clients, errors):
        per = st.per_interval[:nint] + [[0, 0]] * max(0, nint - len(st.per_interval))
        good = sum(p[0] for p in per)
        wire = sum(p[1] for p in per)
        o: dict[str, Any] = {"goodput_bps": round(good * 8 / secs), "wire_bps": round(wire * 8 / secs),
                             "intervals": [p[0] * 8 for p in per], "wire_intervals": [p[1] * 8 for p in per]}
        if f.get("proto") == "udp":
            o["sent"] = g.sent
            o["received"] = st.packets
            o["lost"] = max(0, g.sent - st.packets)
        gerr = g.error
        if err or gerr:
            o["error"] = err or ERRNO_TEXT.get(gerr, f"errno {gerr}")
        if err or gerr or good == 0:
            ok = False
        out_flows.append(o)
    classes = {name: {"bps": samples[name], "lended": cl.lends, "borrowed": cl.borrows} for name, _, cl in series}
    observed: dict[str, Any] = {"duration_s": secs, "flows": out_flows}
    if classes:
        observed["classes"] = classes
    return ok, observed
