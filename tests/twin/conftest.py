"""Kernel-twin tests: they need root and `ip netns`; each checks it leaves no namespace behind."""
from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator

import pytest


def _unavailable() -> str | None:
    if os.geteuid() != 0:
        return "kernel twin tests need root (network namespaces, veth)"
    if shutil.which("ip") is None:
        return "kernel twin tests need iproute2 (`ip`)"
    res = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
    if res.returncode != 0:
        return f"`ip netns` is unavailable: {res.stderr.strip()}"
    return None


def netns_list() -> list[str]:
    out = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True, check=True).stdout
    return sorted(line.split()[0] for line in out.splitlines() if line.strip())


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
    before = netns_list()
    yield
    assert netns_list() == before, "the test left network namespaces behind"
