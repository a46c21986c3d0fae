"""VXLAN and GRE devices: what the tools print, what the kernel refuses, and the packets on the wire."""
from __future__ import annotations

import subprocess

import pytest

from netplex.scenario.sim import SimBackend
from netplex.stack.dropreason import SkbDropReason

from .conftest import ROOT, run_ok

DSTPORT_WARNING = ("vxlan: destination port not specified\nWill use Linux kernel default (non-standard value)\n"
                   "Use 'dstport 4789' to get the IANA assigned value\n"
                   "Use 'dstport 0' to get default and quiet this message\n")


def test_vxlan_errors_and_defaults(pair) -> None:
    net, a, b = pair
    r = a.run("ip link add vx1 type vxlan id 8 local 192.168.0.1")
    assert (r.status, r.output, r.error) == (0, "", DSTPORT_WARNING)
    assert a.ns.devices["vx1"].dstport == 8472 and a.ns.devices["vx1"].mtu == 1500
    cases = {
        "ip link add vx2 type vxlan": (2, "Error: Required attributes not provided to perform the operation.\n"),
        "ip link add vx2 type vxlan id 16777216": (255, 'Error: argument "16777216" is wrong: invalid id\n'),
        "ip link add vx2 type vxlan id 7 group 239.1.1.1": (1, "vxlan: 'group' requires 'dev' to be specified\n"),
        "ip link add vx2 type vxlan id 7 remote 1.1.1.1 group 239.1.1.1":
            (1, "vxlan: both group and remote cannot be specified\n"),
        "ip link add vx2 type vxlan id 7 remote 239.1.1.1": (255, 'Error: argument "239.1.1.1" is wrong: invalid remote address\n'),
        "ip link add vx2 type vxlan id 7 group 1.1.1.1": (255, 'Error: argument "1.1.1.1" is wrong: invalid group address\n'),
        "ip link add vx2 type vxlan id 5 dev nosuch": (255, 'Cannot find device "nosuch"\n'),
        "ip link add vx2 type vxlan id 5 ttl 300": (255, 'Error: argument "300" is wrong: TTL must be <= 255\n'),
        "ip link add vx2 type vxlan id 8 dstport 8472": (2, "Error: A VXLAN device with the specified VNI already exists.\n"),
        "ip link set vx1 type vxlan id 9": (2, "Error: Cannot change VNI.\n"),
    }
    for line, want in cases.items():
        r = a.run(line)
        assert (r.status, r.error) == want, line
    r = a.run("ip link add vx2 type vxlan id 5 foo")
    assert r.status == 1 and r.error.startswith('vxlan: unknown command "foo"?\nUsage: ... vxlan id VNI\n')
    run_ok(a, "ip link add vx3 type vxlan id 9 group 239.1.1.2 dev eth0 dstport 0")
    assert a.ns.devices["vx3"].mtu == 1450
    assert "    vxlan id 9 group 239.1.1.2 dev eth0 srcport 0 0 dstport 8472 ttl auto ageing 300 udpcsum" in \
        a.cmd("ip -d link show vx3")


def test_vxlan_fdb_commands(pair) -> None:
    net, a, b = pair
    run_ok(a, "ip link add vx8 type vxlan id 8 local 192.168.0.1 dstport 8472",
           "bridge fdb add 00:00:00:00:00:00 dev vx8 dst 192.168.0.2",
           "bridge fdb append 00:00:00:00:00:00 dev vx8 dst 192.168.0.3",
           "bridge fdb add 02:00:00:00:00:05 dev vx8 dst 192.168.0.3 port 99 vni 77")
    assert a.cmd("bridge fdb show dev vx8") == (
        "02:00:00:00:00:05 dst 192.168.0.3 port 99 vni 77 self permanent\n"
        "00:00:00:00:00:00 dst 192.168.0.2 self permanent\n"
        "00:00:00:00:00:00 dst 192.168.0.3 self permanent\n")
    r = a.run("bridge fdb add 00:00:00:00:00:00 dev vx8 dst 192.168.0.2")
    assert (r.status, r.error) == (255, "RTNETLINK answers: File exists\n")
    run_ok(a, "bridge fdb replace 02:00:00:00:00:05 dev vx8 dst 192.168.0.4 static",
           "bridge fdb del 00:00:00:00:00:00 dev vx8 dst 192.168.0.3")
    assert a.cmd("bridge fdb show dev vx8") == (
        "02:00:00:00:00:05 dst 192.168.0.4 self static\n"
        "00:00:00:00:00:00 dst 192.168.0.2 self permanent\n")
    assert "dev vx8 dst 192.168.0.2 self permanent" in a.cmd("bridge fdb show")


def test_vxlan_learning_ageing_and_flush() -> None:
    b = SimBackend()
    b.load(ROOT / "examples" / "vxlan-multicast.yaml")
    v1, vm1 = b.net["vtep1"], b.net["vm1"]
    assert "1 received" in vm1.cmd("ping -c 1 10.0.101.2")
    assert "02:00:00:00:01:02 dst 192.168.1.2 self \n" in v1.cmd("bridge fdb show dev vxlan0")
    b.net.run_for(400_000_000_000)   # ageing 300 s
    assert "dst 192.168.1.2" not in v1.cmd("bridge fdb show dev vxlan0")
    assert "1 received" in vm1.cmd("ping -c 1 10.0.101.2")
    run_ok(v1, "ip link set vxlan0 down")   # vxlan_stop flushes what was learned
    assert v1.cmd("bridge fdb show dev vxlan0 | grep self") == "00:00:00:00:00:00 dst 239.1.1.1 via eth0 self permanent\n"
    assert "01:00:5e:01:01:01" not in v1.cmd("bridge fdb show dev eth0")


def test_vxlan_mtu_effect() -> None:
    """50 bytes of overhead: a VM at MTU 1500 behind a 1450-byte VXLAN loses full-size frames."""
    b = SimBackend()
    b.load(ROOT / "examples" / "vxlan-multicast.yaml")
    vm1 = b.net["vm1"]
    assert "1 received" in vm1.cmd("ping -c 1 -s 1422 10.0.101.2")    # 1450 bytes of IP: fits
    run_ok(vm1, "ip link set eth0 mtu 1500")
    run_ok(b.net["vm2"], "ip link set eth0 mtu 1500")
    assert "1 received" in vm1.cmd("ping -c 1 -s 1422 10.0.101.2")
    assert "1 received" not in vm1.cmd("ping -c 1 -s 1472 10.0.101.2")   # dropped at br0 → vxlan0
    assert b.net["vtep1"].ns.drops.get(SkbDropReason.MTU_EXCEEDED)


def test_gre_tunnel_commands(pair) -> None:
    net, a, b = pair
    run_ok(a, "ip tunnel add gre1 mode gre remote 192.168.0.2 local 192.168.0.1 ttl 255 key 5")
    assert a.cmd("ip tunnel show") == "gre1: gre/ip remote 192.168.0.2 local 192.168.0.1 ttl 255 key 5\n"
    run_ok(a, "ip tunnel add gre2 mode gre remote 192.168.0.3 ikey 1 okey 2 csum")
    assert a.cmd("ip tunnel show gre2") == ("gre2: gre/ip remote 192.168.0.3 local any ttl inherit ikey 1 okey 2\n"
                                            "  Checksum in received packet is required.\n"
                                            "  Checksum output packets.\n")
    assert a.cmd("ip link show gre1") == (
        "3: gre1@NONE: <POINTOPOINT,NOARP> mtu 1472 qdisc noop state DOWN mode DEFAULT group default qlen 1000\n"
        "    link/gre 192.168.0.1 peer 192.168.0.2\n")
    # statuses as iproute2 6.1 gives them: do_add/do_del return -1, ip exits 1; invarg() exits 255
    cases = {
        "ip tunnel add gre1 mode gre remote 192.168.0.2 local 192.168.0.1 key 5": (1, 'add tunnel "gre0" failed: File exists\n'),
        "ip tunnel add t9 remote 1.1.1.1": (1, "cannot determine tunnel mode (ipip, gre, vti or sit)\n"),
        "ip tunnel add t9 mode foo": (255, 'Unknown tunnel mode "foo"\n'),
        "ip tunnel add t9 mode gre remote 1.1.1.1 ttl 9 nopmtudisc": (1, "ttl != 0 and nopmtudisc are incompatible\n"),
        "ip tunnel del nope": (1, 'delete tunnel "nope" failed: No such device\n'),
        "ip tunnel change": (1, "cannot determine tunnel mode (ipip, gre, vti or sit)\n"),
    }
    for line, want in cases.items():
        r = a.run(line)
        assert (r.status, r.error) == want, line
    run_ok(a, "ip tunnel del gre2")
    assert "gre2" not in a.ns.devices


def test_gre_key_mismatch_is_rejected_with_port_unreachable(pair) -> None:
    net, a, b = pair
    run_ok(a, "ip tunnel add tn mode gre remote 192.168.0.2 local 192.168.0.1 key 1", "ip link set tn up",
           "ip addr add 10.9.0.1/30 dev tn")
    run_ok(b, "ip tunnel add tn mode gre remote 192.168.0.1 local 192.168.0.2 key 2", "ip link set tn up",
           "ip addr add 10.9.0.2/30 dev tn")
    assert "0 received" in a.cmd("ping -c 1 10.9.0.2")
    assert b.ns.drops.get(SkbDropReason.GRE_NO_TUNNEL) == 1
    run_ok(b, "ip tunnel change tn mode gre remote 192.168.0.1 local 192.168.0.2 key 1")
    assert "1 received" in a.cmd("ping -c 1 10.9.0.2")


def test_gretap_bridges_two_lans(pair) -> None:
    net, a, b = pair
    for n, i in ((a, 1), (b, 2)):
        peer = 3 - i
        run_ok(n, f"ip link add gt type gretap remote 192.168.0.{peer} local 192.168.0.{i}",
               "ip link add br0 type bridge", "ip link set gt master br0", "ip link set gt up",
               "ip link set br0 up", f"ip addr add 10.8.0.{i}/24 dev br0")
    assert a.ns.devices["gt"].mtu == 1462
    assert "1 received" in a.cmd("ping -c 1 10.8.0.2")
    assert a.cmd("ip -d link show gt").splitlines()[2].startswith(
        "    gretap remote 192.168.0.2 local 192.168.0.1 ttl inherit ")


def _tshark(path, *extra: str) -> list[list[str]]:
    proc = subprocess.run(["tshark", "-r", str(path), *extra, "-T", "fields", "-e", "frame.protocols",
                           "-e", "_ws.expert.message"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return [r.split("\t") for r in proc.stdout.splitlines()]


@pytest.mark.tools("tshark")
@pytest.mark.parametrize("example,port", [("vxlan-multicast", 4789), ("vxlan-static", 4789)])
def test_tshark_decodes_vxlan(tmp_path, example: str, port: int) -> None:
    b = SimBackend(pcap_dir=tmp_path)
    from netplex.scenario.loader import load_scenario
    from netplex.scenario.runner import run_scenario

    res = run_scenario(load_scenario(ROOT / "examples" / f"{example}.yaml"), b)
    assert res.passed
    rows = _tshark(tmp_path / "vtep1-eth0.pcap", "-o", "udp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE")
    protos = {r[0] for r in rows}
    assert "eth:ethertype:ip:udp:vxlan:eth:ethertype:arp" in protos
    assert "eth:ethertype:ip:udp:vxlan:eth:ethertype:ip:icmp:data" in protos
    assert not any("Bad" in "".join(r) or "alformed" in "".join(r) for r in rows)


@pytest.mark.tools("tshark")
def test_tshark_decodes_vxlan_on_8472(tmp_path, pair) -> None:
    net, a, b = pair
    for n, i in ((a, 1), (b, 2)):
        run_ok(n, f"ip link add vx type vxlan id 3 remote 192.168.0.{3 - i} dstport 0", "ip link set vx up",
               f"ip addr add 10.3.0.{i}/24 dev vx")
    net.start_pcap(tmp_path)
    assert "1 received" in a.cmd("ping -c 1 10.3.0.2")
    net.stop_pcap()
    rows = _tshark(tmp_path / "a-eth0.pcap", "-d", "udp.port==8472,vxlan")
    assert any(r[0].startswith("eth:ethertype:ip:udp:vxlan:eth:ethertype:ip:icmp") for r in rows)


@pytest.mark.tools("tshark")
def test_tshark_decodes_gre(tmp_path) -> None:
    from netplex.scenario.loader import load_scenario
    from netplex.scenario.runner import run_scenario

    res = run_scenario(load_scenario(ROOT / "examples" / "gre-mesh.yaml"), SimBackend(pcap_dir=tmp_path))
    assert res.passed
    rows = _tshark(tmp_path / "site1-eth0.pcap", "-o", "ip.check_checksum:TRUE")
    protos = {r[0] for r in rows}
    assert "eth:ethertype:ip:gre:ip:icmp:data" in protos
    assert not any("Bad" in "".join(r) or "alformed" in "".join(r) for r in rows)
    proc = subprocess.run(["tshark", "-r", str(tmp_path / "site1-eth0.pcap"), "-Y", "gre", "-T", "fields",
                           "-e", "gre.key"], capture_output=True, text=True, timeout=60)
    assert set(proc.stdout.split()) <= {"0x0000000c", "0x0000000d", "0x00000017"}


def test_tenant_isolation_pcaps(tmp_path) -> None:
    """No frame of tenant B ever reaches an A VM, and the underlay carries both VNIs."""
    from scapy.layers.l2 import Ether
    from scapy.layers.vxlan import VXLAN

    from netplex.packet.pcap import read_pcap
    from netplex.scenario.loader import load_scenario
    from netplex.scenario.runner import run_scenario

    res = run_scenario(load_scenario(ROOT / "examples" / "tenant-isolation.yaml"), SimBackend(pcap_dir=tmp_path))
    assert res.passed
    macs = {"a": {"02:00:00:00:0a:01", "02:00:00:00:0a:02"}, "b": {"02:00:00:00:0b:01", "02:00:00:00:0b:02"}}
    for vm in ("a1", "a2", "b1", "b2"):
        other = macs["b" if vm[0] == "a" else "a"]
        frames = [Ether(d) for _, d in read_pcap(str(tmp_path / f"{vm}-eth0.pcap"))]
        assert frames
        assert not any(f.src in other or f.dst in other for f in frames), vm
    vnis = {Ether(d)[VXLAN].vni for _, d in read_pcap(str(tmp_path / "host1-eth0.pcap"))
            if VXLAN in Ether(d)}
    assert vnis == {101, 102}


def test_no_fdb_entry_drops(pair) -> None:
    net, a, b = pair
    run_ok(a, "ip link add vx type vxlan id 3 dstport 4789", "ip link set vx up", "ip addr add 10.3.0.1/24 dev vx")
    assert "0 received" in a.cmd("ping -c 1 10.3.0.2")
    assert a.ns.devices["vx"].stats.tx_dropped >= 1
