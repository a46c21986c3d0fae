"""OpenFlow groups and meters as a controller programmer uses them: `all` copies a packet to every
bucket, `select` spreads flows over its buckets by their addresses (each flow sticking to
one), `ff` (fast failover) moves to the next bucket when the watched port's link goes,
`indirect` is one shared bucket; counters in dump-group-stats; a meter drops what exceeds
its rate. Texts are Open vSwitch 3.1's
(tests/ovs/test_real_ovs.py compares 51 group lines with the real one)."""
from __future__ import annotations

import re

from netplex import Network
from netplex.ovs.group import dp_hash_table
from tests.conftest import run_ok


def _star(n: int = 3):
    """s1's br0 with h1..hn on p1..pn, 10.0.0.i/24, all in one subnet."""
    net = Network()
    s1 = net.add_node("s1")
    hosts = [net.add_node(f"h{i}") for i in range(1, n + 1)]
    for i, h in enumerate(hosts, 1):
        net.add_link(f"h{i}:eth0", f"s1:p{i}")
        run_ok(h, f"ip addr add 10.0.0.{i}/24 dev eth0 && ip link set eth0 up")
        run_ok(s1, f"ip link set p{i} up")
    run_ok(s1, "ovs-vsctl add-br br0" + "".join(f" -- add-port br0 p{i} -- set interface p{i} ofport_request={i}"
                                                 for i in range(1, n + 1)))
    return net, s1, hosts


def _rx(h) -> int:
    return int(run_ok(h, "cat /sys/class/net/eth0/statistics/rx_packets"))


def test_all_group_copies_to_every_bucket():
    _net, s1, (h1, h2, h3) = _star()
    run_ok(s1, "ovs-ofctl add-group br0 group_id=1,type=all,bucket=output:2,bucket=output:3")
    run_ok(s1, "ovs-ofctl add-flow br0 priority=10,in_port=1,udp,actions=group:1")
    before = _rx(h2), _rx(h3)
    run_ok(h1, "ip neigh add 10.0.0.9 lladdr 02:00:00:00:00:09 dev eth0")
    h1.run("echo hi | nc -u -w1 10.0.0.9 9")
    assert (_rx(h2) - before[0], _rx(h3) - before[1]) == (1, 1)
    stats = run_ok(s1, "ovs-ofctl -O OpenFlow13 dump-group-stats br0")
    assert re.search(r"group_id=1,duration=[\d.]+s,ref_count=1,packet_count=1,byte_count=\d+,"
                     r"bucket0:packet_count=0,byte_count=0,bucket1:packet_count=0,byte_count=0", stats)


def test_select_group_spreads_flows_and_keeps_each_on_one_bucket():
    _net, s1, (h1, h2, h3) = _star()
    run_ok(s1, "ovs-ofctl add-group br0 group_id=2,type=select,bucket=output:2,bucket=output:3")
    run_ok(s1, "ovs-ofctl add-flow br0 priority=10,in_port=1,icmp,actions=group:2")
    seen = []
    for k in range(100, 116):       # 16 flows: echo requests to 16 addresses (nobody answers)
        run_ok(h1, f"ip neigh add 10.0.0.{k} lladdr 02:00:00:00:00:09 dev eth0")
        before = _rx(h2), _rx(h3)
        h1.run(f"ping -c 2 -W 1 10.0.0.{k}")      # the same flow twice: the same bucket
        d = (_rx(h2) - before[0], _rx(h3) - before[1])
        assert d in ((2, 0), (0, 2)), (k, d)
        seen.append(d)
    assert (2, 0) in seen and (0, 2) in seen      # both buckets carry some of the 16 flows
    trace = run_ok(s1, "ovs-appctl ofproto/trace br0 in_port=1,icmp")
    assert trace.splitlines()[-1] == "Datapath actions: hash(sym_l4(0)),recirc(0x1)"


def test_fast_failover_moves_when_the_watched_link_goes():
    net, s1, (h1, h2, h3) = _star()
    run_ok(s1, "ovs-ofctl add-group br0 'group_id=3,type=ff,bucket=watch_port:2,actions=output:2,"
               "bucket=watch_port:3,actions=output:3'")
    run_ok(s1, "ovs-ofctl add-flow br0 priority=10,in_port=1,udp,actions=group:3")
    run_ok(h1, "ip neigh add 10.0.0.9 lladdr 02:00:00:00:00:09 dev eth0")
    before = _rx(h2), _rx(h3)
    h1.run("echo hi | nc -u -w1 10.0.0.9 9")
    assert (_rx(h2) - before[0], _rx(h3) - before[1]) == (1, 0)
    run_ok(h2, "ip link set eth0 down")       # p2 loses its carrier: bucket 0 is not live
    trace = run_ok(s1, "ovs-appctl ofproto/trace br0 in_port=1,udp").splitlines()
    assert trace[5:9] == ["    group:3", "     -> bucket 0: not live due to port 2", "     -> using bucket 1",
                           "    bucket 1"]
    before = _rx(h3)
    h1.run("echo hi | nc -u -w1 10.0.0.9 9")
    assert _rx(h3) - before == 1


def test_deleting_a_group_deletes_its_flows_and_bad_references_are_refused():
    _net, s1, _hosts = _star(2)
    run_ok(s1, "ovs-ofctl -O OpenFlow13 add-group br0 group_id=4,type=indirect,bucket=actions=output:2")
    run_ok(s1, "ovs-ofctl add-flow br0 in_port=1,actions=group:4")
    r = s1.run("ovs-ofctl -O OpenFlow13 add-flow br0 in_port=2,actions=group:5")
    assert (r.status, r.error) == (1, "OFPT_ERROR (OF1.3) (xid=0x6): OFPBAC_BAD_OUT_GROUP\n"
                                      "OFPT_FLOW_MOD (OF1.3) (xid=0x6): ADD in_port=2 actions=group:5\n")
    run_ok(s1, "ovs-ofctl del-groups br0 group_id=4")
    assert run_ok(s1, "ovs-ofctl dump-flows br0 --no-stats") == " priority=0 actions=NORMAL\n"
    r = s1.run("ovs-ofctl add-group br0 group_id=1,type=select,selection_method=hash,bucket=output:1")
    assert (r.status, r.error) == (1, "ovs-ofctl: netplex: ovs-ofctl group selection_method is not supported\n")


def test_a_meter_drops_what_exceeds_its_rate():
    """A pktps meter of 5 packets a second on h1's echo requests: a burst of 20 in 0.2 s keeps
    the bucket's 5 (0.19 s refills less than one more); meter-stats counts what came in and
    what the band dropped."""
    _net, s1, (h1, _h2) = _star(2)
    run_ok(s1, "ovs-ofctl -O OpenFlow13 add-meter br0 meter=1,pktps,band=type=drop,rate=5")
    run_ok(s1, "ovs-ofctl -O OpenFlow13 add-flow br0 priority=10,in_port=1,icmp,actions=meter:1,NORMAL")
    r = h1.run("ping -c 20 -i 0.01 -W 1 10.0.0.2")
    assert "20 packets transmitted, 5 received" in r.output
    stats = run_ok(s1, "ovs-ofctl -O OpenFlow13 meter-stats br0").splitlines()
    assert re.fullmatch(r"meter:1 flow_count:1 packet_in_count:20 byte_in_count:1960 duration:[\d.]+s bands:",
                        stats[1])
    assert stats[2] == "0: packet_count:15 byte_count:1470"


def test_select_group_hash_table_is_ovs_webster_deal(ovs_hosts):
    """group_setup_dp_hash_table: 16 hash values for weights 10:30 dealt 4:12; weights whose
    ratio needs more than 256 values (OVS's default method then) are refused in netplex's words."""
    table = dp_hash_table((10, 30))
    assert table is not None and len(table) == 16 and table.count(0) == 4
    assert table[:4] == (1, 0, 1, 1)        # the heavier bucket first, ties to the first bucket
    assert dp_hash_table((1, 1, 1)) is not None and len(dp_hash_table((1, 1, 1)) or ()) == 16
    _net, s1, _h1, _h2 = ovs_hosts
    run_ok(s1, "ovs-vsctl add-br br0")
    r = s1.run("ovs-ofctl -O OpenFlow13 add-group br0 "
               "'group_id=1,type=select,bucket=weight:1,actions=output:1,bucket=weight:300,actions=output:2'")
    assert (r.status, r.error) == (1, "ovs-ofctl: netplex: ovs-ofctl select group weights needing more than 256 "
                                      "hash values (OVS's default selection method) are not supported\n")
