"""TCP SACK (RFC 2018) and SACK-based loss recovery (RFC 6675) in the simulated stack.

Segments are dropped on the wire by sequence number (the link's own loss is
random), the bytes on the wire are read back with scapy, and the time a
transfer takes is simulated time.
"""
from __future__ import annotations

import struct
from collections.abc import Callable
from typing import Any

import pytest

pytest.importorskip("scapy")

from scapy.layers.inet import TCP
from scapy.layers.l2 import Ether

from netplex import Network
from netplex.build import compiled_modules
from netplex.engine.link import Link
from netplex.packet.addr import ip_to_int
from netplex.packet.tcp import Tcp
from netplex.stack.tcp import ESTABLISHED, TcpSocket

MSS = 1448          # 1500 - 40 - 12 (timestamps)
RTT = 20_000_000    # 10 ms each way
M32 = 0xFFFFFFFF


class Wire:
    """Two hosts a (10.0.0.1, sender) and b (10.0.0.2, receiver) over one 100 Mbit/s, 10 ms link;
    `drop` decides, per data segment from a, whether this transmission is lost."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch, drop: Callable[[int, int], bool] | None = None,
                 seed: int = 1, loss: float = 0.0, sender_sack: bool = True) -> None:
        self.net = net = Network(seed=seed)
        a, b = net.add_node("a"), net.add_node("b")
        self.link = net.add_link("a:eth0", "b:eth0", rate_bps=100_000_000, delay_ns=RTT // 2, loss=loss)
        for node, addr in ((a, "10.0.0.1"), (b, "10.0.0.2")):
            assert node.run(f"ip addr add {addr}/24 dev eth0; ip link set eth0 up").status == 0
        if not sender_sack:
            assert a.run("sysctl -w net.ipv4.tcp_sack=0").status == 0
        self.a_ns = a.ns
        self.frames: list[tuple[int, str, bytes]] = []   # (time, node, bytes), sent and received
        net.capture = lambda dev, frame: self.frames.append((net.now, dev.ns.name, frame.encode()))
        self.sent: dict[int, int] = {}                       # relative seq -> transmissions so far
        if drop is not None:
            if "netplex/engine/link.py" in compiled_modules():
                pytest.skip("the compiled build (make fast) calls Link.deliver natively: it cannot be patched here")
            orig = Link.deliver
            wire = self

            def deliver(link: Link, start: int, nbytes: int, rx: Any, frame: Any) -> int:
                seg = getattr(getattr(frame, "payload", None), "payload", None)
                if link is wire.link and isinstance(seg, Tcp) and seg.payload and seg.sport != 7:
                    rel = (seg.seq - wire.cli.iss - 1) & M32
                    n = wire.sent[rel] = wire.sent.get(rel, 0) + 1
                    if drop(rel, n):
                        return start + link.serialisation_ns(nbytes)
                return orig(link, start, nbytes, rx, frame)

            monkeypatch.setattr(Link, "deliver", deliver)
        srv = TcpSocket(b.ns.sockets)
        srv.listen(7)
        self.got = bytearray()
        self.conns: list[TcpSocket] = []

        def on_accept(sk: TcpSocket) -> None:
            self.conns.append(sk)
            sk.on_data = lambda s, d: self.got.extend(d)

        srv.on_accept = on_accept
        self.cli = TcpSocket(a.ns.sockets)
        assert self.cli.connect(ip_to_int("10.0.0.2"), 7) == 0
        assert net.run_until(lambda: bool(self.conns), 30_000_000_000)
        assert self.cli.state == ESTABLISHED

    def transfer(self, size: int, timeout: int = 60_000_000_000) -> int:
        """Send `size` bytes from a; the simulated time until b has them all."""
        payload = bytes(range(251)) * (size // 251 + 1)
        payload = payload[:size]
        t0 = self.net.now
        self.cli.send(payload)
        assert self.net.run_until(lambda: len(self.got) >= size, timeout)
        assert bytes(self.got) == payload
        return self.net.now - t0

    def segments(self, node: str, direction: str) -> list[tuple[int, Any]]:
        """(time, scapy TCP layer) of what `node` transmitted ("tx") or received ("rx")."""
        out = []
        for t, name, raw in self.frames:
            if name != node:
                continue
            p = Ether(raw)
            if TCP not in p:
                continue
            # capture() sees a frame on transmit (before the link loses it) and on receive
            leaving = p["IP"].src == ("10.0.0.1" if node == "a" else "10.0.0.2")
            if leaving == (direction == "tx"):
                out.append((t, p[TCP]))
        return out


def _rel(seq: int, base: int) -> int:
    return (seq - base) & M32


def _sack_blocks(t: Any) -> list[tuple[int, int]]:
    for name, val in t.options:
        if name == "SAck":
            return [(val[i], val[i + 1]) for i in range(0, len(val), 2)]
    return []


def _options_bytes(t: Any) -> bytes:
    return bytes(t)[20:t.dataofs * 4]


def test_sack_permitted_on_both_syns_and_no_blocks_without_loss(monkeypatch: pytest.MonkeyPatch) -> None:
    w = Wire(monkeypatch)
    w.transfer(100_000)
    syn = [t for _, t in w.segments("a", "tx") if t.flags.S]
    synack = [t for _, t in w.segments("b", "tx") if t.flags.S]
    assert syn and synack
    assert all("SAckOK" in dict(t.options) for t in syn + synack)
    assert w.cli.sack_ok and w.conns[0].sack_ok
    for node in ("a", "b"):
        assert not any(_sack_blocks(t) for _, t in w.segments(node, "tx"))


# the first flight is 10 segments (IW10); lose the 2nd, 4th, 6th and 8th of them once
HOLES = {1, 3, 5, 7}


def _drop_holes(rel: int, n: int) -> bool:
    return n == 1 and rel // MSS in HOLES and rel % MSS == 0


def test_acks_carry_sack_blocks_only_while_out_of_order_data_is_held(monkeypatch: pytest.MonkeyPatch) -> None:
    w = Wire(monkeypatch, _drop_holes)
    w.transfer(30 * MSS)
    base = (w.cli.iss + 1) & M32           # b's view: relative to the first data byte
    # replay b's receive queue from what reached it and what it sent, in order
    events = sorted([(t, 0, s) for t, s in w.segments("b", "rx") if len(s.payload)] +
                    [(t, 1, s) for t, s in w.segments("b", "tx") if not s.flags.S], key=lambda e: (e[0], e[1]))
    held: list[list[int]] = []             # out-of-order runs [start, end), relative
    rcv_nxt = 0
    latest: tuple[int, int] | None = None  # the last out-of-order segment that arrived
    with_blocks = 0
    saw_four_runs = False
    for _, kind, s in events:
        if kind == 0:
            start = _rel(s.seq, base)
            end = start + len(s.payload)
            if start <= rcv_nxt:
                rcv_nxt = max(rcv_nxt, end)
            else:
                held.append([start, end])
                latest = (start, end)
            held.sort()
            runs: list[list[int]] = []
            for a, b in held:
                if runs and a <= runs[-1][1]:
                    runs[-1][1] = max(runs[-1][1], b)
                else:
                    runs.append([a, b])
            while runs and runs[0][0] <= rcv_nxt:
                rcv_nxt = max(rcv_nxt, runs.pop(0)[1])
            held = runs
            continue
        assert _rel(s.ack, base) == rcv_nxt
        blocks = [(_rel(a, base), _rel(b, base)) for a, b in _sack_blocks(s)]
        if not held:
            assert blocks == [], blocks
            assert b"\x05" not in _options_bytes(s)[::4]     # no SACK option at all
            continue
        with_blocks += 1
        # at most 3 blocks beside timestamps, each a whole run of held data, the latest first
        assert 1 <= len(blocks) == min(3, len(held))
        assert all([a, b] in held for a, b in blocks)
        assert latest is not None and blocks[0][0] <= latest[0] and latest[1] <= blocks[0][1]
        saw_four_runs |= len(held) == 4
        # tcp_options_write: NOP NOP TS, then NOP NOP SACK
        ts = dict(s.options)["Timestamp"]
        raw = b"\x01\x01\x08\x0a" + struct.pack("!II", *ts) + bytes((1, 1, 5, 2 + 8 * len(blocks))) + \
            b"".join(struct.pack("!II", (a + base) & M32, (b + base) & M32) for a, b in blocks)
        assert _options_bytes(s) == raw
    assert with_blocks >= 5 and saw_four_runs and not held


# later in a transfer, with a large window: lose every other segment of a run, once
SPREAD = {150, 152, 154, 156, 158, 160}


def _drop_spread(rel: int, n: int) -> bool:
    return n == 1 and rel // MSS in SPREAD and rel % MSS == 0


def _resent(w: Wire) -> dict[int, list[int]]:
    """Segment index -> the times it was sent, for segments sent more than once."""
    times: dict[int, list[int]] = {}
    for t, s in w.segments("a", "tx"):
        if len(s.payload):
            times.setdefault(_rel(s.seq, w.cli.iss + 1), []).append(t)
    assert all(rel % MSS == 0 for rel in times)
    return {rel // MSS: ts for rel, ts in times.items() if len(ts) > 1}


@pytest.mark.parametrize("holes,drop", [(HOLES, _drop_holes), (SPREAD, _drop_spread)], ids=["first-flight", "spread"])
def test_sender_retransmits_only_the_holes(monkeypatch: pytest.MonkeyPatch, holes: set[int],
                                           drop: Callable[[int, int], bool]) -> None:
    w = Wire(monkeypatch, drop)
    w.transfer(400 * MSS)
    resent = _resent(w)
    assert set(resent) == holes                          # never a SACKed segment
    assert all(len(ts) == 2 for ts in resent.values())   # each hole once
    second = sorted(ts[1] for ts in resent.values())
    # more than the first hole in the first round trip of recovery (NewReno: one a round trip)
    assert sum(1 for t in second if t - second[0] < RTT) >= 2


def test_sysctl_off_on_the_sender_switches_sack_off_and_recovery_is_slower(
        monkeypatch: pytest.MonkeyPatch) -> None:
    sack = Wire(monkeypatch, _drop_spread)
    with_sack = sack.transfer(400 * MSS)
    second = sorted(ts[1] for ts in _resent(sack).values())
    assert second[-1] - second[0] < RTT                  # with a window to spare, all holes in one round trip
    monkeypatch.undo()
    w = Wire(monkeypatch, _drop_spread, sender_sack=False)
    without = w.transfer(400 * MSS)
    syn = [t for _, t in w.segments("a", "tx") if t.flags.S]
    synack = [t for _, t in w.segments("b", "tx") if t.flags.S]
    assert syn and synack
    assert not any("SAckOK" in dict(t.options) for t in syn + synack)   # the listener does not offer it back
    assert not w.cli.sack_ok and not w.conns[0].sack_ok
    assert not any(_sack_blocks(t) for _, t in w.segments("b", "tx"))
    second = sorted(ts[1] for ts in _resent(w).values())
    assert len(second) == len(SPREAD) and second[-1] - second[0] > (len(SPREAD) - 1) * RTT   # NewReno
    assert with_sack + 3 * RTT < without, (with_sack, without)


def test_rto_still_recovers_a_lost_retransmission_and_a_lost_tail(monkeypatch: pytest.MonkeyPatch) -> None:
    # the 2nd segment is lost three times (original, fast retransmit, first RTO resend), and so is the
    # last segment's first copy, which no later segment can reveal
    last = 29 * MSS

    def drop(rel: int, n: int) -> bool:
        return (rel == MSS and n <= 3) or (rel == last and n == 1)

    w = Wire(monkeypatch, drop)
    took = w.transfer(30 * MSS)
    w.net.run_for(200_000_000)               # the last ACK may be a delayed one
    assert w.sent[MSS] == 4 and w.sent[last] == 2
    assert took > 200_000_000 * 3          # two timeouts at least (200 ms floor, then backed off)
    assert not w.cli.in_recovery and not w.cli.sacked and w.cli.snd_una == w.cli.snd_nxt


def test_bulk_transfer_over_a_lossy_link_is_faster_with_sack(monkeypatch: pytest.MonkeyPatch) -> None:
    def total(sack: bool) -> int:
        return sum(Wire(monkeypatch, seed=seed, loss=0.03, sender_sack=sack).transfer(300_000)
                   for seed in range(1, 6))

    with_sack, without = total(True), total(False)
    assert with_sack < without * 0.9, (with_sack, without)
