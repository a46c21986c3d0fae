"""Projects (issue 14 item 1: tenants): `openstack project create|list|show|delete` as keystone
and the client answer, `--os-project-name` scoping a request to a project as its member (what it
sees, what it owns), a default security group per project, and projects isolated on both
backends (examples/cloud-projects.yaml)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from netplex.cloud import Controller, openstack
from netplex.cloud.controller import PROJECT_ID

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "cloud-projects.yaml"
A = "openstack --os-project-name team-a "
B = "openstack --os-project-name team-b "


def ok(ctl: Controller, line: str) -> str:
    status, out, err = openstack(ctl, line)
    assert status == 0, (line, err)
    return out


@pytest.fixture
def ctl() -> Controller:
    c = Controller(["compute1", "compute2"])
    for line in ("openstack project create --description 'Team A' team-a", "openstack project create team-b",
                 A + "network create net", A + "subnet create --network net --subnet-range 10.0.0.0/24 sub",
                 B + "network create net", B + "subnet create --network net --subnet-range 10.0.0.0/24 sub"):
        ok(c, line)
    return c


def test_project_create_show_list_delete(ctl: Controller) -> None:
    shown = json.loads(ok(ctl, "openstack project show team-a -f json"))
    assert shown == {"description": "Team A", "domain_id": "default", "enabled": True, "id": shown["id"],
                     "is_domain": False, "name": "team-a", "options": {}, "parent_id": "default", "tags": []}
    assert len(shown["id"]) == 32 and int(shown["id"], 16) >= 0
    rows = json.loads(ok(ctl, "openstack project list -f json"))
    assert [r["Name"] for r in rows] == ["admin", "team-a", "team-b"] and rows[0]["ID"] == PROJECT_ID
    assert ok(ctl, "openstack project delete team-b") == ""
    assert [r["Name"] for r in json.loads(ok(ctl, "openstack project list -f json"))] == ["admin", "team-a"]


@pytest.mark.parametrize("line, status, err", [
    ("openstack project create team-a", 1, "Conflict occurred attempting to store project - Duplicate entry found "
     "with name team-a at domain ID default. (HTTP 409) (Request-ID: req-"),
    (A + "project create team-c", 1, "You are not authorized to perform the requested action: identity:create_project. "
     "(HTTP 403) (Request-ID: req-"),
    (A + "project list", 1, "You are not authorized to perform the requested action: identity:list_projects."),
    (A + "project show team-b", 1, "No project with a name or ID of 'team-b' exists.\n"),
    ("openstack project delete nope", 1, "Failed to delete project with name or ID 'nope': No project with a name or "
     "ID of 'nope' exists.\n1 of 1 projects failed to delete.\n"),
    ("openstack project delete admin", 2, "netplex: openstack project delete of the admin project is not supported\n"),
    ("openstack project create --domain corp x", 2, "netplex: openstack project create --domain corp is not supported"),
    ("openstack project set --enable team-a", 2, "netplex: openstack project set is not supported\n"),
    ("openstack --os-project-name nope network list", 1, "The request you have made requires authentication. (HTTP 401)"),
    ("openstack --os-auth-url http://x network list", 2, "netplex: openstack --os-auth-url is not supported\n"),
    ("openstack --os-project-name", 2, "openstack: error: argument --os-project-name: expected one argument\n"),
    (A + "server list --all-projects", 1, "Policy doesn't allow os_compute_api:servers:index:get_all_tenants to be "
     "performed. (HTTP 403)"),
    (A + "security group create default", 1, "Error while executing command: Default security group already exists.\n"),
    ("openstack subnet create --network net --subnet-range 10.1.0.0/24 s2", 1,
     "Error while executing command: More than one Network exists with the name 'net'.\n"),
])
def test_refusals_print_the_services_message_and_change_nothing(ctl: Controller, line: str, status: int,
                                                                err: str) -> None:
    before = (dict(ctl.projects), dict(ctl.networks), dict(ctl.subnets), dict(ctl.groups), dict(ctl.ports))
    got = openstack(ctl, line)
    assert got[0] == status and got[1] == "" and got[2].startswith(err), got
    assert (dict(ctl.projects), dict(ctl.networks), dict(ctl.subnets), dict(ctl.groups), dict(ctl.ports)) == before
    assert ctl.project == PROJECT_ID   # the request's scope ends with it


def test_a_member_sees_and_uses_only_its_project(ctl: Controller) -> None:
    ok(ctl, "openstack network create --external --provider-network-type vxlan public")
    nets = json.loads(ok(ctl, A + "network list -f json"))
    assert sorted(n["Name"] for n in nets) == ["net", "public"]           # its own and the external one
    assert len(json.loads(ok(ctl, "openstack network list -f json"))) == 3   # the admin sees every project's
    a = ctl.projects[ctl.network(json.loads(ok(ctl, A + "network show net -f json"))["id"]).project_id]
    assert a.name == "team-a"
    ok(ctl, "openstack network create admin-net")
    status, _, err = openstack(ctl, A + "server create --network admin-net a1")
    assert (status, err) == (1, "Error while executing command: No Network found for admin-net\n")
    ok(ctl, A + "server create --network net a1")
    ok(ctl, B + "server create --network net b1")
    assert [r["Name"] for r in json.loads(ok(ctl, B + "server list -f json"))] == ["b1"]
    assert json.loads(ok(ctl, "openstack server list -f json")) == []       # nova: the admin's own project
    assert sorted(r["Name"] for r in json.loads(ok(ctl, "openstack server list --all-projects -f json"))) == ["a1", "b1"]
    assert openstack(ctl, B + "server show a1")[2] == "Error while executing command: No server found for a1\n"
    ports = json.loads(ok(ctl, B + "port list -f json"))
    assert {p["Fixed IP Addresses"].split("'")[1] for p in ports} == {"10.0.0.2", "10.0.0.3"}   # its DHCP port and b1's


def test_each_project_gets_its_own_default_group(ctl: Controller) -> None:
    ok(ctl, A + "server create --network net a1")
    ok(ctl, B + "server create --network net b1")
    groups = json.loads(ok(ctl, "openstack security group list -f json"))
    assert [g["Name"] for g in groups] == ["default"] * 3
    assert {g["Project"] for g in groups} == set(ctl.projects)
    a1, b1 = (ctl.ports[ctl.servers[s].ports[0]] for s in ctl.servers)
    ga, gb = ctl.groups[a1.security_groups[0]], ctl.groups[b1.security_groups[0]]
    assert ga.id != gb.id and (ga.project_id, gb.project_id) == (a1.project_id, b1.project_id)
    # the default group's members-only rule names its own group: the ipsets differ
    assert [r.remote_group_id for r in ga.rules if r.direction == "ingress"] == [ga.id, ga.id]
    ok(ctl, A + "security group rule create --protocol icmp default")   # its own default, by name
    assert [r.protocol for r in ga.rules][-1] == "icmp" and all(r.protocol != "icmp" for r in gb.rules)
    status, _, err = openstack(ctl, "openstack security group rule create --protocol icmp default")
    assert (status, err) == (1, "Error while executing command: More than one SecurityGroup exists with the name "
                                "'default'.\n")
    status, _, err = openstack(ctl, B + f"security group rule create --remote-group {ga.id} default")
    assert (status, err) == (1, f"Error while executing command: No SecurityGroup found for {ga.id}\n")


def test_a_server_name_is_one_namespace_per_host(ctl: Controller) -> None:
    ok(ctl, A + "server create --network net --availability-zone nova:compute1 vm1")
    status, _, err = openstack(ctl, B + "server create --network net --availability-zone nova:compute1 vm1")
    assert (status, err) == (2, "netplex: openstack server create: compute1 already has a server named vm1 (a "
                                "server's namespace on its host is named after it)\n")
    ok(ctl, B + "server create --network net --availability-zone nova:compute2 vm1")


@pytest.mark.linux
def test_projects_example_agrees_with_the_kernel(differential) -> None:
    differential.assert_agree(EXAMPLE, needs=("br_netfilter", "vxlan"))
