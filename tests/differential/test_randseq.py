"""Random command sequences on the simulator and the kernel twin (netplex.conformance.randseq).

`test_random_sequences` (linux-marked: root) runs a fixed budget in CI —
RANDDIFF_N sequences (20) of RANDDIFF_LEN commands (15) from seed
RANDDIFF_SEED (0) — compares both backends after every command, prints the
agreement rate per command family and the first disagreement shrunk to a
scenario file, and fails when the agreement (after the KNOWN normalisations)
falls below FLOOR: the rate only goes up. Longer on demand:

    make randdiff N=300            # or RANDDIFF_N=300 pytest -s -m linux tests/differential/test_randseq.py

The other tests check the tool itself on the simulator alone (no root).
"""
from __future__ import annotations

import collections
import os
import time

import pytest

from netplex.conformance.randseq import (
    BATTERY,
    FAMILIES,
    KNOWN,
    STRICT,
    Command,
    SequenceResult,
    explain,
    family_of,
    generate,
    run_pair,
    run_sequence,
    scenario_yaml,
    shrink,
)
from netplex.scenario.loader import load_scenario_text
from netplex.scenario.sim import SimBackend
from netplex.twin.backend import LinuxBackend
from netplex.twin.features import kernel_has

N = int(os.environ.get("RANDDIFF_N", "20"))
LENGTH = int(os.environ.get("RANDDIFF_LEN", "15"))
SEED = int(os.environ.get("RANDDIFF_SEED", "0"))
SHRINK_SECONDS = float(os.environ.get("RANDDIFF_SHRINK_S", "30"))
FLOOR = 0.99
"""Least agreement (KNOWN level, per command) the CI budget must keep; raise it as classes are fixed.
Seeds 0-19 measured 99.7 % on 2026-12-05 13:20 (one disagreement is 0.3 %; the twin's wall-clock
timing can add one or two)."""


def _everything(_feature: str) -> bool:
    return True


def test_generate_is_seeded_and_covers_every_family() -> None:
    a = generate(7, 200, _everything)
    assert a == generate(7, 200, _everything)
    assert a != generate(8, 200, _everything)
    assert {c.family for c in a} == set(FAMILIES)


def test_generate_leaves_out_what_the_kernel_lacks() -> None:
    lines = [c.line for seed in range(30) for c in generate(seed, 30, lambda f: f not in ("sch_netem", "macvlan"))]
    assert not [x for x in lines if " netem " in x or "type macvlan" in x]


def test_family_of_names_the_object() -> None:
    assert family_of("ip -d link show") == "ip link"
    assert family_of("ip a add 10.0.0.1/24 dev eth0") == "ip addr"
    assert family_of("ip r get 10.0.0.1") == "ip route"
    assert family_of("iptables -t nat -L") == "iptables"
    assert family_of("ping -c 1 10.0.0.2") == "ping"


def test_shrink_finds_the_one_minimal_sequence() -> None:
    cmds = [Command("a", f"cmd {i}") for i in range(16)]
    calls = []

    def fails(seq: list[Command]) -> bool:
        calls.append(len(seq))
        lines = {c.line for c in seq}
        return {"cmd 3", "cmd 11"} <= lines

    assert [c.line for c in shrink(cmds, fails)] == ["cmd 3", "cmd 11"]
    assert len(calls) < 60


def test_reproducer_is_a_scenario_file() -> None:
    cmds = [Command("a", 'ip link add br0 type bridge'), Command("b", 'iptables -A INPUT -m comment --comment "x y"')]
    scenario = load_scenario_text(scenario_yaml(cmds, battery=("route",)), "<repro>")
    assert [p.spec.run for p in scenario.probes] == [c.line for c in cmds] + ["ip route show table all"]


def test_sequences_run_on_the_simulator_without_a_traceback() -> None:
    for seed in range(SEED, SEED + 10):
        for out in run_sequence(generate(seed, LENGTH, _everything), SimBackend(seed=0)):
            assert "Traceback" not in out.result.error and "Traceback" not in out.result.output
            assert set(out.state) == {name for name, _line in BATTERY}


def _rates(results: list[SequenceResult], level: str) -> tuple[float, dict[str, tuple[int, int]]]:
    per: dict[str, list[int]] = collections.defaultdict(lambda: [0, 0])
    for r in results:
        for fam, ok in r.counted(level):
            per[fam][0] += ok
            per[fam][1] += 1
    agreed = sum(a for a, _n in per.values())
    total = sum(n for _a, n in per.values())
    return agreed / max(total, 1), {f: (a, n) for f, (a, n) in sorted(per.items())}


@pytest.mark.linux
def test_random_sequences() -> None:
    results = [run_pair(generate(seed, LENGTH, kernel_has), lambda: SimBackend(seed=0), LinuxBackend, seed)
               for seed in range(SEED, SEED + N)]
    print()
    for level in ("strict", "known"):
        rate, per = _rates(results, level)
        print(f"{level}: {rate:.1%} of commands agree;", ", ".join(f"{f} {a}/{n}" for f, (a, n) in per.items()))
    classes = collections.Counter(c for r in results if (c := r.disagreement_class("known")) is not None)
    for cls, count in classes.most_common():
        print(f"  {count:3d}  {cls}")
    failing = next((r for r in results if r.first("known") is not None), None)
    if failing is not None:
        i = failing.first("known")
        assert i is not None
        target = failing.disagreement_class("known")
        aspects = failing.steps[i].known

        def still_fails(seq: list[Command]) -> bool:
            return run_pair(seq, lambda: SimBackend(seed=0), LinuxBackend).disagreement_class("known") == target

        small = shrink([s.command for s in failing.steps[:i + 1]], still_fails,
                       deadline=time.monotonic() + SHRINK_SECONDS)
        sections = [a.removeprefix("state:") for a in aspects if a.startswith("state:")]
        print(f"first disagreement (seed {failing.seed}, {target}), shrunk to {len(small)} commands:")
        print(scenario_yaml(small, f"randseq-{failing.seed}", sections))
        step = failing.steps[i]
        print(explain(step.sim, step.linux, aspects, KNOWN))
    rate, _per = _rates(results, "known")
    assert rate >= FLOOR, f"agreement {rate:.1%} fell below {FLOOR:.0%} (KNOWN: {len(KNOWN.rules)} rules, " \
                          f"STRICT: {len(STRICT.rules)})"
