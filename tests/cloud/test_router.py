"""Neutron routers and floating IPs (issue 14): the `openstack router`/`floating ip` commands,
their errors, and what the L3 agent builds from them (the qrouter- namespace, its qr-/qg-
ports, SNAT, the floating IP's DNAT/SNAT), on the simulator and the kernel twin."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from netplex.cloud import Controller, openstack
from netplex.scenario.loader import load_scenario_text
from netplex.scenario.runner import prepare
from netplex.scenario.sim import SimBackend

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "cloud-floating-ip.yaml"
TEXT = EXAMPLE.read_text()
SETUP = ("openstack network create --external --provider-network-type flat --provider-physical-network physnet1 public",
         "openstack subnet create --network public --subnet-range 198.51.100.0/24 --no-dhcp public-sub",
         "openstack network create net1",
         "openstack subnet create --network net1 --subnet-range 10.0.0.0/24 sub1",
         "openstack server create --network net1 vm1",
         "openstack router create r1")


@pytest.fixture
def ctl() -> Controller:
    c = Controller(["compute1", "network1"], mappings={"network1": {"physnet1": "eth1"}}, l3_hosts=["network1"])
    for line in SETUP:
        assert openstack(c, line)[0] == 0, line
    return c


def test_router_interfaces_take_the_subnet_gateway(ctl: Controller) -> None:
    assert openstack(ctl, "openstack router add subnet r1 sub1") == (0, "", "")
    status, out, _ = openstack(ctl, "openstack port list --device-owner network:router_interface -f json")
    assert status == 0 and [p["Fixed IP Addresses"].split("'")[1] for p in json.loads(out)] == ["10.0.0.1"]
    assert openstack(ctl, "openstack router set --external-gateway public r1") == (0, "", "")
    info = json.loads(json.loads(openstack(ctl, "openstack router show r1 -f json")[1])["external_gateway_info"])
    assert info["external_fixed_ips"][0]["ip_address"] == "198.51.100.2" and info["enable_snat"] is True
    assert ctl.router("r1").host == "network1"


@pytest.mark.parametrize("line, message", [
    ("openstack router set --external-gateway net1 r1", "Bad router request: Network {net1} is not an external network."),
    ("openstack router add subnet r1 public-sub", None),   # a router may have an interface on any subnet with a gateway
    ("openstack router add subnet r9 sub1", "No Router found for r9"),
    ("openstack floating ip create net1", "Bad floatingip request: Network {net1} is not a valid external network."),
    ("openstack floating ip create public --floating-ip-address 203.0.113.5",
     "IP address 203.0.113.5 is not a valid IP for any of the subnets on the specified network."),
])
def test_api_refusals_print_the_servers_message(ctl: Controller, line: str, message: str | None) -> None:
    status, out, err = openstack(ctl, line)
    if message is None:
        assert status == 0
        return
    assert (status, out) == (1, "")
    assert err == f"Error while executing command: {message.format(net1=ctl.network('net1').id)}\n"


def test_floating_ip_needs_a_router_joining_its_network_to_the_subnet(ctl: Controller) -> None:
    assert openstack(ctl, "openstack floating ip create public --floating-ip-address 198.51.100.10")[0] == 0
    status, _, err = openstack(ctl, "openstack server add floating ip vm1 198.51.100.10")
    port = ctl.server("vm1").ports[0]
    assert (status, err) == (1, f"Error while executing command: External network {ctl.network('public').id} is not "
                                f"reachable from subnet {ctl.subnet('sub1').id}.  Therefore, cannot associate Port "
                                f"{port} with a Floating IP.\n")
    assert openstack(ctl, "openstack floating ip show 198.51.100.10 -f value -c status")[0] == 2   # -c: refused
    for line in ("openstack router add subnet r1 sub1", "openstack router set --external-gateway public r1",
                 "openstack server add floating ip vm1 198.51.100.10"):
        assert openstack(ctl, line) == (0, "", ""), line
    fip = json.loads(openstack(ctl, "openstack floating ip show 198.51.100.10 -f json")[1])
    assert (fip["fixed_ip_address"], fip["port_id"], fip["router_id"], fip["status"]) == \
        ("10.0.0.3", port, ctl.router("r1").id, "ACTIVE")
    # what the floating IP needs cannot go while it is associated
    status, _, err = openstack(ctl, "openstack router remove subnet r1 sub1")
    assert status == 1 and "cannot be deleted, as it is required by one or more floating IPs." in err
    status, _, err = openstack(ctl, "openstack router unset --external-gateway r1")
    assert status == 1 and "is required by one or more floating IPs." in err
    status, _, err = openstack(ctl, "openstack router delete r1")
    assert (status, err) == (1, f"Failed to delete router with name or ID 'r1': Router {ctl.router('r1').id} still has ports\n"
                                "1 of 1 routers failed to delete.\n")
    assert openstack(ctl, "openstack floating ip unset --port 198.51.100.10") == (0, "", "")
    assert openstack(ctl, "openstack router remove subnet r1 sub1") == (0, "", "")


@pytest.mark.parametrize("line, status, err", [
    ("openstack router add subnet r1", 2, "openstack router add subnet: error: the following arguments are required: <subnet>\n"),
    ("openstack router add port r1 p", 2, "netplex: openstack router add port is not supported\n"),
    ("openstack router set --external-gateway public --enable-snat --disable-snat r1", 2,
     "openstack router set: error: argument --disable-snat: not allowed with argument --enable-snat\n"),
    ("openstack router set --fixed-ip subnet=x r1", 2, "netplex: openstack router set --fixed-ip is not supported\n"),
    ("openstack floating ip create", 2, "openstack floating ip create: error: the following arguments are required: <network>\n"),
    ("openstack port create p1", 2, "netplex: openstack port create is not supported\n"),
])
def test_usage_errors_and_refusals(ctl: Controller, line: str, status: int, err: str) -> None:
    before = (dict(ctl.ports), dict(ctl.routers))
    assert openstack(ctl, line) == (status, "", err)
    assert (dict(ctl.ports), dict(ctl.routers)) == before


def built(commands: str) -> SimBackend:
    start = TEXT.index("  commands: |\n") + len("  commands: |\n")
    # without the example's listeners and probes (they name servers the commands may not make)
    text = TEXT[:start] + "".join(f"    {c}\n" for c in commands.strip().splitlines())
    b = SimBackend()
    assert prepare(load_scenario_text(text, "r.yaml"), b) is None
    return b


BASE = TEXT[TEXT.index("  commands: |\n") + len("  commands: |\n"):TEXT.index("\n  services:") + 1]
QROUTER = "ip netns exec $(ip netns | grep qrouter | cut -d' ' -f1) "


def seen_as(b: SimBackend, vm: str) -> str:
    return b.run("compute1", f"echo hi | ip netns exec {vm} nc -w 2 198.51.100.1 8080 | cut -d: -f1").output


def test_the_l3_agents_namespace_ports_and_nat() -> None:
    b = built(BASE)
    addrs = b.run("network1", QROUTER + "ip -br addr").output.splitlines()
    assert [ln.split()[0].split("@")[0][:3] for ln in addrs] == ["lo", "qr-", "qg-"]
    assert addrs[1].split()[2:] == ["10.0.0.1/24"] and addrs[2].split()[2:] == ["198.51.100.2/24", "198.51.100.10/32"]
    assert "default via 198.51.100.1 dev qg-" in b.run("network1", QROUTER + "ip route").output
    assert b.run("network1", QROUTER + "sysctl -n net.ipv4.ip_forward").output == "1\n"
    nat = b.run("network1", QROUTER + "iptables -t nat -S").output.splitlines()
    qg = addrs[2].split()[0].split("@")[0]
    for rule in ("-A POSTROUTING -j neutron-postrouting-bottom",
                 '-A neutron-postrouting-bottom -m comment --comment "Perform source NAT on outgoing traffic." -j neutron-l3-agent-snat',
                 f"-A neutron-l3-agent-POSTROUTING ! -o {qg} -m conntrack ! --ctstate DNAT -j ACCEPT",
                 "-A neutron-l3-agent-PREROUTING -d 198.51.100.10/32 -j DNAT --to-destination 10.0.0.3",
                 f"-A neutron-l3-agent-snat -o {qg} -j SNAT --to-source 198.51.100.2 --random-fully"):
        assert rule in nat, rule
    snat = [ln for ln in nat if ln.startswith("-A neutron-l3-agent-snat")]
    assert snat[0] == "-A neutron-l3-agent-snat -j neutron-l3-agent-float-snat"   # floating IPs first
    assert f"-A neutron-l3-agent-mark -i {qg} -j MARK --set-xmark 0x2/0xffff" in b.run("network1", QROUTER + "iptables -t mangle -S").output
    # the compute host has the tenant network's bridge and a tunnel to the network node
    assert "00:00:00:00:00:00 dst 192.168.0.21 self permanent" in b.run("compute1", "bridge fdb show dev vxlan-1001").output
    assert (seen_as(b, "vm1"), seen_as(b, "vm2")) == ("peer 198.51.100.10\n", "peer 198.51.100.2\n")


def test_disable_snat_leaves_only_floating_ips_out() -> None:
    b = built(BASE + "openstack router set --external-gateway public --disable-snat r1\n")
    assert (seen_as(b, "vm1"), seen_as(b, "vm2")) == ("peer 198.51.100.10\n", "")
    assert "-j SNAT --to-source 198.51.100.2 --random-fully" not in b.run("network1", QROUTER + "iptables -t nat -S").output.split("-o qg")[0]


def test_unassociated_floating_ip_reaches_nothing() -> None:
    b = built(BASE + "openstack floating ip unset --port 198.51.100.10\n")
    b.run("compute1", "ip netns exec vm1 nc -l 80 &")
    assert b.run("internet", "nc -z -w 1 198.51.100.10 80").status == 1
    assert "198.51.100.10" not in b.run("network1", QROUTER + "ip -br addr").output
    assert seen_as(b, "vm1") == "peer 198.51.100.2\n"


@pytest.mark.linux
def test_floating_ip_example_agrees_with_the_kernel(differential) -> None:
    differential.assert_agree(EXAMPLE, needs=("br_netfilter", "vxlan"))


def test_a_routed_subnet_gives_the_metadata_route_by_dhcp() -> None:
    b = built(BASE)
    opts = b.run("network1", "cat /var/lib/neutron/dhcp/*/opts").output.splitlines()
    assert [o.split(",", 1)[1] for o in opts] == [
        "option:classless-static-route,169.254.169.254/32,10.0.0.1,0.0.0.0/0,10.0.0.1",
        "249,169.254.169.254/32,10.0.0.1,0.0.0.0/0,10.0.0.1", "option:router,10.0.0.1"]
    routes = b.run("compute1", "ip netns exec vm1 ip route").output
    assert "169.254.169.254 via 10.0.0.1 dev eth0" in routes and "default via 10.0.0.1 dev eth0" in routes
