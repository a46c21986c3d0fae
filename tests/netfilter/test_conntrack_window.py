"""Conntrack's TCP window tracking (nf_conntrack_proto_tcp.c tcp_in_window) as a
firewall that drops `--ctstate INVALID` sees it: segments beyond the receiver's
window, or acknowledging data never sent, are INVALID; old data sent again is
not (it passes, ESTABLISHED, changing nothing); net.netfilter.nf_conntrack_tcp_be_liberal=1
lets everything through; nf_conntrack_tcp_loose=0 refuses to pick up a connection
from its middle. Real connections through such a firewall — bulk data, window
scaling, loss — never meet an INVALID verdict."""
from __future__ import annotations

from netplex import Network
from netplex.packet.addr import ip_to_int
from netplex.packet.ipv4 import IPPROTO_TCP
from netplex.packet.tcp import ACK, PSH, Tcp
from netplex.stack.tcp import TcpSocket

NS = 1_000_000_000


def _routed(loss: float = 0.0) -> tuple[Network, object, object, object]:
    net = Network(seed=5)
    a, r, b = net.add_node("a"), net.add_node("r"), net.add_node("b")
    net.add_link("a:eth0", "r:eth0")
    net.add_link("r:eth1", "b:eth0", loss=loss)
    for node, lines in ((a, "ip addr add 10.0.1.2/24 dev eth0; ip link set eth0 up; ip route add default via 10.0.1.1"),
                        (b, "ip addr add 10.0.2.2/24 dev eth0; ip link set eth0 up; ip route add default via 10.0.2.1"),
                        (r, "sysctl -w net.ipv4.ip_forward=1; ip addr add 10.0.1.1/24 dev eth0; "
                            "ip addr add 10.0.2.1/24 dev eth1; ip link set eth0 up; ip link set eth1 up; "
                            "iptables -A FORWARD -m conntrack --ctstate INVALID -j DROP")):
        r_ = node.run(lines)
        assert r_.status == 0, r_.error
    return net, a, r, b


def _invalid_drops(r: object) -> int:
    out = r.run("iptables -L FORWARD -v -n -x").output.splitlines()
    return int(out[2].split()[0])


def _connect(net: Network, a: object, b: object) -> tuple[TcpSocket, bytearray]:
    srv = TcpSocket(b.ns.sockets)
    assert srv.listen(80) == 0
    got = bytearray()

    def on_accept(sk: TcpSocket) -> None:
        sk.on_data = lambda s, d: got.extend(d)

    srv.on_accept = on_accept
    cli = TcpSocket(a.ns.sockets)
    assert cli.connect(ip_to_int("10.0.2.2"), 80) == 0
    net.run_for(NS // 10)
    return cli, got


def _inject(net: Network, a: object, cli: TcpSocket, seq: int, ack: int, payload: bytes = b"evil") -> None:
    raw = a.ns.sockets.raw_socket(IPPROTO_TCP)
    seg = Tcp(cli.lport, 80, seq & 0xFFFFFFFF, ack & 0xFFFFFFFF, ACK | PSH, 502, payload)
    assert raw.sendto(seg.encode(), ip_to_int("10.0.2.2")) == 0
    raw.close()
    net.run_for(NS // 10)


def test_out_of_window_segments_are_invalid_unless_liberal() -> None:
    net, a, r, b = _routed()
    cli, got = _connect(net, a, b)
    cli.send(b"hello")
    net.run_for(NS // 10)
    assert bytes(got) == b"hello" and _invalid_drops(r) == 0
    # far beyond the receiver's window: SEQ is over the upper bound
    _inject(net, a, cli, cli.snd_nxt + 50_000_000, cli.rcv_nxt)
    assert _invalid_drops(r) == 1
    # acknowledging data the server never sent: ACK is over the upper bound
    _inject(net, a, cli, cli.snd_nxt, cli.rcv_nxt + 100_000)
    assert _invalid_drops(r) == 2
    # old data sent again: under the lower bound, but not INVALID (passes, changes nothing)
    _inject(net, a, cli, cli.snd_nxt - 5, cli.rcv_nxt, b"hello")
    assert _invalid_drops(r) == 2
    assert r.run("sysctl -n net.netfilter.nf_conntrack_tcp_be_liberal").output.strip() == "0"
    assert r.run("sysctl -w net.netfilter.nf_conntrack_tcp_be_liberal=1").status == 0
    _inject(net, a, cli, cli.snd_nxt + 50_000_000, cli.rcv_nxt)
    assert _invalid_drops(r) == 2


def test_loose_picks_up_a_connection_from_its_middle() -> None:
    net, a, r, b = _routed()
    cli = TcpSocket(a.ns.sockets)
    cli.lport = 40000
    assert r.run("sysctl -n net.netfilter.nf_conntrack_tcp_loose").output.strip() == "1"
    _inject(net, a, cli, 1000, 2000)
    assert _invalid_drops(r) == 0                # picked up: NEW, then tracked liberally
    assert r.run("sysctl -w net.netfilter.nf_conntrack_tcp_loose=0").status == 0
    cli.lport = 40001
    _inject(net, a, cli, 1000, 2000)
    assert _invalid_drops(r) == 1


def test_bulk_transfers_through_a_strict_firewall_see_no_invalid() -> None:
    net, a, r, b = _routed(loss=0.02)
    cli, got = _connect(net, a, b)
    data = bytes(range(256)) * 4096               # 1 MiB: window scaling, SACK, retransmissions
    cli.send(data)
    net.run_for(60 * NS)
    assert bytes(got) == data
    assert _invalid_drops(r) == 0
