"""The simulator's BGP against real FRR: the same scenario (frr.conf, frrinit.sh, vtysh) runs
netplex's speaker in the simulator and Debian's FRR 8.4 (zebra, bgpd) in the kernel twin's
namespaces; routes, best paths, multipath flags and vtysh's tables must agree."""
from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest

from netplex.scenario.diff import DEFAULT_NORMALISATIONS, Normalisation

ROOT = Path(__file__).resolve().parents[2]
LEAF_SPINE = ROOT / "examples" / "dc-leaf-spine-bgp.yaml"

FRR_RULES = (
    Normalisation(re.compile(r"\bnhid \d+ "), "",
                  "zebra installs routes with kernel nexthop objects (`nhid N`); netplex's zebra installs "
                  "plain routes with the same nexthops"),
    Normalisation(re.compile(r"\b[\w.-]+\((\d+\.\d+\.\d+\.\d+)\)"), r"<host>(\1)",
                  "the twin's nodes share the host's UTS namespace, so every FRR announces the host's "
                  "name in its hostname capability; a simulated node announces its own"),
    Normalisation(re.compile(r"(\d+\.\d+\.\d+\.\d+)\([\w.-]+\)"), r"\1(<host>)", "as above (next hops)"),
    Normalisation(re.compile(r"\b\d\d:\d\d:\d\d\b"), "<uptime>",
                  "uptimes count wall-clock seconds on the twin, simulated ones in netplex"),
    Normalisation(re.compile(r"^(\S+ +4 +\d+) +\d+ +\d+", re.M), r"\1 <msgs>",
                  "message counts: FRR sends End-of-RIB and per-prefix UPDATEs at its own pace"),
    Normalisation(re.compile(r"Last update: .*"), "Last update: <date>", "wall clock vs the simulated epoch"),
)


def _sorted_rows(m: re.Match[str], aliases: object) -> str:
    """One prefix's rows of `show ip bgp` in next-hop order, the prefix on the first."""
    first, rest = m.group(1), m.group(2).splitlines(keepends=True)
    net = first[3:20]
    rows = sorted([first[:3] + " " * 17 + first[20:], *rest], key=lambda r: r[20:])
    return rows[0][:3] + net + rows[0][20:] + "".join(rows[1:])


FRR_RULES += (
    Normalisation(re.compile(r"^([* ][>= ][ i]\S.*\n)((?:[* ][>= ][ i] {17}\S.*\n)+)", re.M), _sorted_rows,
                  "FRR lists a prefix's paths newest first; which of two UPDATEs sent at the same moment "
                  "real bgpd reads first is a race, so rows are compared in next-hop order"),
)
NORMS = replace(DEFAULT_NORMALISATIONS, rules=(*DEFAULT_NORMALISATIONS.rules, *FRR_RULES))


@pytest.mark.linux
def test_leaf_spine_bgp_agrees_with_real_frr(differential) -> None:
    report = differential.assert_agree(LEAF_SPINE, normalisations=NORMS)
    assert report.agree
