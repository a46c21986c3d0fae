"""iptables 1.8.9's extension test tables and save dumps, run against netplex's iptables.

The floors are the pass rates reached (docs/conformance-iptables.md lists the
failures that remain and why); a change that lowers one fails here.
"""
from __future__ import annotations

import pytest

from netplex.conformance.iptables_t import (
    DEFAULT_DIR,
    DUMPS,
    IN_SCOPE,
    run_dump,
    run_file,
)

pytestmark = pytest.mark.skipif(not DEFAULT_DIR.exists(), reason="conformance data not present")

# file → minimum pass rate (1.0 unless a known failure remains)
FLOORS = {name: 1.0 for name in IN_SCOPE}
# the FAIL line `--hitcount 999`: kernel 6.x accepts it (the kernel twin is the judge)
FLOORS["libxt_recent.t"] = 24 / 27
# the 6 `--path` lines (cgroup v2) are refused in netplex's words: only net_cls classids are modelled
FLOORS["libxt_cgroup.t"] = 12 / 18
PARTIAL = {"libxt_cgroup.t"}      # refused by design: kept out of the total
TOTAL_FLOOR = 0.997
# dumps that round-trip now
DUMP_OK = ("ipt-save-filter.txt", "policy-drop.txt", "wireless.txt", "fedora27-iptables")


@pytest.fixture(scope="module")
def results():
    return {name: run_file(DEFAULT_DIR / name) for name in sorted(IN_SCOPE)}


@pytest.mark.parametrize("name", sorted(IN_SCOPE))
def test_file_rate(results, name) -> None:
    r = results[name]
    assert r.rate >= FLOORS[name], "\n".join(r.failures)


def test_total_rate(results) -> None:
    passed = sum(r.passed for n, r in results.items() if n not in PARTIAL)
    total = sum(r.total for n, r in results.items() if n not in PARTIAL)
    assert passed / total >= TOTAL_FLOOR


@pytest.mark.parametrize("name", DUMPS)
def test_dump_round_trip(name) -> None:
    err = run_dump(DEFAULT_DIR / "dumps" / name)
    if name in DUMP_OK:
        assert err is None, err
    elif err is None:
        pytest.fail(f"{name} round-trips now: move it to DUMP_OK")
