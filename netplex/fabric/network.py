"""A builder's fabric as a live `Network` (issue 15 item 6: `netplex.fabric.leaf_spine(...)`
from Python): `network(leaf_spine(2, 4, 10, ecmp=True))` loads the scenario text the
builder wrote and runs its setup on the simulator (scenario.runner.prepare), so the
caller gets the switches and hosts configured, as `netplex run` would have them before
its first probe, and drives them with `net.nodes["h1-1"].run("ping -c1 10.2.0.2")`.
"""
from __future__ import annotations

from netplex.fabric.builders import FabricError
from netplex.network import Network
from netplex.scenario.loader import load_scenario_text
from netplex.scenario.runner import prepare
from netplex.scenario.sim import SimBackend

__all__ = ["network"]


def network(text: str, seed: int = 0) -> Network:
    """The simulated network of a builder's scenario text, set up; a setup line that fails
    raises FabricError naming the node, the line and the error."""
    scenario = load_scenario_text(text, f"{text.partition(chr(10))[0].removeprefix('name: ')}.yaml")
    backend = SimBackend(seed=seed)
    failure = prepare(scenario, backend)
    if failure is not None:
        raise FabricError(f"fabric: {failure['node']}: {failure['command']}: {failure['message']}")
    return backend.net
