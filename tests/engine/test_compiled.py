"""The optional mypyc build (netplex/build.py, `make fast`) changes nothing but speed.

By default only the cheap checks run: the build module works without mypyc,
and a compiled build left in the tree is not stale (a module compiled before
its source changed would keep running the old code). The real check —
compile a copy of the tree (a minute or two) and run every example and
corpus scenario pure and compiled, comparing results, counters, neighbours,
drops, the clock, the event count and every pcap byte for byte — runs with
NETPLEX_MYPYC_TEST=1 (`make test-fast`) and skips naming mypyc when it is
not installed.
"""
from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from netplex import build

ROOT = Path(__file__).resolve().parents[2]


def test_a_compiled_build_in_the_tree_is_not_stale() -> None:
    assert build.stale() == [], "compiled modules older than their source: run `make fast` (or `make unfast`)"


def test_status_names_every_module_without_mypyc() -> None:
    r = subprocess.run([sys.executable, "-m", "netplex.build", "--status"], cwd=ROOT, capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": str(ROOT)}, timeout=60)
    assert r.returncode == 0, r.stderr
    assert [line.split(":")[0] for line in r.stdout.splitlines()] == list(build.FAST_MODULES)


def _copy_tree(dst: Path) -> Path:
    """The sources the scenarios need, without any compiled file the tree may hold."""
    shutil.copytree(ROOT / "netplex", dst / "netplex", ignore=shutil.ignore_patterns("*.so", "__pycache__",
                                                                                     ".fast-build.json"))
    shutil.copytree(ROOT / "examples", dst / "examples")
    shutil.copytree(ROOT / "tests" / "differential" / "corpus", dst / "tests" / "differential" / "corpus")
    return dst


def _digest(tree: Path, pcaps: Path) -> list[str]:
    r = subprocess.run([sys.executable, str(Path(__file__).with_name("compiled_digest.py")), str(tree), str(pcaps)],
                       cwd=tree, capture_output=True, text=True, env={**os.environ, "PYTHONPATH": str(tree)},
                       timeout=900)
    assert r.returncode == 0, r.stderr[-3000:]
    return r.stdout.splitlines()


@pytest.mark.skipif(not os.environ.get("NETPLEX_MYPYC_TEST"), reason="compiles for minutes: NETPLEX_MYPYC_TEST=1 "
                    "(make test-fast)")
@pytest.mark.skipif(importlib.util.find_spec("mypyc") is None, reason="mypyc is not installed (pip install mypy)")
def test_compiled_build_gives_the_same_results_byte_for_byte(tmp_path: Path) -> None:
    pure = _copy_tree(tmp_path / "pure")
    fast = _copy_tree(tmp_path / "fast")
    r = subprocess.run([sys.executable, "-m", "netplex.build"], cwd=fast, capture_output=True, text=True,
                       env={**os.environ, "PYTHONPATH": str(fast)}, timeout=1200)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-3000:]
    a = _digest(pure, tmp_path / "pcap-pure")
    b = _digest(fast, tmp_path / "pcap-fast")
    assert a[0] == "compiled: []"
    assert b[0] == f"compiled: {list(build.FAST_MODULES)}"
    assert len(a) > 232 and any(" " in line and len(line.split()[-1]) == 64 for line in a)   # scenarios and pcaps
    for x, y in zip(a[1:], b[1:]):
        assert x == y
    assert len(a) == len(b)
