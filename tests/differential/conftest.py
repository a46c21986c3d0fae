"""Differential suite: `linux`-marked tests skip, with the reason, where the kernel twin cannot run."""
from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Iterator

import pytest


def twin_unavailable() -> str | None:
    """Why the kernel twin cannot run here, or None."""
    if os.geteuid() != 0:
        return "the linux backend needs root (network namespaces, veth): run the suite as root"
    for tool in ("ip", "tc", "bash", "ping"):
        if shutil.which(tool) is None:
            return f"the linux backend needs `{tool}` on PATH"
    res = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
    if res.returncode != 0:
        return f"`ip netns` is unavailable: {res.stderr.strip()}"
    return None


@pytest.fixture(autouse=True)
def _linux_only(request: pytest.FixtureRequest) -> Iterator[None]:
    if request.node.get_closest_marker("linux") is not None:
        reason = twin_unavailable()
        if reason is not None:
            pytest.skip(reason)
    yield
