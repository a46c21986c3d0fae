"""ECMP multipath routes through `ip route`: the listing (iproute2 6.1's print_rta_multipath, as
checked on Debian 12 in scratch namespaces), parse errors and statuses, the nexthop selection by
weight and by hash policy, and dead/linkdown nexthops. The kernel comparison is the corpus
scenario tests/differential/corpus/route-ecmp.yaml."""
from __future__ import annotations

import pytest

from netplex.network import Network
from tests.conftest import run_ok as ok


@pytest.fixture
def lab():
    """a - r, r has two paths (eth1 to b1, eth2 to b2) to 192.0.2.1, which both hold."""
    net = Network()
    a, r, b1, b2 = (net.add_node(n) for n in ("a", "r", "b1", "b2"))
    net.add_link("a:eth0", "r:eth0")
    net.add_link("r:eth1", "b1:eth0")
    net.add_link("r:eth2", "b2:eth0")
    ok(a, "ip link set eth0 up; ip addr add 10.0.0.10/24 dev eth0; ip route add default via 10.0.0.1")
    ok(r, "sysctl -q -w net.ipv4.ip_forward=1; ip addr add 10.0.0.1/24 dev eth0; ip addr add 10.1.0.1/24 dev eth1;"
          " ip addr add 10.2.0.1/24 dev eth2; ip link set eth0 up; ip link set eth1 up; ip link set eth2 up")
    for n, i in ((b1, 1), (b2, 2)):
        ok(n, f"ip addr add 10.{i}.0.2/24 dev eth0; ip addr add 192.0.2.1/32 dev lo; ip link set lo up;"
              f" ip link set eth0 up; ip route add default via 10.{i}.0.1")
    return net, a, r


def paths(r, flows):
    """Which output device `ip route get` picks for each (source, destination) flow."""
    out = []
    for src, dst in flows:
        line = ok(r, f"ip route get {dst} from {src} iif eth0")
        out.append(line.split(" dev ")[1].split()[0])
    return out


def test_listing_and_single_nexthop(lab):
    _net, _a, r = lab
    ok(r, "ip route add 192.0.2.0/24 nexthop via 10.1.0.2 weight 1 nexthop via 10.2.0.2 dev eth2 weight 3")
    assert ok(r, "ip route show 192.0.2.0/24") == (
        "192.0.2.0/24 \n\tnexthop via 10.1.0.2 dev eth1 weight 1 \n\tnexthop via 10.2.0.2 dev eth2 weight 3 \n")
    assert ok(r, "ip -j route show 192.0.2.0/24") == (
        '[{"dst":"192.0.2.0/24","flags":[],"nexthops":[{"gateway":"10.1.0.2","dev":"eth1","weight":1,"flags":[]},'
        '{"gateway":"10.2.0.2","dev":"eth2","weight":3,"flags":[]}]}]\n')
    # one nexthop is a plain route (fib_count_nexthops), and `show dev` leaves multipath routes out
    ok(r, "ip route add 192.0.2.0/25 nexthop via 10.1.0.2")
    assert ok(r, "ip route show dev eth1") == ("10.1.0.0/24 proto kernel scope link src 10.1.0.1 \n"
                                               "192.0.2.0/25 via 10.1.0.2 \n")
    ok(r, "ip route replace 192.0.2.0/24 nexthop via 10.1.0.2 nexthop via 10.2.0.2")
    assert "weight 3" not in ok(r, "ip route show")
    ok(r, "ip route del 192.0.2.0/24")
    assert ok(r, "ip route show 192.0.2.0/24") == ""


@pytest.mark.parametrize("line, status, error", [
    ("nexthop via 10.1.0.2 weight 0", 255, 'Error: argument "0" is wrong: "weight" is invalid\n'),
    ("nexthop via 10.1.0.2 weight 257", 255, 'Error: argument "257" is wrong: "weight" is invalid\n'),
    ("nexthop via 10.1.0.2 weight 3 foo", 255, 'Error: "nexthop" or end of line is expected instead of "foo"'),
    ("nexthop", 255, 'Error: unexpected end of line after "nexthop"'),
    ("nexthop via 10.1.0.2 dev eth9", 255, 'Cannot find device "eth9"\nError: cannot parse nexthop'),
    ("nexthop via 10.9.0.2 nexthop via 10.1.0.2", 2, "Error: Nexthop has invalid gateway."),
])
def test_errors_change_nothing(lab, line, status, error):
    _net, _a, r = lab
    before = ok(r, "ip route show table all")
    res = r.run(f"ip route add 192.0.2.0/24 {line}")
    assert (res.status, res.error.rstrip("\n")) == (status, error.rstrip("\n"))
    assert ok(r, "ip route show table all") == before


def test_weights_and_hash_policy(lab):
    _net, _a, r = lab
    ok(r, "ip route add 192.0.2.0/24 nexthop via 10.1.0.2 weight 1 nexthop via 10.2.0.2 weight 3")
    flows = [(f"10.0.0.{i}", "192.0.2.1") for i in range(10, 210)]
    chosen = paths(r, flows)
    share = chosen.count("eth2") / len(chosen)
    assert 0.65 < share < 0.85, share          # weight 3 of 4
    ok(r, "ip route replace 192.0.2.0/24 nexthop via 10.1.0.2 weight 1 nexthop via 10.2.0.2 weight 1")
    # policy 0 (L3): one source/destination pair takes one path whatever its ports
    assert len(set(paths(r, [("10.0.0.10", "192.0.2.1")] * 3))) == 1


def test_l4_policy_spreads_ports(lab):
    net, a, r = lab
    ok(r, "ip route add 192.0.2.0/24 nexthop via 10.1.0.2 nexthop via 10.2.0.2")
    ok(r, "iptables -A FORWARD -o eth1; iptables -A FORWARD -o eth2")

    def spread(policy):
        ok(r, f"sysctl -q -w net.ipv4.fib_multipath_hash_policy={policy}; iptables -Z FORWARD")
        for _ in range(16):                   # each nc takes a new ephemeral source port
            ok(a, "echo x | nc -u -w 1 192.0.2.1 9")
        counts = ok(r, "iptables -nvxL FORWARD | tail -n 2 | awk '{print $1}'").split()
        return sorted(int(c) for c in counts)

    assert spread(0) == [0, 16]               # one address pair: one path
    low, high = spread(1)                     # the 5-tuple: the ports spread the flows
    assert low > 0 and low + high == 16


def test_dead_and_linkdown_nexthops(lab):
    net, a, r = lab
    ok(r, "ip route add 192.0.2.0/24 nexthop via 10.1.0.2 nexthop via 10.2.0.2")
    flows = [(f"10.0.0.{i}", "192.0.2.1") for i in range(10, 40)]
    assert set(paths(r, flows)) == {"eth1", "eth2"}
    b1 = net.nodes["b1"]
    ok(b1, "ip link set eth0 down")            # r:eth1 loses its carrier
    # ignore_routes_with_linkdown=0 (the default): the nexthop is linkdown but still used
    assert "\tnexthop via 10.1.0.2 dev eth1 weight 1 linkdown \n" in ok(r, "ip route show")
    assert set(paths(r, flows)) == {"eth1", "eth2"}
    ok(r, "sysctl -q -w net.ipv4.conf.eth1.ignore_routes_with_linkdown=1")
    assert "\tnexthop via 10.1.0.2 dev eth1 weight 1 dead linkdown \n" in ok(r, "ip route show")
    assert set(paths(r, flows)) == {"eth2"}
    ok(b1, "ip link set eth0 up")
    assert set(paths(r, flows)) == {"eth1", "eth2"}
    ok(r, "ip link set eth2 down")             # dead: the route stays on the live nexthop
    assert ok(r, "ip route show 192.0.2.0/24") == (
        "192.0.2.0/24 \n\tnexthop via 10.1.0.2 dev eth1 weight 1 \n"
        "\tnexthop via 10.2.0.2 dev eth2 weight 1 dead linkdown \n")
    assert set(paths(r, flows)) == {"eth1"}
    ok(r, "ip link set eth1 down")             # the last one: the route goes
    assert ok(r, "ip route show 192.0.2.0/24") == ""


def test_inner_policy_spreads_tunnelled_flows_and_the_seed_moves_them(lab):
    """Policy 2 hashes the innermost addresses of a forwarded GRE packet (the flow dissector
    goes through the tunnel header), policy 0 the outer pair only; fib_multipath_hash_seed
    (Linux 6.11) changes which path a flow hashes to."""
    net, a, r = lab
    ok(a, "ip link add gre1 type gre local 10.0.0.10 remote 192.0.2.1; ip link set gre1 up;"
          " ip addr add 172.16.0.1/30 dev gre1; ip route add 172.17.0.0/16 dev gre1")
    ok(r, "ip route add 192.0.2.0/24 nexthop via 10.1.0.2 nexthop via 10.2.0.2")
    ok(r, "iptables -A FORWARD -o eth1; iptables -A FORWARD -o eth2")

    def spread(policy, seed=0):
        ok(r, f"sysctl -q -w net.ipv4.fib_multipath_hash_policy={policy}"
              f" net.ipv4.fib_multipath_hash_seed={seed}; iptables -Z FORWARD")
        for i in range(1, 17):                   # one GRE packet per inner destination
            a.run(f"ping -c 1 -W 1 172.17.0.{i}")
        counts = ok(r, "iptables -nvxL FORWARD | tail -n 2 | awk '{print $1}'").split()
        return [int(c) for c in counts]

    assert sorted(spread(0)) == [0, 16]           # one outer address pair: one path
    assert sorted(spread(1)) == [0, 16]           # GRE has no ports: the same
    inner = spread(2)
    assert min(inner) > 0 and sum(inner) == 16    # the inner destinations spread them
    ok(r, "sysctl -q -w net.ipv4.fib_multipath_hash_fields=0xc0")   # policy 3: inner addresses only
    custom = spread(3)
    assert min(custom) > 0 and sum(custom) == 16
    assert sum(spread(0, seed=1)) == 16
    assert ok(r, "sysctl net.ipv4.fib_multipath_hash_seed") == "net.ipv4.fib_multipath_hash_seed = 1\n"
    assert {tuple(spread(0, seed=s)) for s in range(1, 9)} == {(16, 0), (0, 16)}   # seeds move the pair
    res = r.run("sysctl -w net.ipv4.fib_multipath_hash_seed=4294967296")
    assert res.status != 0 and "Invalid argument" in res.error


def test_custom_fields_policy(lab):
    """Policy 3 hashes what net.ipv4.fib_multipath_hash_fields names (0x7 by default: addresses
    and protocol; 0x37 adds the ports); the sysctl's range and echo are the kernel's."""
    net, a, r = lab
    ok(r, "ip route add 192.0.2.0/24 nexthop via 10.1.0.2 nexthop via 10.2.0.2")
    ok(r, "iptables -A FORWARD -o eth1; iptables -A FORWARD -o eth2")

    def spread(fields):
        ok(r, f"sysctl -q -w net.ipv4.fib_multipath_hash_policy=3 net.ipv4.fib_multipath_hash_fields={fields};"
              " iptables -Z FORWARD")
        for _ in range(16):
            ok(a, "echo x | nc -u -w 1 192.0.2.1 9")
        return sorted(int(c) for c in ok(r, "iptables -nvxL FORWARD | tail -n 2 | awk '{print $1}'").split())

    assert spread("0x7") == [0, 16]
    low, high = spread("0x37")
    assert low > 0 and low + high == 16
    assert ok(r, "sysctl -w net.ipv4.fib_multipath_hash_fields=0x37") == "net.ipv4.fib_multipath_hash_fields = 0x37\n"
    assert ok(r, "sysctl net.ipv4.fib_multipath_hash_fields") == "net.ipv4.fib_multipath_hash_fields = 55\n"
    for bad in ("0", "4096"):
        res = r.run(f"sysctl -w net.ipv4.fib_multipath_hash_fields={bad}")
        assert (res.status, res.error) == (
            1, 'sysctl: setting key "net.ipv4.fib_multipath_hash_fields": Invalid argument\n')
