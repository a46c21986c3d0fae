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


def test_sysctl_names_a_dotted_device_with_a_slash(pair):
    _, a, _ = pair
    a.run("ip link add link eth0 name eth0.96 type vlan id 96")
    assert "net.ipv4.conf.eth0/96.forwarding = 0\n" in a.run("sysctl -a").output
    for name in ("net.ipv4.conf.eth0/96.forwarding", "net/ipv4/conf/eth0.96/forwarding"):
        assert a.run(f"sysctl {name}").output == "net.ipv4.conf.eth0/96.forwarding = 0\n"
    r = a.run("sysctl net.ipv4.conf.eth0.96.forwarding")
    assert (r.status, r.error) == (
        1, "sysctl: cannot stat /proc/sys/net/ipv4/conf/eth0/96/forwarding: No such file or directory\n")
    assert a.run("sysctl -w net.ipv4.conf.eth0/96.rp_filter=2").status == 0
    assert a.run("cat /proc/sys/net/ipv4/conf/eth0.96/rp_filter").output == "2\n"


def test_sysctl_status_counts_failed_keys_and_new_keys(pair):
    _, a, _ = pair
    r = a.run("sysctl net.ipv4.a net.ipv4.b net.ipv4.c net.ipv4.ip_forward")
    assert (r.status, r.output) == (3, "net.ipv4.ip_forward = 0\n")
    assert a.run("sysctl -n net.ipv4.conf.all.bc_forwarding net.ipv4.conf.eth0.mc_forwarding "
                 "net.ipv4.conf.lo.promote_secondaries net.ipv4.ip_forward_use_pmtu").output == "0\n0\n0\n0\n"
    r = a.run("sysctl -w net.ipv4.conf.all.mc_forwarding=1")
    assert r.error == 'sysctl: setting key "net.ipv4.conf.all.mc_forwarding": Invalid argument\n'
    r = a.run("sysctl -w net.ipv4.conf.all.bc_forwarding=1")
    assert r.status == 1 and "bc_forwarding is not modelled" in r.error


def test_promote_secondaries(pair):
    _, a, _ = pair
    a.run("ip addr add 10.0.0.5/24 dev eth0; ip addr add 10.0.0.6/24 dev eth0")
    a.run("sysctl -qw net.ipv4.conf.all.promote_secondaries=1")
    a.run("ip addr del 10.0.0.1/24 dev eth0")
    assert [ln.split()[1] + (" sec" if "secondary" in ln else "") for ln in
            a.run("ip -4 addr show dev eth0").output.splitlines() if "inet " in ln] == ["10.0.0.5/24", "10.0.0.6/24 sec"]
    assert "local 10.0.0.6 dev eth0 proto kernel scope host src 10.0.0.5 \n" in \
        a.run("ip route show table local").output


def test_ping_header_and_broadcast(pair):
    _, a, b = pair
    assert a.run("ping -c1 -I eth0 10.0.0.2").output.startswith(
        "PING 10.0.0.2 (10.0.0.2) from 10.0.0.1 eth0: 56(84) bytes of data.\n")
    assert a.run("ping -c1 -I 10.0.0.1 10.0.0.2").output.startswith(
        "PING 10.0.0.2 (10.0.0.2) from 10.0.0.1 : 56(84) bytes of data.\n")
    r = a.run("ping -c1 10.0.0.255")
    assert (r.status, r.error) == (
        2, "ping: Do you want to ping broadcast? Then -b. If not, check your local firewall rules\n")
    b.run("sysctl -qw net.ipv4.icmp_echo_ignore_broadcasts=0")
    r = a.run("ping -c1 -b 10.0.0.255")
    assert (r.status, r.error) == (0, "WARNING: pinging broadcast address\n")
    assert "64 bytes from 10.0.0.2: icmp_seq=1" in r.output


@pytest.mark.parametrize("line, status, error", [
    ("ip link add d0 address 01::02:03:04:05:06 type veth peer name d1", 1, '"" is invalid lladdr.\n'),
    ("ip link add d0 address 100:2:3:4:5:6 type veth peer name d1", 1, '"100" is invalid lladdr.\n'),
    ("ip link add d0 address 2:2:3:4:5:6:7 type veth peer name d1", 2, "RTNETLINK answers: Invalid argument\n"),
    ("ip link set eth0 address 2:2:3", 1, "Invalid address length 3 - must be 6 bytes\n"),
    ("ip link set eth0 address 1g:2:3:4:5:6", 2, "RTNETLINK answers: Cannot assign requested address\n"),
    ("ip neigh add 10.0.0.5 lladdr zz:zz dev eth0", 1, '"zz" is invalid lladdr.\n'),
    ("ip neigh add 10.0.0.5 lladdr 2:2:3:4:5 dev eth0", 2, "Error: Invalid link address.\n"),
    ("ip route add 10.9.0.0/24 via 10.0.0.2 via 10.0.0.3", 255,
     'Error: argument "via" is wrong: use nexthop syntax to specify multiple via\n\n'),
    ("bridge link set dev nosuch cost 5", 255, 'Cannot find bridge device "nosuch"\n'),
])
def test_errors_as_iproute2(pair, line, status, error):
    _, a, _ = pair
    r = a.run(line)
    assert (r.status, r.error) == (status, error)


def test_lladdr_as_ll_addr_a2n_reads_it(pair):
    _, a, _ = pair
    assert a.run("ip neigh add 10.0.0.9 lladdr 0x2:2:3:4:5:6g:7 dev eth0").status == 0
    assert a.run("ip neigh show 10.0.0.9").output == "10.0.0.9 dev eth0 lladdr 02:02:03:04:05:06 PERMANENT \n"


def test_macvlan_link_kind(pair):
    _, a, _ = pair
    assert a.run("ip link add link eth0 name mv0 type macvlan").status == 0
    assert a.run("ip link add link eth0 name mv1 type macvlan mode bridge").status == 0
    out = a.run("ip -d link show mv0").output.splitlines()
    assert out[0].startswith("3: mv0@eth0: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN")
    assert out[2].startswith("    macvlan mode vepa bcqueuelen 1000 usedbcqueuelen 1000 addrgenmode eui64")
    for line, status, error in (
            ("ip link add link eth0 name mv2 type macvlan mode passthru", 2, "RTNETLINK answers: Invalid argument\n"),
            ("ip link add link lo name mv2 type macvlan", 2, "RTNETLINK answers: Invalid argument\n"),
            ("ip link add name mv2 type macvlan", 2, "RTNETLINK answers: Invalid argument\n"),
            ("ip link add link eth0 name mv2 type macvlan mode", 255,
             'Command line is not complete. Try option "help"\n'),
            ("ip link add link eth0 name mv2 type macvlan mode foo", 1,
             'Error: argument of "mode" must be "private", "vepa", "bridge", "passthru" or "source", not "foo"\n')):
        r = a.run(line)
        assert (r.status, r.error) == (status, error), line
    a.run("ip link set eth0 down")
    assert ",M-DOWN>" in a.run("ip link show mv0").output
    a.run("ip link del eth0")
    assert "mv" not in a.run("ip link").output


def test_macvlan_passthru_takes_the_lower_address():
    net = Network()
    a = net.add_node("a")
    a.run("ip link add v0 type veth peer name v1")
    assert a.run("ip link add link v0 name mvp type macvlan mode passthru").status == 0
    mac = a.run("cat /sys/class/net/v0/address").output
    assert a.run("cat /sys/class/net/mvp/address").output == mac
    assert a.run("ip link add link v0 name mvq type macvlan").status == 2


def test_addr_flush_filters(pair):
    _, a, _ = pair
    a.run("ip addr add 10.0.0.5/24 dev eth0; ip addr add 10.1.0.1/24 dev eth0 label eth0:1; "
          "ip addr add 10.2.0.1/24 dev eth0 scope link")

    def addrs():
        return [ln.split()[1] for ln in a.run("ip -4 addr show dev eth0").output.splitlines() if "inet " in ln]

    assert a.run("ip addr flush dev eth0 secondary").status == 0
    assert addrs() == ["10.2.0.1/24", "10.0.0.1/24", "10.1.0.1/24"]   # primaries by scope, as the kernel
    a.run("ip addr flush dev eth0 label 'eth0:*'")
    assert addrs() == ["10.2.0.1/24", "10.0.0.1/24"]
    a.run("ip addr flush dev eth0 scope link")
    assert addrs() == ["10.0.0.1/24"]
    a.run("ip addr add 10.0.0.5/24 dev eth0; ip addr flush dev eth0 primary")
    assert addrs() == []


def test_root_qdisc_refcnt_counts_tx_queues(pair):
    _, a, _ = pair
    a.run("ip link add br0 type bridge; tc qdisc add dev br0 root handle 1: htb; "
          "tc qdisc add dev eth0 root handle 1: htb")
    assert " root refcnt 2 " in a.run("tc qdisc show dev br0").output
    assert " root refcnt 3 " in a.run("tc qdisc show dev eth0").output   # veth: a queue per CPU


def test_promisc_and_allmulticast_flags(pair):
    _, a, _ = pair
    assert a.run("ip link set eth0 allmulticast on promisc on").status == 0
    assert a.run("ip link show eth0").output.startswith(
        "2: eth0@if2: <BROADCAST,MULTICAST,ALLMULTI,PROMISC,UP,LOWER_UP> mtu 1500")
    assert " promiscuity 1  allmulti 1 " in a.run("ip -d link show eth0").output
    r = a.run("ip link set eth0 promisc x")
    assert (r.status, r.error) == (1, 'Error: argument of "promisc" must be "on" or "off", not "x"\n')
    a.run("ip link set eth0 allmulticast off promisc off")
    assert "<BROADCAST,MULTICAST,UP,LOWER_UP>" in a.run("ip link show eth0").output
