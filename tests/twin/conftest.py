"""Kernel-twin tests: they need root and `ip netns`; each checks it leaves no namespace behind."""
from __future__ import annotations

import glob
import os
import subprocess
from collections.abc import Iterator

import pytest

from netplex.twin import state
from netplex.twin.features import TWIN_TOOLS, tool_missing


def _unavailable() -> str | None:
    if os.geteuid() != 0:
        return "kernel twin tests need root (network namespaces, veth)"
    missing = tool_missing(TWIN_TOOLS)
    if missing is not None:
        return f"kernel twin tests need it: {missing}"
    res = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
    if res.returncode != 0:
        return f"`ip netns` is unavailable: {res.stderr.strip()}"
    return None


def netns_list() -> list[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    return sorted(line.split()[0] for line in out.splitlines() if line.strip())


def owned_by_other_runs() -> set[str]:
    """Namespaces that live twin runs of other processes own (other test sessions share the host)."""
    owned: set[str] = set()
    for directory in state.state_dirs():
        for path in glob.glob(os.path.join(directory, "*.json")):
            data = state.load(path)
            if data and data.get("pid") != os.getpid() and state.process_alive(data["pid"], data.get("pid_start")):
                owned.update(data.get("namespaces", []))
    return owned


@pytest.fixture(name="netns_list")
def _netns_list_fixture() -> object:
    """`ip netns list`, names only, sorted."""
    return netns_list


@pytest.fixture(autouse=True)
def _linux_only(request: pytest.FixtureRequest) -> Iterator[None]:
    """Skip `linux`-marked tests where the twin cannot run; else check nothing leaks."""
    if request.node.get_closest_marker("linux") is None:
        yield
        return
    reason = _unavailable()
    if reason is not None:
        pytest.skip(reason)
    before = set(netns_list())
    yield
    left = set(netns_list()) - before - owned_by_other_runs()
    left = {n for n in left if not n.startswith("npxprobe-")}  # kernel_has() scratch, deleted by its prober
    assert not left, f"the test left network namespaces behind: {sorted(left)}"
