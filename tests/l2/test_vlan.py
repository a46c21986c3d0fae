"""802.1Q sub-interfaces, vconfig, and the VLAN-aware bridge."""
from __future__ import annotations

from netplex.network import Network
from netplex.stack.dropreason import SkbDropReason

from .conftest import run_ok


def test_subinterface_tags_on_the_wire(pair, tmp_path) -> None:
    from scapy.layers.l2 import Dot1Q, Ether

    from netplex.packet.pcap import read_pcap

    net, a, b = pair
    for n, i in ((a, 1), (b, 2)):
        run_ok(n, "ip link add link eth0 name eth0.100 type vlan id 100", "ip link set eth0.100 up",
               f"ip addr add 10.100.0.{i}/24 dev eth0.100")
    net.start_pcap(tmp_path)
    assert "1 received" in a.cmd("ping -c 1 10.100.0.2")
    net.stop_pcap()
    frames = [Ether(d) for _, d in read_pcap(str(tmp_path / "a-eth0.pcap"))]
    assert frames and all(Dot1Q in f and f[Dot1Q].vlan == 100 for f in frames)
    inner = [Ether(d) for _, d in read_pcap(str(tmp_path / "a-eth0.100.pcap"))]
    assert inner and not any(Dot1Q in f for f in inner)
    # untagged traffic on eth0 itself is unaffected; a VID nobody listens on is dropped
    assert "1 received" in a.cmd("ping -c 1 192.168.0.2")
    run_ok(a, "ip link add link eth0 name eth0.200 type vlan id 200", "ip link set eth0.200 up",
           "ip addr add 10.200.0.1/24 dev eth0.200")
    assert "0 received" in a.cmd("ping -c 1 10.200.0.2")
    assert b.ns.drops.get(SkbDropReason.VLAN_UNKNOWN)


def test_vlan_link_show_and_errors(pair) -> None:
    net, a, b = pair
    run_ok(a, "ip link add link eth0 name eth0.100 type vlan id 100")
    mac = a.ns.devices["eth0"].mac.hex(":")
    assert a.cmd("ip link show eth0.100") == (
        "3: eth0.100@eth0: <BROADCAST,MULTICAST> mtu 1500 qdisc noop state DOWN mode DEFAULT group default qlen 1000\n"
        f"    link/ether {mac} brd ff:ff:ff:ff:ff:ff\n")
    cases = {
        "ip link add link eth0 name v2 type vlan id 100": (2, "Error: 8021q: VLAN device already exists.\n"),
        "ip link add name v3 type vlan id 5": (2, "Error: 8021q: link not specified.\n"),
        "ip link add link eth0 name v4 type vlan": (2, "Error: 8021q: VLAN id not specified.\n"),
        "ip link add link eth0 name v5 type vlan id 4095": (2, "Error: 8021q: Invalid VLAN id.\n"),
        "ip link add link lo name v6 type vlan id 5": (2, "Error: 8021q: VLANs not supported on device.\n"),
        "ip link add link eth0 name v7 type vlan id x": (255, 'Error: argument "x" is wrong: id is invalid\n'),
    }
    for line, want in cases.items():
        r = a.run(line)
        assert (r.status, r.error) == want, line
    run_ok(a, "ip link set eth0 down")
    r = a.run("ip link set eth0.100 up")
    assert (r.status, r.error) == (2, "RTNETLINK answers: Network is down\n")
    # a VLAN device goes down with its lower device and comes back up with it
    run_ok(a, "ip link set eth0 up", "ip link set eth0.100 up")
    run_ok(a, "ip link set eth0 down")
    assert not a.ns.devices["eth0.100"].up
    run_ok(a, "ip link set eth0 up")
    assert a.ns.devices["eth0.100"].up
    run_ok(a, "ip link del eth0")
    assert "eth0.100" not in a.ns.devices


def test_vconfig() -> None:
    net = Network()
    n = net.add_node("n")
    net.add_link("n:eth0", "n:eth9")
    r = n.run("vconfig add eth0 10")
    warn = ("\nWarning: vconfig is deprecated and might be removed in the future, please migrate to "
            "ip(route2) as soon as possible!\n\n")
    assert (r.status, r.output, r.error) == (0, "", warn)
    assert n.ns.devices["eth0.10"].vid == 10
    r = n.run("vconfig add eth0 10")
    assert (r.status, r.error) == (3, warn + "RTNETLINK answers: File exists\n")
    r = n.run("vconfig rem eth0.10")
    assert r.status == 0 and "eth0.10" not in n.ns.devices
    r = n.run("vconfig rem eth0.10")
    assert (r.status, r.error) == (4, warn + 'Cannot find device "eth0.10"\n')
    r = n.run("vconfig add")
    assert r.status == 1 and r.error.endswith("Expecting argc to be 3-5, inclusive.  Was: 2\n")


def _vlan_bridge() -> tuple[Network, object]:
    net = Network()
    h = net.add_node("h")
    for vm in ("v1", "v2", "v3"):
        net.add_node(vm)
        net.add_link(f"h:{vm}p", f"{vm}:eth0")
    run_ok(h, "ip link add br0 type bridge vlan_filtering 1", *[f"ip link set {p} master br0" for p in ("v1p", "v2p", "v3p")],
           *[f"ip link set {p} up" for p in ("v1p", "v2p", "v3p")], "ip link set br0 up")
    for i, vm in enumerate(("v1", "v2", "v3"), 1):
        run_ok(net[vm], f"ip addr add 10.0.0.{i}/24 dev eth0", "ip link set eth0 up")
    return net, h


def test_vlan_filtering_isolates_ports() -> None:
    net, h = _vlan_bridge()
    assert "1 received" in net["v1"].cmd("ping -c 1 10.0.0.2")     # all in the default VLAN 1
    run_ok(h, "bridge vlan add dev v2p vid 20 pvid untagged", "bridge vlan del dev v2p vid 1")
    assert "0 received" in net["v1"].cmd("ping -c 1 10.0.0.2")
    assert "1 received" in net["v1"].cmd("ping -c 1 10.0.0.3")
    run_ok(h, "bridge vlan add dev v1p vid 20 pvid untagged")
    assert "1 received" in net["v1"].cmd("ping -c 1 10.0.0.2")
    out = h.cmd("bridge vlan show")
    assert out == ("port              vlan-id  \n"
                   "v1p               1 Egress Untagged\n"
                   "                  20 PVID Egress Untagged\n"
                   "v2p               20 PVID Egress Untagged\n"
                   "v3p               1 PVID Egress Untagged\n"
                   "br0               1 PVID Egress Untagged\n")
    assert "vlan 20 master br0" in h.cmd("bridge fdb show dev v2p")


def test_bridge_vlan_errors() -> None:
    net, h = _vlan_bridge()
    cases = {
        "bridge vlan add dev v1p": (255, "Device and VLAN ID are required arguments.\n"),
        "bridge vlan add dev nope vid 3": (255, 'Cannot find bridge device "nope"\n'),
        "bridge vlan add dev v1p vid 5000": (255, 'Invalid VLAN ID "5000"\n'),
        "bridge vlan add dev v1p vid 10-5": (255, 'Invalid VLAN range "10-5"\n'),
        "bridge vlan add dev v1p vid 10-20 pvid": (255, "pvid cannot be configured for a vlan range\n"),
        "bridge vlan del dev v1p vid 7": (255, "RTNETLINK answers: No such file or directory\n"),
        "bridge vlan add dev br0 vid 7": (255, "RTNETLINK answers: Operation not supported\n"),
    }
    for line, want in cases.items():
        r = h.run(line)
        assert (r.status, r.error) == want, line
    run_ok(h, "bridge vlan add dev br0 vid 7 self", "bridge vlan add dev v1p vid 10-12")
    assert "                  12\n" in h.cmd("bridge vlan show dev v1p")


def test_trunk_carries_tags_between_bridges(tmp_path) -> None:
    from netplex.scenario.sim import SimBackend

    from .conftest import ROOT

    b = SimBackend(pcap_dir=tmp_path)
    b.load(ROOT / "examples" / "vlan-tenants.yaml")
    assert "1 received" in b.net["vma1"].cmd("ping -c 1 10.0.10.2")
    b.close()
    from scapy.layers.l2 import Dot1Q, Ether

    from netplex.packet.pcap import read_pcap

    bridge_macs = {b.net[h].ns.devices["br0"].mac.hex(":") for h in ("host1", "host2")}
    # the VMs' frames cross the trunk tagged; only the bridges' own IGMP reports go in VLAN 1, untagged
    trunk = [Ether(d) for _, d in read_pcap(str(tmp_path / "host1-trunk.pcap"))]
    vm_frames = [f for f in trunk if f.src not in bridge_macs]
    assert vm_frames and all(Dot1Q in f and f[Dot1Q].vlan in (10, 20) for f in vm_frames)
    assert all(Dot1Q not in f for f in trunk if f.src in bridge_macs)
    access = [Ether(d) for _, d in read_pcap(str(tmp_path / "host1-tapa.pcap"))]
    assert access and not any(Dot1Q in f for f in access)
