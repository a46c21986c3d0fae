"""The stack's link configuration API (stack/rtnl.py) and the rx_handler seam, through their
public APIs: a toy link kind registered here takes ports with `ip link set p master X` and
receives their frames through rx_handler, as a bond, an OVS datapath or a macvlan would."""
from __future__ import annotations

import errno
from functools import partial
from typing import Any

import pytest

from netplex.errors import NetplexError
from netplex.network import Network
from netplex.packet.ethernet import Ethernet
from netplex.stack import rtnl
from netplex.stack.bridge import Bridge
from netplex.stack.device import (
    RX_HANDLER_CONSUMED,
    RX_HANDLER_PASS,
    NetDevice,
    RxHandlerResult,
    netdev_rx_handler_register,
    netdev_rx_handler_unregister,
)
from netplex.stack.netns import Namespace


class ToyMaster(NetDevice):
    """A master that counts its ports' frames; `consume` decides CONSUMED or PASS."""

    kind = "toy"
    accepts_ports = True

    def __init__(self, ns: Namespace, name: str, mac: bytes) -> None:
        super().__init__(ns, name, mac)
        self.seen: list[tuple[str, Ethernet]] = []
        self.consume = True

    def ndo_add_slave(self, dev: NetDevice) -> None:
        netdev_rx_handler_register(dev, partial(self.handle_frame, dev))
        dev.master = self

    def ndo_del_slave(self, dev: NetDevice) -> None:
        netdev_rx_handler_unregister(dev)
        dev.master = None

    def handle_frame(self, port: NetDevice, frame: Ethernet, nbytes: int) -> RxHandlerResult:
        self.seen.append((port.name, frame))
        return RX_HANDLER_CONSUMED if self.consume else RX_HANDLER_PASS


class ToyOps(rtnl.LinkOps):
    kind = "toy"

    def newlink(self, ns: Namespace, name: str, **opts: Any) -> NetDevice:
        dev = ToyMaster(ns, name, ns.world.random_mac())
        ns.register(dev)
        return dev


@pytest.fixture
def toy(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(rtnl.LINK_KINDS, "toy", ToyOps())


def _pair() -> tuple[Network, Any, Any]:
    net = Network()
    a, b = net.add_node("a"), net.add_node("b")
    net.add_link("a:eth0", "b:eth0")
    for n, i in ((a, 1), (b, 2)):
        for line in (f"ip addr add 10.0.0.{i}/24 dev eth0", "ip link set eth0 up"):
            assert n.run(line).status == 0
    return net, a, b


def test_toy_kind_takes_ports_and_their_frames(toy: None) -> None:
    net, a, b = _pair()
    for line in ("ip link add t0 type toy", "ip link set eth0 master t0"):
        r = b.run(line)
        assert r.status == 0, r.error
    t0 = b.ns.devices["t0"]
    assert isinstance(t0, ToyMaster) and b.ns.devices["eth0"].master is t0
    assert "master t0" in b.run("ip link show eth0").output
    a.run("ping -c 1 -W 1 10.0.0.2")
    assert t0.seen and all(port == "eth0" for port, _ in t0.seen)
    assert b.ns.devices["eth0"].stats.rx_packets >= 1


def test_pass_goes_on_up_the_normal_path(toy: None) -> None:
    net, a, b = _pair()
    assert b.run("ip link add t0 type toy").status == 0
    assert b.run("ip link set eth0 master t0").status == 0
    t0 = b.ns.devices["t0"]
    t0.consume = False
    r = a.run("ping -c 1 -W 1 10.0.0.2")
    assert r.status == 0 and " 0% packet loss" in r.output
    assert t0.seen


def test_consumed_frames_stop_at_the_master(toy: None) -> None:
    net, a, b = _pair()
    assert b.run("ip link add t0 type toy").status == 0
    assert b.run("ip link set eth0 master t0").status == 0
    r = a.run("ping -c 1 -W 1 10.0.0.2")
    assert r.status != 0
    # nomaster unregisters the handler: the port is a plain device again
    assert b.run("ip link set eth0 nomaster").status == 0
    assert b.ns.devices["eth0"].rx_handler is None
    r = a.run("ping -c 1 -W 1 10.0.0.2")
    assert r.status == 0, r.output


def test_a_master_that_takes_no_ports_refuses(toy: None) -> None:
    net, a, b = _pair()
    assert b.run("ip link add v0 type veth peer name v1").status == 0
    r = b.run("ip link set eth0 master v0")
    assert (r.status, r.error) == (2, "RTNETLINK answers: Operation not supported\n")


def test_deleting_the_master_releases_its_ports(toy: None) -> None:
    net, a, b = _pair()
    assert b.run("ip link add t0 type toy").status == 0
    assert b.run("ip link set eth0 master t0").status == 0
    assert b.run("ip link del t0").status == 0
    eth0 = b.ns.devices["eth0"]
    assert eth0.master is None and eth0.rx_handler is None


def test_rx_handler_is_one_per_device() -> None:
    net, a, b = _pair()
    eth0 = b.ns.devices["eth0"]
    br = rtnl.newlink(b.ns, "bridge", "br0")
    rtnl.set_master(eth0, br)
    with pytest.raises(NetplexError) as e:
        netdev_rx_handler_register(eth0, lambda frame: RX_HANDLER_PASS)
    assert e.value.errno == errno.EBUSY


def test_link_kinds_table() -> None:
    assert {"veth", "bridge", "tun", "vlan", "vxlan", "gre", "gretap"} <= set(rtnl.LINK_KINDS)
    for kind, ops in rtnl.LINK_KINDS.items():
        assert ops.kind == kind


def test_newlink_changelink_dellink_api() -> None:
    net = Network()
    ns = net.add_node("n").ns
    v0 = rtnl.newlink(ns, "veth", "v0", peer="v1")
    br = rtnl.newlink(ns, "bridge", "br0", stp_state=1, forward_delay=400)
    assert isinstance(br, Bridge) and br.stp_state == 1 and br.forward_delay == 400
    rtnl.set_master(v0, br)
    assert v0.master is br and v0.bridge_port is not None
    with pytest.raises(NetplexError) as e:
        rtnl.changelink(br, hello_time=5000)
    assert e.value.errno == errno.ERANGE
    vlan = rtnl.newlink(ns, "vlan", "v0.10", link=ns.devices["v1"], id=10)
    assert vlan.kind == "vlan"
    with pytest.raises(NetplexError, match="VLAN device already exists"):
        rtnl.newlink(ns, "vlan", "v0.11", link=ns.devices["v1"], id=10)
    with pytest.raises(NetplexError, match="Unknown device type"):
        rtnl.newlink(ns, "nosuchkind", "x0")
    with pytest.raises(NetplexError, match="File exists"):
        rtnl.newlink(ns, "bridge", "br0")
    rtnl.dellink(v0)
    assert "v0" not in ns.devices and "v1" not in ns.devices and "v0.10" not in ns.devices
    assert not br.ports


def test_bridge_fdb_api_and_kernel_errors() -> None:
    net = Network()
    ns = net.add_node("n").ns
    v0 = rtnl.newlink(ns, "veth", "v0", peer="v1")
    br = rtnl.newlink(ns, "bridge", "br0")
    assert isinstance(br, Bridge)
    rtnl.set_master(v0, br)
    port = v0.bridge_port
    mac = bytes.fromhex("020000000099")
    br.fdb_add(mac, port, is_static=True)
    with pytest.raises(NetplexError) as e:
        br.fdb_add(mac, port, is_static=True)
    assert e.value.errno == errno.EEXIST
    br.fdb_add(mac, port, is_static=True, replace=True)
    with pytest.raises(NetplexError) as e:
        br.fdb_add(mac, port, vid=5)
    assert e.value.errno == errno.EINVAL          # VLAN 5 is not configured on the port
    br.fdb_add(mac, port, vid=1)
    assert br.fdb_find(mac, 1) is not None and br.fdb_find(mac, 1).port is port
    br.fdb_del(mac, port)
    with pytest.raises(NetplexError) as e:
        br.fdb_del(mac, port)
    assert e.value.errno == errno.ENOENT
    with pytest.raises(NetplexError) as e:
        br.fdb_add(b"\x01" + mac[1:], port)
    assert e.value.errno == errno.EINVAL


def test_bridge_fdb_vlan_through_the_shell() -> None:
    net = Network()
    n = net.add_node("n")
    for line in ("ip link add v0 type veth peer name v1", "ip link add br0 type bridge",
                 "ip link set v0 master br0"):
        assert n.run(line).status == 0
    r = n.run("bridge fdb add 02:00:00:00:00:99 dev v0 master static vlan 5")
    assert (r.status, r.error) == (255, "RTNETLINK answers: Invalid argument\n")
    assert n.run("bridge fdb add 02:00:00:00:00:99 dev v0 master static vlan 1").status == 0
    assert "02:00:00:00:00:99 dev v0 vlan 1 master br0 static" in n.run("bridge fdb show").output
