"""net-tools as a new user types it (`arp -n`, `route -n`, `netstat -rn|-tulpn|-i`), and what
netplex does not model refused in its own words, never as the real tool's usage error.
The same tables are compared with the kernel's in tests/differential/corpus/nettools-tables.yaml."""
from __future__ import annotations

import pytest

from tests.conftest import run_ok


@pytest.fixture
def server(sim_pair):
    """h (10.0.0.1) — s (10.0.0.2) serving tcp:80 and udp:53; h has talked to s."""
    be, h, s = sim_pair
    be.start_services("s", [("tcp", 80), ("udp", 53)])
    run_ok(h, "ping -c 1 10.0.0.2")
    return h, s


def test_arp_tables(server):
    h, _ = server
    mac = run_ok(h, "ip neigh show 10.0.0.2").split()[4]
    run_ok(h, "ip neigh add 10.0.0.7 lladdr 02:00:00:00:00:07 dev eth0")
    assert run_ok(h, "arp -n") == (
        "Address                  HWtype  HWaddress           Flags Mask            Iface\n"
        f"10.0.0.2                 ether   {mac}   C                     eth0\n"
        "10.0.0.7                 ether   02:00:00:00:00:07   CM                    eth0\n")
    assert run_ok(h, "arp -an") == (f"? (10.0.0.2) at {mac} [ether] on eth0\n"
                                    "? (10.0.0.7) at 02:00:00:00:00:07 [ether] PERM on eth0\n")
    assert run_ok(h, "arp -n 10.0.0.9") == "10.0.0.9 (10.0.0.9) -- no entry\n"
    assert run_ok(h, "arp -n -i lo") == "arp: in 2 entries no match found.\n"
    assert run_ok(h, "arp -nv -i eth0").endswith("Entries: 2\tSkipped: 0\tFound: 2\n")


def test_route_tables(server):
    h, _ = server
    run_ok(h, "ip route add default via 10.0.0.2 && ip route add unreachable 10.50.0.0/16")
    assert run_ok(h, "route -n") == (
        "Kernel IP routing table\n"
        "Destination     Gateway         Genmask         Flags Metric Ref    Use Iface\n"
        "0.0.0.0         10.0.0.2        0.0.0.0         UG    0      0        0 eth0\n"
        "10.0.0.0        0.0.0.0         255.255.255.0   U     0      0        0 eth0\n"
        "10.50.0.0       -               255.255.0.0     !     0      -        0 -\n")
    assert run_ok(h, "route").splitlines()[2].startswith("default         10.0.0.2")
    assert run_ok(h, "netstat -rn").splitlines()[1:3] == [
        "Destination     Gateway         Genmask         Flags   MSS Window  irtt Iface",
        "0.0.0.0         10.0.0.2        0.0.0.0         UG        0 0          0 eth0"]
    assert run_ok(h, "cat /proc/net/route").splitlines()[1].split() == [
        "eth0", "00000000", "0200000A", "0003", "0", "0", "0", "00000000", "0", "0", "0"]


def test_netstat_sockets_and_interfaces(server):
    h, s = server
    pid = run_ok(s, "pidof netplex-service").strip()
    assert run_ok(s, "netstat -tulpn") == (
        "Active Internet connections (only servers)\n"
        "Proto Recv-Q Send-Q Local Address           Foreign Address         State       PID/Program name    \n"
        f"tcp        0      0 0.0.0.0:80              0.0.0.0:*               LISTEN      {pid + '/netplex-service':<20}\n"
        f"udp        0      0 0.0.0.0:53              0.0.0.0:*                           {pid + '/netplex-service':<20}\n")
    assert run_ok(s, "netstat -tn") == ("Active Internet connections (w/o servers)\n"
                                        "Proto Recv-Q Send-Q Local Address           Foreign Address         State      \n")
    assert run_ok(s, "netstat -an").endswith("Active UNIX domain sockets (servers and established)\n"
                                             "Proto RefCnt Flags       Type       State         I-Node   Path\n")
    lines = run_ok(h, "netstat -i").splitlines()
    assert [ln.split()[0] for ln in lines[2:]] == ["eth0", "lo"] and lines[2].endswith(" BMRU")
    run_ok(h, "ip link set lo down")
    assert "lo " not in run_ok(h, "netstat -i") and "lo " in run_ok(h, "netstat -ia")


@pytest.mark.parametrize("line, status, error", [
    ("arp -s 10.0.0.9 02:00:00:00:00:09", 2,
     "netplex: arp -s is not supported (change the cache with ip neigh replace|del)\n"),
    ("arp -H foo", 255, "arp: foo: unknown hardware type.\n"),
    ("arp -n nosuchhost", 255, "nosuchhost: Host name lookup failure\n"),
    ("route add -net 10.1.0.0/16 gw 10.0.0.2", 2, "netplex: route add is not supported (ip route does it)\n"),
    ("route -C", 2, "netplex: route -C is not supported\n"),
    ("route -A inet6", 2, "netplex: route -A inet6 is not supported (only inet (IPv4))\n"),
    ("netstat -s", 2, "netplex: netstat -s (statistics) is not supported\n"),
    ("netstat -ta", 2, "netplex: netstat without -n is not supported (a node has no resolver: add -n)\n"),
    ("ping -M do 10.0.0.2", 2,
     "netplex: ping -M is not supported (netplex's ping has -4 -b -c -i -I -n -q -s -t -W -w)\n"),
    ("dmesg -w", 2, "netplex: dmesg -w is not supported (netplex's dmesg has -c -C -t -k -P)\n"),
    ("bridge -c fdb show", 2, "netplex: bridge -c (coloured output) is not supported\n"),
    ("bridge -compressvlans vlan show", 2, "netplex: bridge -compressvlans is not supported\n"),
    ("dmesg --follow", 2, "netplex: dmesg --follow is not supported (netplex's dmesg has -c -C -t -k -P)\n"),
])
def test_what_netplex_does_not_model_is_refused_in_its_own_words(server, line, status, error):
    h, _ = server
    r = h.run(line)
    assert (r.status, r.output, r.error) == (status, "", error)


@pytest.mark.parametrize("line, status, first", [
    ("arp -z", 255, "arp: invalid option -- 'z'"),
    ("netstat -z", 3, "netstat: invalid option -- 'z'"),
    ("route -z", 0, "route: invalid option -- 'z'"),
    ("ping -Z 10.0.0.2", 2, "ping: invalid option -- 'Z'"),
    ("dmesg -z", 1, "dmesg: invalid option -- 'z'"),
])
def test_a_typo_gets_the_real_tools_usage_error(server, line, status, first):
    h, _ = server
    r = h.run(line)
    assert (r.status, r.error.splitlines()[0]) == (status, first)


def test_ss_as_typed_first(server):
    h, s = server
    pid = run_ok(s, "pidof netplex-service").strip()
    assert run_ok(s, "ss -tulpn") == (
        "Netid State  Recv-Q Send-Q Local Address:Port Peer Address:PortProcess"
        + " " * (len(f' users:(("netplex-service",pid={pid},fd=4))') - len("Process")) + "\n"
        f'udp   UNCONN 0      0            0.0.0.0:53        0.0.0.0:*    users:(("netplex-service",pid={pid},fd=4))\n'
        f'tcp   LISTEN 0      128          0.0.0.0:80        0.0.0.0:*    users:(("netplex-service",pid={pid},fd=3))\n')
    assert run_ok(s, "ss -tlH") == "LISTEN 0      128    0.0.0.0:http 0.0.0.0:*\n"   # a port named without -n
    assert run_ok(h, "ss -t") == "State Recv-Q Send-Q Local Address:Port Peer Address:PortProcess\n"
    assert run_ok(h, "ss -u") == "Recv-Q Send-Q Local Address:Port Peer Address:PortProcess\n"  # one state: no column
    assert run(h, "ss -6") == (2, "", "netplex: IPv6 (ss -6) is not supported\n")
    assert run(h, "ss -tn state established") == (
        2, "", "netplex: ss filters (state, address and port expressions) is not supported\n")
    assert run(h, "ss -y")[0] == 255


def run(node, line):
    r = node.run(line)
    return r.status, r.output, r.error


def test_ifconfig_sets_and_shows_as_net_tools(two_hosts):
    _, h1, _ = two_hosts
    run_ok(h1, "ifconfig eth0 172.16.5.1")                       # classful: /16, broadcast derived
    assert run_ok(h1, "ifconfig eth0").splitlines()[:2] == [
        "eth0: flags=4163<UP,BROADCAST,RUNNING,MULTICAST>  mtu 1500",
        "        inet 172.16.5.1  netmask 255.255.0.0  broadcast 172.16.255.255"]
    assert "10.0.0.1" not in run_ok(h1, "ip -4 addr show dev eth0")   # the primary address was replaced
    run_ok(h1, "ifconfig eth0 inet 0")
    assert "inet " not in run_ok(h1, "ifconfig eth0")
    run_ok(h1, "ifconfig eth0 10.0.0.1/24 mtu 1400 down")
    first = run_ok(h1, "ifconfig -a").split("\n\n")[0].splitlines()
    assert first[:2] == ["eth0: flags=4098<BROADCAST,MULTICAST>  mtu 1400",
                         "        inet 10.0.0.1  netmask 255.255.255.0  broadcast 10.0.0.255"]
    assert "eth0" not in run_ok(h1, "ifconfig")                  # only interfaces that are up
    r = h1.run("ifconfig eth9")
    assert (r.status, r.error) == (1, "eth9: error fetching interface information: Device not found\n")
    r = h1.run("ifconfig eth0 netmask 255.0.255.0")
    assert (r.status, r.error) == (1, "SIOCSIFNETMASK: Invalid argument\n")
    for line, what in (("ifconfig eth0 hw ether 02:00:00:00:00:01", "ifconfig hw"),
                       ("ifconfig eth0:1 10.9.9.9", "ifconfig aliases (IF:N)"),
                       ("ifconfig eth0 add 2001:db8::1/64", "ifconfig add")):
        r = h1.run(line)
        assert r.status == 2 and f"netplex: {what} is not supported" in r.error
    assert "10.0.0.1/24" in run_ok(h1, "ip -4 addr show dev eth0")   # refusals changed nothing
