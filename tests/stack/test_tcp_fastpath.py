"""TCP's per-segment shortcuts change nothing but speed.

- `SendQueue` (the send queue as the writes that came, stack/tcp_sendq.py) answers every
  read, length and acknowledgement as the bytearray it replaced did;
- header prediction (`TcpSocket.rcv_established`), early demux (`Ipv4Path.ip_rcv`) and the
  host output fast path for a next hop in DELAY/PROBE are exact: flows both ways through a
  lossy link (SACK recovery, timeouts, data carrying ACKs), with the receivers' configuration
  changing mid-flow (an INPUT rule, a raw socket, rp_filter, a route, the next hop), run with the fast path
  on and off give the same bytes, the same times, counters, neighbours and clock (the per-socket
  output and neighbour-confirmation caches of `TcpSocket._send` and `rcv_established` included).
"""
from __future__ import annotations

import random
from typing import Any

import pytest

from netplex import Network
from netplex.packet.addr import ip_to_int
from netplex.stack.tcp import TcpSocket
from netplex.stack.tcp_sendq import SendQueue
from tests.stack.test_fastpath import chain, outputs, state


def test_send_queue_reads_as_a_bytearray_would() -> None:
    rng = random.Random(5)
    for _ in range(60):
        q, model = SendQueue(), bytearray()
        for _ in range(300):
            op = rng.random()
            if op < 0.3:
                data = rng.randbytes(rng.randint(0, 3000))
                q.append(data if rng.random() < 0.8 else bytearray(data))
                model += data
            elif op < 0.6:
                n = rng.randint(-5, 4000)
                q.drop(n)
                del model[:max(n, 0)]
            elif op < 0.95:
                a, n = rng.randint(-3, len(model) + 10), rng.randint(0, 5000)
                assert q.read(a, n) == bytes(model[a:a + n]), (a, n)
            else:
                q.clear()
                model.clear()
            assert len(q) == len(model) and bool(q) == bool(model) and bytes(q) == bytes(model)


def test_send_queue_keeps_no_acknowledged_write() -> None:
    q = SendQueue()
    for _ in range(200):
        q.append(bytes(1000))
        q.drop(1000)
    assert q.size == 0 and sum(c is not None for c in q.chunks) == 0 and len(q.chunks) < 70


PATTERN = bytes(range(251)) * 600      # 150,600 bytes that a misplaced byte would show


def flows_both_ways(net: Network, h0: Any, h1: Any, total: int) -> dict[str, bytearray]:
    """h0 → h1 and h1 → h0 on one connection each, `total` bytes of PATTERN each way, written in
    blocks as the send buffer takes them; what each side read."""
    got = {"h1": bytearray(), "h0": bytearray()}

    def sink(name: str) -> Any:
        def on_accept(sk: TcpSocket) -> None:
            sk.on_data = lambda s, data: got[name].extend(data)
        return on_accept

    for node, port, name in ((h1, 5001, "h1"), (h0, 5002, "h0")):
        lst = TcpSocket(node.ns.sockets)
        lst.on_accept = sink(name)
        assert lst.listen(port) == 0

    def writer(sk: TcpSocket, left: list[int]) -> None:
        while left[0] > 0:
            off = (total - left[0]) % len(PATTERN)
            n = sk.write(PATTERN[off:off + min(left[0], 65536, len(PATTERN) - off)])
            if not n:
                sk.on_writable = lambda s: writer(s, left)
                return
            left[0] -= n

    for node, daddr, port in ((h0, "10.0.5.2", 5001), (h1, "10.0.0.1", 5002)):
        sk = TcpSocket(node.ns.sockets)
        left = [total]
        sk.on_connect = lambda s, left=left: writer(s, left)
        assert sk.connect(ip_to_int(daddr), port) == 0
    return got


def lossy_both_ways() -> tuple[Any, ...]:
    net, h0, h1 = chain(5, loss=0.01, bottleneck=50_000_000)
    got = flows_both_ways(net, h0, h1, 3_000_000)
    for line in ("iptables -A INPUT -p tcp -j ACCEPT", "iptables -F INPUT",
                 "sysctl -qw net.ipv4.conf.all.rp_filter=1", "sysctl -qw net.ipv4.conf.all.rp_filter=0",
                 "ip route replace default via 10.0.5.1 mtu 1200", "ip route replace default via 10.0.5.1"):
        net.run_for(60_000_000)
        assert h1.run(line).status == 0, line
    # the next hop changes mid-flow (the same router, an address on a macvlan: another MAC), on both
    # hosts: the cached output (`TcpSocket._out_cache`) and the neighbour ACKs confirm
    # (`_neigh_confirm`) follow the new route, as the full path and neigh_confirm_for do
    for host, router, dev, net_ in ((h1, "r5", "eth1", "10.0.5"), (h0, "r1", "eth0", "10.0.0")):
        for line in (f"ip link add mv0 link {dev} type macvlan mode bridge", f"ip addr add {net_}.3/24 dev mv0",
                     "ip link set mv0 up", "sysctl -qw net.ipv4.conf.all.arp_ignore=1"):
            assert net.nodes[router].run(line).status == 0, line
        net.run_for(30_000_000)
        assert host.run(f"ip route replace default via {net_}.3").status == 0
        net.run_for(30_000_000)
    raw = h1.ns.sockets.raw_socket(6)           # a raw socket sees TCP too (raw_local_deliver)
    net.run_for(60_000_000)
    h1.ns.sockets.raw.remove(raw)               # and is closed again
    net.run_for(1_500_000_000)
    return ({k: bytes(v) for k, v in got.items()}, state(net), outputs(net, [h0, h1]),
            h1.cmd("iptables -L -v -n -x"))


def test_lossy_flows_both_ways_same_with_and_without_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    calls = {"rcv": 0}
    slow = TcpSocket.rcv

    def counting_rcv(self: TcpSocket, ip: Any, seg: Any) -> None:
        calls["rcv"] += 1
        slow(self, ip, seg)

    monkeypatch.setattr(TcpSocket, "rcv", counting_rcv)
    runs, counts = [], []
    for on in ("1", "0"):
        monkeypatch.setenv("NETPLEX_FASTPATH", on)
        calls["rcv"] = 0
        runs.append(lossy_both_ways())
        counts.append(calls["rcv"])
    on_run, off_run = runs
    for name in ("h0", "h1"):
        data = on_run[0][name]
        assert data == (PATTERN * (3_000_000 // len(PATTERN) + 1))[:3_000_000]
    assert on_run == off_run
    # header prediction took most segments with the fast path on; with it off, none
    assert counts[0] * 2 < counts[1], counts
