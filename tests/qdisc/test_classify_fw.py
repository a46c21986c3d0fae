"""iptables CLASSIFY and MARK steer packets into HTB classes (skb->priority, fw filter)."""
from __future__ import annotations

from netplex import Network
from netplex.packet.addr import ip_to_int


def _setup(rules: list[str]):
    net = Network(seed=3)
    a, b = net.add_node("a"), net.add_node("b")
    net.add_link("a:eth0", "b:eth0")
    for node, ip in ((a, "10.0.0.1"), (b, "10.0.0.2")):
        assert node.run(f"ip addr add {ip}/24 dev eth0 && ip link set eth0 up").status == 0
    for line in ["tc qdisc add dev eth0 root handle 1: htb default 30",
                 "tc class add dev eth0 parent 1: classid 1:10 htb rate 1mbit",
                 "tc class add dev eth0 parent 1: classid 1:20 htb rate 1mbit",
                 "tc class add dev eth0 parent 1: classid 1:30 htb rate 1mbit"] + rules:
        r = a.run(line)
        assert r.status == 0, (line, r.error)
    tx = a.ns.sockets.udp_socket()
    for port in (7, 8, 9):
        tx.sendto(b"q" * 100, ip_to_int("10.0.0.2"), port)
        net.run_for(10_000_000)
    return a.run("tc -s class show dev eth0").output


def _sent(out: str, cid: str) -> int:
    block = out.split(f"class htb {cid} ")[1]
    return int(block.split(" Sent ")[1].split()[2])


def test_iptables_classify_sets_the_class() -> None:
    out = _setup(["iptables -t mangle -A POSTROUTING -p udp --dport 8 -j CLASSIFY --set-class 1:20"])
    assert _sent(out, "1:20") == 1
    assert _sent(out, "1:30") >= 2


def test_fw_filter_follows_the_mark() -> None:
    out = _setup(["iptables -t mangle -A OUTPUT -p udp --dport 9 -j MARK --set-mark 5",
                  "tc filter add dev eth0 parent 1: protocol ip prio 1 handle 5 fw flowid 1:10"])
    assert _sent(out, "1:10") == 1
