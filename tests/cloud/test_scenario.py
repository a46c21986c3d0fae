"""A scenario's `cloud:` section: the hosts get what Neutron's linuxbridge agent and
iptables firewall write, VMs reach each other through the group's rules on both backends,
and a bad file is one message naming file, line and field."""
from __future__ import annotations

from pathlib import Path

import pytest

from netplex.errors import ScenarioError
from netplex.scenario.loader import load_scenario_text
from netplex.scenario.runner import prepare, run_scenario
from netplex.scenario.sim import SimBackend

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "cloud-security-group.yaml"

HEAD = """\
nodes:
  compute1:
    kind: cloud-host
    local_ip: 192.168.0.11
    setup: |
      ip addr add 192.168.0.11/24 dev eth0
      ip link set eth0 up
  compute2:
    kind: cloud-host
    local_ip: 192.168.0.12
    setup: |
      ip addr add 192.168.0.12/24 dev eth0
      ip link set eth0 up
links:
  - ends: [compute1:eth0, compute2:eth0]
"""


def built(commands: str) -> SimBackend:
    text = HEAD + "cloud:\n  hosts: [compute1, compute2]\n  commands: |\n" + \
        "".join(f"    {c}\n" for c in commands.strip().splitlines())
    backend = SimBackend()
    assert prepare(load_scenario_text(text, "c.yaml"), backend) is None
    return backend


BASE = """
openstack network create net1
openstack subnet create --network net1 --subnet-range 10.0.0.0/24 sub1
openstack security group create web
"""


def reach(b: SimBackend, port: int) -> int:
    b.run("compute2", f"ip netns exec vm2 nc -l {port} &")
    return b.run("compute1", f"ip netns exec vm1 nc -z -w 1 10.0.0.4 {port}").status


def test_the_group_decides_what_crosses_the_tunnel() -> None:
    closed = built(BASE + "openstack server create --network net1 --security-group web vm1\n"
                          "openstack server create --network net1 --security-group web vm2")
    assert reach(closed, 80) == 1
    opened = built(BASE + "openstack security group rule create --protocol tcp --dst-port 80 web\n"
                          "openstack server create --network net1 --security-group web vm1\n"
                          "openstack server create --network net1 --security-group web vm2")
    assert reach(opened, 80) == 0
    assert reach(opened, 23) == 1
    # the default group lets its own members in (remote group expanded to their addresses)
    default = built(BASE + "openstack server create --network net1 vm1\nopenstack server create --network net1 vm2")
    assert reach(default, 23) == 0


def test_hosts_get_the_linuxbridge_agents_devices_and_chains() -> None:
    b = built(BASE + "openstack security group rule create --protocol tcp --dst-port 80 --remote-ip 10.0.0.0/24 web\n"
                     "openstack server create --network net1 --security-group web vm1\n"
                     "openstack server create --network net1 --security-group web vm2")
    links = b.run("compute1", "ip -o link show").output
    assert " vxlan-1001: " in links and " brq" in links and " tap" in links
    vx = b.run("compute1", "ip -d link show vxlan-1001").output
    assert "vxlan id 1001 local 192.168.0.11" in vx and "dstport 8472" in vx
    fdb = b.run("compute1", "bridge fdb show dev vxlan-1001").output
    assert "00:00:00:00:00:00 dst 192.168.0.12 self permanent" in fdb
    rules = b.run("compute2", "iptables-save").output
    ports = [ln.split()[0][1:] for ln in rules.splitlines() if ln.startswith(":neutron-linuxbri-i")]
    assert len(ports) == 1 and len(ports[0]) == len("neutron-linuxbri-i") + 10
    assert f"-A {ports[0]} -s 10.0.0.0/24 -p tcp -m tcp --dport 80 -j RETURN" in rules
    assert "-A FORWARD -j neutron-filter-top" in rules
    assert b.run("compute2", "sysctl -n net.bridge.bridge-nf-call-iptables").output == "1\n"


def test_a_refused_command_is_a_setup_failure_at_its_line() -> None:
    text = HEAD + """cloud:
  hosts: [compute1, compute2]
  commands: |
    openstack network create net1
    openstack network agent list
"""
    result = run_scenario(load_scenario_text(text, "c.yaml"), SimBackend())
    assert result.error is not None
    assert (result.error["file_line"], result.error["command"], result.error["message"]) == \
        (20, "openstack network agent list", "netplex: openstack network agent is not supported")


@pytest.mark.parametrize("tail, line, field, message", [
    ("cloud:\n  hosts: [compute1, nope]\n", 17, "cloud.hosts[1]", 'unknown node "nope"'),
    ("cloud:\n  hosts: []\n", 17, "cloud.hosts", "must have at least 1 entry"),
    ("cloud:\n  hosts: [compute1]\n  agent: ovs\n", 18, "cloud.agent", "unknown field"),
])
def test_bad_cloud_section_names_file_line_field(tail: str, line: int, field: str, message: str) -> None:
    with pytest.raises(ScenarioError) as e:
        load_scenario_text(HEAD + tail, "c.yaml")
    text = str(e.value)
    assert text.startswith(f"c.yaml:{line}: {field}: ") and message in text, text


def test_a_cloud_host_needs_its_tunnel_address() -> None:
    with pytest.raises(ScenarioError) as e:
        load_scenario_text(HEAD.replace("    local_ip: 192.168.0.12\n", ""), "c.yaml")
    assert str(e.value).startswith("c.yaml:9: nodes.compute2.local_ip: "), str(e.value)


@pytest.mark.linux
def test_example_agrees_with_the_kernel(differential) -> None:
    differential.assert_agree(EXAMPLE, needs=("br_netfilter", "vxlan"))


@pytest.mark.linux
def test_vlan_example_agrees_with_the_kernel(differential) -> None:
    differential.assert_agree(ROOT / "examples" / "cloud-vlan.yaml", needs=("br_netfilter", "8021q"))


def test_a_vlan_network_rides_the_mapped_interface() -> None:
    text = """\
nodes:
  compute1:
    kind: cloud-host
    local_ip: 192.168.0.11
    physical_interface_mappings: {physnet1: eth1}
    setup: ip link set eth1 up
  compute2:
    kind: cloud-host
    local_ip: 192.168.0.12
    physical_interface_mappings: {physnet1: eth1}
    setup: ip link set eth1 up
links:
  - ends: [compute1:eth1, compute2:eth1]
cloud:
  hosts: [compute1, compute2]
  commands: |
    openstack network create --provider-network-type vlan --provider-physical-network physnet1 --provider-segment 100 v100
    openstack subnet create --network v100 --subnet-range 10.0.0.0/24 sub1
    openstack server create --network v100 vm1
    openstack server create --network v100 vm2
"""
    b = SimBackend()
    assert prepare(load_scenario_text(text, "v.yaml"), b) is None
    bridge = b.run("compute1", "ip -o link show type bridge").output.split(": ")[1]
    assert bridge.startswith("brq") and "eth1.100@eth1" in b.run("compute1", f"ip -o link show master {bridge}").output
    assert reach(b, 80) == 0   # the default group: members reach each other
    assert b.run("compute1", "ip -d link show eth1.100").output.count("vlan protocol 802.1Q id 100") == 1


def test_icmp_rules_let_ping_in() -> None:
    servers = ("openstack server create --network net1 --security-group web vm1\n"
               "openstack server create --network net1 --security-group web vm2")
    ping = "ip netns exec vm1 ping -c 1 -W 1 10.0.0.4"
    assert built(BASE + servers).run("compute1", ping).status == 1
    allowed = built(BASE + "openstack security group rule create --protocol icmp web\n" + servers)
    assert allowed.run("compute1", ping).status == 0
    assert "-p icmp -j RETURN" in allowed.run("compute2", "iptables -S").output
    echo_only = built(BASE + "openstack security group rule create --protocol icmp --remote-ip 10.0.0.9 web\n" + servers)
    assert echo_only.run("compute1", ping).status == 1
    assert "-s 10.0.0.9/32 -p icmp -j RETURN" in echo_only.run("compute2", "iptables -S").output


def test_vms_get_their_addresses_from_the_dhcp_agents_dnsmasq() -> None:
    b = built(BASE + "openstack server create --network net1 vm1\nopenstack server create --network net1 vm2")
    namespaces = b.run("compute1", "ip netns").output
    assert "qdhcp-" in namespaces            # the DHCP agent's namespace, on the first host
    assert "ns-" in b.run("compute1", "ip netns exec $(ip netns | grep qdhcp | cut -d' ' -f1) ip -br addr").output
    leases = b.run("compute1", "cut -d' ' -f3 /var/lib/neutron/dhcp/*/leases").output.split()
    assert leases == ["10.0.0.3", "10.0.0.4"]  # vm2 on compute2 asked across the VXLAN tunnel
    assert b.run("compute2", "ip netns exec vm2 ip -4 -o addr show dev eth0").output.split()[3] == "10.0.0.4/24"
    assert b.run("compute2", "ip netns exec vm2 cat /sys/class/net/eth0/mtu").output == "1450\n"   # option 26
    assert "dhclient -lf /run/dhclient-vm2-eth0.leases" in b.run("compute2", "ps -o args").output
    assert b.run("compute1", "ip netns exec vm1 ping -c 1 -W 1 10.0.0.4").status == 0   # the default group


def test_no_dhcp_subnet_is_configured_statically() -> None:
    b = built(BASE.replace("sub1", "--no-dhcp sub1") + "openstack server create --network net1 vm1")
    assert "qdhcp-" not in b.run("compute1", "ip netns").output
    assert b.run("compute1", "ip netns exec vm1 ip -4 -o addr show dev eth0").output.split()[3] == "10.0.0.2/24"
    assert b.run("compute1", "pidof dhclient").status == 1


@pytest.mark.linux
def test_two_tenants_example_agrees_with_the_kernel(differential) -> None:
    differential.assert_agree(ROOT / "examples" / "cloud-two-tenants-vxlan.yaml", needs=("br_netfilter", "vxlan"))


SERVERS = """cloud:
  hosts: [compute1, compute2]
  commands: |
    openstack network create net1
    openstack subnet create --network net1 --subnet-range 10.0.0.0/24 sub1
    openstack security group create web
    openstack security group rule create --protocol tcp --dst-port 80 web
    openstack security group rule create --protocol udp --dst-port 53 web
    openstack security group rule create --protocol icmp web
    openstack server create --network net1 --security-group web --availability-zone nova:compute1 vm1
    openstack server create --network net1 --availability-zone nova:compute2 vm2
"""


def test_probes_name_servers_from_and_to() -> None:
    """A server is a probe endpoint by name: `from:` runs in its namespace on its compute host,
    `to:` is its fixed IP, `cloud: services:` gives it listeners; the group decides."""
    text = HEAD + SERVERS + """  services:
    vm1: [tcp:80, tcp:22, udp:53]
    vm2: [udp:53]
probes:
  - tcp: {from: vm2, to: vm1, port: 80}
    expect_peer: 10.0.0.4
  - tcp: {from: vm2, to: vm1, port: 22}
    expect: fail
  - udp: {from: vm2, to: vm1, port: 53}
    expect_peer: 10.0.0.4
  - udp: {from: vm1, to: vm2, port: 53}
    expect: fail
  - ping: {from: vm2, to: vm1}
  - ping: {from: vm1, to: vm2}
    expect: fail
  - ping: {from: compute1, to: vm1}
    expect: fail
"""
    result = run_scenario(load_scenario_text(text, "c.yaml"), SimBackend())
    assert result.error is None
    assert [(p.what, p.ok) for p in result.probes] == [
        ("tcp vm2 → vm1:80", True), ("tcp vm2 → vm1:22", False), ("udp vm2 → vm1:53", True),
        ("udp vm1 → vm2:53", False), ("ping vm2 → vm1", True), ("ping vm1 → vm2", False),
        ("ping compute1 → vm1", False)]
    assert result.passed and result.probes[4].observed["replies"] == 1


@pytest.mark.parametrize("tail, line, field, message", [
    ("probes:\n  - ping: {from: vm9, to: 10.0.0.3}\n", 28, "probes[0].ping.from", 'unknown node or cloud server "vm9"'),
    ("probes:\n  - ping: {from: vm1, to: vm9}\n", 28, "probes[0].ping.to",
     'invalid IPv4 address "vm9": not an address nor a cloud server'),
    ("probes:\n  - ping: {from: vm1, to: 10.0.0.300}\n", 28, "probes[0].ping.to", 'invalid IPv4 address "10.0.0.300"'),
    ("  services:\n    vm9: [tcp:80]\n", 28, "cloud.services.vm9", 'unknown cloud server "vm9"'),
])
def test_bad_server_endpoints_name_file_line_field(tail: str, line: int, field: str, message: str) -> None:
    with pytest.raises(ScenarioError) as e:
        load_scenario_text(HEAD + SERVERS + tail, "c.yaml")
    text = str(e.value)
    assert text.startswith(f"c.yaml:{line}: {field}: ") and message in text, text


def test_without_a_cloud_a_name_is_no_address() -> None:
    with pytest.raises(ScenarioError) as e:
        load_scenario_text(HEAD + "probes:\n  - ping: {from: compute1, to: vm1}\n", "c.yaml")
    assert str(e.value) == 'c.yaml:17: probes[0].ping.to: invalid IPv4 address "vm1": not an address', str(e.value)
