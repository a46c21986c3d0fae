"""The IPv6 half of the cloud's firewall: `openstack security group rule create --ethertype
IPv6` as the client and Neutron take it (their errors for what they refuse), and the
ip6tables chains the agents write for every port (linuxbridge and the OVS hybrid driver),
read back with `ip6tables-save` / `ip6tables -S` on the compute host. netplex has no IPv6
data path: these rules are stored and listed, never met by a packet."""
from __future__ import annotations

import json

import pytest

from netplex.cloud import Controller, openstack
from netplex.cloud.firewall import link_local, port_chain, rule_texts
from netplex.scenario.loader import load_scenario_text
from netplex.scenario.runner import prepare
from netplex.scenario.sim import SimBackend
from tests.cloud.test_scenario import HEAD

COMMANDS = """\
openstack network create net1
openstack subnet create --network net1 --subnet-range 10.0.0.0/24 sub1
openstack security group create web
openstack security group rule create --protocol tcp --dst-port 80 web
openstack security group rule create --ethertype IPv6 --protocol tcp --dst-port 22 --remote-ip 2001:db8::/64 web
openstack security group rule create --protocol ipv6-icmp web
openstack security group rule create --ethertype IPv6 --protocol udp --dst-port 500:600 --remote-group web web
openstack server create --network net1 --security-group web --availability-zone nova:compute1 vm1
openstack server create --network net1 --security-group web --availability-zone nova:compute2 vm2
"""


def cloud(mechanism: str) -> SimBackend:
    text = HEAD + f"cloud:\n  hosts: [compute1, compute2]\n  mechanism: {mechanism}\n  commands: |\n" + \
        "".join(f"    {c}\n" for c in COMMANDS.splitlines())
    backend = SimBackend()
    assert prepare(load_scenario_text(text, "c.yaml"), backend) is None
    return backend


@pytest.mark.parametrize("mechanism, wrap", [("linuxbridge", "neutron-linuxbri"), ("openvswitch", "neutron-openvswi")])
def test_every_port_gets_its_ip6tables_chains(mechanism: str, wrap: str) -> None:
    b = cloud(mechanism)
    v4 = b.run("compute1", "iptables -S").output
    tap = next(w for w in v4.split() if w.startswith("tap"))
    i, o, sp = (f"{wrap}-{port_chain(d, tap)}" for d in "ios")
    r = b.run("compute1", f"ip6tables -S {i}")
    assert r.status == 0, r.error
    rules = [ln.replace('-m comment --comment "Direct packets associated with a known session to the RETURN chain." ',
                        "").replace('-m comment --comment "Drop packets that appear related to an existing connection '
                                    '(e.g. TCP ACK/FIN) but do not have an entry in conntrack." ', "")
                    .replace('-m comment --comment "Send unmatched traffic to the fallback chain." ', "")
             for ln in r.output.splitlines()]
    # ICMPv6 MLD query/NS/NA in, then the group's IPv6 ingress rules; the remote group has no IPv6
    # member (no IPv6 subnet), so its NIPv6 set does not exist and its rule is left out, as in Neutron
    assert rules == [f"-N {i}",
                     f"-A {i} -p ipv6-icmp -m icmp6 --icmpv6-type 130 -j RETURN",
                     f"-A {i} -p ipv6-icmp -m icmp6 --icmpv6-type 135 -j RETURN",
                     f"-A {i} -p ipv6-icmp -m icmp6 --icmpv6-type 136 -j RETURN",
                     f"-A {i} -m state --state RELATED,ESTABLISHED -j RETURN",
                     f"-A {i} -s 2001:db8::/64 -p tcp -m tcp --dport 22 -j RETURN",
                     f"-A {i} -p ipv6-icmp -j RETURN",
                     f"-A {i} -m state --state INVALID -j DROP",
                     f"-A {i} -j {wrap}-sg-fallback"]
    save = b.run("compute1", "ip6tables-save").output
    assert f'-A {o} -p ipv6-icmp -m icmp6 --icmpv6-type 134 -m comment --comment ' \
           f'"Drop IPv6 Router Advts from VM Instance." -j DROP' in save
    assert f"-A {o} -p udp -m udp --sport 546 --dport 547 -m comment " \
           f'--comment "Allow DHCP client traffic." -j RETURN' in save
    assert f":{sp}" not in save          # a port without an IPv6 address has no IPv6 pairs chain
    assert f"-A {wrap}-sg-chain -j ACCEPT" in save and "-j CT --zone 4097" in save
    # the IPv4 half is what it was: no IPv6 rule in it
    assert "2001:db8" not in b.run("compute1", "iptables-save").output
    assert "ipv6-icmp" not in b.run("compute1", "iptables-save").output


@pytest.fixture
def ctl() -> Controller:
    c = Controller(["compute1"])
    for line in ("openstack network create net1", "openstack security group create web"):
        assert openstack(c, line)[0] == 0
    return c


def test_ipv6_rules_are_created_listed_and_shown(ctl: Controller) -> None:
    status, out, _ = openstack(ctl, "openstack security group rule create --protocol icmpv6 web -f json")
    rule = json.loads(out)
    assert (status, rule["ethertype"], rule["protocol"]) == (0, "IPv6", "ipv6-icmp")   # the client infers IPv6
    status, out, _ = openstack(ctl, "openstack security group rule create --ethertype IPv6 --protocol icmp "
                                    "--remote-ip 2001:db8::1 web -f json")
    rule = json.loads(out)
    assert (rule["protocol"], rule["remote_ip_prefix"]) == ("ipv6-icmp", "2001:db8::1/128")   # canonical, as Neutron
    assert json.loads(openstack(ctl, "openstack security group rule create --ethertype ipv6 --egress --protocol udp "
                                     "--dst-port 547 web -f json")[1])["ethertype"] == "IPv6"     # the client's case fix
    assert json.loads(openstack(ctl, f"openstack security group rule show {rule['id']} -f json")[1])["ethertype"] == "IPv6"
    _, out, _ = openstack(ctl, "openstack security group rule list web -f json")
    assert [(r["Ethertype"], r["Direction"]) for r in json.loads(out)] == [
        ("IPv4", "egress"), ("IPv6", "egress"), ("IPv6", "ingress"), ("IPv6", "ingress"), ("IPv6", "egress")]


def test_default_group_lets_both_families_out_and_members_in(ctl: Controller) -> None:
    _, out, _ = openstack(ctl, "openstack security group rule list default -f json")
    default = ctl.group("default").id
    assert sorted((r["Ethertype"], r["Direction"], r["Remote Security Group"]) for r in json.loads(out)) == [
        ("IPv4", "egress", None), ("IPv4", "ingress", default), ("IPv6", "egress", None), ("IPv6", "ingress", default)]


@pytest.mark.parametrize("line, status, message", [
    ("--ethertype IPv6 --remote-ip 10.0.0.0/24", 1, "Error while executing command: Conflicting value ethertype IPv6 for CIDR 10.0.0.0/24"),
    ("--ethertype IPv4 --remote-ip 2001:db8::/64", 1, "Error while executing command: Conflicting value ethertype IPv4 for CIDR 2001:db8::/64"),
    ("--remote-ip 2001:db8::/64", 1, "Error while executing command: Conflicting value ethertype IPv4 for CIDR 2001:db8::/64"),
    ("--ethertype IPv4 --protocol ipv6-icmp", 1, "Error while executing command: Invalid ethertype IPv4 for protocol ipv6-icmp."),
    ("--ethertype IPv5", 2, "openstack security group rule create: error: argument --ethertype: invalid choice: 'IPv5' "
                            "(choose from 'IPv4', 'IPv6')"),
])
def test_bad_ipv6_rules_get_neutrons_errors(ctl: Controller, line: str, status: int, message: str) -> None:
    before = len(ctl.group("web").rules)
    got = openstack(ctl, f"openstack security group rule create {line} web")
    assert got[0] == status and got[2].startswith(message), got
    assert len(ctl.group("web").rules) == before


def test_link_local_is_the_macs_eui64() -> None:
    assert link_local("ff:ff:ff:ff:ff:ff") == "fe80::fdff:ffff:feff:ffff"     # neutron's test port
    assert link_local("fa:16:3e:12:34:56") == "fe80::f816:3eff:fe12:3456"


def test_an_ipv6_remote_group_matches_its_ipv6_members_only() -> None:
    """A group with IPv6 members (none in a netplex cloud, whose subnets are IPv4): its rule
    matches `NIPv6<id>` with ipsets, one /128 rule per other member without, and its IPv4
    members never reach the IPv6 side (nor the IPv6 ones the IPv4 side)."""
    members = {"g1": ["10.0.0.5", "2001:db8::5", "2001:db8::9"]}
    v6 = {"direction": "ingress", "ethertype": "IPv6", "protocol": "tcp", "port_range_min": 22,
          "port_range_max": 22, "remote_group_id": "g1"}
    v4 = {**v6, "ethertype": "IPv4"}
    assert rule_texts(v6, ["2001:db8::9"], members, ipset=True) == \
        ["-p tcp -m tcp --dport 22 -m set --match-set NIPv6g1 src -j RETURN"]
    assert rule_texts(v6, ["2001:db8::9"], members, ipset=False) == \
        ["-s 2001:db8::5/128 -p tcp -m tcp --dport 22 -j RETURN"]
    assert rule_texts(v4, [], members, ipset=False) == ["-s 10.0.0.5/32 -p tcp -m tcp --dport 22 -j RETURN"]
    assert rule_texts(v6, [], {"g1": ["10.0.0.5"]}, ipset=True) == []      # no IPv6 member: no set, no rule
