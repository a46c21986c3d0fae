"""The `openstack` command against the cloud's controller: what the client prints, its
errors and exit statuses, and the refusals of what netplex does not model."""
from __future__ import annotations

import json

import pytest

from netplex.cloud import Controller, openstack


@pytest.fixture
def ctl() -> Controller:
    c = Controller(["compute1", "compute2"])
    for line in ("openstack network create net1",
                 "openstack subnet create --network net1 --subnet-range 10.0.0.0/24 sub1",
                 "openstack security group create web",
                 "openstack security group rule create --protocol tcp --dst-port 80 web"):
        assert openstack(c, line)[0] == 0, line
    return c


def run(ctl: Controller, line: str) -> tuple[int, str, str]:
    return openstack(ctl, line)


def test_network_create_table_and_vni_from_the_range(ctl: Controller) -> None:
    status, out, err = run(ctl, "openstack network create net2")
    assert (status, err) == (0, "")
    lines = out.splitlines()
    assert lines[0].startswith("+") and lines[1].startswith("| Field") and "Value" in lines[1]
    assert any(ln.startswith("| provider:network_type ") and "vxlan" in ln for ln in lines)
    assert any(ln.startswith("| provider:segmentation_id ") and "1002" in ln for ln in lines)
    assert len({len(ln) for ln in lines}) == 1   # every row as wide as the table


def test_json_and_value_formats(ctl: Controller) -> None:
    status, out, _ = run(ctl, "openstack network show net1 -f json")
    data = json.loads(out)
    assert status == 0 and data["name"] == "net1" and data["provider:segmentation_id"] == 1001
    assert data["subnets"] == [ctl.subnet("sub1").id]
    status, out, _ = run(ctl, "openstack subnet list -f value")
    assert out == f"{ctl.subnet('sub1').id} sub1 {ctl.network('net1').id} 10.0.0.0/24\n"
    status, out, _ = run(ctl, "openstack security group list -f json")
    assert [g["Name"] for g in json.loads(out)] == ["default", "web"]


def test_subnet_pool_gateway_and_no_dhcp(ctl: Controller) -> None:
    status, out, _ = run(ctl, "openstack subnet create --network net1 --subnet-range 10.1.0.0/24 --gateway 10.1.0.254 "
                              "--allocation-pool start=10.1.0.100,end=10.1.0.101 --no-dhcp sub2 -f json")
    data = json.loads(out)
    assert status == 0
    assert (data["gateway_ip"], data["allocation_pools"], data["enable_dhcp"]) == ("10.1.0.254", ["10.1.0.100-10.1.0.101"], False)
    status, out, _ = run(ctl, "openstack subnet show sub1 -f json")
    assert json.loads(out)["allocation_pools"] == ["10.0.0.2-10.0.0.254"]


def test_subnet_errors(ctl: Controller) -> None:
    assert run(ctl, "openstack subnet create --network net1 --subnet-range 10.0.0.128/25 s") == \
        (1, "", f"Error while executing command: Invalid input for operation: Requested subnet with cidr: 10.0.0.128/25 "
                f"for network: {ctl.network('net1').id} overlaps with another subnet.\n")
    assert run(ctl, "openstack subnet create --network nope --subnet-range 10.9.0.0/24 s") == \
        (1, "", "Error while executing command: No Network found for nope\n")
    status, _, err = run(ctl, "openstack subnet create --network net1 --subnet-range 10.9.0.0/24 "
                              "--allocation-pool start=10.8.0.1,end=10.8.0.9 s")
    assert status == 1 and "spans beyond the subnet cidr" in err
    assert run(ctl, "openstack subnet create --subnet-range 10.9.0.0/24 s")[0] == 2
    assert len(ctl.subnets) == 1   # nothing changed


def test_servers_spread_over_hosts_with_addresses_from_the_pool(ctl: Controller) -> None:
    for name in ("vm1", "vm2", "vm3"):
        assert run(ctl, f"openstack server create --network net1 --security-group web {name}")[0] == 0
    status, out, _ = run(ctl, "openstack server list -f value -c")   # -c is not modelled
    assert status == 2 and out == ""
    status, out, _ = run(ctl, "openstack server list -f json")
    rows = json.loads(out)
    assert [(r["Name"], r["Networks"]) for r in rows] == [("vm1", "net1=10.0.0.3"), ("vm2", "net1=10.0.0.4"),
                                                          ("vm3", "net1=10.0.0.5")]
    assert [s.host for s in ctl.servers.values()] == ["compute1", "compute2", "compute1"]
    macs = [p.mac for p in ctl.ports.values()]
    assert all(m.startswith("fa:16:3e:") for m in macs) and len(set(macs)) == 4   # and the DHCP port (10.0.0.2)
    status, out, _ = run(ctl, "openstack server create --network net1 --availability-zone nova:compute2 vm4 -f json")
    data = json.loads(out)
    assert data["OS-EXT-SRV-ATTR:host"] == "compute2" and data["security_groups"] == ["name='default'"]


def test_delete_and_in_use(ctl: Controller) -> None:
    run(ctl, "openstack server create --network net1 --security-group web vm1")
    status, _, err = run(ctl, "openstack security group delete web")
    assert status == 1 and err.endswith("1 of 1 security groups failed to delete.\n")
    status, _, err = run(ctl, "openstack network delete net1")
    assert status == 1 and "There are one or more ports still in use on the network." in err
    assert run(ctl, "openstack server delete vm1") == (0, "", "")
    assert run(ctl, "openstack server show vm1") == (1, "", "Error while executing command: No server found for vm1\n")
    assert run(ctl, "openstack security group delete web") == (0, "", "")
    assert run(ctl, "openstack network delete net1") == (0, "", "")
    assert run(ctl, "openstack subnet list -f value") == (0, "", "")


def test_rules(ctl: Controller) -> None:
    status, _, err = run(ctl, "openstack security group rule create --protocol tcp --dst-port 80 web")
    assert status == 1 and err.startswith("Error while executing command: Security group rule already exists. Rule id is ")
    status, out, _ = run(ctl, "openstack security group rule create --protocol tcp --dst-port 8000:8080 "
                              "--remote-ip 203.0.113.0/24 web -f json")
    rule = json.loads(out)
    assert (rule["port_range_min"], rule["port_range_max"], rule["remote_ip_prefix"]) == (8000, 8080, "203.0.113.0/24")
    status, out, _ = run(ctl, "openstack security group rule list web -f value")
    assert [ln.split()[1:] for ln in out.splitlines()] == [
        ["None", "IPv4", "None", "egress", "None"], ["None", "IPv6", "None", "egress", "None"],
        ["tcp", "IPv4", "None", "80:80", "ingress", "None"], ["tcp", "IPv4", "203.0.113.0/24", "8000:8080", "ingress", "None"]]
    assert run(ctl, f"openstack security group rule delete {rule['id']}") == (0, "", "")
    assert run(ctl, "openstack security group rule create --ingress --egress web")[0] == 2


@pytest.mark.parametrize("line, message", [
    ("openstack network agent list", "netplex: openstack network agent is not supported"),
    ("openstack network create --provider-network-type geneve n", "netplex: openstack network create --provider-network-type geneve is not supported (vxlan, vlan, flat)"),
    ("openstack network create --mtu 9000 n", "netplex: openstack network create --mtu is not supported"),
    ("openstack network unset net1", "netplex: openstack network unset is not supported"),
    ("openstack security group rule create --protocol sctp web", "netplex: openstack security group rule create --protocol sctp is not supported (tcp, udp, icmp, ipv6-icmp, any)"),
    ("openstack server list -f yaml", "netplex: openstack -f yaml is not supported"),
])
def test_refused_in_netplex_words(ctl: Controller, line: str, message: str) -> None:
    before = (len(ctl.networks), len(ctl.groups), sum(len(g.rules) for g in ctl.groups.values()))
    assert run(ctl, line) == (2, "", message + "\n")
    assert before == (len(ctl.networks), len(ctl.groups), sum(len(g.rules) for g in ctl.groups.values()))


def test_vlan_and_flat_provider_networks() -> None:
    c = Controller(["compute1", "compute2"], mappings={"compute2": {"physnet1": "eth1"}})
    assert run(c, "openstack network create --provider-network-type vlan --provider-physical-network physnet9 "
                  "--provider-segment 100 n") == \
        (1, "", "Error while executing command: Invalid input for operation: physical_network 'physnet9' unknown for VLAN provider network.\n")
    assert run(c, "openstack network create --provider-network-type vlan --provider-physical-network physnet1 n")[0] == 1
    status, out, _ = run(c, "openstack network create --provider-network-type vlan --provider-physical-network physnet1 "
                            "--provider-segment 100 v100 -f json")
    data = json.loads(out)
    assert status == 0 and (data["provider:segmentation_id"], data["provider:physical_network"], data["mtu"]) == (100, "physnet1", 1500)
    status, _, err = run(c, "openstack network create --provider-network-type vlan --provider-physical-network physnet1 "
                            "--provider-segment 100 again")
    assert status == 1 and "The VLAN 100 on physical network physnet1 is in use." in err
    assert run(c, "openstack network create --provider-network-type flat --provider-physical-network physnet1 f")[0] == 0
    assert run(c, "openstack network create --provider-network-type flat --provider-physical-network physnet1 f2")[0] == 1
    run(c, "openstack subnet create --network v100 --subnet-range 10.5.0.0/24 s")
    # only compute2 maps physnet1: both servers land there; naming compute1 fails
    for vm in ("vm1", "vm2"):
        assert run(c, f"openstack server create --network v100 {vm}")[0] == 0
    assert {s.host for s in c.servers.values()} == {"compute2"}
    assert run(c, "openstack server create --network v100 --availability-zone nova:compute1 vm3") == \
        (1, "", "Error while executing command: No valid host was found. There are not enough hosts available.\n")
