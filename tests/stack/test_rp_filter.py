"""net.ipv4.conf.*.rp_filter through the commands a user types (fib_validate_source,
net/ipv4/fib_frontend.c): forwarded, local and ARP traffic, strict and loose modes, the
`all`/device maximum, custom local routes. The kernel twin's side is the corpus's
rp-filter.yaml."""
from __future__ import annotations

import pytest

from netplex.network import Network
from tests.conftest import run_ok


@pytest.fixture
def routed() -> tuple[Network, object, object, object]:
    """a (10.0.0.1, spoofable 10.9.9.9 on lo) — r (router) — c (10.0.2.3); r reaches
    10.9.9.0/24 only through c's side."""
    net = Network(seed=1)
    a, r, c = net.add_node("a"), net.add_node("r"), net.add_node("c")
    net.add_link("a:eth0", "r:eth0")
    net.add_link("r:eth1", "c:eth0")
    run_ok(a, "ip addr add 10.0.0.1/24 dev eth0; ip addr add 10.9.9.9/32 dev lo; ip link set lo up;"
              "ip link set eth0 up; ip route add default via 10.0.0.2")
    run_ok(r, "ip addr add 10.0.0.2/24 dev eth0; ip addr add 10.0.2.2/24 dev eth1; ip link set eth0 up;"
              "ip link set eth1 up; sysctl -qw net.ipv4.ip_forward=1; ip route add 10.9.9.0/24 via 10.0.2.3")
    run_ok(c, "ip addr add 10.0.2.3/24 dev eth0; ip link set eth0 up; ip route add default via 10.0.2.2;"
              "iptables -A INPUT -p icmp -s 10.9.9.9")
    return net, a, r, c


def _c_saw(c) -> int:
    return int(run_ok(c, "iptables -L INPUT -v -n -x | awk 'NR == 3 {print $1}'"))


def test_forwarded_packets_follow_rp_filter(routed):
    net, a, r, c = routed
    run_ok(a, "ping -c1 -W1 10.0.2.3")   # the neighbours are known: only the check decides below
    a.run("ping -c1 -W1 -I 10.9.9.9 10.0.2.3")
    assert _c_saw(c) == 1                                    # rp_filter 0: forwarded
    run_ok(r, "sysctl -qw net.ipv4.conf.eth0.rp_filter=1")
    a.run("ping -c1 -W1 -I 10.9.9.9 10.0.2.3")
    assert _c_saw(c) == 1                                    # strict: the way back is eth1, dropped
    run_ok(r, "sysctl -qw net.ipv4.conf.all.rp_filter=2")   # the larger of all (2) and eth0 (1): loose
    a.run("ping -c1 -W1 -I 10.9.9.9 10.0.2.3")
    assert _c_saw(c) == 2
    run_ok(r, "ip route del 10.9.9.0/24")                   # loose, and no way back at all: dropped
    a.run("ping -c1 -W1 -I 10.9.9.9 10.0.2.3")
    assert _c_saw(c) == 2
    run_ok(r, "sysctl -qw net.ipv4.conf.all.rp_filter=0 net.ipv4.conf.eth0.rp_filter=0")
    a.run("ping -c1 -W1 -I 10.9.9.9 10.0.2.3")
    assert _c_saw(c) == 3


def test_strict_mode_accepts_a_source_routed_back_through_the_device(routed):
    net, a, r, c = routed
    run_ok(r, "sysctl -qw net.ipv4.conf.all.rp_filter=1")
    run_ok(a, "ping -c1 -W1 10.0.2.3")                      # both ways symmetric: fine
    run_ok(c, "ping -c1 -W1 10.0.0.1")
    assert "Invalid argument" in r.run("ip route get 10.0.2.3 from 10.9.9.9 iif eth0").error
    assert "via 10.0.2.3" not in run_ok(r, "ip route get 10.0.2.3 from 10.0.0.1 iif eth0")


def test_arp_requests_are_validated(routed):
    net, a, r, c = routed
    run_ok(r, "sysctl -qw net.ipv4.conf.eth0.rp_filter=1")
    # a's ARP request names 10.9.9.9 as its sender (the packet's source): r does not answer
    assert a.run("ping -c1 -W1 -I 10.9.9.9 10.0.0.2").status == 1
    assert run_ok(a, "ip neigh show 10.0.0.2") == "10.0.0.2 dev eth0 INCOMPLETE \n"


def test_a_custom_local_route_makes_every_source_checked(routed):
    net, a, r, c = routed
    run_ok(a, "ping -c1 -W1 10.0.0.2")
    run_ok(r, "iptables -A INPUT -p icmp -s 10.9.9.9")
    # without rp_filter, a source that is a local route of r's (not an address) is a martian once
    # a user added a local route (fib_has_custom_local_routes): the reverse lookup finds `local`
    run_ok(r, "ip route add local 10.9.9.0/24 dev lo")
    assert a.run("ping -c1 -W1 -I 10.9.9.9 10.0.0.2").status == 1
    assert run_ok(r, "iptables -L INPUT -v -n -x | awk 'NR == 3 {print $1}'") == "0\n"
    run_ok(r, "sysctl -qw net.ipv4.conf.eth0.accept_local=1")   # a local type is then fine
    a.run("ping -c1 -W1 -I 10.9.9.9 10.0.0.2")
    assert run_ok(r, "iptables -L INPUT -v -n -x | awk 'NR == 3 {print $1}'") == "1\n"
