"""Open vSwitch bonds as users build them: `ovs-vsctl add-bond ... lacp=active` facing a Linux
802.3ad bond (the two speak LACP to each other), traffic across, failover when a member's
link goes, active-backup and balance-slb admissibility, `bond/show`, `lacp/show`,
`bond/list` — texts as Open vSwitch 3.1 prints them (tests/ovs/test_real_ovs.py compares
two OVS bonds negotiating with each other against the real one)."""
from __future__ import annotations

from netplex import Network
from tests.conftest import run_ok
from tests.ovs.conftest import pings


def _lab(ovs_bond: str, host_mode: str = "802.3ad"):
    """s1's br0: a bond of p1 and p2 to h1's Linux bond (eth0, eth1), and p3 to h2."""
    net = Network()
    s1, h1, h2 = net.add_node("s1"), net.add_node("h1"), net.add_node("h2")
    net.add_link("s1:p1", "h1:eth0")
    net.add_link("s1:p2", "h1:eth1")
    net.add_link("s1:p3", "h2:eth0")
    run_ok(s1, "for p in p1 p2 p3; do ip link set $p up; done")
    run_ok(h1, f"ip link add bond0 type bond mode {host_mode} miimon 100"
               + (" lacp_rate fast" if host_mode == "802.3ad" else "")
               + " && ip link set eth0 master bond0 && ip link set eth1 master bond0 && ip link set bond0 up"
               " && ip addr add 10.0.0.1/24 dev bond0")
    run_ok(h2, "ip link set eth0 up && ip addr add 10.0.0.2/24 dev eth0")
    run_ok(s1, f"ovs-vsctl add-br br0 -- add-bond br0 bond0 p1 p2 {ovs_bond} -- add-port br0 p3")
    net.run_for(4_000_000_000)
    return net, s1, h1, h2


def _member(text: str, name: str) -> list[str]:
    lines = text.splitlines()
    i = lines.index(f"member {name}: enabled") if f"member {name}: enabled" in lines else \
        lines.index(f"member {name}: disabled")
    out = [lines[i]]
    for line in lines[i + 1:]:
        if not line.startswith("  "):
            break
        out.append(line)
    return out


def test_lacp_negotiates_with_a_linux_bond_and_traffic_crosses():
    _net, s1, h1, _h2 = _lab("bond_mode=balance-slb lacp=active other_config:lacp-time=fast")
    lacp = run_ok(s1, "ovs-appctl lacp/show bond0")
    assert lacp.splitlines()[:6] == ["---- bond0 ----", "  status: active negotiated",
                                     f"  sys_id: {run_ok(s1, 'cat /sys/class/net/br0/address').strip()}",
                                     "  sys_priority: 65534", "  aggregation key: 1", "  lacp_time: fast"]
    host_mac = run_ok(h1, "cat /sys/class/net/bond0/address").strip()
    assert lacp.count("current attached") == 2 and lacp.count(f"  partner sys_id: {host_mac}") == 2
    assert lacp.count("  actor state: activity timeout aggregation synchronized collecting distributing") == 2
    assert "partner key: 15" in lacp       # Linux's key for a 10 Gb/s full-duplex port
    bond = run_ok(s1, "ovs-appctl bond/show bond0")
    assert "lacp_status: negotiated" in bond and "all members active: false" in bond
    assert _member(bond, "p2") == ["member p2: enabled", "  may_enable: true"]
    assert run_ok(s1, "ovs-appctl bond/list") == "bond\ttype\trecircID\tmembers\nbond0\tbalance-slb\t1\tp2, p1\n"
    assert "Partner Mac Address: " + run_ok(s1, "cat /sys/class/net/br0/address").strip() in run_ok(
        h1, "cat /proc/net/bonding/bond0")
    assert pings(h1, "10.0.0.2")
    assert run_ok(s1, "ovs-vsctl get interface p1 lacp_current") == "true\n"


def test_a_member_link_going_down_fails_over():
    net, s1, h1, _h2 = _lab("lacp=active other_config:lacp-time=fast")
    assert pings(h1, "10.0.0.2")
    active = [line for line in run_ok(s1, "ovs-appctl bond/show bond0").splitlines()
              if line.startswith("active member mac: ")][0]
    assert active.endswith("(p1)")
    run_ok(s1, "ip link set p1 down")
    net.run_for(1_000_000_000)
    bond = run_ok(s1, "ovs-appctl bond/show bond0")
    assert _member(bond, "p1") == ["member p1: disabled", "  may_enable: false"]
    assert _member(bond, "p2") == ["member p2: enabled", "  active member", "  may_enable: true"]
    assert pings(h1, "10.0.0.2")
    assert run_ok(s1, "ovs-vsctl get port bond0 bond_active_slave").strip() == \
        '"' + run_ok(s1, "cat /sys/class/net/p2/address").strip() + '"'


def test_lacp_configured_without_a_partner_passes_nothing():
    _net, s1, h1, _h2 = _lab("lacp=active", host_mode="active-backup")
    lacp = run_ok(s1, "ovs-appctl lacp/show bond0")
    assert "  status: active\n" in lacp and lacp.count("defaulted detached") == 2
    assert "  partner sys_id: 00:00:00:00:00:00\n" in lacp and "  partner state:\n" in lacp
    assert "lacp_status: configured" in run_ok(s1, "ovs-appctl bond/show bond0")
    assert not pings(h1, "10.0.0.2")
    out = run_ok(s1, "ovs-appctl ofproto/trace br0 in_port=p1,dl_src=00:00:00:00:00:09")
    assert "     -> bonding refused admissibility, dropping" in out.splitlines()


def test_active_backup_without_lacp_takes_traffic_on_the_active_member_only():
    _net, s1, h1, _h2 = _lab("", host_mode="active-backup")
    bond = run_ok(s1, "ovs-appctl bond/show bond0")
    assert "bond_mode: active-backup" in bond and "lacp_status: off" in bond
    assert pings(h1, "10.0.0.2")     # Linux's active slave is eth0, OVS's active member p1: they meet
    out = run_ok(s1, "ovs-appctl ofproto/trace br0 in_port=p2,dl_dst=ff:ff:ff:ff:ff:ff")
    assert "     -> bonding refused admissibility, dropping" in out.splitlines()
    assert run_ok(s1, "ovs-appctl lacp/show") == ""
    r = s1.run("ovs-appctl lacp/show bond0")
    assert (r.status, r.error) == (2, "no such lacp object\novs-appctl: ovs-vswitchd: server returned an error\n")


def test_bond_commands_and_refusals():
    net = Network()
    s1 = net.add_node("s1")
    run_ok(s1, "ovs-vsctl add-br br0 -- add-bond br0 bond0 p1 p2")
    r = s1.run("ovs-vsctl add-bond br0 b1 p3 lacp=active")
    assert (r.status, r.error) == (1, "ovs-vsctl: add-bond requires at least 2 interfaces, but only 1 were "
                                      "specified\n")
    run_ok(s1, "ovs-vsctl add-bond-iface bond0 p3")
    assert run_ok(s1, "ovs-vsctl list-ifaces br0") == "p1\np2\np3\n"
    run_ok(s1, "ovs-vsctl del-bond-iface p3")
    r = s1.run("ovs-vsctl --may-exist add-bond br0 bond0 p1 p9")
    assert r.error == '''ovs-vsctl: "--may-exist add-bond br0 bond0 p1 p9" but bond0 actually has interface(s) p1, p2\n'''
    for setting, what in (("bond_mode=balance-tcp", "bond_mode balance-tcp"),
                          ("bond_updelay=100", "bond_updelay other than 0"),
                          ("other_config:lacp-fallback-ab=true", "other_config:lacp-fallback-ab")):
        r = s1.run(f"ovs-vsctl set port bond0 {setting}")
        assert (r.status, r.error) == (2, f"netplex: ovs-vsctl: {what} is not supported\n")
    assert run_ok(s1, "ovs-vsctl get port bond0 bond_mode") == "[]\n"
