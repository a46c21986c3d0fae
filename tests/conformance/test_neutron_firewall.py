"""Neutron's own unit-test goldens for the iptables firewall driver, run against
netplex's model of it (netplex/cloud/firewall.py, what the cloud's agent writes).

tests/data/neutron/iptables_firewall_prepare_port_filter.json holds the IPv4 cases of
neutron's test_iptables_firewall.py IptablesFirewallTestCase that go through
_test_prepare_port_filter (46 of them; the IPv6 ones are out of scope, as netplex's
cloud is IPv4): each a security group rule and the whole list of add_chain/add_rule
calls the test asserts prepare_port_filter makes for the port `tapfake_dev` (MAC
ff:ff:ff:ff:ff:ff, 10.0.0.1, network fake_net; comments off, as the test sets
comment_iptables_rules = False). A case passes when every chain holds exactly the
rules, in the order, the calls give (`mock.ANY` for the conntrack zone rules matches
any one rule; top=True rules lead their chain), with nothing more.

`python tests/conformance/test_neutron_firewall.py` prints the pass rate and why each
failure failed.
"""
from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

import pytest

from netplex.cloud.firewall import Call, port_calls, trailer_calls

DATA = Path(__file__).resolve().parents[1] / "data" / "neutron" / "iptables_firewall_prepare_port_filter.json"
CASES: list[dict[str, Any]] = json.loads(DATA.read_text())["cases"]


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
    calls: list[Call] = port_calls("tapfake_dev", "ff:ff:ff:ff:ff:ff", ["10.0.0.1"], "brqfake_net", 4097, [dict(rule)])
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


def pass_rate() -> tuple[int, int]:
    return sum(1 for c in CASES if not differences(c)), len(CASES)


def test_pass_rate_is_tracked() -> None:
    passed, total = pass_rate()
    assert total == 46
    assert passed / total >= 0.90, f"neutron firewall goldens: {passed}/{total}"


@pytest.mark.parametrize("case", CASES, ids=[c["test"] for c in CASES])
def test_case(case: dict[str, Any]) -> None:
    assert differences(case) == []


if __name__ == "__main__":
    failures = [(c, differences(c)) for c in CASES]
    failures = [(c, d) for c, d in failures if d]
    passed, total = pass_rate()
    print(f"neutron test_iptables_firewall.py _test_prepare_port_filter (IPv4): {passed}/{total} "
          f"({passed / total:.1%})")
    if "-v" in sys.argv:
        for c, d in failures:
            print(f"\n{c['test']} (line {c['line']}): {c['rule']}")
            for line in d:
                print("   ", line)
