"""What the kernel cannot do as written is said in the result, not silently dropped."""
from __future__ import annotations

import pytest

from netplex.scenario.loader import load_scenario_text
from netplex.scenario.runner import run_scenario
from netplex.twin.backend import LinuxBackend
from netplex.twin.features import kernel_has

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


@pytest.mark.tools("ping")
def test_missing_netem_is_a_note_in_the_json_result() -> None:
    if kernel_has("sch_netem"):
        pytest.skip("this kernel has sch_netem: the delay is applied")
    result = run_scenario(load_scenario_text(SCENARIO, "notes.yaml"), LinuxBackend())
    d = result.to_json()
    assert d["passed"] is True
    assert any("delay" in n and "sch_netem" in n for n in d["notes"])
