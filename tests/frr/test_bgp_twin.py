"""The simulator's BGP against real FRR: the same scenario (frr.conf, frrinit.sh, vtysh) runs
netplex's speaker in the simulator and Debian's FRR 8.4 (zebra, bgpd) in the kernel twin's
namespaces; routes, best paths, multipath flags and vtysh's tables must agree. The twin's
budget runs the leaf-spine, iBGP and iBGP-over-loopbacks scenarios; NETPLEX_FRR_TWIN=1 adds the
peer-group one and dc-border-two-isps (21 s: its UDP flow runs through the cut)."""
from __future__ import annotations

import os
import re
from dataclasses import replace
from pathlib import Path

import pytest

from netplex.scenario.diff import DEFAULT_NORMALISATIONS, Normalisation

ROOT = Path(__file__).resolve().parents[2]
LEAF_SPINE = ROOT / "examples" / "dc-leaf-spine-bgp.yaml"
BORDER = ROOT / "examples" / "dc-border-two-isps.yaml"
IBGP = Path(__file__).with_name("ibgp-two-borders.yaml")
PEER_GROUP = Path(__file__).with_name("peer-group.yaml")
LOOPBACKS = Path(__file__).with_name("ibgp-loopbacks.yaml")

FRR_RULES = (
    Normalisation(re.compile(r"\bnhid \d+ "), "nhid <id> ",
                  "zebra's nexthop ids come from its own counter, which real zebra also advances for the "
                  "lookups it discards, so the numbers follow the order of kernel events at its start-up; "
                  "netplex's zebra numbers its entries 1, 2, ... (which object a route uses is compared)"),
    Normalisation(re.compile(r"^id \d+ ((?:group \d+(?:,\d+)?(?:/\d+(?:,\d+)?)* )?)", re.M),
                  lambda m, _a: "id <id> " + ("group <ids> " if m.group(1) else ""),
                  "as above: `ip nexthop show` of zebra's objects (the listing's order, kinds and paths are "
                  "compared)"),
    Normalisation(re.compile(r"\b[\w.-]+\((\d+\.\d+\.\d+\.\d+)\)"), r"<host>(\1)",
                  "the twin's nodes share the host's UTS namespace, so every FRR announces the host's "
                  "name in its hostname capability; a simulated node announces its own"),
    Normalisation(re.compile(r"(\d+\.\d+\.\d+\.\d+)\([\w.-]+\)"), r"\1(<host>)", "as above (next hops)"),
    Normalisation(re.compile(r"^(<host>\([\d.]+\))\n? +4 ", re.M), r"\1 4 ",
                  "a long `host(address)` wraps the summary's row (netplex's node names are longer than the "
                  "twin's shared host name)"),
    Normalisation(re.compile(r"\b\d\d:\d\d:\d\d\b"), "<uptime>",
                  "uptimes count wall-clock seconds on the twin, simulated ones in netplex"),
    Normalisation(re.compile(r"^(\S+ +4 +\d+) +\d+ +\d+", re.M), r"\1 <msgs>",
                  "message counts: FRR sends End-of-RIB and per-prefix UPDATEs at its own pace"),
    Normalisation(re.compile(r"Last update: .*"), "Last update: <date>", "wall clock vs the simulated epoch"),
    Normalisation(re.compile(r"^hostname \S+$", re.M), "hostname <host>",
                  "FRR takes the host's name (the twin's nodes share it); a simulated node has its own"),
)


def _sorted_rows(m: re.Match[str], aliases: object) -> str:
    """One prefix's rows of `show ip bgp` in next-hop order, the prefix on the first."""
    first, rest = m.group(1), m.group(2).splitlines(keepends=True)
    net = first[3:20]
    rows = sorted([first[:3] + " " * 17 + first[20:], *rest], key=lambda r: r[20:])
    return rows[0][:3] + net + rows[0][20:] + "".join(rows[1:])


def _sorted_blocks(m: re.Match[str], aliases: object) -> str:
    """The path blocks of `show ip bgp PREFIX` in text order."""
    blocks = re.findall(r"  \S.*\n    .*\n(?:      .*\n)+", m.group(0))
    return "".join(sorted(blocks))


FRR_RULES += (
    Normalisation(re.compile(r"best #\d+"), "best #<n>", "the best path's place follows the arrival order"),
    Normalisation(re.compile(r"(BGP routing table entry for \S+, version )\d+"), r"\1<v>",
                  "a prefix's version is the order it was processed in: real bgpd's `network` waits for "
                  "zebra's import check, so a learned prefix can come first"),
    Normalisation(re.compile(r"(?:^  \S.*\n    .*\n(?:      .*\n)+)+", re.M), _sorted_blocks,
                  "`show ip bgp PREFIX` lists paths newest first: two UPDATEs arriving together are a race"),
    Normalisation(re.compile(r"^([* ][>= ][ i]\S.*\n)((?:[* ][>= ][ i] {17}\S.*\n)+)", re.M), _sorted_rows,
                  "FRR lists a prefix's paths newest first; which of two UPDATEs sent at the same moment "
                  "real bgpd reads first is a race, so rows are compared in next-hop order"),
)
NORMS = replace(DEFAULT_NORMALISATIONS, rules=(*DEFAULT_NORMALISATIONS.rules, *FRR_RULES))


# where three routers announce to each other at once, how many times a best path changed before
# it settled is a race on the twin
RACY = replace(NORMS, rules=(*NORMS.rules, Normalisation(
    re.compile(r"BGP table version (is )?\d+"), r"BGP table version \1<v>",
    "how often real bgpd's best path changed on the way depends on which UPDATE it read first"),))


EVERYTHING = os.environ.get("NETPLEX_FRR_TWIN") == "1"
LATER = pytest.mark.skipif(not EVERYTHING, reason="the twin's budget: NETPLEX_FRR_TWIN=1 runs it")


@pytest.mark.linux
@pytest.mark.parametrize(("path", "norms"), [
    (LEAF_SPINE, NORMS), (IBGP, RACY), (LOOPBACKS, NORMS),
    pytest.param(PEER_GROUP, NORMS, marks=LATER), pytest.param(BORDER, NORMS, marks=LATER),
], ids=["leaf-spine", "ibgp", "loopbacks", "peer-group", "border"])
def test_bgp_scenarios_agree_with_real_frr(differential, path: Path, norms) -> None:
    report = differential.assert_agree(path, normalisations=norms)
    assert report.agree
