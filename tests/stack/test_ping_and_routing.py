"""ping, ip route get, TTL and ICMP errors, as a user meets them through the shell."""
from __future__ import annotations

import re

from netplex import Network
from tests.conftest import run_ok


def test_ping_reply_format_and_status(two_hosts) -> None:
    net, h1, h2 = two_hosts
    r = h1.run("ping -c 2 10.0.0.2")
    assert r.status == 0
    lines = r.output.splitlines()
    assert lines[0] == "PING 10.0.0.2 (10.0.0.2) 56(84) bytes of data."
    assert re.fullmatch(r"64 bytes from 10\.0\.0\.2: icmp_seq=1 ttl=64 time=\d+\.\d{3} ms", lines[1])
    assert lines[2].startswith("64 bytes from 10.0.0.2: icmp_seq=2 ttl=64")
    assert lines[4] == "--- 10.0.0.2 ping statistics ---"
    assert lines[5] == "2 packets transmitted, 2 received, 0% packet loss, time 1000ms"
    assert lines[6].startswith("rtt min/avg/max/mdev = ")


def test_ping_without_route_is_network_unreachable() -> None:
    net = Network()
    h = net.add_node("h")
    r = h.run("ping -c 1 10.9.9.9")
    assert (r.status, r.output, r.error) == (2, "", "ping: connect: Network is unreachable\n")


def test_ping_unresolvable_neighbour_reports_host_unreachable(two_hosts) -> None:
    net, h1, _ = two_hosts
    t0 = net.now
    r = h1.run("ping -c 1 10.0.0.99")
    assert r.status == 1
    assert "From 10.0.0.1 icmp_seq=1 Destination Host Unreachable" in r.output
    assert "1 packets transmitted, 0 received, +1 errors, 100% packet loss" in r.output
    assert net.now - t0 == 3_000_000_000   # three ARP requests a second apart, then FAILED
    assert "10.0.0.99 dev eth0 FAILED " in h1.cmd("ip neigh show").splitlines()


def test_ping_no_answer_waits_and_fails(two_hosts) -> None:
    net, h1, h2 = two_hosts
    run_ok(h2, "sysctl -qw net.ipv4.icmp_echo_ignore_all=1")
    r = h1.run("ping -c 1 -W 2 10.0.0.2")
    assert r.status == 1
    assert "1 packets transmitted, 0 received, 100% packet loss, time 0ms" in r.output
    assert "rtt" not in r.output


def test_forwarding_and_ttl(routed) -> None:
    net, h1, r1, r2, h2 = routed
    out = run_ok(h1, "ping -c 1 10.0.2.10")
    assert "ttl=62" in out   # two routers each took one
    r = h1.run("ping -c 1 -t 1 10.0.2.10")
    assert r.status == 1 and "From 10.0.1.1 icmp_seq=1 Time to live exceeded" in r.output
    r = h1.run("ping -c 1 -t 2 10.0.2.10")
    assert "From 10.0.12.2 icmp_seq=1 Time to live exceeded" in r.output


def test_router_without_route_sends_net_unreachable(routed) -> None:
    net, h1, r1, r2, h2 = routed
    r = h1.run("ping -c 1 10.0.99.1")
    assert "From 10.0.1.1 icmp_seq=1 Destination Net Unreachable" in r.output


def test_forwarding_disabled_drops_silently(routed) -> None:
    net, h1, r1, r2, h2 = routed
    run_ok(r1, "sysctl -qw net.ipv4.ip_forward=0")
    r = h1.run("ping -c 1 -W 1 10.0.2.10")
    assert r.status == 1 and "From" not in r.output


def test_ip_route_get(routed) -> None:
    net, h1, *_ = routed
    assert h1.run("ip route get 10.0.2.10").output.splitlines()[0].rstrip() == \
        "10.0.2.10 via 10.0.1.1 dev eth0 src 10.0.1.10 uid 0"
    r = Network().add_node("x").run("ip route get 10.9.9.9")
    assert r.status == 2 and r.error == "RTNETLINK answers: Network is unreachable\n"


def test_longest_prefix_and_metric_win() -> None:
    net = Network()
    h = net.add_node("h")
    net.add_node("a"), net.add_node("b")
    net.add_link("h:eth0", "a:eth0")
    net.add_link("h:eth1", "b:eth0")
    run_ok(h, "ip addr add 10.1.0.1/24 dev eth0; ip addr add 10.2.0.1/24 dev eth1")
    run_ok(h, "ip link set eth0 up; ip link set eth1 up")
    run_ok(h, "ip route add 172.16.0.0/12 via 10.1.0.2")
    run_ok(h, "ip route add 172.16.5.0/24 via 10.2.0.2")
    run_ok(h, "ip route add 192.0.2.0/24 via 10.1.0.2 metric 100")
    run_ok(h, "ip route add 192.0.2.0/24 via 10.2.0.2 metric 50")
    assert "via 10.2.0.2 dev eth1" in h.cmd("ip route get 172.16.5.9")
    assert "via 10.1.0.2 dev eth0" in h.cmd("ip route get 172.16.6.9")
    assert "via 10.2.0.2 dev eth1" in h.cmd("ip route get 192.0.2.7")


def test_special_routes_give_their_errors() -> None:
    net = Network()
    h = net.add_node("h")
    run_ok(h, "ip route add blackhole 10.1.0.0/16")
    run_ok(h, "ip route add unreachable 10.2.0.0/16")
    run_ok(h, "ip route add prohibit 10.3.0.0/16")
    assert h.run("ping -c 1 10.1.0.1").error == "ping: connect: Invalid argument\n"
    assert h.run("ping -c 1 10.2.0.1").error == "ping: connect: No route to host\n"
    assert h.run("ping -c 1 10.3.0.1").error == (
        "ping: Do you want to ping broadcast? Then -b. If not, check your local firewall rules\n")


def test_link_down_removes_routes_and_up_restores_connected_only(two_hosts) -> None:
    net, h1, h2 = two_hosts
    run_ok(h1, "ip route add 192.0.2.0/24 via 10.0.0.2")
    run_ok(h1, "ip link set eth0 down")
    assert h1.cmd("ip route show") == ""
    run_ok(h1, "ip link set eth0 up")
    assert h1.cmd("ip route show").splitlines() == ["10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.1 "]


def test_fragmentation_across_small_mtu() -> None:
    net = Network()
    a, r, b = net.add_node("a"), net.add_node("r"), net.add_node("b")
    net.add_link("a:eth0", "r:eth0")
    net.add_link("r:eth1", "b:eth0", mtu=1000)
    run_ok(a, "ip addr add 10.0.1.2/24 dev eth0; ip link set eth0 up; ip route add default via 10.0.1.1")
    run_ok(r, "ip addr add 10.0.1.1/24 dev eth0; ip addr add 10.0.2.1/24 dev eth1")
    run_ok(r, "ip link set eth0 up; ip link set eth1 up; sysctl -qw net.ipv4.ip_forward=1")
    run_ok(b, "ip addr add 10.0.2.2/24 dev eth0; ip link set eth0 up; ip route add default via 10.0.2.1")
    r1 = a.run("ping -c 1 -s 1200 10.0.2.2")
    # ping sets DF: the router answers with the MTU of the next hop
    assert "From 10.0.1.1 icmp_seq=1 Frag needed and DF set (mtu = 1000)" in r1.output
