"""The Open vSwitch mechanism (`cloud: mechanism: openvswitch`): hosts get what
neutron-openvswitch-agent with the iptables_hybrid firewall and the OVS interface driver write
(br-int, br-tun and its tunnels and flows, the hybrid plug, namespaces' internal ports), VMs
reach each other through it, and examples/cloud-ovs-vxlan agrees with the real ovs-vswitchd
on the kernel twin, flows included."""
from __future__ import annotations

import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netplex import cli
from netplex.cloud.ovs_agent import tunnel_port_name
from netplex.errors import ScenarioError
from netplex.scenario.loader import load_scenario, load_scenario_text
from netplex.scenario.runner import prepare
from netplex.scenario.sim import SimBackend
from tests.cloud.test_scenario import HEAD as SCENARIO_HEAD

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "cloud-ovs-vxlan.yaml"

HEAD = SCENARIO_HEAD + """\
cloud:
  hosts: [compute1, compute2]
  mechanism: openvswitch
  commands: |
    openstack network create net1
    openstack subnet create --network net1 --subnet-range 10.0.0.0/24 sub1
    openstack security group create web
    openstack security group rule create --protocol tcp --dst-port 80 web
    openstack server create --network net1 --security-group web --availability-zone nova:compute1 vm1
    openstack server create --network net1 --security-group web --availability-zone nova:compute2 vm2
"""


@pytest.fixture(scope="module")
def two() -> SimBackend:
    backend = SimBackend()
    assert prepare(load_scenario_text(HEAD, "c.yaml"), backend) is None
    return backend


def out(b: SimBackend, node: str, line: str) -> str:
    r = b.run(node, line)
    assert r.status == 0, (line, r.output, r.error)
    return r.output


def test_tunnel_port_names_are_the_remote_address_in_hex() -> None:
    assert tunnel_port_name("192.168.0.12") == "vxlan-c0a8000c"
    assert tunnel_port_name("10.0.0.1", "gre") == "gre-0a000001"


def test_bridges_ports_and_tags(two: SimBackend) -> None:
    ports = out(two, "compute1", "ovs-vsctl list-ports br-int").split()
    assert ports[0] == "patch-tun" and len(ports) == 3     # and the DHCP agent's tap (every host runs it here)
    qvo = next(p for p in ports if p.startswith("qvo"))
    assert out(two, "compute1", "ovs-vsctl list-ports br-tun").split() == ["patch-int", "vxlan-c0a8000c"]
    assert out(two, "compute1", "ovs-vsctl get-fail-mode br-int") == "secure\n"
    assert out(two, "compute1", f"ovs-vsctl get port {qvo} tag") == "1\n"
    ids = out(two, "compute1", f"ovs-vsctl get interface {qvo} external_ids")
    assert "attached-mac=" in ids and "iface-id=" in ids and 'iface-status=active' in ids and "vm-uuid=" in ids
    assert out(two, "compute1", "ovs-vsctl get interface vxlan-c0a8000c options:remote_ip") == '"192.168.0.12"\n'
    assert out(two, "compute1", "ovs-vsctl get interface patch-tun options:peer") == "patch-int\n"
    # the hybrid plug: tap and qvb on the qbr Linux bridge
    dev = qvo[3:]
    assert f"master qbr{dev}" in out(two, "compute1", f"ip -o link show tap{dev}")
    assert f"master qbr{dev}" in out(two, "compute1", f"ip -o link show qvb{dev}")


def test_tunnel_flows_map_the_vni_to_the_local_vlan_and_learn(two: SimBackend) -> None:
    two.run("compute2", "ip netns exec vm2 nc -l 80 &")
    assert two.run("compute1", "ip netns exec vm1 nc -z -w 1 10.0.0.4 80").status == 0
    flows = out(two, "compute1", "ovs-ofctl --no-stats dump-flows br-tun")
    assert "table=4, priority=1,tun_id=0x3e9 actions=mod_vlan_vid:1,resubmit(,10)" in flows
    assert "table=22, priority=1,dl_vlan=1 actions=strip_vlan,set_tunnel:0x3e9,output:2" in flows
    assert " priority=1,in_port=2 actions=resubmit(,4)" in flows      # from the tunnel
    # vm2's MAC learned from the tunnel, on the local VLAN 1, back into that tunnel
    learned = [ln for ln in flows.splitlines() if "table=20, hard_timeout=300" in ln]
    assert learned and all("vlan_tci=0x0001/0x0fff" in ln and ln.endswith("output:2") for ln in learned)
    int_flows = out(two, "compute1", "ovs-ofctl --no-stats dump-flows br-int")
    assert "table=24, priority=2,arp,in_port=2,arp_spa=10.0.0.3 actions=resubmit(,25)" in int_flows
    assert "table=60, priority=1 actions=NORMAL" in int_flows


def test_the_hybrid_firewall_decides_on_the_qbr_bridge(two: SimBackend) -> None:
    two.run("compute2", "ip netns exec vm2 nc -l 80 &")
    two.run("compute2", "ip netns exec vm2 nc -l 23 &")
    assert two.run("compute1", "ip netns exec vm1 nc -z -w 1 10.0.0.4 80").status == 0
    assert two.run("compute1", "ip netns exec vm1 nc -z -w 1 10.0.0.4 23").status == 1
    rules = out(two, "compute2", "iptables -S")
    assert "neutron-linuxbri" not in rules
    assert "-A neutron-openvswi-FORWARD -m physdev --physdev-out tap" in rules
    zone = out(two, "compute2", "iptables -t raw -S")
    assert "-m physdev --physdev-in qvb" in zone and "-j CT --zone 4097" in zone
    assert "Set zone for " in zone


def test_the_example_passes_in_the_simulator(differential) -> None:
    result = differential.sim(EXAMPLE)
    assert result.exit_status == 0, [(p.what, p.observed) for p in result.probes if not p.passed]


def test_router_and_dhcp_ports_are_internal_ports_in_their_namespaces() -> None:
    b = SimBackend()
    assert prepare(load_scenario(EXAMPLE), b) is None
    for ns, prefix in (("qdhcp-", "tap"), ("qrouter-", "qr-"), ("qrouter-", "qg-")):
        names = [n for n in out(b, "network1", "ip netns").split() if n.startswith(ns)]
        devs = " ".join(out(b, "network1", f"ip -n {n} -o link show") for n in names)
        assert f": {prefix}" in devs
        port = devs.split(f": {prefix}")[1].split(":")[0].split("@")[0]
        assert out(b, "network1", f"ovs-vsctl get interface {prefix}{port} type") == "internal\n"
    assert "int-br-ex" in out(b, "network1", "ovs-vsctl list-ports br-int")
    assert out(b, "network1", "ovs-vsctl list-ports br-ex").split() == ["eth1", "phy-br-ex"]


def with_qos(*rules: str) -> str:
    return HEAD.replace("--availability-zone nova:compute1 vm1",
                        "--availability-zone nova:compute1 vm1\n    openstack network qos policy create bw\n" +
                        "".join(f"    openstack network qos rule create {r} bw\n" for r in rules) +
                        "    openstack network set --qos-policy bw net1")


def test_an_egress_limit_polices_the_qvo_port() -> None:
    """The OVS QoS driver: what vm1 sends is policed as qvo takes it in (ingress_policing_*)."""
    b = SimBackend()
    assert prepare(load_scenario_text(with_qos("--type bandwidth-limit --max-kbps 1000"), "c.yaml"), b) is None
    qvo = next(p for p in out(b, "compute1", "ovs-vsctl list-ports br-int").split() if p.startswith("qvo"))
    assert out(b, "compute1", f"ovs-vsctl get interface {qvo} ingress_policing_rate") == "1000\n"
    assert out(b, "compute1", f"ovs-vsctl get interface {qvo} ingress_policing_burst") == "800\n"
    assert "police" in out(b, "compute1", f"tc filter show dev {qvo} parent ffff:")


def test_an_ingress_limit_is_a_linux_htb_queue_on_the_qvo_port() -> None:
    """What vm1 receives: a linux-htb QoS on qvo's Port with queue 0 at the rule's rate."""
    b = SimBackend()
    text = with_qos("--type bandwidth-limit --max-kbps 2000 --max-burst-kbits 200 --ingress")
    assert prepare(load_scenario_text(text, "c.yaml"), b) is None
    qvo = next(p for p in out(b, "compute1", "ovs-vsctl list-ports br-int").split() if p.startswith("qvo"))
    assert out(b, "compute1", "ovs-vsctl --bare --columns=type list qos").split() == ["linux-htb"]
    queue = out(b, "compute1", "ovs-vsctl --bare --columns=other_config list queue")
    assert "max-rate=2000000" in queue and "burst=200000" in queue
    assert out(b, "compute1", f"ovs-vsctl get port {qvo} qos") != "[]\n"
    assert "ceil 2Mbit" in out(b, "compute1", f"tc class show dev {qvo}")    # the switch shapes qvo


def test_dscp_marking_on_an_openvswitch_cloud_is_refused() -> None:
    failure = prepare(load_scenario_text(with_qos("--type dscp-marking --dscp-mark 26"), "c.yaml"), SimBackend())
    assert failure is not None
    assert failure["message"] == "netplex: QoS dscp-marking rules on an openvswitch cloud are not supported"


def test_an_unknown_mechanism_names_file_line_field() -> None:
    with pytest.raises(ScenarioError) as e:
        load_scenario_text(HEAD.replace("mechanism: openvswitch", "mechanism: ovn"), "c.yaml")
    assert "c.yaml:18" in str(e.value) and "cloud.mechanism" in str(e.value)


@pytest.mark.linux
def test_the_example_agrees_with_the_real_ovs(differential) -> None:
    """The real ovs-vswitchd (userspace datapath) gets the same lines: the probes, the port
    tags, the agent's flows on br-int, br-tun and br-ex and what br-tun learned agree."""
    differential.assert_agree(EXAMPLE, needs=("br_netfilter",))


VLAN = """\
nodes:
  compute1:
    kind: cloud-host
    local_ip: 192.168.0.11
    physical_interface_mappings: {physnet1: eth1}
    setup: |
      ip addr add 192.168.0.11/24 dev eth0
      ip link set eth0 up
      ip link set eth1 up
  compute2:
    kind: cloud-host
    local_ip: 192.168.0.12
    physical_interface_mappings: {physnet1: eth1}
    setup: |
      ip addr add 192.168.0.12/24 dev eth0
      ip link set eth0 up
      ip link set eth1 up
links:
  - ends: [compute1:eth0, compute2:eth0]
  - ends: [compute1:eth1, compute2:eth1]
cloud:
  hosts: [compute1, compute2]
  mechanism: openvswitch
  commands: |
    openstack network create --provider-network-type vlan --provider-physical-network physnet1 --provider-segment 100 vnet
    openstack subnet create --network vnet --subnet-range 10.1.0.0/24 --no-dhcp vsub
    openstack security group rule create --protocol icmp default
    openstack server create --network vnet --availability-zone nova:compute1 vm1
    openstack server create --network vnet --availability-zone nova:compute2 vm2
"""


def test_a_vlan_network_is_translated_on_the_physical_bridge() -> None:
    """provision_local_vlan of a VLAN network: br-int maps VLAN 100 from int-br-physnet1 to the
    local VLAN, br-physnet1 maps it back on the way out; the wire carries VLAN 100."""
    b = SimBackend()
    assert prepare(load_scenario_text(VLAN, "v.yaml"), b) is None
    assert out(b, "compute1", "ovs-vsctl list-ports br-physnet1").split() == ["eth1", "phy-br-physnet1"]
    int_flows = out(b, "compute1", "ovs-ofctl --no-stats dump-flows br-int")
    assert " priority=3,in_port=1,dl_vlan=100 actions=mod_vlan_vid:1,resubmit(,59)" in int_flows
    assert " priority=2,in_port=1 actions=drop" in int_flows
    phys = out(b, "compute1", "ovs-ofctl --no-stats dump-flows br-physnet1")
    assert " priority=4,in_port=2,dl_vlan=1 actions=mod_vlan_vid:100,NORMAL" in phys
    assert "1 received" in out(b, "compute1", "ip netns exec vm1 ping -c 1 -W 1 10.1.0.3")
    # what compute2's br-int took in as VLAN 100 from its physical bridge: the wire carried the segment
    assert "n_packets=0," not in out(b, "compute2", "ovs-ofctl dump-flows br-int dl_vlan=100")
    assert "n_packets=0," not in out(b, "compute1", "ovs-ofctl dump-flows br-physnet1 dl_vlan=1")


@pytest.mark.linux
@pytest.mark.skipif(not os.environ.get("NETPLEX_CLOUD_TWIN"), reason="a second twin run (~20 s): NETPLEX_CLOUD_TWIN=1")
def test_a_vlan_network_agrees_with_the_real_ovs(differential, tmp_path: Path) -> None:
    """The VLAN network's translation on the real ovs-vswitchd: the same reachability, the
    same flows on br-int and br-physnet1, VLAN 100 taken in from the wire (the counts of the
    other flows differ: the twin's VMs also send IPv6 router solicitations)."""
    path = tmp_path / "cloud-ovs-vlan.yaml"
    path.write_text(VLAN + """probes:
  - ping: {from: vm1, to: vm2}
  - cmd: {node: compute2, run: "ovs-ofctl --no-stats dump-flows br-int | sort"}    # the real one's rules of a subtable in hash order
  - cmd: {node: compute2, run: "ovs-ofctl dump-flows br-int dl_vlan=100 | grep -c 'n_packets=[1-9]'"}
    expect_output: "1"
  - cmd: {node: compute1, run: "ovs-ofctl --no-stats dump-flows br-physnet1"}
""")
    differential.assert_agree(path, needs=("br_netfilter",))


def test_why_reads_the_hybrid_firewall() -> None:
    """`netplex cloud why` on an OVS cloud names the rule by the `neutron-openvswi-` chains."""
    r = CliRunner().invoke(cli.app, ["cloud", "why", str(EXAMPLE), "red2", "red1", "tcp", "22"])
    assert r.exit_code == 1, r.stdout
    assert "verdict: dropped by the security groups of red1's port" in r.stdout
    assert "decided by: -A neutron-openvswi-sg-fallback" in r.stdout
    r = CliRunner().invoke(cli.app, ["cloud", "why", str(EXAMPLE), "red2", "red1", "tcp", "80"])
    assert r.exit_code == 0 and "-A neutron-openvswi-i" in r.stdout and "--dport 80 -j RETURN" in r.stdout


def on_br_phy(text: str) -> str:
    """The hosts' tunnel addresses on an OVS bridge holding eth0, as the twin's userspace
    datapath needs for VXLAN."""
    for n in ("11", "12"):
        text = text.replace(f"      ip addr add 192.168.0.{n}/24 dev eth0\n      ip link set eth0 up\n",
                            f"      ip link set eth0 up\n      ovs-vsctl add-br br-phy -- add-port br-phy eth0\n"
                            f"      ip addr add 192.168.0.{n}/24 dev br-phy\n      ip link set br-phy up\n")
    return text


@pytest.mark.linux
@pytest.mark.skipif(not os.environ.get("NETPLEX_CLOUD_TWIN"), reason="a second twin run (~20 s): NETPLEX_CLOUD_TWIN=1")
def test_qos_rows_agree_with_the_real_ovs(differential, tmp_path: Path) -> None:
    """The real ovs-vsctl takes the QoS driver's lines and lists the same QoS and Queue rows."""
    path = tmp_path / "cloud-ovs-qos.yaml"
    # (the egress limit's ingress_policing needs cls_basic, which the twin's kernel may lack)
    text = with_qos("--type bandwidth-limit --max-kbps 2000 --max-burst-kbits 200 --ingress")
    path.write_text(on_br_phy(text) + """probes:
  - cmd: {node: compute1, run: "ovs-vsctl --bare --columns=type,other_config,external_ids list qos"}
  - cmd: {node: compute1, run: "ovs-vsctl --bare --columns=other_config,external_ids list queue"}
  - cmd: {node: compute1, run: "tc class show dev $(ovs-vsctl list-ports br-int | grep qvo) | grep -o 'ceil [^ ]*'"}
""")
    differential.assert_agree(path)
