"""OVS QoS from the seed: ingress policing (a matchall police on the port's ingress, as
netdev-linux installs it) and linux-htb with queues (1:fffe at max-rate, queue N as class
1:(N+1)), with set_queue steering packets into a queue; shown by tc and by traffic."""
from __future__ import annotations

import re

from tests.conftest import run_ok


def test_ingress_policing_installs_a_policer_that_drops_the_excess(ovs_lab):
    _net, s1, h1, _h2 = ovs_lab
    assert re.search(r" 0% packet loss", run_ok(h1, "ping -c 20 -i 0.01 -s 1000 10.0.0.2"))
    run_ok(s1, "ovs-vsctl set interface p1 ingress_policing_rate=100 ingress_policing_burst=10")
    assert run_ok(s1, "tc qdisc show dev p1") == ("qdisc noqueue 0: root refcnt 2 \n"
                                                  "qdisc ingress ffff: parent ffff:fff1 ---------------- \n")
    filters = run_ok(s1, "tc filter show dev p1 ingress")
    assert "matchall chain 0 handle 0x1" in filters and " police 0x1 rate 100Kbit burst 1280b mtu 64Kb action drop" \
        in filters
    out = run_ok(h1, "ping -c 20 -i 0.01 -s 1000 10.0.0.2 || true")
    loss = int(re.search(r"(\d+)% packet loss", out).group(1))
    assert loss >= 50
    run_ok(s1, "ovs-vsctl set interface p1 ingress_policing_rate=0")
    assert "ingress" not in run_ok(s1, "tc qdisc show dev p1")


def test_linux_htb_queues_and_set_queue(ovs_lab):
    _net, s1, h1, _h2 = ovs_lab
    run_ok(s1, "ovs-vsctl -- set port p2 qos=@q -- --id=@q create qos type=linux-htb other-config:max-rate=1000000 "
               "queues:1=@q1 -- --id=@q1 create queue other-config:max-rate=300000")
    assert run_ok(s1, "tc qdisc show dev p2").startswith("qdisc htb 1: root refcnt 3 r2q 10 default 0x1 ")
    classes = run_ok(s1, "tc class show dev p2")
    assert "class htb 1:fffe root rate 1Mbit ceil 1Mbit " in classes
    assert "class htb 1:2 parent 1:fffe prio 0 rate 12Kbit ceil 300Kbit " in classes
    run_ok(s1, "ovs-ofctl add-flow br0 'priority=10,icmp,actions=set_queue:1,NORMAL'")
    trace = run_ok(s1, "ovs-appctl ofproto/trace br0 in_port=p1,icmp,nw_dst=10.0.0.2")
    assert trace.endswith("Datapath actions: set(skb_priority(0x10002)),1,3\n")
    run_ok(h1, "ping -c 3 10.0.0.2")
    stats = run_ok(s1, "tc -s class show dev p2 classid 1:2")
    assert " Sent 294 bytes 3 pkt " in stats          # the three echo requests, through queue 1
    # ovs-ofctl queue-stats: the HTB classes' counters, durations unknown (docs/ovs.md, Queue statistics)
    assert run_ok(s1, "ovs-ofctl -O OpenFlow13 queue-stats br0 p2 1") == (
        "OFPST_QUEUE reply (OF1.3) (xid=0x4): 1 queues\n"
        "  port 2 queue 1: bytes=294, pkts=3, errors=0, duration=?\n")
    assert run_ok(s1, "ovs-ofctl queue-stats br0 ALL 7") == (
        "OFPT_ERROR (xid=0x2): OFPQOFC_BAD_QUEUE\nOFPST_QUEUE request (xid=0x2): port=ANY queue=7\n")
    run_ok(s1, "ovs-vsctl clear port p2 qos")
    assert run_ok(s1, "tc qdisc show dev p2") == "qdisc noqueue 0: root refcnt 2 \n"
