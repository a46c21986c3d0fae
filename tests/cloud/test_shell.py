"""`openstack` typed on a cloud host: list and show answer from the cloud the scenario's
`cloud:` commands built (the same ids and addresses the agents wrote, as the client prints
them); every other action is refused in netplex's words and changes nothing; a node that is
no cloud host answers as the client does with no cloud configured."""
from __future__ import annotations

import json

from netplex.cloud import Controller, openstack
from netplex.scenario.loader import load_scenario_text
from netplex.scenario.runner import prepare
from netplex.scenario.sim import SimBackend
from tests.cloud.test_scenario import BASE, built

SERVERS = "openstack server create --network net1 --security-group web vm1\n" \
          "openstack server create --network net1 --security-group web vm2\n" \
          "openstack security group rule create --protocol tcp --dst-port 80 web"


def test_list_and_show_answer_from_the_scenarios_cloud() -> None:
    b = built(BASE + SERVERS)
    ctl = Controller(["compute1", "compute2"])
    for line in (BASE + SERVERS).strip().splitlines():
        assert openstack(ctl, line)[0] == 0
    for line in ("openstack server list", "openstack server show vm2 -f json", "openstack port list -f value",
                 "openstack security group rule list web", "openstack network show net1 -f json"):
        r = b.run("compute2", line)
        assert (r.status, r.output, r.error) == (0, *openstack(ctl, line)[1:]), line
    servers = json.loads(b.run("compute1", "openstack server list -f json").output)
    addr = {s["Name"]: s["Networks"].split("=")[1] for s in servers}
    # the addresses it lists are the ones the VMs hold
    got = b.run("compute1", "ip netns exec vm1 ip -4 -o addr show dev eth0").output.split()[3].split("/")[0]
    assert got == addr["vm1"]


def test_changes_are_refused_and_change_nothing() -> None:
    b = built(BASE + SERVERS)
    before = b.run("compute1", "openstack server list").output
    r = b.run("compute1", "openstack server create --network net1 vm3")
    assert (r.status, r.output) == (2, "")
    assert r.error == ("netplex: openstack server create in a node's shell is not supported (the cloud changes "
                       "only through the scenario's cloud: commands)\n")
    r = b.run("compute1", "openstack server delete vm1")
    assert r.status == 2
    assert b.run("compute1", "openstack server list").output == before
    assert b.run("compute1", "ip netns list").output.count("vm") == 1     # vm1 still there, no vm3
    r = b.run("compute1", "openstack server show nope")
    assert (r.status, r.error) == (1, "Error while executing command: No server found for nope\n")
    r = b.run("compute1", "openstack server list --long")
    assert (r.status, r.error) == (2, "netplex: openstack server list --long is not supported\n")


def test_without_a_cloud_the_client_has_no_auth_url() -> None:
    b = built(BASE)       # no server: the state is there, empty lists
    assert b.run("compute1", "openstack server list").status == 0
    plain = SimBackend()
    assert prepare(load_scenario_text("nodes:\n  h1: {}\n", "p.yaml"), plain) is None
    r = plain.run("h1", "openstack server list")
    assert (r.status, r.output, r.error) == (1, "", "Missing value auth-url required for auth plugin password\n")
