"""Tenant VLAN networks from ml2's `network_vlan_ranges` (issue 14, scope 1): the `cloud:` settings
`network_vlan_ranges` and `tenant_network_types` as Neutron's ml2_conf.ini spells them, the type
driver's allocation (neutron/plugins/ml2/drivers/type_vlan.py), its refusals with Neutron's text,
and a scenario whose tenant VLAN carries the VMs' traffic on eth1.<VLAN>."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from netplex.cloud import Controller, openstack
from netplex.errors import ScenarioError
from netplex.scenario.loader import load_scenario_text
from netplex.scenario.runner import run_scenario
from netplex.scenario.sim import SimBackend

NO_NET = "Error while executing command: Unable to create the network. No tenant network is available for allocation.\n"


def run(ctl: Controller, line: str) -> tuple[int, str, str]:
    return openstack(ctl, line)


def vlan_of(ctl: Controller, line: str) -> tuple[str, int]:
    status, out, err = run(ctl, line + " -f json")
    assert status == 0, err
    data = json.loads(out)
    return data["provider:physical_network"], data["provider:segmentation_id"]


def cloud(ranges: dict[str, list[tuple[int, int]]], types: list[str] | None = None) -> Controller:
    return Controller(["compute1"], mappings={"compute1": {"physnet1": "eth1", "physnet2": "eth2"}},
                      vlan_ranges=ranges, tenant_network_types=types or ["vlan"])


def test_tenant_networks_take_the_lowest_free_vlan_until_the_range_is_exhausted() -> None:
    c = cloud({"physnet1": [(100, 102)]})
    assert vlan_of(c, "openstack network create a") == ("physnet1", 100)
    assert vlan_of(c, "openstack network create --provider-network-type vlan b") == ("physnet1", 101)
    assert vlan_of(c, "openstack network create --provider-network-type vlan --provider-physical-network physnet1 "
                      "c") == ("physnet1", 102)
    assert run(c, "openstack network create d") == (1, "", NO_NET)
    assert run(c, "openstack network create --provider-network-type vlan d") == (1, "", NO_NET)
    assert [n.name for n in c.networks.values()] == ["a", "b", "c"]   # nothing made by the refusals
    run(c, "openstack network delete b")                                  # its VLAN goes back to the pool
    assert vlan_of(c, "openstack network create e") == ("physnet1", 101)


def test_an_admin_segment_outside_the_range_and_a_physnet_without_one() -> None:
    c = cloud({"physnet1": [(100, 100)], "physnet2": []})
    assert vlan_of(c, "openstack network create --provider-network-type vlan --provider-physical-network physnet1 "
                      "--provider-segment 3000 big") == ("physnet1", 3000)
    assert run(c, "openstack network create --provider-network-type vlan --provider-physical-network physnet1 "
                  "--provider-segment 3000 again") == \
        (1, "", "Error while executing command: Unable to create the network. The VLAN 3000 on physical network "
                "physnet1 is in use.\n")
    # physnet2 is listed without a range: provider networks only
    assert vlan_of(c, "openstack network create --provider-network-type vlan --provider-physical-network physnet2 "
                      "--provider-segment 7 p2") == ("physnet2", 7)
    assert run(c, "openstack network create --provider-network-type vlan --provider-physical-network physnet2 "
                  "x") == (1, "", NO_NET)
    # the tenant pool spans the listed physnets in order
    assert vlan_of(c, "openstack network create t1") == ("physnet1", 100)
    assert run(c, "openstack network create t2") == (1, "", NO_NET)


@pytest.mark.parametrize(("line", "message"), [
    ("openstack network create --provider-network-type vlan --provider-physical-network physnet9 n",
     "Invalid input for operation: physical_network 'physnet9' unknown for VLAN provider network."),
    ("openstack network create --provider-network-type vlan --provider-segment 100 n",
     "Invalid input for operation: segmentation_id requires physical_network for VLAN provider network."),
    ("openstack network create --provider-network-type vlan --provider-physical-network physnet1 "
     "--provider-segment 4095 n", "Invalid input for operation: segmentation_id out of range (1 through 4094)."),
    ("openstack network create --provider-segment 100 n", "Invalid input for operation: network_type required."),
])
def test_refusals_are_neutrons(line: str, message: str) -> None:
    c = cloud({"physnet1": [(100, 199)]})
    assert run(c, line) == (1, "", f"Error while executing command: {message}\n")
    assert not c.networks


def test_tenant_network_types_fall_through_in_order() -> None:
    c = cloud({"physnet1": [(100, 100)]}, ["vlan", "vxlan"])
    assert vlan_of(c, "openstack network create a") == ("physnet1", 100)
    status, out, _ = run(c, "openstack network create b -f json")
    assert status == 0 and (json.loads(out)["provider:network_type"], json.loads(out)["provider:segmentation_id"]) == \
        ("vxlan", 1001)


EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "cloud-vlan.yaml"
# the example's two hosts mapping physnet1 to eth1, and a cloud section of them
HEAD = EXAMPLE.read_text().split("\ncloud:\n")[0] + "\ncloud:\n  hosts: [compute1, compute2]\n"


def test_a_tenant_vlan_network_carries_the_vms_on_the_allocated_tag() -> None:
    text = HEAD + """\
  network_vlan_ranges: physnet1:100:199
  tenant_network_types: [vlan]
  commands: |
    openstack network create --provider-network-type vlan --provider-physical-network physnet1 --provider-segment 100 p
    openstack network create net1
    openstack subnet create --network net1 --subnet-range 10.0.0.0/24 sub1
    openstack server create --network net1 --availability-zone nova:compute1 vm1
    openstack server create --network net1 --availability-zone nova:compute2 vm2
probes:
  - ping: {from: vm1, to: vm2}
  - cmd: {node: compute1, run: "ip -o link show eth1.101 | grep -o 'eth1.101@eth1.*master brq'"}
  - cmd: {node: compute2, run: "openstack network show net1 -f value -c provider:segmentation_id"}
"""
    scenario = load_scenario_text(text, "vlan.yaml")
    result = run_scenario(scenario, SimBackend())
    assert result.error is None, result.error
    assert [p.passed for p in result.probes][:2] == [True, True], result.probes


@pytest.mark.parametrize(("ranges", "message"), [
    ("physnet1:100", "Invalid network VLAN range: 'physnet1:100' - 'not enough values to unpack (expected 3, got 2)'."),
    ("physnet1:1:2:3", "Invalid network VLAN range: 'physnet1:1:2:3' - 'too many values to unpack (expected 3)'."),
    ("physnet1:a:9", "Invalid network VLAN range: 'physnet1:a:9' - 'invalid literal for int() with base 10: 'a''."),
    ("physnet1:0:9", "Invalid network VLAN range: '(0, 9)' - '0 is not a valid VLAN tag'."),
    ("physnet1:9:5", "Invalid network VLAN range: '(9, 5)' - 'End of VLAN range is less than start of VLAN range'."),
])
def test_a_bad_range_names_file_line_and_field(ranges: str, message: str) -> None:
    with pytest.raises(ScenarioError) as e:
        load_scenario_text(HEAD + f"  network_vlan_ranges: {ranges}\n", "bad.yaml")
    assert (e.value.line, e.value.field) == (HEAD.count("\n") + 1, "cloud.network_vlan_ranges")
    assert message in e.value.message
