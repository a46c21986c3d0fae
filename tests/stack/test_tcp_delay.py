"""TCP through links with `delay:` and no `rate:` (issue 10, item 1).

Without a rate the handshake's last ACK and the client's first data arrive at
the server in the same instant, before accept() has handed the new socket to
the service; what arrived meanwhile waits on the receive queue and the service
reads it once it has the socket (tcp.TcpSocket._accepted). Every delay from
1 µs to 1 s, on a direct link and through a router: through the scenario a
user writes while the exchange fits the probe's 2 s socket timeout (connect,
then each read, as the twin's probe.py), through sockets beyond it.
"""
from __future__ import annotations

import pytest

from netplex import Network
from netplex.apps.services import ProbeService
from netplex.packet.addr import ip_to_int
from netplex.scenario.loader import load_scenario_text
from netplex.scenario.runner import run_scenario
from netplex.scenario.sim import SimBackend
from netplex.stack.tcp import TcpSocket

DELAYS = ["1us", "10us", "100us", "1ms", "10ms", "100ms"]

DIRECT = """
name: tcp-delay-direct
nodes:
  a:
    setup: |
      ip addr add 10.0.0.1/24 dev eth0
      ip link set eth0 up
  b:
    setup: |
      ip addr add 10.0.0.2/24 dev eth0
      ip link set eth0 up
    services: [tcp:80, udp:53]
links:
  - ends: [a:eth0, b:eth0]
    delay: {delay}
probes:
  - tcp: {{from: a, to: 10.0.0.2, port: 80}}
    expect_peer: 10.0.0.1
  - tcp: {{from: b, to: 10.0.0.1, port: 80}}
    expect: fail
  - udp: {{from: a, to: 10.0.0.2, port: 53}}
    expect_peer: 10.0.0.1
"""

ROUTED = """
name: tcp-delay-routed
nodes:
  a:
    setup: |
      ip addr add 10.0.1.2/24 dev eth0
      ip link set eth0 up
      ip route add default via 10.0.1.1
  r:
    setup: |
      sysctl -w net.ipv4.ip_forward=1
      ip addr add 10.0.1.1/24 dev eth0
      ip addr add 10.0.2.1/24 dev eth1
      ip link set eth0 up
      ip link set eth1 up
  b:
    setup: |
      ip addr add 10.0.2.2/24 dev eth0
      ip link set eth0 up
      ip route add default via 10.0.2.1
    services: [tcp:80]
links:
  - ends: [a:eth0, r:eth0]
    delay: {delay}
  - ends: [r:eth1, b:eth0]
    delay: {delay}
probes:
  - tcp: {{from: a, to: 10.0.2.2, port: 80}}
    expect_peer: 10.0.1.2
"""

PROXY = """
name: tcp-delay-docker-proxy
nodes:
  host:
    setup: |
      ip addr add 10.0.0.1/24 dev eth0
      ip addr add 172.17.0.1/16 dev eth1
      ip link set eth0 up
      ip link set eth1 up
      docker-proxy -proto tcp -host-ip 0.0.0.0 -host-port 8080 -container-ip 172.17.0.2 -container-port 80
  c:
    setup: |
      ip addr add 172.17.0.2/16 dev eth0
      ip link set eth0 up
      ip route add default via 172.17.0.1
    services: [tcp:80]
  client:
    setup: |
      ip addr add 10.0.0.2/24 dev eth0
      ip link set eth0 up
links:
  - ends: [client:eth0, host:eth0]
    delay: {delay}
  - ends: [host:eth1, c:eth0]
    delay: {delay}
probes:
  - tcp: {{from: client, to: 10.0.0.1, port: 8080}}
    expect_peer: 172.17.0.1
"""


def _run(text: str) -> None:
    result = run_scenario(load_scenario_text(text), SimBackend())
    assert result.error is None, result.error
    assert all(p.passed for p in result.probes), [(p.what, p.observed) for p in result.probes]


@pytest.mark.parametrize("delay", [*DELAYS, "300ms"])
def test_tcp_answers_across_a_delay_only_link(delay: str) -> None:
    _run(DIRECT.format(delay=delay))


@pytest.mark.parametrize("delay", DELAYS)
def test_tcp_answers_through_a_router_on_delay_only_links(delay: str) -> None:
    _run(ROUTED.format(delay=delay))


@pytest.mark.parametrize("delay", ["1us", "1ms", "100ms"])
def test_docker_proxy_relays_data_that_arrived_before_accept(delay: str) -> None:
    _run(PROXY.format(delay=delay))


def test_a_probe_slower_than_its_socket_timeout_times_out_as_on_linux() -> None:
    """1 s each way: ARP (2 s) and the handshake (2 s) outlast connect()'s 2 s."""
    result = run_scenario(load_scenario_text(DIRECT.format(delay="1s")), SimBackend())
    assert result.probes[0].observed == {"error": "timed out"}


@pytest.mark.parametrize("routed", [False, True])
@pytest.mark.parametrize("delay_ns", [1_000, 1_000_000, 1_000_000_000])
def test_service_answers_a_socket_that_waits(delay_ns: int, routed: bool) -> None:
    """The service (netplex-service daemon) answers whatever the delay, on a socket that waits for it."""
    net = Network(seed=1)
    a, b = net.add_node("a"), net.add_node("b")
    if routed:
        r = net.add_node("r")
        net.add_link("a:eth0", "r:eth0", delay_ns=delay_ns)
        net.add_link("r:eth1", "b:eth0", delay_ns=delay_ns)
        r.run("sysctl -w net.ipv4.ip_forward=1; ip addr add 10.0.1.1/24 dev eth0; "
              "ip addr add 10.0.2.1/24 dev eth1; ip link set eth0 up; ip link set eth1 up")
        a.run("ip addr add 10.0.1.2/24 dev eth0; ip link set eth0 up; ip route add default via 10.0.1.1")
        b.run("ip addr add 10.0.2.2/24 dev eth0; ip link set eth0 up; ip route add default via 10.0.2.1")
        dst = "10.0.2.2"
    else:
        net.add_link("a:eth0", "b:eth0", delay_ns=delay_ns)
        a.run("ip addr add 10.0.1.2/24 dev eth0; ip link set eth0 up; ip route add 10.0.2.0/24 dev eth0")
        b.run("ip addr add 10.0.2.2/24 dev eth0; ip link set eth0 up; ip route add 10.0.1.0/24 dev eth0")
        dst = "10.0.2.2"
    b.machine.procs.spawn(ProbeService.argv([("tcp", 80)]), b.ns, ProbeService([("tcp", 80)]))
    cli = TcpSocket(a.ns.sockets)
    got = bytearray()
    cli.on_connect = lambda s: s.send(b"netplex probe\n")
    cli.on_data = lambda s, d: got.extend(d)
    assert cli.connect(ip_to_int(dst), 80) == 0
    assert net.run_until(lambda: b"\n" in got, 60_000_000_000)
    assert got.decode().startswith("peer 10.0.1.2:")
