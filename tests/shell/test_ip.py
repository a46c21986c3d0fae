"""ip, bridge, brctl, sysctl and sysfs through a node's shell: golden outputs (formats checked
against iproute2 6.1 / bridge-utils 1.7.1 / procps 4.0.2 in scratch namespaces with IPv6
disabled), error texts and exit statuses, and that a rejected command changes nothing."""
from __future__ import annotations

import json

import pytest

from netplex.network import Network
from netplex.packet.addr import ip_to_int


@pytest.fixture
def pair():
    net = Network()
    a, b = net.add_node("a"), net.add_node("b")
    net.add_link("a:eth0", "b:eth0")
    return net, a, b


def run(node, line):
    r = node.run(line)
    return r.status, r.output, r.error


def snapshot(node):
    return [node.run(c).output for c in ("ip -d -s link", "ip addr", "ip route show table all", "ip neigh show nud all",
                                          "bridge fdb show", "sysctl -a")]


def test_link_show_veth_states(pair):
    net, a, b = pair
    a.run("ip link add v1 type veth peer name v2")
    assert a.run("ip link").output == (
        "1: lo: <LOOPBACK> mtu 65536 qdisc noop state DOWN mode DEFAULT group default qlen 1000\n"
        "    link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00\n"
        "2: eth0@if2: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000\n"
        "    link/ether 22:ac:e4:68:bc:24 brd ff:ff:ff:ff:ff:ff link-netnsid 0\n"
        "3: v2@v1: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000\n"
        "    link/ether 32:8a:41:e4:ef:c9 brd ff:ff:ff:ff:ff:ff\n"
        "4: v1@v2: <BROADCAST,MULTICAST,M-DOWN> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000\n"
        "    link/ether b6:24:0d:0d:bf:8d brd ff:ff:ff:ff:ff:ff\n")
    a.run("ip link set eth0 up; ip link set v1 up")
    assert a.run("ip -br link").output == (
        "lo               DOWN           00:00:00:00:00:00 <LOOPBACK> \n"
        "eth0@if2         DOWN           22:ac:e4:68:bc:24 <NO-CARRIER,BROADCAST,MULTICAST,UP> \n"
        "v2@v1            DOWN           32:8a:41:e4:ef:c9 <BROADCAST,MULTICAST> \n"
        "v1@v2            LOWERLAYERDOWN b6:24:0d:0d:bf:8d <NO-CARRIER,BROADCAST,MULTICAST,UP,M-DOWN> \n")
    b.run("ip link set eth0 up")
    assert a.run("ip l sh eth0").output.startswith(
        "2: eth0@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP mode DEFAULT")
    assert a.run("ip -o link show v2").output == (
        "3: v2@v1: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000\\"
        "    link/ether 32:8a:41:e4:ef:c9 brd ff:ff:ff:ff:ff:ff\n")


def test_veth_default_names_and_stats(pair):
    net, a, b = pair
    a.run("ip link add ve type veth; ip link add type veth")
    names = [line.split()[0] for line in a.run("ip -br link").output.splitlines()]
    assert names == ["lo", "eth0@if2", "veth0@ve", "ve@veth0", "veth1@veth2", "veth2@veth1"]
    assert a.run("ip -s link show eth0").output.split("\n", 2)[2] == (
        "    RX:  bytes packets errors dropped  missed   mcast           \n"
        "             0       0      0       0       0       0 \n"
        "    TX:  bytes packets errors dropped carrier collsns           \n"
        "             0       0      0       0       0       0 \n")


def test_addr_and_routes_golden(pair):
    net, a, b = pair
    a.run("ip link set eth0 up; ip link set lo up")
    b.run("ip link set eth0 up; ip addr add 10.0.0.2/24 dev eth0")
    for line in ("ip addr add 10.0.0.1/24 dev eth0", "ip addr add 10.0.0.5/24 dev eth0",
                 "ip a add 10.9.0.1/16 brd + dev eth0 label eth0:foo"):
        assert a.run(line).status == 0
    out = a.run("ip addr show dev eth0").output
    assert out == (
        "2: eth0@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 qdisc noqueue state UP group default qlen 1000\n"
        "    link/ether 22:ac:e4:68:bc:24 brd ff:ff:ff:ff:ff:ff link-netnsid 0\n"
        "    inet 10.0.0.1/24 scope global eth0\n"
        "       valid_lft forever preferred_lft forever\n"
        "    inet 10.9.0.1/16 brd 10.9.255.255 scope global eth0:foo\n"
        "       valid_lft forever preferred_lft forever\n"
        "    inet 10.0.0.5/24 scope global secondary eth0\n"
        "       valid_lft forever preferred_lft forever\n")
    assert a.run("ip -4 a s eth0").output.splitlines()[0].endswith("qlen 1000 link-netnsid 0")
    assert a.run("ip -br a").output == (
        "lo               UNKNOWN        127.0.0.1/8 \n"
        "eth0@if2         UP             10.0.0.1/24 10.9.0.1/16 10.0.0.5/24 \n")
    assert a.run("ip -o a").output.splitlines()[:2] == [
        "1: lo    inet 127.0.0.1/8 scope host lo\\       valid_lft forever preferred_lft forever",
        "2: eth0    inet 10.0.0.1/24 scope global eth0\\       valid_lft forever preferred_lft forever"]
    assert a.run("ip r").output == (
        "10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.1 \n"
        "10.9.0.0/16 dev eth0 proto kernel scope link src 10.9.0.1 \n")
    assert a.run("ip route get 10.0.0.2").output == "10.0.0.2 dev eth0 src 10.0.0.1 uid 0 \n    cache \n"
    assert a.run("ip route get 10.0.0.1").output == "local 10.0.0.1 dev lo src 10.0.0.1 uid 0 \n    cache <local> \n"
    assert a.run("ip route get 10.0.0.2 from 10.0.0.5").output == "10.0.0.2 from 10.0.0.5 dev eth0 uid 0 \n    cache \n"
    assert run(a, "ip route get 8.8.8.8") == (2, "", "RTNETLINK answers: Network is unreachable\n")
    assert a.run("ip route add default via 10.0.0.254").status == 0
    assert a.run("ip route get 8.8.8.8").output == "8.8.8.8 via 10.0.0.254 dev eth0 src 10.0.0.1 uid 0 \n    cache \n"
    for line in ("ip r add 10.5.0.0/16 via 10.0.0.7 metric 50 proto static", "ip route add blackhole 10.6.0.0/16",
                 "ip route add unreachable 10.8.0.0/16", "ip route add prohibit 10.10.0.0/16",
                 "ip route add 192.168.0.0/16 dev eth0 src 10.0.0.1 table 100",
                 "ip route add 10.7.0.0/24 via 1.2.3.4 dev eth0 onlink"):
        assert a.run(line).status == 0, line
    assert a.run("ip route").output == (
        "default via 10.0.0.254 dev eth0 \n"
        "10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.1 \n"
        "10.5.0.0/16 via 10.0.0.7 dev eth0 proto static metric 50 \n"
        "blackhole 10.6.0.0/16 \n"
        "10.7.0.0/24 via 1.2.3.4 dev eth0 onlink \n"
        "unreachable 10.8.0.0/16 \n"
        "10.9.0.0/16 dev eth0 proto kernel scope link src 10.9.0.1 \n"
        "prohibit 10.10.0.0/16 \n")
    assert a.run("ip route show table 100").output == "192.168.0.0/16 dev eth0 scope link src 10.0.0.1 \n"
    assert a.run("ip route show table all").output.splitlines()[0] == \
        "192.168.0.0/16 dev eth0 table 100 scope link src 10.0.0.1 "
    assert "local 10.0.0.5 dev eth0 table local proto kernel scope host src 10.0.0.1 " in \
        a.run("ip route show table all").output.splitlines()
    assert run(a, "ip route get 10.6.1.1")[2] == "RTNETLINK answers: Invalid argument\n"
    assert run(a, "ip route get 10.8.1.1")[2] == "RTNETLINK answers: No route to host\n"
    assert run(a, "ip route get 10.10.1.1")[2] == "RTNETLINK answers: Permission denied\n"
    assert a.run("ip route show 10.5.0.0/16").output == "10.5.0.0/16 via 10.0.0.7 dev eth0 proto static metric 50 \n"
    assert a.run("ip route del 10.5.0.0/16").status == 0
    assert run(a, "ip route del 10.5.0.0/16") == (2, "", "RTNETLINK answers: No such process\n")
    # deleting the address takes its routes
    assert a.run("ip addr del 10.9.0.1/16 dev eth0").status == 0
    assert "10.9.0.0/16" not in a.run("ip route").output


def test_linkdown_and_lowerlayerdown(pair):
    net, a, b = pair
    a.run("ip link set eth0 up; ip addr add 10.0.0.1/24 dev eth0")
    assert a.run("ip r").output == "10.0.0.0/24 dev eth0 proto kernel scope link src 10.0.0.1 linkdown \n"
    # eth0's peer has the same ifindex (2): DOWN, not LOWERLAYERDOWN, as the kernel reports it
    assert " state DOWN " in a.run("ip link show eth0").output


ERRORS = [
    ("ip link show eth9", 1, 'Device "eth9" does not exist.\n'),
    ("ip link set eth9 up", 1, 'Cannot find device "eth9"\n'),
    ("ip link foo", 255, 'Command "foo" is unknown, try "ip link help".\n'),
    ("ip foo", 1, 'Object "foo" is unknown, try "ip help".\n'),
    ("ip -x link", 255, 'Option "-x" is unknown, try "ip -help".\n'),
    ("ip addr add 10.0.0.300/24 dev eth0", 1, 'Error: any valid prefix is expected rather than "10.0.0.300/24".\n'),
    ("ip addr add 10.0.0.1/33 dev eth0", 1, 'Error: any valid prefix is expected rather than "10.0.0.1/33".\n'),
    ("ip addr add 10.0.0.1/24 dev eth0", 2, "Error: ipv4: Address already assigned.\n"),
    ("ip addr add 10.0.0.7/24", 1, 'Not enough information: "dev" argument is required.\n'),
    ("ip addr add 10.0.0.7/24 dev eth9", 1, 'Cannot find device "eth9"\n'),
    ("ip addr del 10.3.0.1/24 dev eth0", 2, "Error: ipv4: Address not found.\n"),
    ("ip addr flush", 1, "Flush requires arguments.\n"),
    ("ip route add 1.2.3.0/24 dev eth0 foo", 255, 'Error: either "to" is duplicate, or "foo" is a garbage.\n'),
    ("ip route add 10.5.0.0/16 via 10.7.7.7", 2, "Error: Nexthop has invalid gateway.\n"),
    ("ip route add 10.11.0.0/24 via 10.0.0.300", 1, 'Error: inet address is expected rather than "10.0.0.300".\n'),
    ("ip route add default via 10.0.0.9 metric abc", 255, 'Error: argument "abc" is wrong: "metric" value is invalid\n\n'),
    ("ip route add 10.0.0.0/24 dev eth0", 2, "RTNETLINK answers: File exists\n"),
    ("ip route add 10.9.0.0/24", 2, "RTNETLINK answers: No such device\n"),
    ("ip route add 10.9.0.0/24 dev v2", 2, "Error: Device for nexthop is not up.\n"),
    ("ip route show table foo", 255, 'Error: argument "foo" is wrong: table id value is invalid\n\n'),
    ("ip route get", 1, "need at least a destination address\n"),
    ("ip route del 10.0.0.0/24 table 55", 2, "Error: FIB table does not exist.\n"),   # as the kernel (issue 10, 7)
    ("ip route get 10.0.0.300", 1, 'Error: any valid prefix is expected rather than "10.0.0.300".\n'),
    ("ip link set eth0 mtu 70000", 2, "Error: mtu greater than device maximum.\n"),
    ("ip link set eth0 mtu 10", 2, "Error: mtu less than device minimum.\n"),
    ("ip link set eth0 mtu abc", 255, 'Error: argument "abc" is wrong: Invalid "mtu" value\n\n'),
    ("ip link set eth0 address zz", 1, '"zz" is invalid lladdr.\n'),
    ("ip link set eth0 address 01:00:00:00:00:01", 2, "RTNETLINK answers: Cannot assign requested address\n"),
    ("ip link set eth0 foo", 255, 'Error: either "dev" is duplicate, or "foo" is a garbage.\n'),
    ("ip link set eth0 master br9", 255, 'Error: argument "br9" is wrong: Device does not exist\n\n'),
    ("ip link add v1 type veth", 2, "RTNETLINK answers: File exists\n"),
    ("ip link add foo type veth peer name bar netns nope", 255,
     'Error: argument "nope" is wrong: Invalid "netns" value\n\n'),
    ("ip link del", 255, 'Not enough information: "dev" argument is required.\n'),
    ("ip link add foo type dummy", 2, "netplex: ip link type dummy is not supported\n"),
    ("ip -j -d addr", 2, "netplex: ip -json -details (the link kinds' attributes in JSON) is not supported\n"),
    ("ip -j tunnel", 2, "netplex: JSON output of ip tunnel (ip -json has link, address, route, rule and "
     "neighbour show) is not supported\n"),
    # (`ip neigh add A dev D` without lladdr leaves a NONE entry, as the kernel does: tests/shell/test_longtail.py)
    ("ip neigh change 10.0.0.14 dev eth0", 2, "RTNETLINK answers: No such file or directory\n"),
    ("ip neigh del 10.0.0.13", 255, "Device and destination are required arguments.\n"),
    ("ip neigh del 10.0.0.99 dev eth0", 2, "RTNETLINK answers: No such file or directory\n"),
    ("ip neigh flush", 1, "Flush requires arguments.\n"),
    ("ip route flush", 1, '"ip route flush" requires arguments.\n'),
    ("ip tuntap add tap0", 1, "You failed to specify a tunnel mode\n"),
    ("ip tuntap add v1 mode tap", 1, "ioctl(TUNSETIFF): Device or resource busy\n"),
]


@pytest.mark.parametrize("line,status,error", ERRORS)
def test_errors_change_nothing(pair, line, status, error):
    net, a, b = pair
    a.run("ip link add v1 type veth peer name v2; ip link set eth0 up; ip addr add 10.0.0.1/24 dev eth0")
    before = snapshot(a)
    assert run(a, line) == (status, "", error)
    assert snapshot(a) == before


def test_neigh(pair):
    net, a, b = pair
    a.run("ip link set eth0 up; ip addr add 10.0.0.1/24 dev eth0")
    for line in ("ip neigh add 10.0.0.9 lladdr 02:00:00:00:00:09 dev eth0",
                 "ip neigh add 10.0.0.10 lladdr 02:00:00:00:00:0a dev eth0 nud reachable",
                 "ip n add 10.0.0.11 lladdr 02:00:00:00:00:0b dev eth0 nud stale",
                 "ip neigh add 10.0.0.12 lladdr 02:00:00:00:00:0c dev eth0 nud noarp"):
        assert a.run(line).status == 0
    assert run(a, "ip neigh add 10.0.0.9 lladdr 02:00:00:00:00:09 dev eth0")[2] == "RTNETLINK answers: File exists\n"
    assert a.run("ip neigh").output == (
        "10.0.0.9 dev eth0 lladdr 02:00:00:00:00:09 PERMANENT \n"
        "10.0.0.10 dev eth0 lladdr 02:00:00:00:00:0a REACHABLE \n"
        "10.0.0.11 dev eth0 lladdr 02:00:00:00:00:0b STALE \n")
    assert "10.0.0.12 dev eth0 lladdr 02:00:00:00:00:0c NOARP \n" in a.run("ip neigh show nud all").output
    assert a.run("ip n show dev eth0").output.splitlines()[0] == "10.0.0.9 lladdr 02:00:00:00:00:09 PERMANENT "
    assert a.run("ip -br neigh").output.splitlines()[0] == \
        "10.0.0.9                                eth0             02:00:00:00:00:09"
    net.run_for(120 * 10**9)
    assert "10.0.0.10 dev eth0 lladdr 02:00:00:00:00:0a STALE " in a.run("ip neigh").output
    assert a.run("ip neigh flush dev eth0").status == 0
    assert a.run("ip neigh").output == "10.0.0.9 dev eth0 lladdr 02:00:00:00:00:09 PERMANENT \n"
    assert a.run("cat /proc/net/arp").output == (
        "IP address       HW type     Flags       HW address            Mask     Device\n"
        "10.0.0.9         0x1         0x6         02:00:00:00:00:09     *        eth0\n")


def test_tuntap(pair):
    net, a, b = pair
    assert a.run("ip tuntap add tap0 mode tap; ip tuntap add dev tap1 mode tap user 1000 group 100").status == 0
    assert a.run("ip tuntap show").output == "tap0: tap persist\ntap1: tap persist user 1000 group 100\n"
    assert a.run("ip tuntap del tap0 mode tap; ip tuntap del tap5 mode tap").status == 0
    assert a.run("ip tuntap").output == "tap1: tap persist user 1000 group 100\n"


def test_tuntap_tun_mode(pair):
    """A TUN device as the kernel shows it (compared with Linux 6.x, iproute2 6.x): link/none,
    no carrier while no program holds it, qlen 500, no address in JSON."""
    net, a, b = pair
    assert a.run("ip tuntap add tun0 mode tun; ip link set tun0 up; ip tuntap add mode tun").status == 0
    assert a.run("ip link show tun0").output == (
        "3: tun0: <NO-CARRIER,POINTOPOINT,MULTICAST,NOARP,UP> mtu 1500 qdisc pfifo_fast state DOWN mode DEFAULT"
        " group default qlen 500\n    link/none \n")
    assert a.run("ip tuntap show").output == "tun0: tun persist\ntun1: tun persist\n"
    [obj] = json.loads(a.run("ip -j link show tun0").output)
    assert obj["link_type"] == "none" and "address" not in obj


@pytest.fixture
def switch():
    net = Network()
    s = net.add_node("s")
    for i in (1, 2, 3):
        h = net.add_node(f"h{i}")
        net.add_link(f"h{i}:eth0", f"s:p{i}")
        h.run(f"ip addr add 10.0.0.{i}/24 dev eth0 && ip link set eth0 up")
    s.run("ip link add br0 type bridge && ip link set br0 up && ip link set p1 master br0 && brctl addif br0 p2 p3"
          " && ip link set p1 up && ip link set p2 up && ip link set p3 up")
    return net, s


def test_bridge_learns_after_traffic(switch):
    net, s = switch
    assert s.run("bridge link").output == (
        "2: p1@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 master br0 state forwarding priority 32 cost 2 \n"
        "3: p2@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 master br0 state forwarding priority 32 cost 2 \n"
        "4: p3@if2: <BROADCAST,MULTICAST,UP,LOWER_UP> mtu 1500 master br0 state forwarding priority 32 cost 2 \n")
    h1 = net["h1"]
    h1.ns.sockets.udp_socket().sendto(b"x", ip_to_int("10.0.0.2"), 9)
    net.run_for(2 * 10**9)
    show = s.run("bridge fdb show br br0").output.splitlines()
    assert "22:ac:e4:68:bc:24 dev p1 master br0 " in show
    assert "b6:24:0d:0d:bf:8d dev p2 master br0 " in show
    assert show[-4:] == ["33:33:00:00:00:01 dev br0 self permanent", "01:00:5e:00:00:6a dev br0 self permanent",
                           "33:33:00:00:00:6a dev br0 self permanent", "01:00:5e:00:00:01 dev br0 self permanent"]
    assert s.run("bridge fdb show dev p1").output.splitlines()[0] == "22:ac:e4:68:bc:24 master br0 "
    macs = s.run("brctl showmacs br0").output.splitlines()
    assert macs[0] == "port no\tmac addr\t\tis local?\tageing timer"
    assert "  1\t22:ac:e4:68:bc:24\tno\t\t   2.00" in macs
    assert h1.run("ip neigh").output == "10.0.0.2 dev eth0 lladdr b6:24:0d:0d:bf:8d REACHABLE \n"


def test_bridge_fdb_add_del(switch):
    net, s = switch
    assert s.run("bridge fdb add 02:00:00:00:00:01 dev p1 master static").status == 0
    assert s.run("bridge fdb add 02:00:00:00:00:02 dev p1 master").status == 0
    out = s.run("bridge fdb show dev p1").output.splitlines()
    assert out[:2] == ["02:00:00:00:00:02 master br0 permanent", "02:00:00:00:00:01 master br0 static"]
    assert run(s, "bridge fdb add 02:00:00:00:00:01 dev p1 master static") == \
        (255, "", "RTNETLINK answers: File exists\n")
    assert run(s, "bridge fdb add 02:00:00:00:00:03 dev p1 master vlan 5") == \
        (255, "", "RTNETLINK answers: Invalid argument\n")
    assert run(s, "bridge fdb del 02:00:00:00:00:09 dev p1 master") == \
        (255, "", "RTNETLINK answers: No such file or directory\n")
    assert run(s, "bridge fdb add 02:00:00:00:00:01 dev v9 master") == (255, "", 'Cannot find device "v9"\n')
    assert s.run("bridge fdb del 02:00:00:00:00:01 dev p1 master").status == 0
    assert "02:00:00:00:00:01" not in s.run("bridge fdb show").output


def test_brctl(switch):
    net, s = switch
    out = s.run("brctl show").output
    assert out.startswith("bridge name\tbridge id\t\tSTP enabled\tinterfaces\nbr0\t\t8000.")
    assert out.endswith("\tno\t\tp1\n\t\t\t\t\t\t\tp2\n\t\t\t\t\t\t\tp3\n")
    assert s.run("brctl addbr br1; brctl stp br1 on; brctl show br1").output == (
        "bridge name\tbridge id\t\tSTP enabled\tinterfaces\nbr1\t\t8000.000000000000\tyes\t\t\n")
    assert run(s, "brctl addif br1 p1") == \
        (1, "", "device p1 is already a member of a bridge; can't add it to bridge br1.\n")
    assert run(s, "brctl delbr br9") == (1, "", "bridge br9 doesn't exist; can't delete it\n")
    assert run(s, "brctl delbr br0") == (1, "", "bridge br0 is still up; can't delete it\n")
    assert run(s, "brctl addif br9 p1") == (1, "", "bridge br9 does not exist!\n")
    assert run(s, "brctl addif br1 v9") == (1, "", "interface v9 does not exist!\n")
    assert run(s, "brctl delif br1 p2") == (1, "", "device p2 is not a port of br1\n")
    assert run(s, "brctl addbr br1") == (1, "", "device br1 already exists; can't create bridge with the same name\n")
    assert run(s, "brctl show br9") == (1, "", "bridge br9 does not exist!\n")
    st, out, err = run(s, "brctl foo")
    assert st == 1 and err == "never heard of command [foo]\n" and out.startswith("Usage: brctl [commands]\n")
    assert run(s, "brctl addbr")[1] == "Incorrect number of arguments for command\nUsage: brctl addbr <bridge>\t\tadd bridge\n"
    assert s.run("brctl setageing br1 100; cat /sys/class/net/br1/bridge/ageing_time").output == "10000\n"
    assert s.run("brctl delbr br1").status == 0 and "br1" not in s.run("ip link").output


def test_ip_link_bridge_options_and_sysfs(switch):
    net, s = switch
    assert s.run("ip link set br0 type bridge stp_state 1 forward_delay 400").status == 0
    assert s.run("cat /sys/class/net/br0/bridge/forward_delay /sys/class/net/br0/bridge/stp_state "
                 "/sys/class/net/br0/bridge/hello_time /sys/class/net/br0/bridge/priority").output == "400\n1\n200\n32768\n"
    st, out, err = run(s, "ip link add br1 type bridge ageing_time 1000 foo 1")
    assert st == 1 and err.startswith('bridge: unknown command "foo"?\nUsage: ... bridge [ fdb_flush ]\n')
    assert "br1" not in s.run("ip link").output
    assert s.run("cat /sys/class/net/p1/brport/state /sys/class/net/p1/brport/port_no").output == "3\n0x1\n"
    assert s.run("cat /sys/class/net/p1/operstate /sys/class/net/p1/mtu /sys/class/net/p1/flags "
                 "/sys/class/net/lo/type").output == "up\n1500\n0x1003\n772\n"
    assert s.run("ip link show master br0 | grep -c master").output == "3\n"
    assert s.run("ip link show type bridge").output.startswith("5: br0: ")


def test_sysfs_read_file_errors(pair):
    from netplex.shell.sysfs import FileReadError, read_file

    net, a, b = pair
    ns = a.ns
    with pytest.raises(FileReadError, match="Invalid argument"):
        read_file(ns, "/sys/class/net/eth0/carrier")
    a.run("ip link set eth0 up")
    assert read_file(ns, "/sys/class/net/eth0/carrier") == "0\n"
    assert read_file(ns, "/sys/class/net/eth0/operstate") == "down\n"
    assert read_file(ns, "/sys/class/net/eth9/mtu") is None
    assert read_file(ns, "/proc/sys/net/ipv4/nope") is None
    assert read_file(ns, "/proc/sys/net/ipv4/conf/eth0/forwarding") == "0\n"


def test_sysctl(pair):
    net, a, b = pair
    assert run(a, "sysctl net.ipv4.ip_forward") == (0, "net.ipv4.ip_forward = 0\n", "")
    assert run(a, "sysctl -w net.ipv4.ip_forward=1") == (0, "net.ipv4.ip_forward = 1\n", "")
    assert run(a, "sysctl -n net.ipv4.conf.all.forwarding net.ipv4.ip_forward") == (0, "1\n1\n", "")
    assert run(a, "sysctl net.ipv4.ip_forward=0") == (0, "net.ipv4.ip_forward = 0\n", "")
    assert run(a, "sysctl net/ipv4/ip_forward") == (0, "net.ipv4.ip_forward = 0\n", "")
    assert run(a, "sysctl -q -w net.ipv4.ip_forward=1") == (0, "", "")
    assert run(a, "sysctl -w net.ipv4.ip_local_port_range='1024 2000'") == \
        (0, "net.ipv4.ip_local_port_range = 1024 2000\n", "")
    assert a.run("sysctl -n net.ipv4.ip_local_port_range").output == "1024\t2000\n"
    nope = "sysctl: cannot stat /proc/sys/net/ipv4/nope: No such file or directory\n"
    assert run(a, "sysctl net.ipv4.nope") == (1, "", nope)
    assert run(a, "sysctl -w net.ipv4.nope=1") == (1, "", nope)
    assert run(a, "sysctl -q net.ipv4.nope") == (1, "", nope)
    assert run(a, "sysctl -e net.ipv4.nope") == (0, "", "")
    before = a.run("sysctl -a").output
    assert run(a, "sysctl -w net.ipv4.ip_forward=abc") == \
        (1, "", 'sysctl: setting key "net.ipv4.ip_forward": Invalid argument\n')
    assert run(a, "sysctl -w net.ipv4.ip_forward") == (1, "", "sysctl: command line(0): invalid syntax, continuing...\n")
    assert a.run("sysctl -a").output == before
    assert run(a, "sysctl")[0] == 1 and run(a, "sysctl")[2].startswith("\nUsage:\n sysctl [options]")
    assert run(a, "sysctl -p")[0] == 2
    keys = [line.split(" = ")[0] for line in before.splitlines()]
    assert keys == sorted(keys, key=lambda k: k.split("."))
    assert "net.ipv4.conf.eth0.forwarding" in keys


def test_object_abbreviations(pair):
    net, a, b = pair
    assert a.run("ip l").output == a.run("ip link show").output
    assert a.run("ip a").output == a.run("ip address list").output
    assert a.run("ip addr sh").output == a.run("ip addr").output
    # `s` abbreviates `set` first, as in iproute2
    assert run(a, "ip link s") == (255, "", 'Not enough information: "dev" argument is required.\n')
    assert a.run("ip r").output == a.run("ip route show table main").output
    assert a.run("ip n").output == a.run("ip neighbour show").output
    assert a.run("ip -color=never link").output == a.run("ip link").output
    assert run(a, "ip -c link") == (2, "", "netplex: ip -c (coloured output) is not supported\n")
    assert run(a, "ip -N route") == (2, "", "netplex: ip -N is not supported\n")
    assert run(a, "ip -j route show dev lo") == (0, "[]\n", "")
    assert run(a, "ip -j link add x type dummy") == (2, "", "netplex: JSON output of ip link add (ip -json has "
                                                    "link, address, route, rule and neighbour show) is not supported\n")


def test_link_show_omits_a_zero_qlen(pair):
    """iproute2 prints `qlen N` only for a non-zero IFLA_TXQLEN (found by tests/differential/test_randseq.py)."""
    _net, a, _b = pair
    assert a.run("ip link set dev eth0 txqueuelen 0").status == 0
    assert "group default \n" in a.run("ip link show dev eth0").output
    assert "qlen" not in a.run("ip addr show dev eth0").output
    assert a.run("ip link set dev eth0 txqueuelen 500").status == 0
    assert "group default qlen 500\n" in a.run("ip link show dev eth0").output


def test_alias_shown_by_ip_link_not_ip_addr(pair):
    """IFLA_IFALIAS: `ip link` prints `alias X`, `ip addr` does not (found by tests/differential/test_randseq.py)."""
    _net, a, _b = pair
    assert a.run("ip link set dev eth0 alias uplink").status == 0
    assert "    alias uplink\n" in a.run("ip link show dev eth0").output
    assert "alias" not in a.run("ip addr show dev eth0").output


def test_addresses_listed_by_scope_as_inserted(pair):
    """__inet_insert_ifa: a primary goes after the last primary of the same or narrower scope, so host and link
    scoped addresses lead, secondaries trail (as the kernel lists them; found by test_randseq.py)."""
    _net, a, _b = pair
    for addr in ("10.0.0.1/24", "10.0.5.1/32 scope link", "10.0.0.2/24", "10.0.6.1/24", "10.0.7.1/32 scope host",
                 "10.0.8.1/24 scope link"):
        assert a.run(f"ip addr add {addr} dev eth0").status == 0
    inets = [x.split()[1] for x in a.run("ip -4 addr show dev eth0").output.splitlines() if "inet " in x]
    assert inets == ["10.0.7.1/32", "10.0.5.1/32", "10.0.8.1/24", "10.0.0.1/24", "10.0.6.1/24", "10.0.0.2/24"]


def test_devconf_keys_take_any_int(pair):
    """devinet_conf_proc is a plain proc_dointvec: net.ipv4.conf.* stores any int, no range (found by
    test_randseq.py); a non-integer is still refused."""
    _net, a, _b = pair
    assert run(a, "sysctl -w net.ipv4.conf.eth0.accept_redirects=3") == \
        (0, "net.ipv4.conf.eth0.accept_redirects = 3\n", "")
    assert run(a, "sysctl -w net.ipv4.conf.all.rp_filter=-1") == (0, "net.ipv4.conf.all.rp_filter = -1\n", "")
    assert run(a, "sysctl -w net.ipv4.conf.eth0.arp_ignore=x")[0] != 0


def test_route_show_leaves_out_what_the_selector_fixed(pair):
    """print_route: with `proto P` or `scope S` in the selector, proto/scope are not printed (as `dev D` is not)."""
    _net, a, b = pair
    assert a.run("ip addr add 10.0.0.1/24 dev eth0 && ip link set eth0 up").status == 0
    assert b.run("ip link set eth0 up").status == 0
    assert a.run("ip route add 10.2.0.0/16 dev eth0 proto static scope link").status == 0
    assert a.run("ip route show proto kernel").output == "10.0.0.0/24 dev eth0 scope link src 10.0.0.1 \n"
    assert a.run("ip route show scope link").output == \
        "10.0.0.0/24 dev eth0 proto kernel src 10.0.0.1 \n10.2.0.0/16 dev eth0 proto static \n"
    assert a.run("ip route show table local proto kernel scope host").output == "local 10.0.0.1 dev eth0 src 10.0.0.1 \n"


def test_an_up_device_can_be_renamed(pair):
    """dev_change_name allows live renaming since Linux 6.2 (the kernel twin's; found by test_randseq.py)."""
    _net, a, _b = pair
    assert run(a, "ip link set eth0 up && ip link set eth0 name lan0") == (0, "", "")
    assert a.run("ip link show dev lan0").output.startswith("2: lan0@if2: <NO-CARRIER,BROADCAST,MULTICAST,UP> ")
    assert run(a, "sysctl -n net.ipv4.conf.lan0.forwarding") == (0, "0\n", "")


def test_link_set_netns_resolved_before_the_device(pair):
    """iplink_parse resolves `netns NAME` as it reads it: a missing namespace is named before a missing device."""
    _net, a, _b = pair
    assert run(a, "ip link set nosuch0 netns x1") == (255, "", 'Error: argument "x1" is wrong: Invalid "netns" value\n\n')
    assert a.run("ip netns add x1").status == 0
    assert run(a, "ip link set nosuch0 netns x1") == (1, "", 'Cannot find device "nosuch0"\n')


def test_bridge_fdb_reads_the_mac_as_sscanf(pair):
    """fdb_modify: sscanf("%hhx:...") six times, before the device is looked up (found by test_randseq.py)."""
    _net, a, _b = pair
    for mac in ("02:00:00:00:00:zz", "02:00:00:00:00"):
        assert run(a, f"bridge fdb add {mac} dev nosuch0") == (255, "", f"Invalid mac address {mac}\n")
    assert run(a, "bridge fdb add 2:0:0:0:0:1zz dev nosuch0") == (255, "", 'Cannot find device "nosuch0"\n')


def test_ipv6_only_address_flags_warn_and_are_dropped(pair):
    """ipaddr_modify: home/nodad/optimistic/mngtmpaddr with an IPv4 address warn as they are read and the
    command goes on (found by test_randseq.py)."""
    _net, a, _b = pair
    warn = "Warning: nodad option can be set only for IPv6 addresses\n"
    assert run(a, "ip addr add 10.0.0.1/24 nodad dev eth0") == (0, "", warn)
    assert "inet 10.0.0.1/24 scope global eth0" in a.run("ip addr show dev eth0").output
    assert run(a, "ip addr add optimistic 10.0.0.2/24 dev eth0") == \
        (0, "", "Warning: optimistic option can be set only for IPv6 addresses\n")
    assert run(a, "ip addr del 10.0.0.9/24 nodad dev eth0") == (2, "", warn + "Error: ipv4: Address not found.\n")
    assert run(a, "ip addr add 10.0.0.3/24 nodad dev nosuch") == (1, "", warn + 'Cannot find device "nosuch"\n')


def test_loopback_shows_the_mac_it_was_given(pair):
    """lo takes a MAC (loopback_ops' eth_mac_addr) and `ip link` shows it (found by test_randseq.py)."""
    _net, a, _b = pair
    assert "link/loopback 00:00:00:00:00:00 brd 00:00:00:00:00:00" in a.run("ip link show lo").output
    assert run(a, "ip link set dev lo address 02:00:00:00:00:01") == (0, "", "")
    assert "link/loopback 02:00:00:00:00:01 brd 00:00:00:00:00:00" in a.run("ip addr show lo").output


def test_link_group(pair):
    """IFLA_GROUP: `ip link set dev X group N|default`, shown as `group N` (rtnl_group_n2a; found by
    test_randseq.py); a name that is not in /etc/iproute2/group is refused as iproute2 does."""
    _net, a, _b = pair
    assert run(a, "ip link set dev lo group 5") == (0, "", "")
    assert " group 5 qlen 1000\n" in a.run("ip link show lo").output
    assert run(a, "ip link set dev lo group 0x10") == (0, "", "")
    assert " group 16 qlen 1000\n" in a.run("ip addr show lo").output
    assert a.run("cat /sys/class/net/lo/netdev_group").output == "16\n"
    assert run(a, "ip link set dev lo group default") == (0, "", "")
    assert " group default qlen 1000\n" in a.run("ip link show lo").output
    for bad in ("xx", "-1"):
        assert run(a, f"ip link set dev lo group {bad}") == \
            (255, "", f'Error: argument "{bad}" is wrong: Invalid "group" value\n\n')


def test_tap_owner_group_is_not_the_link_group(pair):
    """A tap's owner group (tun->group) is not the device's link group (dev->group)."""
    _net, a, _b = pair
    assert a.run("ip tuntap add tap0 mode tap group 100").status == 0
    assert " group default qlen 1000\n" in a.run("ip link show tap0").output


def test_json_details_link(pair):
    """`ip -j -d link` has the kind's attributes (checked against the kernel by
    tests/differential/corpus/link-details-json.yaml); a kind without a JSON printer is
    refused, naming it, rather than printed without its attributes."""

    net, a, b = pair
    a.run("ip link add br0 type bridge; ip link set eth0 master br0")
    [port] = json.loads(a.run("ip -j -d link show eth0").output)
    assert port["linkinfo"]["info_kind"] == "veth"
    assert port["linkinfo"]["info_slave_kind"] == "bridge"
    assert port["linkinfo"]["info_slave_data"]["learning"] is True
    assert [port["promiscuity"], port["allmulti"]] == [1, 1]
    [br] = json.loads(a.run("ip -j -d link show br0").output)
    assert br["linkinfo"]["info_data"]["forward_delay"] == 1500
    assert '"hello_timer": 0.00,' in a.run("ip -j -p -d link show br0").output
    a.run("ip link add vl5 link br0 type vlan id 5")
    r = a.run("ip -j -d link")
    assert (r.status, r.output, r.error) == (
        2, "", "netplex: ip -json -details of vlan devices (JSON details exist for bridge, veth, vxlan, "
        "macvlan, tun and loopback) is not supported\n")
    assert json.loads(a.run("ip -j -d link show eth0").output)[0]["ifname"] == "eth0"
