"""Neutron's own unit-test goldens for the iptables firewall driver, run against
netplex's model of it (netplex/cloud/firewall.py, what the cloud's agent writes).

tests/data/neutron/iptables_firewall_prepare_port_filter.json holds the IPv4 cases of
neutron's test_iptables_firewall.py IptablesFirewallTestCase that go through
_test_prepare_port_filter (46 of them); iptables_firewall_prepare_port_filter_v6.json the 34
IPv6 ones, checked on the ip6tables side (the port also has fe80::1): each a security group rule and the whole list of add_chain/add_rule
calls the test asserts prepare_port_filter makes for the port `tapfake_dev` (MAC
ff:ff:ff:ff:ff:ff, 10.0.0.1, network fake_net; comments off, as the test sets
comment_iptables_rules = False). A case passes when every chain holds exactly the
rules, in the order, the calls give (`mock.ANY` for the conntrack zone rules matches
any one rule; top=True rules lead their chain), with nothing more.

tests/data/neutron/securitygroups_rpc_goldens.json holds the IPv4 goldens of neutron's
test_securitygroups_rpc.py (IPTABLES_FILTER_1, IPSET_FILTER_1, IPTABLES_NAT_3,
IPTABLES_RAW_BRIDGE_NET_2, ...: what IptablesManager feeds `iptables-restore -n`, as
regular expressions) and the state each test replays it for (the ports and their rules,
the trusted ports, the remote group's members, ipsets on or off); 16 states. The state
passes when netplex's driver, rendered in IptablesManager's restore format for a fresh
table (the chains declared, then `-I CHAIN N RULE` chain by chain in sorted order),
matches the test's regular expression for filter + nat + raw, as the test's
MatchesRegex does. The OVS hybrid driver (OVSHybridIptablesFirewallDriver, the OVS agent's
iptables_hybrid; netplex.cloud.ovs_agent) is checked the same way on the 7 states
TestSecurityGroupAgentWithOVSIptables replays, with its raw goldens IPTABLES_RAW_DEVICE_1/2
(a zone per port, matched on `qvb<device>`) in place of IPTABLES_RAW_BRIDGE_NET_1/2. The IPv6
goldens IPTABLES_FILTER_V6_* are checked the same way against netplex's ip6tables half, for the
15 states a test replays one for (and the 7 of the OVS hybrid driver).

`python tests/conformance/test_neutron_firewall.py` prints the pass rates and why each
failure failed.
"""
from __future__ import annotations

import json
import re
import sys
from pathlib import Path
from typing import Any

import pytest

from netplex.cloud.firewall import ZONE_START, Call, port_calls, trailer_calls, trusted_calls

DATA = Path(__file__).resolve().parents[1] / "data" / "neutron"
CASES: list[dict[str, Any]] = json.loads((DATA / "iptables_firewall_prepare_port_filter.json").read_text())["cases"]
CASES6: list[dict[str, Any]] = json.loads((DATA / "iptables_firewall_prepare_port_filter_v6.json").read_text())["cases"]
RPC = json.loads((DATA / "securitygroups_rpc_goldens.json").read_text())
STATES: list[dict[str, Any]] = RPC["states"]
BN = "neutron-linuxbri"


def chains_of(entries: list[tuple[str, str | None, bool]]) -> dict[str, list[str | None]]:
    """Each chain's final rule list: its top rules in the order added, then the others."""
    top: dict[str, list[str | None]] = {}
    rest: dict[str, list[str | None]] = {}
    for chain, rule, is_top in entries:
        top.setdefault(chain, [])
        rest.setdefault(chain, [])
        (top if is_top else rest)[chain].append(rule)
    return {c: top[c] + rest[c] for c in top}


def ours(rule: dict[str, Any]) -> dict[str, list[str | None]]:
    """The port's calls on the rule's side: iptables for IPv4, ip6tables for IPv6 (the test's
    fake port has 10.0.0.1 and fe80::1)."""
    ethertype = rule["ethertype"]
    calls: list[Call] = port_calls("tapfake_dev", "ff:ff:ff:ff:ff:ff", ["10.0.0.1", "fe80::1"], "brqfake_net", 4097,
                                   [dict(rule)], ethertype=ethertype)
    return chains_of([(c.chain, c.rule, c.top) for c in calls + trailer_calls()])


def expected(case: dict[str, Any]) -> dict[str, list[str | None]]:
    return chains_of([(e[1], e[2], e[3]) for e in case["expected"] if e[0] == "rule"])


def differences(case: dict[str, Any]) -> list[str]:
    want, got = expected(case), ours(case["rule"])
    out = []
    for chain in sorted(set(want) | set(got)):
        w, g = want.get(chain, []), got.get(chain, [])
        if len(w) != len(g) or any(a is not None and a != b for a, b in zip(w, g)):
            out.append(f"{chain}: expected {w}, got {g}")
    return out


def pass_rate(cases: list[dict[str, Any]] = CASES) -> tuple[int, int]:
    return sum(1 for c in cases if not differences(c)), len(cases)


# -- test_securitygroups_rpc.py ------------------------------------------------------------
BUILTIN = {"filter": ["FORWARD", "INPUT", "OUTPUT"], "nat": ["PREROUTING"], "raw": ["OUTPUT", "PREROUTING"]}


def state_calls(state: dict[str, Any], hybrid: bool = False, ethertype: str = "IPv4") -> list[Call]:
    """What the agent's firewall holds in the state: trusted ports first (process_trusted_ports
    runs before the filtered ports are set up), then each port, one zone per network (`hybrid`:
    one per port, the bridge device `qvb<device>`)."""
    calls = [c for dev in state["trusted"] for c in trusted_calls(dev)]
    zones: dict[str, int] = {}
    for p in state["ports"]:
        zone = zones.setdefault(p["device"] if hybrid else p["network"], ZONE_START + len(zones))
        bridge = f"qvb{p['device']}"[:14] if hybrid else f"brq{p['network']}"[:15]
        calls += port_calls(p["device"], p["mac"], [p["ip"]], bridge, zone, p["rules"],
                            state["members"], ipset=state["ipset"], ethertype=ethertype)
    return calls + trailer_calls()


def restore_text(calls: list[Call], table: str) -> str:
    """IptablesManager's iptables-restore input for a fresh table (comments off)."""
    wrapped: dict[str, list[str]] = {c: [] for c in BUILTIN[table]}
    if table == "filter":
        wrapped["local"] = []
    for call in calls:
        if call.table == table:
            top = [r for r in wrapped.setdefault(call.chain, []) if r.startswith("\0")]
            rule = " ".join(f"{BN}-{w[1:]}" if w.startswith("$") else w for w in call.rule.split(" "))
            entry = ("\0" if call.top else "") + rule
            if call.top:
                wrapped[call.chain].insert(len(top), entry)
            else:
                wrapped[call.chain].append(entry)
    jumps = {c: [f"-j {BN}-{c}"] for c in BUILTIN[table]}
    unwrapped: dict[str, list[str]] = {}
    if table == "filter":
        jumps["FORWARD"].insert(0, "-j neutron-filter-top")
        jumps["OUTPUT"].insert(0, "-j neutron-filter-top")
        unwrapped["neutron-filter-top"] = [f"-j {BN}-local"]
    lines = ["# Generated by iptables_manager", f"*{table}"]
    lines += [f":{c} - [0:0]" for c in sorted(BUILTIN[table])] + [f":{c} - [0:0]" for c in unwrapped]
    lines += [f":{BN}-{c} - [0:0]" for c in sorted(wrapped)]
    for chain, rules in [*sorted(jumps.items()), *unwrapped.items(),
                         *sorted((f"{BN}-{c}", [r.lstrip("\0") for r in rs]) for c, rs in wrapped.items())]:
        lines += [f"-I {chain} {n} {r}" for n, r in enumerate(rules, 1)]
    return "\n".join(lines + ["COMMIT", "# Completed by iptables_manager", ""])


# TestSecurityGroupAgentWithOVSIptables: the base class's states of the tests it overrides, its raw goldens
HYBRID_RAW = {"IPTABLES_RAW_BRIDGE_NET_1": "IPTABLES_RAW_DEVICE_1", "IPTABLES_RAW_BRIDGE_NET_2": "IPTABLES_RAW_DEVICE_2",
              "IPTABLES_RAW_DEFAULT": "IPTABLES_RAW_DEFAULT"}
HYBRID_STATES = [{**s, "raw": HYBRID_RAW[s["raw"]]} for s in STATES
                 if any(t.startswith("TestSecurityGroupAgentWithIptables.") for t in s["tests"])]


def golden_regex(state: dict[str, Any], ethertype: str = "IPv4") -> str:
    """TestSecurityGroupAgentWithIptables._regex of filter + nat + raw (IPv6: the filter6 golden,
    the same nat and raw, as _replay_iptables expects ip6tables-restore to get them)."""
    value = "".join(RPC["goldens"][state[t]] for t in ("filter" if ethertype == "IPv4" else "filter6", "nat", "raw"))
    value = value.replace("physdev-INGRESS", "physdev-out").replace("physdev-EGRESS", "physdev-in")
    return value.replace("\n", "\\n").replace("[", r"\[").replace("]", r"\]").replace("*", r"\*")


def state_text(state: dict[str, Any], hybrid: bool = False, ethertype: str = "IPv4") -> str:
    calls = state_calls(state, hybrid, ethertype)
    return "".join(restore_text(calls, t) for t in ("filter", "nat", "raw"))


def state_matches(state: dict[str, Any], hybrid: bool = False, ethertype: str = "IPv4") -> bool:
    return re.match(golden_regex(state, ethertype), state_text(state, hybrid, ethertype)) is not None


def state_pass_rate() -> tuple[int, int]:
    return sum(1 for s in STATES if state_matches(s)), len(STATES)


def hybrid_pass_rate() -> tuple[int, int]:
    return sum(1 for s in HYBRID_STATES if state_matches(s, hybrid=True)), len(HYBRID_STATES)


# the states a test replays an IPv6 golden for (IPTABLES_FILTER_V6_*), both mechanisms
STATES6 = [s for s in STATES if "filter6" in s]
HYBRID_STATES6 = [s for s in HYBRID_STATES if "filter6" in s]


def v6_pass_rates() -> tuple[tuple[int, int], tuple[int, int], tuple[int, int]]:
    """The IPv6 side: prepare_port_filter cases, the rpc goldens, the rpc goldens with the OVS hybrid driver."""
    return (pass_rate(CASES6), (sum(1 for s in STATES6 if state_matches(s, ethertype="IPv6")), len(STATES6)),
            (sum(1 for s in HYBRID_STATES6 if state_matches(s, True, "IPv6")), len(HYBRID_STATES6)))


def test_pass_rate_is_tracked() -> None:
    passed, total = pass_rate()
    assert total == 46
    assert passed / total >= 0.90, f"neutron firewall goldens: {passed}/{total}"
    passed, total = state_pass_rate()
    assert total == 16
    assert passed / total >= 0.90, f"neutron securitygroups_rpc goldens: {passed}/{total}"
    passed, total = hybrid_pass_rate()
    assert total == 7
    assert passed / total >= 0.90, f"neutron securitygroups_rpc goldens, OVS hybrid driver: {passed}/{total}"
    (p, t), (sp, st), (hp, ht) = v6_pass_rates()
    assert (t, st, ht) == (34, 15, 7)
    assert min(p / t, sp / st, hp / ht) >= 0.90, f"neutron IPv6 goldens: {p}/{t}, {sp}/{st}, {hp}/{ht}"


@pytest.mark.parametrize("case", CASES, ids=[c["test"] for c in CASES])
def test_case(case: dict[str, Any]) -> None:
    assert differences(case) == []


@pytest.mark.parametrize("case", CASES6, ids=[c["test"] for c in CASES6])
def test_case_ipv6(case: dict[str, Any]) -> None:
    assert differences(case) == []


@pytest.mark.parametrize("state", STATES6, ids=[s["name"] for s in STATES6])
def test_securitygroups_rpc_golden_ipv6(state: dict[str, Any]) -> None:
    text = state_text(state, ethertype="IPv6")
    assert re.match(golden_regex(state, "IPv6"), text), text


@pytest.mark.parametrize("state", HYBRID_STATES6, ids=[s["name"] for s in HYBRID_STATES6])
def test_securitygroups_rpc_golden_ipv6_ovs_hybrid(state: dict[str, Any]) -> None:
    text = state_text(state, hybrid=True, ethertype="IPv6")
    assert re.match(golden_regex(state, "IPv6"), text), text


@pytest.mark.parametrize("state", STATES, ids=[s["name"] for s in STATES])
def test_securitygroups_rpc_golden(state: dict[str, Any]) -> None:
    text = "".join(restore_text(state_calls(state), t) for t in ("filter", "nat", "raw"))
    assert re.match(golden_regex(state), text), text


@pytest.mark.parametrize("state", HYBRID_STATES, ids=[s["name"] for s in HYBRID_STATES])
def test_securitygroups_rpc_golden_ovs_hybrid(state: dict[str, Any]) -> None:
    text = "".join(restore_text(state_calls(state, hybrid=True), t) for t in ("filter", "nat", "raw"))
    assert re.match(golden_regex(state), text), text


if __name__ == "__main__":
    failures = [(c, differences(c)) for c in CASES]
    failures = [(c, d) for c, d in failures if d]
    passed, total = pass_rate()
    print(f"neutron test_iptables_firewall.py _test_prepare_port_filter (IPv4): {passed}/{total} "
          f"({passed / total:.1%})")
    spassed, stotal = state_pass_rate()
    print(f"neutron test_securitygroups_rpc.py IPv4 goldens: {spassed}/{stotal} ({spassed / stotal:.1%})")
    hpassed, htotal = hybrid_pass_rate()
    print(f"neutron test_securitygroups_rpc.py IPv4 goldens, OVS hybrid driver: {hpassed}/{htotal} "
          f"({hpassed / htotal:.1%})")
    (p6, t6), (sp6, st6), (hp6, ht6) = v6_pass_rates()
    print(f"neutron test_iptables_firewall.py _test_prepare_port_filter (IPv6): {p6}/{t6} ({p6 / t6:.1%})")
    print(f"neutron test_securitygroups_rpc.py IPv6 goldens: {sp6}/{st6} ({sp6 / st6:.1%})")
    print(f"neutron test_securitygroups_rpc.py IPv6 goldens, OVS hybrid driver: {hp6}/{ht6} ({hp6 / ht6:.1%})")
    if "-v" in sys.argv:
        failures += [(c, d) for c in CASES6 if (d := differences(c))]
        for st in STATES6:
            if not state_matches(st, ethertype="IPv6"):
                print(f"\n{st['name']} ({st['filter6']}):")
                print(state_text(st, ethertype="IPv6"))
        for st in STATES:
            if not state_matches(st):
                print(f"\n{st['name']} ({st['filter']}, {st['nat']}, {st['raw']}):")
                print("".join(restore_text(state_calls(st), t) for t in ("filter", "nat", "raw")))
        for c, d in failures:
            print(f"\n{c['test']} (line {c['line']}): {c['rule']}")
            for line in d:
                print("   ", line)
