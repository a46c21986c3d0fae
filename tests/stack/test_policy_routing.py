"""Policy routing (`ip rule`, net/core/fib_rules.c) through the commands a user types:
rules choose the table by mark, source and device; named tables come from the
machine's /etc/iproute2/rt_tables; the route cache stays keyed by destination
alone while only the default rules exist."""
from __future__ import annotations

from netplex import Network
from tests.conftest import run_ok


def _router() -> tuple[Network, object, object, object, object]:
    """h1 — r — {a, b}: r reaches 10.9.0.0/16 through a (main) or b (table 100)."""
    net = Network()
    h1, r, a, b = (net.add_node(n) for n in ("h1", "r", "a", "b"))
    net.add_link("h1:eth0", "r:eth0")
    net.add_link("r:eth1", "a:eth0")
    net.add_link("r:eth2", "b:eth0")
    run_ok(h1, "ip addr add 10.0.1.10/24 dev eth0 && ip link set eth0 up && ip route add default via 10.0.1.1")
    run_ok(r, "ip addr add 10.0.1.1/24 dev eth0 && ip addr add 10.0.2.1/24 dev eth1 && "
              "ip addr add 10.0.3.1/24 dev eth2 && ip link set eth0 up && ip link set eth1 up && "
              "ip link set eth2 up && ip link set lo up && sysctl -qw net.ipv4.ip_forward=1 && "
              "ip route add 10.9.0.0/16 via 10.0.2.10 && ip route add 10.9.0.0/16 via 10.0.3.10 table 100")
    for node, n in ((a, 2), (b, 3)):
        run_ok(node, f"ip addr add 10.0.{n}.10/24 dev eth0 && ip addr add 10.9.0.1/32 dev lo && "
                     f"ip link set eth0 up && ip link set lo up && ip route add default via 10.0.{n}.1")
    return net, h1, r, a, b


def _rx(node: object, dev: str = "eth0") -> int:
    return node.ns.dev(dev).stats.rx_packets   # type: ignore[attr-defined]


def test_default_rules_keep_the_cache_keyed_by_destination() -> None:
    net, h1, r, a, b = _router()
    assert r.ns.fib.rules_default and r.ns.fib.flow_keys == 0
    run_ok(h1, "ping -c 1 10.9.0.1")
    assert all(isinstance(k, int) for k in r.ns.route_cache)   # one dict lookup by destination
    run_ok(r, "ip rule add to 10.9.0.0/16 table 100 pref 100")   # reads the destination only
    assert not r.ns.fib.rules_default and r.ns.fib.flow_keys == 0
    run_ok(h1, "ping -c 1 10.9.0.1")
    assert all(isinstance(k, int) for k in r.ns.route_cache)
    run_ok(r, "ip rule del pref 100 && ip rule add fwmark 1 table 100 pref 100")
    run_ok(h1, "ping -c 1 10.9.0.1")
    assert r.ns.route_cache and all(isinstance(k, tuple) for k in r.ns.route_cache)


def test_iptables_mark_and_ip_rule_fwmark_choose_the_uplink() -> None:
    net, h1, r, a, b = _router()
    run_ok(r, "ip rule add fwmark 0x1/0xff table 100 pref 100")
    a0, b0 = _rx(a), _rx(b)
    run_ok(h1, "ping -c 1 10.9.0.1")
    assert (_rx(a) > a0, _rx(b) > b0) == (True, False)        # unmarked: main table, through a
    run_ok(r, "iptables -t mangle -A PREROUTING -i eth0 -p icmp -j MARK --set-mark 0x101")
    a0, b0 = _rx(a), _rx(b)
    run_ok(h1, "ping -c 1 10.9.0.1")
    assert (_rx(a) > a0, _rx(b) > b0) == (False, True)        # marked 0x01 under the mask: table 100, b
    assert r.cmd("ip route get 10.9.0.1 from 10.0.1.10 iif eth0 mark 0x101").startswith(
        "10.9.0.1 from 10.0.1.10 via 10.0.3.10 dev eth2 table 100 mark 0x101 \n")


def test_mark_in_output_reroutes_local_packets() -> None:
    """mangle OUTPUT MARK changes the mark a rule reads: ip_route_me_harder routes again."""
    net, h1, r, a, b = _router()
    run_ok(r, "ip rule add fwmark 7 table 100 pref 100")
    a0, b0 = _rx(a), _rx(b)
    run_ok(r, "ping -c 1 10.9.0.1")
    assert (_rx(a) > a0, _rx(b) > b0) == (True, False)
    run_ok(r, "iptables -t mangle -A OUTPUT -p icmp -j MARK --set-mark 7")
    a0, b0 = _rx(a), _rx(b)
    r.run("ping -c 1 10.9.0.1")   # the source stays eth1's address, as in the kernel
    assert (_rx(a) > a0, _rx(b) > b0) == (False, True)


def test_source_and_iif_rules() -> None:
    net, h1, r, a, b = _router()
    run_ok(r, "ip rule add iif eth0 from 10.0.1.10 table 100")
    a0, b0 = _rx(a), _rx(b)
    run_ok(h1, "ping -c 1 10.9.0.1")
    assert (_rx(a) > a0, _rx(b) > b0) == (False, True)
    # the router's own packets come in on lo: the iif eth0 rule does not take them
    a0, b0 = _rx(a), _rx(b)
    run_ok(r, "ping -c 1 10.9.0.1")
    assert (_rx(a) > a0, _rx(b) > b0) == (True, False)
    run_ok(r, "ip rule add iif lo table 100")
    a0, b0 = _rx(a), _rx(b)
    run_ok(r, "ping -c 1 10.9.0.1")
    assert (_rx(a) > a0, _rx(b) > b0) == (False, True)


def test_named_tables_from_the_machines_rt_tables() -> None:
    net, h1, r, a, b = _router()
    assert r.run("ip rule add from 10.0.1.0/24 table vpn").error == \
        'Error: argument "vpn" is wrong: invalid table ID\n\n'
    r.machine.fs.write("/etc/iproute2/rt_tables", b"# mine\n255\tlocal\n254\tmain\n253\tdefault\n0\tunspec\n"
                                                   b"100\tvpn\n0x20 hexy\n")
    run_ok(r, "ip rule add from 10.0.1.0/24 table vpn pref 10 && ip route add 10.8.0.0/16 via 10.0.3.10 table hexy")
    assert "10:\tfrom 10.0.1.0/24 lookup vpn\n" in r.cmd("ip rule")
    assert r.cmd("ip rule list table vpn") == "10:\tfrom 10.0.1.0/24 lookup vpn\n"
    assert r.cmd("ip route show table vpn") == "10.9.0.0/16 via 10.0.3.10 dev eth2 \n"
    shown = r.cmd("ip route show table all")
    assert "10.9.0.0/16 via 10.0.3.10 dev eth2 table vpn \n" in shown
    assert "10.8.0.0/16 via 10.0.3.10 dev eth2 table hexy \n" in shown
    run_ok(r, "ip route flush table vpn")
    assert r.cmd("ip route show table vpn") == ""


def test_rule_actions_end_the_walk() -> None:
    net, h1, r, a, b = _router()
    run_ok(r, "ip rule add to 10.9.0.0/16 prohibit pref 5")
    assert "Packet filtered" in h1.run("ping -c 1 10.9.0.1").output
    run_ok(r, "ip rule del pref 5 && ip rule add to 10.9.0.0/16 unreachable pref 5")
    assert "Destination Net Unreachable" in h1.run("ping -c 1 10.9.0.1").output
    assert r.run("ip route get 10.9.0.1").error == "RTNETLINK answers: Network is unreachable\n"
    run_ok(r, "ip rule del pref 5 && ip rule add to 10.9.0.0/16 blackhole pref 5")
    assert r.run("ip route get 10.9.0.1").error == "RTNETLINK answers: Invalid argument\n"
    run_ok(r, "ip rule del pref 5")
    # suppress_prefixlength 0: a table's default route does not count
    run_ok(r, "ip route add default via 10.0.3.10 table 60 && ip rule add lookup 60 suppress_prefixlength 0 pref 6")
    assert r.run("ip route get 10.7.0.1").error == "RTNETLINK answers: Network is unreachable\n"


def test_named_tables_from_rt_tables_d() -> None:
    net, h1, r, a, b = _router()
    r.machine.fs.makedirs("/etc/iproute2/rt_tables.d")
    r.machine.fs.write("/etc/iproute2/rt_tables.d/vpn.conf", b"100 vpn\n")
    r.machine.fs.write("/etc/iproute2/rt_tables.d/ignored.txt", b"101 nope\n")
    run_ok(r, "ip rule add iif eth0 lookup vpn pref 9")
    assert r.cmd("ip rule list pref 9") == "9:\tfrom all iif eth0 lookup vpn\n"
    assert r.run("ip rule add lookup nope").status == 255
    assert r.run("ip rule list table unspec").status == 0   # Debian's file names table 0 too


def test_tos_rule_chooses_the_table_by_the_packets_tos() -> None:
    """fib4_rule_match: a rule's `tos` is compared with the flow's TOS bits (RT_TOS: 0x1c), on input
    (the IP header's, here set by the TOS target in PREROUTING) and in `ip route get ... tos`."""
    net, h1, r, a, b = _router()
    run_ok(r, "ip rule add tos 0x10 table 100 pref 100")
    assert r.cmd("ip rule list tos 0x10") == "100:\tfrom all tos 0x10 lookup 100\n"
    a0, b0 = _rx(a), _rx(b)
    run_ok(h1, "ping -c 1 10.9.0.1")
    assert (_rx(a) > a0, _rx(b) > b0) == (True, False)        # TOS 0: main table, through a
    run_ok(r, "iptables -t mangle -A PREROUTING -i eth0 -p icmp -j TOS --set-tos 0x90")
    a0, b0 = _rx(a), _rx(b)
    run_ok(h1, "ping -c 1 10.9.0.1")
    assert (_rx(a) > a0, _rx(b) > b0) == (False, True)        # 0x90 & 0x1c == 0x10: table 100, through b
    assert r.cmd("ip route get 10.9.0.1 dsfield 0x12") == \
        "10.9.0.1 via 10.0.3.10 dev eth2 table 100 src 10.0.3.1 uid 0 \n    cache \n"
    assert "via 10.0.2.10" in r.cmd("ip route get 10.9.0.1 tos CS1")
    for bad, err in (("0x01", "Error: Invalid dsfield (tos): ECN bits must be 0.\n"), ("0x20", "Error: Invalid tos.\n"),
                     ("lowdelay", 'Error: argument "lowdelay" is wrong: TOS value is invalid\n\n')):
        res = r.run(f"ip rule add tos {bad} table 100")
        assert (res.status, res.error) == ((255 if bad == "lowdelay" else 2), err)
    run_ok(r, "ip rule del tos 0x10")
    assert "tos" not in r.cmd("ip rule")
