"""A node is a machine: `ip netns`, `ip -n`, `ip link set DEV netns`, `nsenter` through a
node's shell. Outputs, messages and exit statuses as iproute2 6.1 / util-linux 2.38 print
them (checked in scratch namespaces on Debian 12)."""
from __future__ import annotations

import pytest

from netplex.network import Network
from tests.conftest import run_ok as ok


@pytest.fixture
def h1():
    net = Network()
    return net.add_node("h1")


def run(node, line):
    r = node.run(line)
    return r.status, r.output, r.error


def test_list_newest_first_with_nsids(h1):
    ok(h1, "ip netns add a")
    ok(h1, "ip netns add b")
    assert ok(h1, "ip netns") == "b\na\n"
    ok(h1, "ip link add v0 type veth peer name v1 netns a")   # peernet2id_alloc on both sides
    assert ok(h1, "ip netns list") == "b\na (id: 0)\n"
    ok(h1, "ip link add w0 type veth peer name w1")
    ok(h1, "ip link set w1 netns b")
    assert ok(h1, "ip netns list") == "b (id: 1)\na (id: 0)\n"
    assert ok(h1, "ip netns list-id") == "nsid 0 (iproute2 netns name: a)\nnsid 1 (iproute2 netns name: b)\n"
    assert ok(h1, "ip -n a netns list-id") == "nsid 0 \n"
    assert "link-netnsid 0" in ok(h1, "ip -n a link show v1") and "link-netns a" in ok(h1, "ip link show v0")
    assert ok(h1, "ip -n a netns list") == "b\na\n"


def test_add_del_and_run_netns_files(h1):
    ok(h1, "ip netns add blue")
    assert h1.machine.fs.read("/run/netns/blue") == b""
    assert set(h1.machine.netns) == {"blue"}
    ok(h1, "ip netns delete blue")
    assert h1.machine.fs.read("/run/netns/blue") is None
    assert ok(h1, "ip netns") == ""


@pytest.mark.parametrize("line,status,err", [
    ("ip netns add a", 1, 'Cannot create namespace file "/run/netns/a": File exists\n'),
    ("ip netns del zz", 1, 'Cannot remove namespace file "/run/netns/zz": No such file or directory\n'),
    ("ip netns exec zz true", 255, 'Cannot open network namespace "zz": No such file or directory\n'),
    ("ip -n zz link", 255, 'Cannot open network namespace "zz": No such file or directory\n'),
    ("ip -netns zz addr", 255, 'Cannot open network namespace "zz": No such file or directory\n'),
    ("ip -n", 255, 'Cannot open network namespace "(null)": No such file or directory\n'),
    ("ip netns pids zz", 1, "Cannot open network namespace: No such file or directory\n"),
    ("ip netns exec", 1, "No netns name specified\n"),
    ("ip netns exec a", 1, "No command specified\n"),
    ("ip netns exec a nosuchcmd", 1, 'exec of "nosuchcmd" failed: No such file or directory\n'),
    ("ip netns add", 1, "No netns name specified\n"),
    ("ip netns delete", 1, "No netns name specified\n"),
    ("ip netns pids", 1, "No netns name specified\n"),
    ("ip netns foo", 255, 'Command "foo" is unknown, try "ip netns help".\n'),
    ("ip netns add a/b", 255, 'Invalid netns name "a/b"\n'),
    ("ip netns add ..", 255, 'Invalid netns name ".."\n'),
    ("ip netns identify abc", 1, "Specified string 'abc' is not a pid\n"),
    ("ip netns identify 999999", 1, "Cannot open network namespace: No such file or directory\n"),
    ("ip link set lo netns a", 2, "Error: The interface netns is immutable.\n"),
    ("ip link set x9 netns a", 1, 'Cannot find device "x9"\n'),
    ("ip link set v0 netns zz", 255, 'Error: argument "zz" is wrong: Invalid "netns" value\n\n'),
    ("ip link add foo type veth peer name bar netns nope", 255,
     'Error: argument "nope" is wrong: Invalid "netns" value\n\n'),
    ("nsenter --net=/run/netns/zz true", 1, "nsenter: cannot open /run/netns/zz: No such file or directory\n"),
    ("nsenter --net=/run/netns/a nosuch", 127, "nsenter: failed to execute nosuch: No such file or directory\n"),
    ("nsenter -t abc -n true", 1, "nsenter: failed to parse pid: 'abc'\n"),
    ("nsenter -t 999999 -n true", 1, "nsenter: cannot open /proc/999999/ns/net: No such file or directory\n"),
    ("nsenter -n true", 1, "nsenter: neither filename nor target pid supplied for ns/net\n"),
    ("nsenter --foo", 1, "nsenter: unrecognized option '--foo'\nTry 'nsenter --help' for more information.\n"),
    ("nsenter -t", 1, "nsenter: option requires an argument -- 't'\nTry 'nsenter --help' for more information.\n"),
])
def test_errors(h1, line, status, err):
    ok(h1, "ip netns add a")
    ok(h1, "ip link add v0 type veth peer name v1")
    before = (ok(h1, "ip netns"), ok(h1, "ip -d link"), ok(h1, "ip -n a -d link"))
    assert run(h1, line) == (status, "", err)
    assert (ok(h1, "ip netns"), ok(h1, "ip -d link"), ok(h1, "ip -n a -d link")) == before


def test_identify(h1):
    ok(h1, "ip netns add a")
    assert ok(h1, "ip netns identify") == "\n"
    assert ok(h1, "ip netns exec a ip netns identify") == "a\n"
    assert ok(h1, "ip -n a netns identify") == "a\n"
    assert ok(h1, "ip netns identify 1") == "\n"
    assert ok(h1, "ip netns pids a") == ""


def test_link_set_netns_moves_device_as_the_kernel_does(h1):
    ok(h1, "ip netns add a")
    ok(h1, "ip link add x0 type veth peer name x0p")
    ok(h1, "ip addr add 10.1.1.1/24 dev x0")
    ok(h1, "ip link set x0 up")
    ok(h1, "ip link set x0p up")
    idx = h1.ns.devices["x0"].ifindex
    ok(h1, "ip link set x0 netns a")
    assert "x0" not in h1.ns.devices
    dev = h1.machine.netns["a"].devices["x0"]
    assert dev.ifindex == idx            # free in the target: kept
    out = ok(h1, "ip -n a addr show x0")
    assert out.startswith(f"{idx}: x0@if{h1.ns.devices['x0p'].ifindex}: <BROADCAST,MULTICAST> mtu 1500 qdisc noop "
                          "state DOWN group default qlen 1000\n")
    assert "inet " not in out and "link-netnsid 0" in out   # addresses are lost; the root has no name
    assert "10.1.1.0/24" not in ok(h1, "ip route")
    assert "NO-CARRIER" in ok(h1, "ip link show x0p") and "link-netns a" in ok(h1, "ip link show x0p")
    # an ifindex taken in the target: a new one
    ok(h1, "ip link add y0 type veth peer name y1")
    ok(h1, "ip -n a link add z0 type veth peer name z1")
    ok(h1, "ip -n a link add q0 type veth peer name q1")
    taken = h1.ns.devices["y0"].ifindex
    assert taken in h1.machine.netns["a"].by_index
    ok(h1, "ip link set y0 netns a")
    assert h1.machine.netns["a"].devices["y0"].ifindex not in (taken, 0)
    assert run(h1, "ip link add z0 type veth peer name z9") == (0, "", "")
    assert run(h1, "ip link set z0 netns a") == (
        2, "", "Error: An interface with the same name exists in the target netns.\n")
    ok(h1, "ip link add br0 type bridge")
    assert run(h1, "ip link set br0 netns a") == (2, "", "Error: The interface netns is immutable.\n")


def test_traffic_between_namespaces_of_one_machine(h1):
    """A container-style setup: a named namespace behind a veth, pinged both ways."""
    for line in ["ip netns add c1", "ip link add veth0 type veth peer name eth0 netns c1",
                 "ip addr add 172.17.0.1/16 dev veth0", "ip link set veth0 up",
                 "ip -n c1 addr add 172.17.0.2/16 dev eth0", "ip -n c1 link set eth0 up",
                 "ip netns exec c1 ip link set lo up",
                 "ip netns exec c1 ip route add default via 172.17.0.1"]:
        ok(h1, line)
    assert " 0% packet loss" in ok(h1, "ping -c 1 172.17.0.2")
    assert " 0% packet loss" in ok(h1, "ip netns exec c1 ping -c 1 172.17.0.1")
    assert " 0% packet loss" in ok(h1, "nsenter --net=/run/netns/c1 ping -c 1 172.17.0.1")
    assert "default via 172.17.0.1 dev eth0" in ok(h1, "nsenter --net=/run/netns/c1 ip route")
    assert ok(h1, "ip netns exec c1 sysctl net.ipv4.ip_forward") == "net.ipv4.ip_forward = 0\n"
    assert ok(h1, "ip netns exec c1 cat /sys/class/net/eth0/operstate") == "up\n"
    assert ok(h1, "nsenter --net=/proc/1/ns/net ip -br link show veth0").startswith("veth0@if2")


def test_veth_peer_netns_node_name_still_reaches_another_node():
    """The simulator has always accepted another node's name as `netns NAME`."""
    net = Network()
    h1, h2 = net.add_node("h1"), net.add_node("h2")
    ok(h1, "ip link add v0 type veth peer name v1 netns h2")
    assert "v1" in h2.ns.devices
    assert ok(h1, "ip netns") == ""
    ok(h1, "ip netns add h2")        # a named namespace wins over the node
    ok(h1, "ip link add w0 type veth peer name w1 netns h2")
    assert "w1" in h1.machine.netns["h2"].devices and "w1" not in h2.ns.devices


def test_del_takes_veth_peers_with_it(h1):
    ok(h1, "ip netns add a")
    ok(h1, "ip link add v0 type veth peer name v1 netns a")
    ok(h1, "ip netns del a")
    assert "v0" not in h1.ns.devices
    assert ok(h1, "ip netns") == ""


def test_pids_identify_and_a_process_keeps_a_deleted_namespace(h1):
    ok(h1, "ip netns add a")
    ok(h1, "ip netns exec a smcrouted")
    pid = ok(h1, "pidof smcrouted").strip()
    assert ok(h1, "ip netns pids a") == f"{pid}\n"
    assert ok(h1, f"ip netns identify {pid}") == "a\n"
    assert ok(h1, f"nsenter -t {pid} -n ip netns identify") == "a\n"
    assert ok(h1, f"nsenter --net=/proc/{pid}/ns/net ip netns identify") == "a\n"
    ok(h1, "ip netns del a")
    assert ok(h1, "ip netns") == "" and ok(h1, f"ip netns identify {pid}") == "\n"
    ok(h1, f"kill {pid}")
    assert run(h1, f"ip netns identify {pid}") == (1, "", "Cannot open network namespace: No such file or directory\n")
