"""The backend seam (netplex/scenario/backend.py) is complete: what the runner and the CLI
call is declared there, and the backends implement every declared member."""
from __future__ import annotations

import inspect
import re
from pathlib import Path

from netplex.scenario.backend import ALL_FEATURES, Backend
from netplex.scenario.sim import SimBackend
from netplex.twin.backend import LinuxBackend

ROOT = Path(__file__).resolve().parents[2]


def seam_members() -> set[str]:
    methods = {n for n, v in vars(Backend).items() if not n.startswith("_") and
               (inspect.isfunction(v) or isinstance(v, property))}
    return methods | set(Backend.__annotations__)


def test_the_seam_declares_what_the_runner_and_cli_call() -> None:
    assert {"build", "write_file", "run", "start_services", "ping", "tcp", "udp", "iperf", "trace", "close",
            "name", "notes", "progress", "supports", "link_netns_aliases"} <= seam_members()


def test_the_simulator_implements_every_member() -> None:
    be = SimBackend()
    missing = sorted(m for m in seam_members() if m not in dir(be))
    assert missing == []
    assert be.supports == ALL_FEATURES and be.notes == [] and be.progress is None


def test_the_kernel_twin_implements_every_member() -> None:
    """Checked on the class (making one needs root); `notes` and `progress` are set in __init__."""
    missing = sorted(m for m in seam_members() - {"notes", "progress"} if m not in dir(LinuxBackend))
    assert missing == []
    assert LinuxBackend.supports == ALL_FEATURES - {"trace"}


def test_no_reach_past_the_seam() -> None:
    """The runner, the CLI and diff call declared members only: no hasattr/getattr on a backend."""
    for rel in ("netplex/scenario/runner.py", "netplex/cli.py", "netplex/scenario/diff.py"):
        text = (ROOT / rel).read_text()
        assert not re.search(r"\b(hasattr|getattr)\((be|backend|linux_be|sim_be)\b", text), rel
