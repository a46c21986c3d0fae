"""`--pcap` on the kernel twin: one pcap per link end, with the simulator's file names."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from netplex.scenario.loader import load_scenario
from netplex.scenario.runner import run_scenario
from netplex.scenario.sim import SimBackend

pytestmark = pytest.mark.linux
ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.tools("tshark")
def test_twin_pcaps_match_the_simulators_files_and_decode(tmp_path: Path) -> None:
    from netplex.twin.backend import LinuxBackend

    path = ROOT / "examples" / "routed.yaml"
    lin = run_scenario(load_scenario(path), LinuxBackend(pcap_dir=str(tmp_path / "linux")))
    sim = run_scenario(load_scenario(path), SimBackend(pcap_dir=tmp_path / "sim"))
    assert lin.passed and sim.passed
    names = sorted(p.name for p in (tmp_path / "linux").iterdir())
    assert names == sorted(p.name for p in (tmp_path / "sim").iterdir())
    for side in ("linux", "sim"):
        out = subprocess.run(["tshark", "-r", str(tmp_path / side / "h1-eth0.pcap"), "-T", "fields",
                              "-e", "frame.protocols", "-e", "icmp.type"],
                             capture_output=True, text=True, check=True).stdout
        rows = [r.split("\t") for r in out.splitlines()]
        assert ["eth:ethertype:ip:icmp:data", "8"] in rows and ["eth:ethertype:ip:icmp:data", "0"] in rows, side
        assert any(r[0] == "eth:ethertype:arp" for r in rows), side
