"""Every example scenario is also a test: it runs in the simulator with the result it promises."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from netplex.scenario.loader import load_scenario
from netplex.scenario.runner import run_scenario
from netplex.scenario.sim import SimBackend

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = sorted((ROOT / "examples").glob("*.yaml"))
BROKEN = sorted((ROOT / "examples" / "broken").glob("*.yaml"))


def run(path: Path, seed: int = 0, pcap_dir: Path | None = None):
    return run_scenario(load_scenario(path), SimBackend(seed=seed, pcap_dir=pcap_dir))


def run_seed_0(path: Path, differential):
    """`run(path)`; for a scenario of seed 0 the session's result (tests/conftest.py's `differential`,
    the same run that tests/differential/test_differential.py's test_sim asserts on), not a second one."""
    return differential.sim(path) if load_scenario(path).seed == 0 else run(path)


@pytest.mark.parametrize("path", EXAMPLES, ids=lambda p: p.stem)
def test_example_passes(path: Path, differential) -> None:
    result = run_seed_0(path, differential)
    failed = [p.to_json() for p in result.probes if not p.passed]
    assert result.error is None, result.error
    assert result.passed, json.dumps(failed, indent=1)


@pytest.mark.parametrize("path", BROKEN, ids=lambda p: p.stem)
def test_broken_example_fails_with_exit_1(path: Path, differential) -> None:
    result = run_seed_0(path, differential)
    assert result.error is None
    assert result.exit_status == 1


def test_demo_command_runs_every_example() -> None:
    proc = subprocess.run([sys.executable, "-m", "netplex.cli", "demo", str(ROOT / "examples")],
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_same_scenario_twice_gives_identical_json_and_pcaps(tmp_path: Path) -> None:
    path = ROOT / "examples" / "routed.yaml"
    a = run(path, pcap_dir=tmp_path / "a").to_json()
    b = run(path, pcap_dir=tmp_path / "b").to_json()
    assert a == b
    names = sorted(p.name for p in (tmp_path / "a").iterdir())
    assert names and names == sorted(p.name for p in (tmp_path / "b").iterdir())
    for n in names:
        assert (tmp_path / "a" / n).read_bytes() == (tmp_path / "b" / n).read_bytes()


@pytest.mark.tools("tshark")
def test_tshark_reads_pcaps_from_run(tmp_path: Path) -> None:
    path = ROOT / "examples" / "vm-bridge.yaml"
    result = run(path, pcap_dir=tmp_path)
    assert result.passed
    pcap = tmp_path / "vm1-eth0.pcap"
    # the probe's text is not DNS or SSH: decode those ports as plain data
    proc = subprocess.run(["tshark", "-r", str(pcap), "-d", "udp.port==53,data", "-d", "tcp.port==22,data",
                           "-o", "ip.check_checksum:TRUE",
                           "-o", "tcp.check_checksum:TRUE", "-o", "udp.check_checksum:TRUE",
                           "-T", "fields", "-e", "frame.protocols", "-e", "ip.checksum.status",
                           "-e", "_ws.expert.message"],
                          capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    rows = [r.split("\t") for r in proc.stdout.splitlines()]
    protocols = {r[0] for r in rows}
    assert "eth:ethertype:arp" in protocols
    assert "eth:ethertype:ip:icmp:data" in protocols
    assert any(p.startswith("eth:ethertype:ip:tcp") for p in protocols)
    assert all("Bad" not in "".join(r) for r in rows)
    assert any(p.startswith("eth:ethertype:ip:udp") for p in protocols)
    assert all("Bad" not in r[1] for r in rows if len(r) > 1)
    assert not any("alformed" in "".join(r) for r in rows)


def test_scapy_dissects_captured_frames(tmp_path: Path) -> None:
    from scapy.layers.inet import ICMP, IP, TCP
    from scapy.layers.l2 import ARP, Ether

    from netplex.packet.pcap import read_pcap

    run(ROOT / "examples" / "routed.yaml", pcap_dir=tmp_path)
    frames = read_pcap(str(tmp_path / "h1-eth0.pcap"))
    assert frames
    kinds = set()
    for _, data in frames:
        pkt = Ether(data)
        if ARP in pkt:
            kinds.add("arp")
        if IP in pkt:
            ip = pkt[IP]
            chk = ip.chksum
            del ip.chksum
            assert IP(bytes(ip)).chksum == chk
            if ICMP in pkt:
                kinds.add(f"icmp{pkt[ICMP].type}")
            if TCP in pkt:
                kinds.add("tcp")
    assert {"arp", "icmp8", "icmp0", "icmp11", "tcp"} <= kinds
