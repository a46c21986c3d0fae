"""The seed's VXLAN walk-through, narrated by `netplex trace` and checked by what each VTEP learned."""
from __future__ import annotations

import subprocess
import sys

from .conftest import ROOT

EXAMPLE = ROOT / "examples" / "vxlan-multicast.yaml"


def test_trace_narrates_flood_answer_learning_and_unicast() -> None:
    proc = subprocess.run([sys.executable, "-m", "netplex.cli", "trace", str(EXAMPLE), "--from", "vm1", "--to",
                           "10.0.101.2"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    lines = proc.stdout.splitlines()

    def first(*words: str) -> int:
        for i, line in enumerate(lines):
            if all(w in line for w in words):
                return i
        raise AssertionError(f"no trace line with {words}:\n" + proc.stdout)

    flood = first("vtep1", "vxlan_xmit", "broadcast ff:ff:ff:ff:ff:ff flooded to group 239.1.1.1")
    learn2 = first("vtep2", "vxlan_snoop", "learned 02:00:00:00:01:01 is behind VTEP 192.168.1.1")
    learn3 = first("vtep3", "vxlan_snoop", "learned 02:00:00:00:01:01 is behind VTEP 192.168.1.1")
    answer = first("vm2", "arp_process", "is-at 02:00:00:00:01:02")
    reply = first("vtep2", "vxlan_xmit", "02:00:00:00:01:01 is behind VTEP 192.168.1.1")
    learn1 = first("vtep1", "vxlan_snoop", "learned 02:00:00:00:01:02 is behind VTEP 192.168.1.2")
    unicast = first("vtep1", "vxlan_xmit", "02:00:00:00:01:02 is behind VTEP 192.168.1.2")
    assert flood < learn2 < answer < reply < learn1 < unicast and learn3 > flood
    assert "UDP 192.168.1.1:" in lines[unicast + 1] and "> 192.168.1.2:4789" in lines[unicast + 1]
    assert lines[-1] == "result: delivered, answered"


def test_each_vtep_shows_exactly_what_it_learned() -> None:
    from netplex.scenario.sim import SimBackend

    b = SimBackend()
    b.load(EXAMPLE)
    assert "1 received" in b.net["vm1"].cmd("ping -c 1 10.0.101.2")
    want = {
        "vtep1": ["02:00:00:00:01:02 dst 192.168.1.2 self "],
        "vtep2": ["02:00:00:00:01:01 dst 192.168.1.1 self "],
        "vtep3": ["02:00:00:00:01:01 dst 192.168.1.1 self "],
    }
    for host, lines in want.items():
        out = b.net[host].cmd("bridge fdb show dev vxlan0 | grep 02:00:00:00:01").splitlines()
        vm_lines = [line for line in out if " dst " in line]
        assert vm_lines == lines, (host, out)
