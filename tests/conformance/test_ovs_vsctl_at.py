"""Open vSwitch's own ovs-vsctl unit tests (tests/data/ovs/ovs-vsctl.at) as a peer suite:
the rate of their checks netplex's ovs-vsctl passes may only go up (docs/ovs.md)."""
from __future__ import annotations

from netplex.conformance.ovs_vsctl_at import DEFAULT_FILE, parse_at, run, uuidfilt

FLOOR = 462     # checks passing when this was written (313 before bonds); raise it as more pass


def test_the_at_file_is_read_as_autotest_reads_it():
    checks, skipped = parse_at(DEFAULT_FILE.read_text())
    assert len(checks) == 471
    assert "simple fake bridge (VLAN $1)" in skipped and "managers" in skipped
    first = checks[0]
    assert (first.group, first.commands, first.status) == ("add-br a", "ovs-vsctl --no-wait -vreconnect:emer add-br a",
                                                           "0")
    assert uuidfilt("x 0fcd11a1-2ba8-4b38-a358-4bccf2bf3057 y 0fcd11a1-2ba8-4b38-a358-4bccf2bf3057") == "x <0> y <0>"


def test_ovs_vsctl_at_pass_rate():
    report = run()
    assert report.passed >= FLOOR, "\n".join(report.failures)
