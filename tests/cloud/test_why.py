"""`netplex cloud why`: each verdict through the command, on examples/cloud-why.yaml (allowed by
a named rule, dropped by the security groups, a router without a route, a missing floating IP),
and its usage errors. The example's probes run on both backends in tests/differential (every example)."""
from __future__ import annotations

import functools
import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from netplex import cli

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "cloud-why.yaml"
runner = CliRunner()
RULE_ID = r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[0-9a-f]{4}-[0-9a-f]{12}"


@functools.cache
def why(*args: str) -> tuple[int, str, str]:
    r = runner.invoke(cli.app, ["cloud", "why", str(EXAMPLE), *args])
    return r.exit_code, r.stdout, r.stderr


def test_allowed_names_the_rule_by_its_id_and_iptables_line() -> None:
    status, out, _ = why("vm2", "vm1", "tcp", "80")
    assert status == 0
    assert "verdict: delivered to vm1 (10.0.0.3)" in out
    assert re.search(rf"ingress on compute1, vm1's port .*: allowed by security-group rule {RULE_ID} of group web: "
                     r"ingress tcp port 80 from any\n    -A neutron-linuxbri-i\S+ -p tcp -m tcp --dport 80 -j RETURN\n",
                     out), out
    assert re.search(rf"egress on compute2, vm2's port .*: allowed by security-group rule {RULE_ID} of group web: "
                     r"egress any protocol to any\n", out), out


def test_the_rule_id_is_the_one_openstack_lists() -> None:
    _, out, _ = why("vm2", "vm1", "tcp", "80")
    rule = re.search(rf"allowed by security-group rule ({RULE_ID}) of group web: ingress", out)
    assert rule is not None
    # the dropped answer lists the group's rules: the port-80 rule is among them under the same id
    assert f"rule {rule.group(1)}: ingress tcp port 80 from any" in why("vm2", "vm1", "tcp", "22")[1]


def test_dropped_by_the_security_group_names_the_fallback_and_the_groups_rules() -> None:
    status, out, _ = why("vm2", "vm1", "tcp", "22")
    assert status == 1
    assert re.search(r"verdict: dropped by the security groups of vm1's port \S+ \(tap\S+\) on compute1: "
                     r"no ingress rule matches", out), out
    assert re.search(rf"rule {RULE_ID}: ingress tcp port 22 from 203\.0\.113\.0/24", out), out
    assert out.rstrip().endswith('decided by: -A neutron-linuxbri-sg-fallback -m comment --comment '
                                 '"Default drop rule for unmatched traffic." -j DROP')


def test_a_router_without_a_route() -> None:
    status, out, _ = why("vm3", "198.51.100.1", "icmp")
    assert status == 1
    assert re.search(r"decided by: router r2 \(\S+\) has no route to 198\.51\.100\.1\n"
                     r"  hop: network1, namespace qrouter-\S+ \(dropped on qr-\S+: no_route\)", out), out
    assert "10.1.0.0/24 dev qr-" in out          # its one route, as `ip route` prints it
    assert "openstack router add subnet r2 public-sub" in out


def test_a_missing_floating_ip() -> None:
    status, out, _ = why("internet", "vm2", "tcp", "80")
    assert status == 1
    assert "decided by: vm2 has no floating IP" in out
    status, out, _ = why("internet", "198.51.100.11", "tcp", "80")
    assert status == 1
    assert "decided by: no floating IP 198.51.100.11 is associated with a port" in out
    status, out, _ = why("internet", "vm1", "tcp", "80")     # vm1 has one: reached by it
    assert status == 0 and "verdict: delivered to vm1 (198.51.100.10)" in out


@pytest.mark.parametrize(("args", "message"), [
    (("vm9", "vm1", "tcp", "1"), 'netplex: cloud why: no server or node "vm9"'),
    (("vm2", "vm1", "tcp"), "netplex: cloud why: tcp needs a port in 1..65535"),
    (("vm2", "vm1", "sctp", "1"), 'netplex: cloud why: protocol "sctp" is not one of icmp, tcp, udp'),
])
def test_usage_errors_exit_2(args: tuple[str, ...], message: str) -> None:
    status, out, err = why(*args)
    assert (status, out, err.strip()) == (2, "", message)

