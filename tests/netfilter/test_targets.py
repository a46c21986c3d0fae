"""Targets on real traffic: DROP, REJECT (every kind of answer), LOG + dmesg, MARK, CLASSIFY, TOS/DSCP."""
from __future__ import annotations

import re

from tests.conftest import run_ok


def test_drop_then_open_port(pair) -> None:
    net, h1, h2, be = pair
    assert be.tcp("h1", "10.0.0.2", 22).ok
    run_ok(h2, "iptables -A INPUT -p tcp --dport 22 -j DROP")
    r = be.tcp("h1", "10.0.0.2", 22)
    assert not r.ok and r.observed["error"] == "timed out"
    assert be.tcp("h1", "10.0.0.2", 80).ok


def test_reject_tcp_reset_and_icmp_kinds(pair) -> None:
    net, h1, h2, be = pair
    run_ok(h2, "iptables -A INPUT -p tcp --dport 22 -j REJECT --reject-with tcp-reset")
    run_ok(h2, "iptables -A INPUT -p tcp --dport 80 -j REJECT --reject-with icmp-host-prohibited")
    run_ok(h2, "iptables -A INPUT -p udp --dport 53 -j REJECT")
    assert be.tcp("h1", "10.0.0.2", 22).observed["error"] == "Connection refused"
    assert be.tcp("h1", "10.0.0.2", 80).observed["error"] == "No route to host"
    assert be.udp("h1", "10.0.0.2", 53).observed["error"] == "Connection refused"


def test_reject_ping_message(pair) -> None:
    net, h1, h2, be = pair
    run_ok(h2, "iptables -A INPUT -p icmp -j REJECT --reject-with icmp-net-prohibited")
    r = h1.run("ping -c 1 -W 1 10.0.0.2")
    assert "From 10.0.0.2 icmp_seq=1 Destination Net Prohibited" in r.output


def test_output_drop_and_reject_seen_by_local_sender(pair) -> None:
    net, h1, h2, be = pair
    run_ok(h1, "iptables -A OUTPUT -p udp --dport 53 -j DROP")
    assert be.udp("h1", "10.0.0.2", 53).observed["error"] == "Operation not permitted"
    run_ok(h1, "iptables -A OUTPUT -p tcp --dport 22 -j REJECT --reject-with tcp-reset")
    assert be.tcp("h1", "10.0.0.2", 22).observed["error"] == "Connection refused"


def test_log_lines_in_dmesg(pair) -> None:
    net, h1, h2, be = pair
    run_ok(h2, "iptables -A INPUT -p icmp -j LOG --log-prefix 'PING: '")
    run_ok(h2, "iptables -A INPUT -p tcp --dport 80 -j LOG --log-level 7")
    h1.run("ping -c 1 10.0.0.2")
    be.tcp("h1", "10.0.0.2", 80)
    lines = run_ok(h2, "dmesg").splitlines()
    mac2 = h2.ns.dev("eth0").mac.hex(":")
    mac1 = h1.ns.dev("eth0").mac.hex(":")
    assert re.fullmatch(
        r"\[\s+\d+\.\d{6}\] PING: IN=eth0 OUT= MAC=" + mac2 + ":" + mac1 + r":08:00 SRC=10\.0\.0\.1 DST=10\.0\.0\.2 "
        r"LEN=84 TOS=0x00 PREC=0x00 TTL=64 ID=\d+ DF PROTO=ICMP TYPE=8 CODE=0 ID=\d+ SEQ=1 ", lines[0])
    assert re.fullmatch(r"\[\s+\d+\.\d{6}\] IN=eth0 OUT= MAC=\S+ SRC=10\.0\.0\.1 DST=10\.0\.0\.2 LEN=60 TOS=0x00 "
                        r"PREC=0x00 TTL=64 ID=\d+ DF PROTO=TCP SPT=\d+ DPT=80 WINDOW=\d+ RES=0x00 SYN URGP=0 ", lines[1])
    assert run_ok(h2, "dmesg -c") and run_ok(h2, "dmesg") == ""


def test_mark_and_mark_match_and_classify(pair) -> None:
    net, h1, h2, be = pair
    run_ok(h2, "iptables -t mangle -A PREROUTING -p tcp --dport 80 -j MARK --set-mark 0x10")
    run_ok(h2, "iptables -A INPUT -m mark --mark 0x10/0xf0 -j DROP")
    assert not be.tcp("h1", "10.0.0.2", 80).ok
    assert be.tcp("h1", "10.0.0.2", 22).ok
    seen = []
    run_ok(h1, "iptables -t mangle -A POSTROUTING -p udp -j CLASSIFY --set-class 1:10")
    run_ok(h1, "iptables -t mangle -A POSTROUTING -p udp -j DSCP --set-dscp-class EF")
    nf = h1.ns.netfilter
    nf.register("POSTROUTING", 1000, lambda ctx: seen.append((ctx.meta.priority, ctx.ip.tos)) or 1, "probe")
    be.udp("h1", "10.0.0.2", 53)
    assert seen[0] == (0x10010, 0xB8)


def test_tos_target(pair) -> None:
    net, h1, h2, be = pair
    run_ok(h1, "iptables -t mangle -A OUTPUT -p icmp -j TOS --set-tos Minimize-Delay")
    run_ok(h2, "iptables -A INPUT -m tos --tos 0x10/0x3f -j DROP")
    assert "100% packet loss" in h1.run("ping -c 1 -W 1 10.0.0.2").output
