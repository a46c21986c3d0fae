"""The twin as uid 0 without CAP_SYS_ADMIN (a container without --privileged): a clear refusal
before anything is built, never a PermissionError traceback from a mount or an unshare."""
from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "host-only.yaml"


def _without(cap: str) -> list[str]:
    """A command prefix that runs the rest with `cap` dropped from the bounding and effective sets."""
    if shutil.which("capsh"):
        return ["capsh", f"--drop={cap}", "--"]
    if shutil.which("setpriv"):
        short = cap.removeprefix("cap_")
        return ["setpriv", f"--bounding-set=-{short}", f"--inh-caps=-{short}", "--"]
    pytest.skip("neither capsh nor setpriv is installed")


@pytest.mark.skipif(os.geteuid() != 0, reason="needs root (a capability to drop)")
@pytest.mark.parametrize("cap, name", [("cap_sys_admin", "CAP_SYS_ADMIN"), ("cap_net_admin", "CAP_NET_ADMIN")])
def test_root_without_a_capability_is_refused(cap: str, name: str) -> None:
    prefix = _without(cap)
    argv = [sys.executable, "-m", "netplex.cli", "run", "--backend", "linux", str(EXAMPLE)]
    if prefix[0] == "capsh":
        argv = ["-c", " ".join(argv)]
    r = subprocess.run([*prefix, *argv], capture_output=True, text=True, timeout=120,
                       env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert r.returncode == 2, r.stderr
    assert "Traceback" not in r.stderr
    assert f"the linux backend needs {name}: this process runs as root without it" in r.stderr
