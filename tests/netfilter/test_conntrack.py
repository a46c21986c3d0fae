"""Connection tracking through the commands users type: conntrack -L/-D/-F/-C, states, timeouts."""
from __future__ import annotations

import re

from netplex.network import Network

NSEC = 1_000_000_000


def two_hosts(rules: str = "iptables -A INPUT -m conntrack --ctstate NEW,ESTABLISHED -j ACCEPT") -> Network:
    net = Network(seed=3)
    a, b = net.add_node("a"), net.add_node("b")
    net.add_link("a:eth0", "b:eth0")
    a.cmd("ip addr add 10.0.0.1/24 dev eth0 && ip link set eth0 up")
    b.cmd("ip addr add 10.0.0.2/24 dev eth0 && ip link set eth0 up")
    if rules:
        r = b.run(rules)
        assert r.status == 0, r.error
    return net


def test_no_rules_no_tracking() -> None:
    net = two_hosts(rules="")
    net["a"].cmd("ping -c 1 10.0.0.2")
    r = net["b"].run("conntrack -L")
    assert r.status == 0 and r.output == ""
    assert r.error == "conntrack v1.4.7 (conntrack-tools): 0 flow entries have been shown.\n"


def test_icmp_entry_format() -> None:
    net = two_hosts()
    net["a"].cmd("ping -c 1 10.0.0.2")
    out = net["b"].run("conntrack -L").output
    assert re.fullmatch(r"icmp     1 (?:29|30) src=10\.0\.0\.1 dst=10\.0\.0\.2 type=8 code=0 id=(\d+) "
                        r"src=10\.0\.0\.2 dst=10\.0\.0\.1 type=0 code=0 id=\1 mark=0 use=1\n", out), out


def test_tcp_established_then_time_wait() -> None:
    net = two_hosts()
    r = net.probe({"tcp": {"from": "a", "to": "10.0.0.2", "port": 80}})
    assert not r.ok  # nothing listens: RST — the entry is removed at once (RST as the only reply)
    assert net["b"].run("conntrack -L -p tcp").output == ""
    from netplex.scenario.sim import SimBackend
    SimBackend(network=net).start_services("b", [("tcp", 80)])
    r = net.probe({"tcp": {"from": "a", "to": "10.0.0.2", "port": 80}})
    assert r.ok
    out = net["b"].run("conntrack -L -p tcp").output
    assert re.match(r"tcp      6 1(19|20) TIME_WAIT src=10.0.0.1 dst=10.0.0.2 sport=", out), out
    assert "[ASSURED] mark=0 use=1" in out
    net.run_for(121 * NSEC)
    assert net["b"].run("conntrack -L").output == ""


def test_udp_unreplied_and_filters() -> None:
    net = two_hosts()
    net.probe({"udp": {"from": "a", "to": "10.0.0.2", "port": 53}})
    out = net["b"].run("conntrack -L -p udp --dport 53").output
    assert "[UNREPLIED]" in out and "udp      17 " in out
    assert net["b"].run("conntrack -L -s 10.0.0.9").output == ""
    assert net["b"].run("conntrack -C").output == "1\n"
    r = net["b"].run("conntrack -D -p udp --dport 53")
    assert r.status == 0 and r.error.endswith("1 flow entries have been deleted.\n")
    r = net["b"].run("conntrack -D -p udp --dport 53")
    assert r.status == 1
    net.probe({"udp": {"from": "a", "to": "10.0.0.2", "port": 53}})
    r = net["b"].run("conntrack -F")
    assert r.error == "conntrack v1.4.7 (conntrack-tools): connection tracking table has been emptied.\n"
    assert net["b"].run("conntrack -C").output == "0\n"


def test_conntrack_errors() -> None:
    net = two_hosts()
    r = net["b"].run("conntrack -L -p foo")
    assert r.status == 2
    assert r.error == ("conntrack v1.4.7 (conntrack-tools): `foo' unsupported protocol\n"
                       "Try `conntrack -h' or 'conntrack --help' for more information.\n")
    r = net["b"].run("conntrack -L --dport 80")
    assert r.status == 2 and "unknown option `--dport'" in r.error
    r = net["b"].run("conntrack -C -p tcp")
    assert "Illegal option `--protonum' with this command" in r.error


def test_state_match_lets_replies_in() -> None:
    net = two_hosts("iptables -A INPUT -m state --state ESTABLISHED,RELATED -j ACCEPT && iptables -P INPUT DROP")
    assert net.probe({"ping": {"from": "b", "to": "10.0.0.1"}}).ok
    assert not net.probe({"ping": {"from": "a", "to": "10.0.0.2"}}).ok


def test_notrack_is_untracked() -> None:
    net = two_hosts("iptables -t raw -A PREROUTING -p icmp -j CT --notrack && "
                    "iptables -A INPUT -m conntrack --ctstate UNTRACKED -j ACCEPT && iptables -P INPUT DROP")
    assert net.probe({"ping": {"from": "a", "to": "10.0.0.2"}}).ok
    assert net["b"].run("conntrack -L -p icmp").output == ""


def test_zone_shown() -> None:
    net = two_hosts("iptables -t raw -A PREROUTING -p icmp -j CT --zone 5 && "
                    "iptables -t raw -A OUTPUT -p icmp -j CT --zone 5")
    net["a"].cmd("ping -c 1 10.0.0.2")
    assert " mark=0 zone=5 use=1" in net["b"].run("conntrack -L").output
