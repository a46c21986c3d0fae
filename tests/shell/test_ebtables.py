"""`ebtables` (shell/ebtables.py) against ebtables 1.8.9: one session of commands (rules,
listings, counters, every error text and status) recorded from the kernel in
tests/data/ebtables/session.json; the simulator must print the record, and the linux-marked
test checks the record is what this machine's ebtables prints."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

import pytest

from netplex.network import Network

DATA = Path(__file__).resolve().parents[1] / "data" / "ebtables"
COMMANDS = [line.strip() for line in (DATA / "session.txt").read_text().splitlines() if line.strip()]


def sim_session() -> list[list[object]]:
    node = Network().add_node("sw")
    return [[c, r.status, r.output, r.error] for c in COMMANDS for r in [node.run(c)]]


def kernel_session() -> list[list[object]]:
    ns = f"npxt-ebt-{os.getpid()}"
    subprocess.run(["ip", "netns", "add", ns], check=True)
    try:
        out = []
        for c in COMMANDS:
            k = subprocess.run(["ip", "netns", "exec", ns, "sh", "-c", c], capture_output=True, text=True)
            out.append([c, k.returncode, k.stdout, k.stderr])
        return out
    finally:
        subprocess.run(["ip", "netns", "del", ns], check=False)


def test_the_simulator_prints_what_ebtables_printed() -> None:
    record = json.loads((DATA / "session.json").read_text())
    assert len(record) == len(COMMANDS) >= 50
    for got, want in zip(sim_session(), record):
        assert got == want


def test_refusals_change_nothing() -> None:
    node = Network().add_node("sw")
    for line, message in [("ebtables -t nat -A PREROUTING -j DROP", "netplex: ebtables -t nat is not supported\n"),
                          ("ebtables -N X", "netplex: ebtables -N is not supported\n"),
                          ("ebtables -A FORWARD --logical-in br0 -j DROP",
                           "netplex: ebtables --logical-in is not supported\n")]:
        r = node.run(line)
        assert (r.status, r.error) == (2, message), line
    assert "FORWARD, entries: 0, policy: ACCEPT" in node.run("ebtables -L").output


@pytest.mark.linux
def test_the_record_is_what_this_kernels_ebtables_prints() -> None:
    if os.geteuid() != 0:
        pytest.skip("needs root (network namespaces)")
    if shutil.which("ebtables") is None:
        pytest.skip("no `ebtables` on this machine (apt-get install ebtables)")
    assert kernel_session() == json.loads((DATA / "session.json").read_text())
