"""What the kernel cannot do as written is said in the result, not silently dropped."""
from __future__ import annotations

import pytest

from netplex.scenario.loader import load_scenario_text
from netplex.scenario.runner import run_scenario

pytestmark = pytest.mark.linux

SCENARIO = """
nodes:
  a:
    setup: |
      ip addr add 10.0.0.1/24 dev eth0
      ip link set eth0 up
  b:
    setup: |
      ip addr add 10.0.0.2/24 dev eth0
      ip link set eth0 up
links:
  - ends: [a:eth0, b:eth0]
    delay: 2ms
probes:
  - ping: {from: a, to: 10.0.0.2}
"""


def test_missing_netem_is_a_note_in_the_json_result() -> None:
    from netplex.twin.backend import LinuxBackend

    backend = LinuxBackend()
    result = run_scenario(load_scenario_text(SCENARIO, "notes.yaml"), backend)
    d = result.to_json()
    assert d["passed"] is True
    if backend_has_netem(d):
        pytest.skip("this kernel has sch_netem: the delay was applied")
    assert any("delay" in n and "sch_netem" in n for n in d["notes"])


def backend_has_netem(d: dict) -> bool:
    return not d.get("notes")
