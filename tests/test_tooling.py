"""The project's own tooling is part of the suite: ruff is clean on the whole tree,
and mypy (configured in pyproject.toml: engine/, packet/, stack/) reports no error."""
from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _tool(name: str) -> list[str]:
    """The tool from this interpreter's environment (the venv), else from PATH."""
    local = Path(sys.executable).with_name(name)
    if local.exists():
        return [str(local)]
    found = shutil.which(name)
    if found is None:
        pytest.skip(f"{name} is not installed (pip install -e '.[test]' brings it)")
    return [found]


def test_ruff_is_clean() -> None:
    r = subprocess.run([*_tool("ruff"), "check", "--no-cache", "netplex", "tests", "benchmarks"],
                       cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr


def test_mypy_reports_no_error() -> None:
    r = subprocess.run([*_tool("mypy"), "--no-incremental", "--cache-dir", "/dev/null"],
                       cwd=ROOT, capture_output=True, text=True)
    assert r.returncode == 0, r.stdout + r.stderr
