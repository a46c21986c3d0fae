"""Trace events: every stage a packet passes, with the decision taken there, as fields.

Tracing costs nothing when off: the stack tests `tracer.on` (one attribute
read) before building any event or any string. When on, each stage emits one
`TraceEvent`: the kernel-named stage plus typed fields — the device, the
netfilter hook/table/chain/rule and verdict, the drop reason — and the human
`text` that `netplex trace` prints. Tests and tools read the fields; only the
renderer reads `text`. The kernel's counterparts are the `skb:kfree_skb`
tracepoint (drop reason), iptables' TRACE target / nf_log (hook, table,
chain, rule number) and the bridge/fib tracepoints.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import Enum
from typing import TypedDict

# A drop's reason: a member of netplex.stack.dropreason.SkbDropReason. The engine sits
# below the stack, so it names the type only as the Enum it is.
DropReason = Enum

__all__ = ["TraceEvent", "TraceFields", "Tracer"]


@dataclass(slots=True)
class TraceEvent:
    """One stage a packet passed. Fields not meaningful for the stage are None."""

    time: int  # ns
    node: str  # the namespace
    stage: str  # kernel-named stage: ip_rcv, PREROUTING, fib_lookup, br_forward, drop, ...
    text: str  # what `netplex trace` prints after the stage
    packet: int = 0  # id of the traced packet (skb), 0 when untracked
    dev: str | None = None  # the device the stage ran on (input device; for br_* the bridge)
    out_dev: str | None = None  # the output device it chose (ip_forward, ip_local_out, br_forward)
    port: str | None = None  # bridge port (br_*: where the frame came in / the FDB entry points)
    vid: int | None = None  # VLAN id (vlan_do_receive, VLAN-filtering bridge)
    hook: str | None = None  # netfilter hook: PREROUTING, INPUT, FORWARD, OUTPUT, POSTROUTING
    table: str | None = None  # filter, nat, mangle, raw, security; "expect" for conntrack expectation events
    chain: str | None = None  # the chain the rule is in
    rule: int | None = None  # rule number in the chain (1-based); None for the policy
    verdict: str | None = None  # ACCEPT, DROP, RETURN, continue, jump X, goto X; route type (fib_lookup);
    # SNAT/DNAT (nat); event name NEW, DESTROY, ... (conntrack)
    reason: DropReason | None = None  # drop events: why (an SkbDropReason)
    qdisc: str | None = None  # the qdisc's kind (htb, sfq, pfifo, ...) for a drop inside a qdisc
    handle: int | None = None  # and its handle (major << 16)


class TraceFields(TypedDict, total=False):
    """The typed fields a stage passes to `Namespace.trace(stage, text, **fields)`."""

    dev: str | None
    out_dev: str | None
    port: str | None
    vid: int | None
    hook: str | None
    table: str | None
    chain: str | None
    rule: int | None
    verdict: str | None
    reason: DropReason | None
    qdisc: str | None
    handle: int | None


@dataclass(slots=True)
class Tracer:
    """Collects trace events while `on` is true.

    Packet ids: the stack names the packet it starts working on (`packet_id` of the IPv4
    packet, or of the frame for other protocols) when a device receives it or a socket sends
    it, and every event emitted until the next one carries that id in `packet`. An id is
    given once per packet object, from 1, for the tracer's session (kept alive, so an id is
    never reused); a forwarded packet keeps its id from hop to hop, as pwru follows one skb.
    """

    on: bool = False
    events: list[TraceEvent] = field(default_factory=list)
    packet: int = 0   # the id of the packet the stack is working on now
    _ids: dict[int, tuple[object, int]] = field(default_factory=dict)

    def emit(self, event: TraceEvent) -> None:
        self.events.append(event)

    def packet_id(self, obj: object) -> int:
        """The id of this packet object (a new one the first time it is seen)."""
        got = self._ids.get(id(obj))
        if got is None:
            got = (obj, len(self._ids) + 1)
            self._ids[id(obj)] = got
        return got[1]

    def packet_objects(self) -> dict[int, object]:
        """Every packet object given an id this session (kept alive by the tracer), by id."""
        return {got: obj for obj, got in self._ids.values()}

    def clear(self) -> None:
        self.events.clear()
        self._ids.clear()
        self.packet = 0
