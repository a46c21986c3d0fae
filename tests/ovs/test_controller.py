"""OpenFlow 1.3 to a controller over the simulated TCP: ovs-vswitchd's channel (connmgr)
and ovs-testcontroller's learning switch, as a user sets them up; the wire format is
checked against the specification's layouts (and scapy's OpenFlow 1.3 dissector when present)."""
from __future__ import annotations

import struct

from netplex import Network
from netplex.ovs.openflow import (
    OFPFC_ADD,
    OFPP_FLOOD,
    FlowModMsg,
    PacketIn,
    PacketOut,
    Reader,
    decode_match,
    encode,
    encode_match,
)
from tests.conftest import run_ok
from tests.ovs.conftest import pings


def _sdn(fail_mode: str = "secure", controller: bool = True):
    net = Network()
    s1, h1, h2, c0 = (net.add_node(n) for n in ("s1", "h1", "h2", "c0"))
    net.add_link("h1:eth0", "s1:p1")
    net.add_link("h2:eth0", "s1:p2")
    net.add_link("c0:eth0", "s1:mgmt")
    for h, a in ((h1, "10.0.0.1"), (h2, "10.0.0.2")):
        run_ok(h, f"ip addr add {a}/24 dev eth0 && ip link set eth0 up")
    run_ok(c0, "ip addr add 192.168.0.100/24 dev eth0 && ip link set eth0 up")
    if controller:
        run_ok(c0, "ovs-testcontroller --detach ptcp:6653")
    run_ok(s1, "ip addr add 192.168.0.1/24 dev mgmt && ip link set mgmt up && ip link set p1 up && ip link set p2 up")
    run_ok(s1, f"ovs-vsctl add-br br0 -- add-port br0 p1 -- add-port br0 p2 -- set-fail-mode br0 {fail_mode} "
               "-- set-controller br0 tcp:192.168.0.100:6653")
    net.run_for(1_000_000_000)
    return net, s1, h1, h2, c0


def test_the_controller_makes_the_switch_learn():
    net, s1, h1, h2, c0 = _sdn()
    show = run_ok(s1, "ovs-vsctl show")
    assert '        Controller "tcp:192.168.0.100:6653"\n            is_connected: true\n' in show
    assert run_ok(s1, "ovs-ofctl dump-flows br0 --no-stats") == " priority=0 actions=CONTROLLER:65535\n"
    assert pings(h1, "10.0.0.2")
    flows = run_ok(s1, "ovs-ofctl dump-flows br0 --no-stats").splitlines()
    mac1 = run_ok(h1, "cat /sys/class/net/eth0/address").strip()
    mac2 = run_ok(h2, "cat /sys/class/net/eth0/address").strip()
    # lib/learning-switch.c's exact-match flows (what the real ovs-testcontroller installed on the twin)
    assert (f" idle_timeout=60, priority=1,icmp,in_port=1,vlan_tci=0x0000/0x1fff,dl_src={mac1},dl_dst={mac2},"
            "nw_src=10.0.0.1,nw_dst=10.0.0.2,nw_tos=0,icmp_type=8,icmp_code=0 actions=output:2") in flows
    assert (f" idle_timeout=60, priority=1,arp,in_port=2,vlan_tci=0x0000/0x1fff,dl_src={mac2},dl_dst={mac1},"
            "arp_spa=10.0.0.2,arp_tpa=10.0.0.1,arp_op=2 actions=output:1") in flows
    assert "ovs-testcontroller --detach ptcp:6653" in run_ok(c0, "ps aux")
    # the controller gone: secure mode keeps the flows it set and sends nothing else anywhere
    run_ok(c0, "kill $(pidof ovs-testcontrol)")
    net.run_for(1_000_000_000)
    assert "is_connected" not in run_ok(s1, "ovs-vsctl show")
    run_ok(s1, "ovs-ofctl del-flows br0 dl_dst=" + mac2)
    assert not pings(h1, "10.0.0.2")


def test_standalone_without_a_controller_is_a_normal_switch():
    _net, s1, h1, _h2, _c0 = _sdn("standalone", controller=False)
    assert "is_connected" not in run_ok(s1, "ovs-vsctl show")
    assert run_ok(s1, "ovs-ofctl dump-flows br0 --no-stats") == ""     # no default flow once a controller is set
    assert pings(h1, "10.0.0.2")                                        # fail-open
    _net, s1, h1, _h2, _c0 = _sdn("secure", controller=False)
    assert not pings(h1, "10.0.0.2")


def test_controller_errors():
    net = Network()
    c0 = net.add_node("c0")
    assert c0.run("ovs-testcontroller ptcp:6653").error.startswith("netplex: ovs-testcontroller in the foreground")
    assert c0.run("ovs-testcontroller").error == "ovs-testcontroller: no active or passive switch connections\n"
    run_ok(c0, "ovs-testcontroller --detach ptcp:6653")
    r = c0.run("ovs-testcontroller --detach ptcp:6653")
    assert r.status == 1 and "Address already in use" in r.error


def test_targets_that_do_not_parse():
    """ovs-vsctl stores any controller target (checked on OVS 3.1: status 0); vswitchd never
    connects to one whose address or port does not parse, and ovs-testcontroller has then
    nothing to listen on. Found by the fuzz test: these raised a Python exception."""
    net = Network()
    c0, s1 = net.add_node("c0"), net.add_node("s1")
    for spec in ('"ptcp:6653 one"', "ptcp:6653:1.2.3.x", "ptcp:99999", "ptcp:x:y:z"):
        r = c0.run(f"ovs-testcontroller --detach {spec}")
        assert (r.status, r.error) == (1, "ovs-testcontroller: no active or passive switch connections\n"), spec
    run_ok(s1, "ovs-vsctl add-br br0")
    for spec in ("tcp:1.2.3.x:6653", "tcp:10.0.0.1:abc", "tcp:10.0.0.1:99999", '"tcp:10.0.0.1:6653 one"', "tcp:"):
        run_ok(s1, f"ovs-vsctl set-controller br0 {spec}")
        net.run_for(3_000_000_000)
        assert "is_connected" not in run_ok(s1, "ovs-vsctl show"), spec


def test_wire_format():
    # ofp_header: version 4, type, length, xid (spec 7.1)
    assert encode("HELLO", 7) == bytes([4, 0, 0, 8, 0, 0, 0, 7])
    # OXM in_port (class 0x8000, field 0, length 4) padded to 8 (spec 7.2.3)
    m = encode_match({"in_port": (3, 0xFFFF)})
    assert m == struct.pack("!HHI I", 1, 12, 0x80000004, 3) + b"\x00" * 4
    assert decode_match(m, 0) == ({"in_port": (3, 0xFFFF)}, 16)
    masked = encode_match({"dl_dst": (0x010000000000, 0x010000000000)})
    assert masked[4:8] == struct.pack("!I", 0x8000070C)   # eth_dst, has-mask, 12 bytes
    fm = FlowModMsg(OFPFC_ADD, {"dl_dst": (0x0200000000AA, (1 << 48) - 1)}, [(2, 0)], priority=1, idle_timeout=60)
    raw = fm.encode(9)
    assert len(raw) == struct.unpack_from("!H", raw, 2)[0] and len(raw) % 8 == 0
    mtype, xid, body = Reader().feed(raw + b"")[0]
    assert (mtype, xid) == (14, 9) and FlowModMsg.decode(body) == fm
    po = PacketOut(1, [(OFPP_FLOOD, 0)], b"\xff" * 6 + b"\x02" * 6 + b"\x08\x06")
    assert PacketOut.decode(Reader().feed(po.encode(1))[0][2]) == po
    pin = PacketIn(0xFFFFFFFF, 14, 1, 0, 0, {"in_port": (2, 0xFFFF)}, b"\x01" * 14)
    assert PacketIn.decode(Reader().feed(pin.encode(0))[0][2]) == pin
    try:
        from scapy.contrib.openflow3 import OpenFlow3
    except ImportError:
        return
    parsed = OpenFlow3(raw)
    assert parsed.version == 4 and parsed.type == 14 and parsed.priority == 1 and parsed.idle_timeout == 60
