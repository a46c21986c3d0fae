"""Stopping and resuming a cloud (issue 14, scope 1): `netplex run FILE --cloud-state DB` keeps the
controller in SQLite tables shaped like Neutron's, a later run resumes the same ids, MACs and
addresses with its own commands applied on top (as deterministic as one run of both), and a bad or
incompatible DB is one error, exit status 2, nothing changed."""
from __future__ import annotations

import json
import os
import sqlite3
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netplex import cli
from tests.cloud.test_scenario import HEAD as NODES

runner = CliRunner()

HEAD = "name: resume\n" + NODES + "cloud:\n  hosts: [compute1, compute2]\n  commands: |\n"
FIRST = """\
openstack network create net1
openstack subnet create --network net1 --subnet-range 10.0.0.0/24 sub1
openstack security group create web
openstack security group rule create --protocol tcp --dst-port 80 web
openstack network qos policy create bw
openstack network qos rule create --type bandwidth-limit --max-kbps 1000 bw
openstack server create --network net1 --security-group web vm1
openstack server create --network net1 vm2
"""
SECOND = """\
openstack server create --network net1 --security-group web vm3
"""
PROBES = """\
probes:
  - cmd: {node: compute1, run: "openstack server list -f json"}
  - cmd: {node: compute2, run: "openstack port list -f json"}
"""


def scenario(tmp_path: Path, commands: str, probes: str = PROBES, name: str = "s.yaml") -> Path:
    path = tmp_path / name
    path.write_text(HEAD + "".join(f"    {c}\n" for c in commands.splitlines()) + probes)
    return path


def run(*args: str | Path) -> tuple[int, dict, str]:
    r = runner.invoke(cli.app, ["run", "--json", *map(str, args)])
    return r.exit_code, json.loads(r.stdout) if r.stdout.strip() else {}, r.stderr


def outputs(result: dict) -> list:
    return [json.loads(p["observed"]["output"]) for p in result["probes"] if p["kind"] == "cmd"]


def test_a_resumed_cloud_keeps_its_ids_and_applies_new_commands_on_top(tmp_path: Path) -> None:
    db = tmp_path / "cloud.db"
    status, first, err = run(scenario(tmp_path, FIRST), "--cloud-state", db)
    assert status == 0, (err, first)
    servers, ports = outputs(first)
    assert sorted(s["Name"] for s in servers) == ["vm1", "vm2"]
    # the tables are Neutron's: the ports' MACs and addresses, the VMs as Nova's instances
    with sqlite3.connect(db) as conn:
        macs = dict(conn.execute("SELECT id, mac_address FROM ports"))
        ips = dict(conn.execute("SELECT port_id, ip_address FROM ipallocations"))
        names = [r[0] for r in conn.execute("SELECT display_name FROM instances ORDER BY id")]
        assert conn.execute("SELECT version_num FROM alembic_version").fetchall() == [("netplex_cloud_1",)]
        assert conn.execute("SELECT max_kbps FROM qos_bandwidth_limit_rules").fetchall() == [(1000,)]
    assert names == ["vm1", "vm2"]
    assert {p["ID"]: p["MAC Address"] for p in ports} == macs
    assert {p["ID"]: p["Fixed IP Addresses"].split("'")[1] for p in ports} == ips

    # the second run: only vm3's command; the cloud it starts from is the saved one
    second_file = scenario(tmp_path, SECOND, PROBES + "  - tcp: {from: vm1, to: vm3, port: 80}\n"
                           "  - ping: {from: vm1, to: vm3}\n    expect: fail\n", "second.yaml")
    second_file.write_text(second_file.read_text().replace("  commands: |", "  services:\n    vm3: [tcp:80]\n"
                                                           "  commands: |"))
    status, second, err = run(second_file, "--cloud-state", db)
    assert status == 0, (err, second)
    assert [p["passed"] for p in second["probes"]] == [True] * 4
    servers2, ports2 = outputs(second)
    assert {s["ID"]: s for s in servers} == {s["ID"]: s for s in servers2 if s["Name"] != "vm3"}
    assert [p for p in ports2 if p["ID"] in macs] == ports
    # one run of both lists gives the same cloud: resuming keeps the id generator's state
    status, once, err = run(scenario(tmp_path, FIRST + SECOND, name="once.yaml"))
    assert status == 0, err
    assert outputs(once) == [servers2, ports2]
    with sqlite3.connect(db) as conn:
        assert [r[0] for r in conn.execute("SELECT display_name FROM instances ORDER BY id")] == ["vm1", "vm2", "vm3"]


def test_a_refused_command_leaves_the_state_unchanged(tmp_path: Path) -> None:
    db = tmp_path / "cloud.db"
    assert run(scenario(tmp_path, FIRST), "--cloud-state", db)[0] == 0
    before = db.read_bytes()
    status, result, _ = run(scenario(tmp_path, "openstack server create --network nosuch vm9", name="bad.yaml"),
                            "--cloud-state", db)
    assert status == 2 and "No Network found for nosuch" in result["error"]["message"]
    assert db.read_bytes() == before


def test_bad_or_incompatible_state_is_one_error_and_changes_nothing(tmp_path: Path) -> None:
    file = scenario(tmp_path, FIRST)
    text = tmp_path / "text.db"
    text.write_text("not a database\n" * 100)
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as conn:
        conn.execute("CREATE TABLE t (x)")
    old = tmp_path / "old.db"
    with sqlite3.connect(old) as conn:
        conn.execute("CREATE TABLE alembic_version (version_num VARCHAR(32))")
        conn.execute("INSERT INTO alembic_version VALUES ('5c85685d616d')")
    cases = {
        text: f"netplex: {text}: file is not a database\n",
        other: f"netplex: {other}: not a netplex cloud state (no alembic_version table)\n",
        old: f"netplex: {old}: database revision 5c85685d616d is not netplex_cloud_1, the one this netplex reads\n",
        tmp_path / "nodir" / "c.db": f"netplex: --cloud-state {tmp_path / 'nodir' / 'c.db'}: {tmp_path / 'nodir'}: "
                                     "No such directory\n",
        tmp_path: f"netplex: --cloud-state {tmp_path}: Is a directory\n",
    }
    for db, message in cases.items():
        before = db.read_bytes() if db.is_file() else None
        status, out, err = run(file, "--cloud-state", db)
        assert (status, out, err) == (2, {}, message)
        assert (db.read_bytes() if db.is_file() else None) == before
    # a cloud whose servers are on a host this scenario lacks
    db = tmp_path / "cloud.db"
    assert run(file, "--cloud-state", db)[0] == 0
    one = tmp_path / "one.yaml"
    one.write_text(file.read_text().replace("hosts: [compute1, compute2]", "hosts: [compute1]"))
    status, _, err = run(one, "--cloud-state", db)
    assert status == 2 and err.startswith(f"netplex: {db}: ") and "which the scenario's cloud: hosts do not list" in err
    # a scenario without a cloud
    plain = tmp_path / "plain.yaml"
    plain.write_text("nodes:\n  h1: {}\n")
    assert run(plain, "--cloud-state", db)[0:3:2] == (2, f"netplex: --cloud-state {db}: the scenario has no cloud: "
                                                        "section\n")


@pytest.mark.linux
@pytest.mark.skipif(os.environ.get("NETPLEX_CLOUD_TWIN") != "1", reason="the twin's budget: NETPLEX_CLOUD_TWIN=1 runs it")
def test_a_cloud_resumed_on_the_kernel_twin_is_the_simulators(tmp_path: Path) -> None:
    """The hosts' `openstack` reads the resumed cloud from the state file on the twin too, and the
    resumed VM reaches the new one through the real bridges and VXLAN."""
    first = scenario(tmp_path, FIRST)
    second = scenario(tmp_path, SECOND, PROBES + "  - ping: {from: vm3, to: vm2}\n    expect: fail\n"
                      "  - ping: {from: vm2, to: vm1}\n    expect: fail\n", "second.yaml")
    lists = []
    for backend in ("sim", "linux"):
        db = tmp_path / f"{backend}.db"
        assert run(first, "--backend", backend, "--cloud-state", db)[0] == 0
        status, result, err = run(second, "--backend", backend, "--cloud-state", db)
        assert status == 0, (err, result)
        lists.append(outputs(result))
    assert lists[0] == lists[1]
