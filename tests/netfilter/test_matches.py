"""Matches on real traffic: conntrack state without a tracker, limit, statistic, ranges, addrtype, length, ttl."""
from __future__ import annotations

from netplex.stack.netfilter.core import IP_CT_UNTRACKED
from tests.conftest import run_ok


def loss(h1) -> int:
    out = h1.run("ping -c 1 -W 1 10.0.0.2").output
    return 0 if " 0% packet loss" in out else 100


def test_limit_token_bucket_on_simulated_clock(pair) -> None:
    net, h1, h2, be = pair
    run_ok(h2, "iptables -A INPUT -p icmp -m limit --limit 1/sec --limit-burst 2 -j ACCEPT")
    run_ok(h2, "iptables -A INPUT -p icmp -j DROP")
    out = h1.run("ping -c 6 -i 0.2 -W 1 10.0.0.2").output
    # burst of 2, then one per second: requests at t=0,.2,.4,.6,.8,1.0 → 0, 0.2 pass, 1.0 passes
    assert "6 packets transmitted, 3 received" in out


def test_statistic_nth(pair) -> None:
    net, h1, h2, be = pair
    run_ok(h2, "iptables -A INPUT -p icmp -m statistic --mode nth --every 2 --packet 0 -j DROP")
    out = h1.run("ping -c 4 -W 1 10.0.0.2").output
    assert "4 packets transmitted, 2 received" in out


def test_statistic_random_is_seeded(pair) -> None:
    net, h1, h2, be = pair
    run_ok(h2, "iptables -A INPUT -p icmp -m statistic --mode random --probability 0.5 -j DROP")
    a = h1.run("ping -c 20 -i 0.1 -W 1 10.0.0.2").output.splitlines()[-2]
    assert "20 packets transmitted" in a and "20 received" not in a and ", 0 received" not in a


def test_state_without_conntrack_is_invalid_or_untracked(pair) -> None:
    net, h1, h2, be = pair
    run_ok(h2, "iptables -A INPUT -m state --state INVALID -j DROP")
    nf = h2.ns.netfilter
    if "conntrack" not in " ".join(n for _, n in nf.registered("PREROUTING")):
        assert loss(h1) == 100
    run_ok(h2, "iptables -F")
    run_ok(h2, "iptables -A INPUT -m conntrack --ctstate UNTRACKED -j DROP")

    def untrack(ctx):
        ctx.meta.ct = None
        ctx.meta.ctinfo = IP_CT_UNTRACKED
        return 1
    nf.register("PREROUTING", -150, untrack, "test-notrack")   # after conntrack (-200)
    assert loss(h1) == 100
    nf.unregister("PREROUTING", "test-notrack")


def test_ranges_and_header_fields(pair) -> None:
    net, h1, h2, be = pair
    run_ok(h2, "iptables -A INPUT -p tcp -m multiport --dports 20:25,79 -j DROP")
    assert not be.tcp("h1", "10.0.0.2", 22).ok and be.tcp("h1", "10.0.0.2", 80).ok
    run_ok(h2, "iptables -F && iptables -A INPUT -m iprange --src-range 10.0.0.1-10.0.0.1 -p udp -j DROP")
    assert not be.udp("h1", "10.0.0.2", 53).ok
    run_ok(h2, "iptables -F && iptables -A INPUT -p icmp -m length --length 85: -j DROP")
    assert loss(h1) == 0
    assert "100% packet loss" in h1.run("ping -c 1 -s 57 -W 1 10.0.0.2").output
    run_ok(h2, "iptables -F && iptables -A INPUT -m ttl --ttl-lt 65 -p icmp -j DROP")
    assert loss(h1) == 100
    run_ok(h2, "iptables -F && iptables -A INPUT -m addrtype --dst-type LOCAL -p icmp -j DROP")
    assert loss(h1) == 100
    run_ok(h2, "iptables -F && iptables -A INPUT -m pkttype --pkt-type unicast -p icmp -j DROP")
    assert loss(h1) == 100
    run_ok(h2, "iptables -F && iptables -A INPUT -p tcp --tcp-flags SYN,ACK SYN -j DROP")
    assert not be.tcp("h1", "10.0.0.2", 22).ok
    run_ok(h2, "iptables -F && iptables -A INPUT -m mac ! --mac-source 02:00:00:00:00:01 -p icmp -j DROP")
    assert loss(h1) == 100
    run_ok(h2, "iptables -F && iptables -A INPUT -p icmp -m comment --comment 'ssh only' -j DROP")
    assert loss(h1) == 100


def test_owner_matches_local_sockets_not_kernel_replies(pair) -> None:
    """-m owner sees the sending socket (root's), and nothing on packets the kernel makes."""
    net, h1, h2, be = pair
    assert h1.run("iptables -A OUTPUT -m owner --uid-owner 1000 -j DROP").status == 0
    assert h1.run("iptables -A OUTPUT -m owner --uid-owner 0 -j ACCEPT").status == 0
    assert h2.run("iptables -A OUTPUT -m owner ! --socket-exists -j ACCEPT").status == 0
    assert be.tcp("h1", "10.0.0.2", 22).ok
    assert h1.run("ping -c 1 10.0.0.2").status == 0
    rows = h1.run("iptables -L OUTPUT -v -n -x").output.splitlines()[2:]
    assert [r.split()[:3] for r in rows] == [["0", "0", "DROP"], [rows[1].split()[0], rows[1].split()[1], "ACCEPT"]]
    assert int(rows[1].split()[0]) >= 6          # the TCP probe's segments and the echo request
    # h2's echo reply comes from the kernel (no socket): only the negated match counts it
    assert int(h2.run("iptables -L OUTPUT -v -n -x").output.splitlines()[2].split()[0]) >= 1
