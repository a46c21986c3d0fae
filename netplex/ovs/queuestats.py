"""A bridge's QoS queues and their statistics as ovs-vswitchd answers OFPMP_QUEUE (ofproto.c
handle_queue_stats_request, handle_queue_stats_for_port) and `ovs-ofctl queue-stats` prints them
(ofp-queue.c ofputil_queue_stats_to_string).

A port with a linux-htb QoS has queue 0 (the default class 1:1) and each configured queue N
(class 1:(N+1)); their tx counters are the HTB classes'. A port the bridge lacks is
OFPQOFC_BAD_PORT; a queue asked for by number that is not there is OFPQOFC_BAD_QUEUE (for every
port: none of them has it). The durations are unknown (all ones, printed `?`): the real
ovs-vswitchd 3.1 sends numbers that mean nothing there (netdev-linux's htb_update_queue__ never
sets the queue's creation time; docs/ovs.md, Queue statistics).
"""
from __future__ import annotations

from typing import TYPE_CHECKING

from netplex.ovs.ofp_gmq import OFPET_QUEUE_OP_FAILED, OFPQ_ALL, OFPQOFC_BAD_PORT, OFPQOFC_BAD_QUEUE, QueueStats

if TYPE_CHECKING:
    from netplex.ovs.vswitchd import XBridge

__all__ = ["bridge_queues", "format_queue_stats", "queue_stats", "request_text"]

OFPP_ANY = 0xFFFFFFFF
UNKNOWN = 0xFFFFFFFF


def _port32(ofport: int) -> int:
    return ofport | 0xFFFF0000 if ofport >= 0xFF00 else ofport


def bridge_queues(xb: XBridge, port_no: int) -> list[tuple[int, int]] | None:
    """(OpenFlow 1.3 port, queue id) of each queue of a port's linux-htb QoS, of every port for
    OFPP_ANY; None for a port the bridge lacks."""
    ports = sorted(xb.ports.values(), key=lambda p: p.ofport)
    if port_no != OFPP_ANY:
        ports = [p for p in ports if _port32(p.ofport) == port_no]
        if not ports:
            return None
    out = []
    for p in ports:
        if p.qos:
            out += [(_port32(p.ofport), qid) for qid in sorted({0} | {q[0] for q in p.qos[1]})]
    return out


def queue_stats(xb: XBridge, port_no: int, queue_id: int) -> list[QueueStats] | tuple[int, int]:
    """The OFPMP_QUEUE reply's entries for (port, queue) (OFPP_ANY, OFPQ_ALL: every one), or the
    error (type, code)."""
    queues = bridge_queues(xb, port_no)
    if queues is None:
        return OFPET_QUEUE_OP_FAILED, OFPQOFC_BAD_PORT
    queues = [q for q in queues if queue_id in (OFPQ_ALL, q[1])]
    if not queues and queue_id != OFPQ_ALL:
        return OFPET_QUEUE_OP_FAILED, OFPQOFC_BAD_QUEUE
    out = []
    for port, qid in queues:
        p = xb.ports[port & 0xFFFF]
        cl = p.dev.qdisc.find_class(0x10000 | (qid + 1)) if p.dev is not None and p.dev.qdisc else None
        n_bytes, n_packets = (cl.bytes, cl.packets) if cl is not None else (0, 0)
        out.append(QueueStats(port, qid, n_bytes, n_packets, 0, UNKNOWN, UNKNOWN))
    return out


def _port_text(no: int) -> str:
    return {0xFFFFFFFE: "LOCAL", OFPP_ANY: "ANY"}.get(no, str(no))


def _duration(sec: int, nsec: int) -> str:
    """ofp_print_duration: whole seconds, then milliseconds or as many digits as nanoseconds need."""
    if sec == UNKNOWN:
        return "?"
    if not nsec:
        return f"{sec}s"
    return f"{sec}.{nsec // 1_000_000:03d}s" if nsec % 1_000_000 == 0 else f"{sec}.{nsec:09d}".rstrip("0") + "s"


def format_queue_stats(stats: list[QueueStats]) -> str:
    """The reply's lines after its head: `  port 2 queue 1: bytes=0, pkts=0, errors=0, duration=?`."""
    return "".join(f"  port {_port_text(q.port_no)} queue {q.queue_id}: bytes={q.tx_bytes}, pkts={q.tx_packets}, "
                   f"errors={q.tx_errors}, duration={_duration(q.duration_sec, q.duration_nsec)}\n" for q in stats)


def request_text(port_no: int, queue_id: int) -> str:
    """ofputil_queue_stats_request's words in an OFPT_ERROR's echo: ` port=2 queue=ALL`."""
    return f" port={_port_text(port_no)} queue={'ALL' if queue_id == OFPQ_ALL else queue_id}"
