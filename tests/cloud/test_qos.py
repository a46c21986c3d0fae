"""QoS policies (issue 14): `openstack network qos policy/rule`, `network create|set
--qos-policy`, `port set --qos-policy`, and the linuxbridge agent's tc on the VM's tap
(ingress policing for what the VM sends, tbf for what it receives)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from netplex.cloud import Controller, openstack
from netplex.cloud.agent import host_lines
from netplex.scenario.loader import load_scenario, load_scenario_text
from netplex.scenario.runner import commands_text
from netplex.twin.features import needed_by

EXAMPLE = Path(__file__).resolve().parents[2] / "examples" / "cloud-qos-limit.yaml"


@pytest.fixture
def ctl() -> Controller:
    c = Controller(["compute1"])
    for line in ("openstack network create net1", "openstack subnet create --network net1 --subnet-range 10.0.0.0/24 s",
                 "openstack network qos policy create bw",
                 "openstack server create --network net1 vm1"):
        assert openstack(c, line)[0] == 0, line
    return c


def tc_lines(c: Controller) -> list[str]:
    return [ln for ln in host_lines(c, "compute1", {"compute1": "192.168.0.11"})[0] if ln.startswith("tc ")]


def test_a_policy_on_the_network_reaches_its_vm_ports_as_tc(ctl: Controller) -> None:
    assert openstack(ctl, "openstack network qos rule create --type bandwidth-limit --max-kbps 1000 bw")[0] == 0
    assert tc_lines(ctl) == []                       # not attached yet
    assert openstack(ctl, "openstack network set --qos-policy bw net1") == (0, "", "")
    tap = ctl.ports[ctl.server("vm1").ports[0]].tap
    assert tc_lines(ctl) == [f"tc qdisc add dev {tap} ingress",
                             f"tc filter add dev {tap} parent ffff: protocol all prio 49 u32 match u32 0 0 police rate "
                             "1000kbit burst 100000b mtu 65535 drop flowid :1"]   # burst: 80 % of a second at the rate
    assert openstack(ctl, "openstack network qos rule create --type bandwidth-limit --max-kbps 2000 --ingress bw")[0] == 0
    assert tc_lines(ctl)[-1] == f"tc qdisc replace dev {tap} root tbf rate 2000kbit latency 50ms burst 200000b"
    # a port's own policy wins over its network's; --no-qos-policy clears it
    assert openstack(ctl, "openstack network qos policy create none")[0] == 0
    assert openstack(ctl, f"openstack port set --qos-policy none {ctl.server('vm1').ports[0]}") == (0, "", "")
    assert tc_lines(ctl) == []
    rules = json.loads(openstack(ctl, "openstack network qos rule list bw -f json")[1])
    assert [(r["Max Kbps"], r["Direction"]) for r in rules] == [(1000, "egress"), (2000, "ingress")]


@pytest.mark.parametrize("line, status, err", [
    ("openstack network qos rule create --max-kbps 5 bw", 2,
     "openstack network qos rule create: error: the following arguments are required: --type\n"),
    ("openstack network qos rule create --type minimum-bandwidth --min-kbps 5 bw", 2,
     "netplex: openstack network qos rule create --min-kbps is not supported\n"),
    ("openstack network qos rule create --type dscp-marking bw", 1,
     'Error while executing command: "Create" rule command for type "dscp-marking" requires arguments: dscp_mark\n'),
    ("openstack network qos rule create --type dscp-marking --dscp-mark 13 bw", 1,
     "Error while executing command: Invalid input for dscp_mark. Reason: 13 is not in valid_values [0, 8, 10, 12, "
     "14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34, 36, 38, 40, 46, 48, 56].\n"),
    ("openstack network qos rule create --type dscp-marking --dscp-mark af31 bw", 2,
     "openstack network qos rule create: error: argument --dscp-mark: invalid int value: 'af31'\n"),
    ("openstack network qos rule create --type dscp-marking --dscp-mark 26 --max-kbps 5 bw", 2,
     "netplex: openstack network qos rule create --type dscp-marking --max-kbps is not supported\n"),
    ("openstack network qos rule create --type packet-rate-limit bw", 2,
     "netplex: openstack network qos rule create --type packet-rate-limit is not supported (bandwidth-limit, "
     "dscp-marking)\n"),
    ("openstack network qos rule create --type bandwidth-limit bw", 1,
     'Error while executing command: "Create" rule command for type "bandwidth-limit" requires arguments: max_kbps\n'),
    ("openstack network qos rule create --type bandwidth-limit --max-kbps x bw", 2,
     "openstack network qos rule create: error: argument --max-kbps: invalid int value: 'x'\n"),
    ("openstack network set --qos-policy nope net1", 1, "Error while executing command: No QosPolicy found for nope\n"),
])
def test_qos_errors_change_nothing(ctl: Controller, line: str, status: int, err: str) -> None:
    assert openstack(ctl, line) == (status, "", err)
    assert ctl.qos_policy("bw").rules == [] and ctl.network("net1").qos_policy_id is None


def test_a_policy_in_use_is_not_deleted(ctl: Controller) -> None:
    assert openstack(ctl, "openstack network set --qos-policy bw net1")[0] == 0
    status, _, err = openstack(ctl, "openstack network qos policy delete bw")
    assert status == 1 and err.endswith("1 of 1 QoS policies failed to delete.\n")
    assert err.startswith("Failed to delete QoS policy name or ID 'bw': QoS Policy ")


def test_the_twins_feature_scan_sees_the_agents_tc() -> None:
    """The kernel features a cloud needs come from the tc lines its agent writes, not from the
    file's `openstack` words: an egress limit needs act_police (the tap's ingress policer), an
    ingress-only one only sch_tbf."""
    text = EXAMPLE.read_text()
    assert {"act_police", "sch_tbf"} <= set(needed_by(commands_text(load_scenario(EXAMPLE))))
    assert "act_police" not in needed_by(text)
    ingress_only = text.replace("    openstack network qos rule create --type bandwidth-limit --max-kbps 1000 --egress bw\n", "")
    assert ingress_only != text
    needs = needed_by(commands_text(load_scenario_text(ingress_only, "q.yaml")))
    assert "sch_tbf" in needs and "act_police" not in needs


@pytest.mark.linux
def test_qos_example_agrees_with_the_kernel(differential) -> None:
    differential.assert_agree(EXAMPLE, needs=("br_netfilter", "vxlan", "act_police", "sch_tbf"))


def test_dscp_marking_reaches_its_ports_as_a_mangle_chain(ctl: Controller) -> None:
    """The linuxbridge QoS driver's DSCP marking: per port a `neutron-linuxbri-qos-o<tap[3:]>`
    chain (cut to 11) entered from mangle POSTROUTING for what the tap sends; examples/
    cloud-projects.yaml shows the mark reaching the internet on both backends."""
    out = openstack(ctl, "openstack network qos rule create --type dscp-marking --dscp-mark 26 bw -f json")[1]
    rule = json.loads(out)
    assert rule == {"dscp_mark": 26, "id": rule["id"], "qos_policy_id": ctl.qos_policy("bw").id, "type": "dscp_marking"}
    status, _, err = openstack(ctl, "openstack network qos rule create --type dscp-marking --dscp-mark 10 bw")
    assert (status, err) == (1, f"Error while executing command: Rule dscp_marking already exists in QoS Policy "
                                f"{ctl.qos_policy('bw').id}.\n")
    assert openstack(ctl, "openstack network qos rule create --type bandwidth-limit --max-kbps 1000 bw")[0] == 0
    rows = json.loads(openstack(ctl, "openstack network qos rule list bw -f json")[1])
    assert [(r["Type"], r["DSCP mark"], r["Max Kbps"]) for r in rows] == [("dscp_marking", 26, ""),
                                                                          ("bandwidth_limit", "", 1000)]
    assert openstack(ctl, "openstack network set --qos-policy bw net1")[0] == 0
    tap = ctl.ports[ctl.server("vm1").ports[0]].tap
    chain = f"neutron-linuxbri-qos-o{tap[3:9]}"   # "qos-o" + 6: the 11 characters of a wrapped chain
    lines = host_lines(ctl, "compute1", {"compute1": "192.168.0.11"})[0]
    assert [ln for ln in lines if "-t mangle" in ln] == [
        "iptables -t mangle -N neutron-linuxbri-POSTROUTING",
        "iptables -t mangle -A POSTROUTING -j neutron-linuxbri-POSTROUTING",
        f"iptables -t mangle -N {chain}",
        f"iptables -t mangle -A neutron-linuxbri-POSTROUTING -m physdev --physdev-in {tap} --physdev-is-bridged -j {chain}",
        f"iptables -t mangle -A {chain} -j DSCP --set-dscp 0x1a"]
    assert len(tc_lines(ctl)) == 2   # the bandwidth limit beside it
