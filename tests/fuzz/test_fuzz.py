"""Fuzz: no exception escapes the shell or the scenario loader, and nothing hangs.

"No exception escapes" means: the shell returns a status and the tool's message
(never a traceback, never netplex's "internal error" line); the loader returns
its one-line ScenarioError. Each input must also finish within MAX_SECONDS of
CPU time. The CI run is bounded (FUZZ_LINES shell lines, FUZZ_FILES files,
well under a minute); the long campaign is `make fuzz` (or the env variables
NETPLEX_FUZZ_LINES=100000 NETPLEX_FUZZ_FILES=5000, NETPLEX_FUZZ_SEED=N).
"""
from __future__ import annotations

import os
import time
import traceback
from pathlib import Path

import pytest

from netplex.errors import ScenarioError
from netplex.network import Network
from netplex.scenario.loader import load_scenario
from tests.fuzz.generator import ShellFuzzer, yaml_corpus

SEED = int(os.environ.get("NETPLEX_FUZZ_SEED", "10"))
FUZZ_LINES = int(os.environ.get("NETPLEX_FUZZ_LINES", "2000"))
FUZZ_FILES = int(os.environ.get("NETPLEX_FUZZ_FILES", "300"))
MAX_SECONDS = 1.0
LINES_PER_NETWORK = 40   # a fresh network now and then: state piles up, as in a long session
INTERNAL = "netplex: internal error in"


def _network(seed: int) -> Network:
    net = Network(seed=seed)
    h1, h2 = net.add_node("h1"), net.add_node("h2")
    net.add_link("h1:eth0", "h2:eth0")
    net.add_link("h1:eth1", "h2:eth1")
    h1.run("ip addr add 10.0.0.1/24 dev eth0 && ip link set eth0 up && ip link set eth1 up")
    h2.run("ip addr add 10.0.0.2/24 dev eth0 && ip link set eth0 up && ip link set eth1 up")
    return net


def _report(problems: list[str], total: int, what: str) -> None:
    if problems:
        shown = "\n".join(problems[:25])
        pytest.fail(f"{len(problems)} of {total} {what} failed:\n{shown}", pytrace=False)


def test_shell_lines_never_raise_nor_hang() -> None:
    fuzzer = ShellFuzzer(SEED)
    problems: list[str] = []
    net = _network(SEED)
    for i, line in enumerate(fuzzer.lines(FUZZ_LINES)):
        if i % LINES_PER_NETWORK == 0:
            net = _network(SEED + i)
        t0 = time.process_time()
        try:
            r = net["h1"].run(line)
        except BaseException as e:   # noqa: BLE001 - what the test looks for
            if isinstance(e, KeyboardInterrupt):
                raise
            tb = traceback.format_exception(e)[-3:]
            problems.append(f"RAISED {type(e).__name__}: {e!s:.200} <- {line!r:.300}\n{''.join(tb)}")
            net = _network(SEED + i + 1)
            continue
        spent = time.process_time() - t0
        text = r.output + r.error
        if INTERNAL in text or "Traceback (most recent call last)" in text:
            problems.append(f"INTERNAL status {r.status}: {r.error.strip()[:300]} <- {line!r:.300}")
        elif spent > MAX_SECONDS:
            problems.append(f"SLOW {spent:.2f} s <- {line!r:.300}")
        elif not isinstance(r.status, int) or not 0 <= r.status <= 255:
            problems.append(f"STATUS {r.status!r} <- {line!r:.300}")
    _report(problems, FUZZ_LINES, "shell lines")


def test_bad_scenario_files_give_one_line_errors(tmp_path: Path) -> None:
    problems: list[str] = []
    total = 0
    for i, text in enumerate(yaml_corpus(SEED, FUZZ_FILES)):
        total += 1
        f = tmp_path / f"fuzz{i}.yaml"
        f.write_text(text, encoding="utf-8", errors="surrogateescape")
        t0 = time.process_time()
        try:
            load_scenario(f)
        except ScenarioError as e:
            if "\n" in str(e).strip():
                problems.append(f"MULTI-LINE error {str(e)[:200]!r} <- {text[:200]!r}")
        except BaseException as e:   # noqa: BLE001 - what the test looks for
            if isinstance(e, KeyboardInterrupt):
                raise
            problems.append(f"RAISED {type(e).__name__}: {e!s:.200} <- {text[:300]!r}")
            continue
        spent = time.process_time() - t0
        if spent > MAX_SECONDS:
            problems.append(f"SLOW {spent:.2f} s <- {text[:200]!r}")
    _report(problems, total, "scenario files")
