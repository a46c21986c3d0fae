"""TCP and UDP sockets through the simulated stack: handshake, data, RST, port unreachable."""
from __future__ import annotations

from netplex.packet.addr import ip_to_int
from netplex.scenario.sim import SimBackend
from netplex.stack.tcp import CLOSED, ESTABLISHED, TIME_WAIT, TcpSocket


def test_tcp_handshake_data_and_close(two_hosts) -> None:
    net, h1, h2 = two_hosts
    srv = TcpSocket(h2.ns.sockets)
    assert srv.listen(5000) == 0
    got = bytearray()
    conns: list[TcpSocket] = []

    def on_accept(sk: TcpSocket) -> None:
        conns.append(sk)
        sk.on_data = lambda s, d: got.extend(d)

    srv.on_accept = on_accept
    cli = TcpSocket(h1.ns.sockets)
    assert cli.connect(ip_to_int("10.0.0.2"), 5000) == 0
    net.run_for(10_000_000)
    assert cli.state == ESTABLISHED and conns and conns[0].state == ESTABLISHED
    data = bytes(range(256)) * 400          # 102,400 bytes: many segments, several windows
    cli.send(data)
    net.run_for(1_000_000_000)
    assert bytes(got) == data
    cli.close()
    net.run_for(10_000_000)
    conns[0].close()
    net.run_for(10_000_000)
    assert cli.state == TIME_WAIT and conns[0].state == CLOSED
    net.run_for(61_000_000_000)
    assert cli.state == CLOSED


def test_tcp_retransmits_lost_segments() -> None:
    from netplex import Network

    net = Network(seed=3)
    a, b = net.add_node("a"), net.add_node("b")
    net.add_link("a:eth0", "b:eth0", loss=0.2)
    a.run("ip addr add 10.0.0.1/24 dev eth0; ip link set eth0 up")
    b.run("ip addr add 10.0.0.2/24 dev eth0; ip link set eth0 up")
    srv = TcpSocket(b.ns.sockets)
    srv.listen(7)
    got = bytearray()
    srv.on_accept = lambda sk: setattr(sk, "on_data", lambda s, d: got.extend(d))
    cli = TcpSocket(a.ns.sockets)
    cli.connect(ip_to_int("10.0.0.2"), 7)
    net.run_for(30_000_000_000)
    payload = b"x" * 50_000
    cli.send(payload)
    net.run_for(120_000_000_000)
    assert bytes(got) == payload


def test_probes_refused_and_peer(two_hosts) -> None:
    net, h1, h2 = two_hosts
    be = SimBackend(network=net)
    be.start_services("h2", [("tcp", 80), ("udp", 53)])
    ok = be.tcp("h1", "10.0.0.2", 80)
    assert ok.ok and ok.observed["peer"] == "10.0.0.1" and ok.observed["reply"].startswith("peer 10.0.0.1:")
    assert be.tcp("h1", "10.0.0.2", 81).observed == {"error": "Connection refused"}
    u = be.udp("h1", "10.0.0.2", 53)
    assert u.ok and u.observed["peer"] == "10.0.0.1"
    assert be.udp("h1", "10.0.0.2", 54).observed == {"reply": "", "error": "Connection refused"}


def test_tcp_to_unresolvable_host(two_hosts) -> None:
    net, h1, h2 = two_hosts
    be = SimBackend(network=net)
    # ARP gives up after 3 s, later than the probe's 2 s connect timeout
    assert be.tcp("h1", "10.0.0.77", 80).observed == {"error": "timed out"}
    sk = TcpSocket(h1.ns.sockets)
    errors: list[int] = []
    sk.on_error = lambda s, e: errors.append(e)
    sk.connect(ip_to_int("10.0.0.78"), 80)
    net.run_for(5_000_000_000)
    assert errors == [113]   # EHOSTUNREACH: "No route to host", as connect(2) reports it


def test_tcp_timeout_when_dropped(routed) -> None:
    net, h1, r1, r2, h2 = routed
    r1.run("sysctl -qw net.ipv4.ip_forward=0")
    be = SimBackend(network=net)
    assert be.tcp("h1", "10.0.2.10", 80).observed == {"error": "timed out"}
