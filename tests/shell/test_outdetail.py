"""Output details and kernel state changes checked against iproute2 6.1 / procps / tc on this
kernel in scratch namespaces (issue 10, item 7 and the long tail): `ip -d link` of a bridge and
of lo, neighbours the kernel flushes, a `nud delay` entry, tc's incomplete commands and help,
sysfs files, a bridge's ageing time during a topology change."""
from __future__ import annotations

import pytest

from netplex.network import Network


@pytest.fixture
def pair():
    net = Network()
    a, b = net.add_node("a"), net.add_node("b")
    net.add_link("a:eth0", "b:eth0")
    for n, ip in ((a, "10.0.0.1"), (b, "10.0.0.2")):
        assert n.run(f"ip addr add {ip}/24 dev eth0 && ip link set eth0 up").status == 0
    return net, a, b


def test_ip_details_bridge_every_attribute(pair):
    _, a, _ = pair
    a.run("ip link add br0 type bridge")
    a.run("ip link set br0 type bridge group_fwd_mask 0x4000 mcast_querier 1")
    line = a.run("ip -d link show br0").output.splitlines()[2]
    assert line == (
        "    bridge forward_delay 1500 hello_time 200 max_age 2000 ageing_time 30000 stp_state 0 priority 32768 "
        "vlan_filtering 0 bridge_id 8000.0:0:0:0:0:0 designated_root 8000.0:0:0:0:0:0 root_port 0 "
        "root_path_cost 0 topology_change 0 topology_change_detected 0 hello_timer    0.00 tcn_timer    0.00 "
        "topology_change_timer    0.00 gc_timer    0.00 group_fwd_mask 0x4000 group_address 01:80:c2:00:00:00 "
        "mcast_snooping 1 no_linklocal_learn 0 mcast_vlan_snooping 0 mcast_router 1 mcast_query_use_ifaddr 0 "
        "mcast_querier 1 mcast_hash_elasticity 16 mcast_hash_max 4096 mcast_last_member_count 2 "
        "mcast_startup_query_count 2 mcast_last_member_interval 100 mcast_membership_interval 26000 "
        "mcast_querier_interval 25500 mcast_query_interval 12500 mcast_query_response_interval 1000 "
        "mcast_startup_query_interval 3124 mcast_stats_enabled 0 mcast_igmp_version 2 mcast_mld_version 1 "
        "nf_call_iptables 0 nf_call_ip6tables 0 nf_call_arptables 0 addrgenmode eui64 numtxqueues 1 "
        "numrxqueues 1 gso_max_size 65536 gso_max_segs 65535 tso_max_size 65536 tso_max_segs 65535 "
        "gro_max_size 65536 ")


def test_ip_details_lo_has_no_mtu_limits(pair):
    _, a, _ = pair
    assert a.run("ip -d link show lo").output.splitlines()[1] == (
        "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00 promiscuity 0  allmulti 0 minmtu 0 maxmtu 0 "
        "addrgenmode eui64 numtxqueues 1 numrxqueues 1 gso_max_size 65536 gso_max_segs 65535 "
        "tso_max_size 524280 tso_max_segs 65535 gro_max_size 65536 ")
    assert a.run("ip link set lo mtu 100000").status == 0
    assert " mtu 100000 " in a.run("ip link show lo").output


def test_neighbours_flushed_as_the_kernel_does(pair):
    net, a, b = pair
    assert a.run("ping -c1 10.0.0.2").status == 0

    def fill():
        a.run("ip neigh replace 10.0.0.9 lladdr 02:00:00:00:00:09 dev eth0")
        a.run("ip neigh replace 10.0.0.8 lladdr 02:00:00:00:00:08 dev eth0 nud stale")

    fill()
    b.run("ip link set eth0 down")   # carrier lost: all but permanent go (arp_evict_nocarrier)
    assert a.run("ip neigh show").output == "10.0.0.9 dev eth0 lladdr 02:00:00:00:00:09 PERMANENT \n"
    b.run("ip link set eth0 up")
    fill()
    a.run("ip link set eth0 address 02:00:00:00:00:01")   # neigh_changeaddr: all go
    assert a.run("ip neigh show").output == ""
    assert a.run("ping -c1 10.0.0.2").status == 0          # and the peer learns the new address
    fill()
    a.run("ip link set eth0 down")                          # neigh_ifdown: all go
    assert a.run("ip neigh show").output == ""
    a.run("ip link set eth0 up")
    fill()
    a.run("ip addr add 10.0.1.1/24 dev eth0")
    a.run("ip addr del 10.0.0.1/24 dev eth0")               # an address is left: entries stay
    assert len(a.run("ip neigh show").output.splitlines()) == 2
    a.run("ip addr del 10.0.1.1/24 dev eth0")               # the last one: arp_ifdown
    assert a.run("ip neigh show").output == ""


def test_neighbours_kept_with_arp_evict_nocarrier_off(pair):
    _, a, b = pair
    a.run("sysctl -qw net.ipv4.conf.eth0.arp_evict_nocarrier=0")
    a.run("ip neigh add 10.0.0.8 lladdr 02:00:00:00:00:08 dev eth0 nud stale")
    b.run("ip link set eth0 down")
    assert "10.0.0.8" in a.run("ip neigh show").output


def test_nud_delay_moves_to_probe_then_failed(pair):
    _, a, _ = pair
    a.run("ip neigh add 10.0.0.7 lladdr 02:00:00:00:00:07 dev eth0 nud delay")
    a.run("sleep 0.5")
    assert a.run("ip neigh show 10.0.0.7").output == "10.0.0.7 dev eth0 lladdr 02:00:00:00:00:07 PROBE \n"
    a.run("sleep 4")
    assert a.run("ip neigh show 10.0.0.7").output == "10.0.0.7 dev eth0 FAILED \n"


def test_route_with_a_vanished_src_goes(pair):
    _, a, _ = pair
    a.run("ip link add d0 type veth peer name d1; ip link set d0 up; ip link set d1 up")
    a.run("ip addr add 10.0.1.1/24 dev d0")
    a.run("ip addr add 10.0.2.1/24 dev eth0")
    assert a.run("ip route add 192.0.2.0/24 dev d0 src 10.0.2.1").status == 0
    a.run("ip addr del 10.0.2.1/24 dev eth0")   # fib_sync_down_addr, whatever the route's device
    assert "192.0.2.0" not in a.run("ip route").output


@pytest.mark.parametrize("line", ["tc qdisc add dev", "tc class add dev eth0 parent", "tc class show dev",
                                  "tc class change dev", "tc class add dev eth0 parent 1: classid",
                                  "tc qdisc show dev", "tc qdisc add dev eth0 root htb default",
                                  "tc qdisc add dev eth0 root pfifo limit", "tc qdisc add dev eth0 root sfq perturb",
                                  "tc qdisc add dev eth0 root prio bands"])
def test_tc_incomplete_command(pair, line):
    _, a, _ = pair
    r = a.run(line)
    assert (r.status, r.output, r.error) == (255, "", 'Command line is not complete. Try option "help"\n')


def test_tc_without_dev_and_help(pair):
    _, a, _ = pair
    r = a.run("tc qdisc add")
    assert (r.status, r.error) == (2, "RTNETLINK answers: No such device\n")
    for obj, first in (("", "Usage:\ttc [ OPTIONS ] OBJECT"), ("qdisc ", "Usage: tc qdisc [ add"),
                       ("class ", "Usage: tc class [ add"), ("filter ", "Usage: tc filter [ add")):
        r = a.run(f"tc {obj}help")
        assert (r.status, r.output) == (0, "") and r.error.startswith(first), obj


def test_sysfs_link_mode_and_dormant(pair):
    _, a, _ = pair
    assert a.run("cat /sys/class/net/eth0/link_mode /sys/class/net/eth0/dormant").output == "0\n0\n"
    r = a.run("cat /sys/class/net/lo/dormant")
    assert (r.status, r.error) == (1, "cat: /sys/class/net/lo/dormant: Invalid argument\n")


def test_stp_topology_change_ageing_is_twice_forward_delay():
    net = Network()
    sw, h = net.add_node("sw"), net.add_node("h")
    net.add_link("sw:p1", "h:eth0")
    h.run("ip link set eth0 up")
    sw.run("ip link add brs type bridge stp_state 1 forward_delay 400; ip link set p1 master brs; "
           "ip link set p1 up; ip link set brs up; sleep 9")
    assert " ageing time\t\t   8.00\n" in sw.run("brctl showstp brs").output
    assert "ageing_time 800 " in sw.run("ip -d link show brs").output
