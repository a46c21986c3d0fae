"""ovs-vsctl as users type it; every expected text was printed by Debian's ovs-vsctl 3.1
against a private ovsdb-server (see docs/ovs.md)."""
from __future__ import annotations

from netplex import Network
from tests.conftest import run_ok


def _host():
    net = Network()
    s = net.add_node("s1")
    run_ok(s, "ip link add p1 type veth peer name p1b && ip link add p2 type veth peer name p2b")
    return s


def test_bridge_commands_and_their_errors():
    s = _host()
    run_ok(s, "ovs-vsctl add-br br0")
    r = s.run("ovs-vsctl add-br br0")
    assert (r.status, r.error) == (1, "ovs-vsctl: cannot create a bridge named br0 because a bridge named br0 "
                                      "already exists\n")
    assert s.run("ovs-vsctl --may-exist add-br br0").status == 0
    r = s.run("ovs-vsctl add-br ''")
    assert r.error == "ovs-vsctl: bridge name must not be empty string\n"
    run_ok(s, "ovs-vsctl add-br br1")
    assert run_ok(s, "ovs-vsctl list-br") == "br0\nbr1\n"
    assert s.run("ovs-vsctl br-exists br1").status == 0
    assert s.run("ovs-vsctl br-exists nonexistent").status == 2
    assert run_ok(s, "ovs-vsctl br-to-vlan br0; ovs-vsctl br-to-parent br0") == "0\nbr0\n"
    run_ok(s, "ovs-vsctl del-br br1")
    r = s.run("ovs-vsctl del-br br1")
    assert (r.status, r.error) == (1, "ovs-vsctl: no bridge named br1\n")
    assert s.run("ovs-vsctl --if-exists del-br br1").status == 0
    assert s.run("ovs-vsctl foo").error == "ovs-vsctl: unknown command 'foo'; use --help for help\n"
    assert s.run("ovs-vsctl add-br").error == "ovs-vsctl: 'add-br' command requires at least 1 arguments\n"
    assert s.run("ovs-vsctl list-ports br9").error == "ovs-vsctl: no bridge named br9\n"


def test_ports_vlans_and_the_show_tree():
    s = _host()
    run_ok(s, "ovs-vsctl add-br br0 -- add-port br0 p1 tag=10 -- add-port br0 p2 -- set port p2 trunks=10,20 "
              "vlan_mode=trunk")
    assert run_ok(s, "ovs-vsctl list-ports br0") == "p1\np2\n"
    assert run_ok(s, "ovs-vsctl get port p1 tag; ovs-vsctl get port p2 trunks; ovs-vsctl get port p1 ta") == \
        "10\n[10, 20]\n10\n"
    assert run_ok(s, "ovs-vsctl port-to-br p1; ovs-vsctl iface-to-br p2") == "br0\nbr0\n"
    r = s.run("ovs-vsctl add-port br0 p1")
    assert r.error == "ovs-vsctl: cannot create a port named p1 because a port named p1 already exists on bridge br0\n"
    run_ok(s, "ovs-vsctl add-br br1")
    r = s.run("ovs-vsctl --may-exist add-port br1 p1")
    assert r.error == '''ovs-vsctl: "--may-exist add-port br1 p1" but p1 is actually attached to bridge br0\n'''
    assert s.run("ovs-vsctl del-port br0 zz").error == "ovs-vsctl: no port named zz\n"
    assert s.run("ovs-vsctl --if-exists del-port br0 zz").status == 0
    uuid = run_ok(s, "ovs-vsctl show").splitlines()[0]
    assert run_ok(s, "ovs-vsctl del-br br1; ovs-vsctl show") == f"""{uuid}
    Bridge br0
        Port br0
            Interface br0
                type: internal
        Port p1
            tag: 10
            Interface p1
        Port p2
            trunks: [10, 20]
            Interface p2
    ovs_version: "3.1.0"
"""


def test_a_missing_device_is_reported_after_the_commit_and_stays():
    s = _host()
    run_ok(s, "ovs-vsctl add-br br0")
    r = s.run("ovs-vsctl add-port br0 nope")
    assert r.status == 0
    assert r.error == ("ovs-vsctl: Error detected while setting up 'nope': could not open network device nope "
                       "(No such device).  See ovs-vswitchd log for details.\n"
                       'ovs-vsctl: The default log directory is "/var/log/openvswitch".\n')
    assert run_ok(s, "ovs-vsctl list-ports br0") == "nope\n"
    assert run_ok(s, "ovs-vsctl get interface nope ofport error") == \
        '-1\n"could not open network device nope (No such device)"\n'


def test_database_commands():
    s = _host()
    run_ok(s, "ovs-vsctl add-br br0 -- add-port br0 p1 tag=10")
    errors = {
        "get port p1 foo": 'Port does not contain a column whose name matches "foo"',
        "get prt p1 tag": 'unknown table "prt"',
        "get port p9 tag": 'no row "p9" in table Port',
        "set port p1 tag=5000": "constraint violation: 5000 is not in the valid range 0 to 4095 (inclusive)",
        "set port p1 vlan_mode=foo": "constraint violation: foo is not one of the allowed values ([access, "
                                     "dot1q-tunnel, native-tagged, native-untagged, trunk])",
        "set port p1 tag=abc": '"abc" is not a valid integer or range',
        "get interface p1 options:foo": 'no key "foo" in Interface record "p1" column options',
        "set-fail-mode br0 foo": 'fail-mode must be "standalone" or "secure"',
        "destroy qos 00000000-0000-0000-0000-000000000000":
            'no row "00000000-0000-0000-0000-000000000000" in table QoS',
        "list controller br0": 'no row "br0" in table Controller',
    }
    for cmd, text in errors.items():
        r = s.run(f"ovs-vsctl {cmd}")
        assert (r.status, r.error) == (1, f"ovs-vsctl: {text}\n"), cmd
    assert run_ok(s, "ovs-vsctl get port p1 tag") == "10\n"      # the failed set changed nothing
    run_ok(s, "ovs-vsctl set bridge br0 other_config:a=b other-config:c=d")
    assert run_ok(s, "ovs-vsctl get bridge br0 other_config") == "{a=b, c=d}\n"
    assert run_ok(s, "ovs-vsctl get interface p1 type admin_state") == '""\ndown\n'
    assert run_ok(s, "ovs-vsctl --bare --columns=name,tag list port p1") == "p1\n10\n"
    listing = run_ok(s, "ovs-vsctl list port p1")
    assert "\ntag                 : 10\n" in listing and "\nvlan_mode           : []\n" in listing
    assert listing.startswith("_uuid               : ")
    assert "ingress_policing_burst: 0\n" in run_ok(s, "ovs-vsctl list interface p1")
    assert run_ok(s, "ovs-vsctl --bare --columns=name find port tag=10") == "p1\n"
    run_ok(s, "ovs-vsctl set-controller br0 tcp:127.0.0.1:6653 ptcp:6654 -- set-fail-mode br0 secure")
    assert run_ok(s, "ovs-vsctl get-controller br0; ovs-vsctl get-fail-mode br0") == \
        "ptcp:6654\ntcp:127.0.0.1:6653\nsecure\n"
    # --id=@name: a row made and referenced in one transaction
    run_ok(s, "ovs-vsctl -- set port p1 qos=@q -- --id=@q create qos type=linux-htb other-config:max-rate=1000000 "
              "queues:1=@q1 -- --id=@q1 create queue other-config:max-rate=300000")
    q = run_ok(s, "ovs-vsctl get port p1 qos").strip()
    assert run_ok(s, f"ovs-vsctl get qos {q} type other_config") == "linux-htb\n{max-rate=\"1000000\"}\n"
    run_ok(s, "ovs-vsctl clear port p1 qos")
    assert run_ok(s, "ovs-vsctl --bare --columns=_uuid list qos") == f"{q}\n"   # QoS is a root table: it stays
    run_ok(s, "ovs-vsctl -- --all destroy qos -- --all destroy queue")
    assert run_ok(s, "ovs-vsctl list qos; ovs-vsctl list queue") == ""


def test_a_killed_ovsdb_server_is_a_connection_failure():
    s = _host()
    run_ok(s, "ovs-vsctl add-br br0")
    run_ok(s, "kill $(pidof ovsdb-server)")
    r = s.run("ovs-vsctl show")
    assert (r.status, r.error) == (1, "ovs-vsctl: unix:/var/run/openvswitch/db.sock: database connection failed "
                                      "(No such file or directory)\n")


def test_refusals_are_netplex_words():
    s = _host()
    run_ok(s, "ovs-vsctl add-br br0")
    for cmd in ("emer-reset", "add-bond br0 bond0 p1 p2 bond_mode=balance-tcp"):
        r = s.run(f"ovs-vsctl {cmd}")
        assert r.status == 2 and r.error.startswith("netplex: ovs-vsctl"), cmd
    r = s.run("ovs-vsctl add-br br9 br0 10")
    assert r.status == 1 and "fake bridge" in r.error


def test_other_tunnel_types_are_refused_and_change_nothing():
    s = _host()
    run_ok(s, "ovs-vsctl add-br br0")
    r = s.run("ovs-vsctl add-port br0 st1 -- set interface st1 type=stt options:remote_ip=192.168.1.2")
    assert (r.status, r.error) == (2, "netplex: ovs-vsctl: interface type stt is not supported (system, "
                                      "internal, patch, vxlan, gre and geneve are)\n")
    assert run_ok(s, "ovs-vsctl list-ports br0") == ""


def test_patch_ports_join_two_bridges(ovs_hosts):
    _net, s, h1, h2 = ovs_hosts
    run_ok(s, "ovs-vsctl add-br br0 -- add-port br0 p1 -- add-br br1 -- add-port br1 p2")
    assert h1.run("ping -c 1 -W 1 10.0.0.2").status == 1
    run_ok(s, "ovs-vsctl add-port br0 patch0 -- set interface patch0 type=patch options:peer=patch1 "
              "-- add-port br1 patch1 -- set interface patch1 type=patch options:peer=patch0")
    assert h1.run("ping -c 1 -W 1 10.0.0.2").status == 0
