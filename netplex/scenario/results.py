"""Result objects of a scenario run, and their JSON form (SCENARIO.md, Results).

Both backends produce the same objects, so `to_json()` output can be compared
between sim and linux key for key.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from netplex.errors import ScenarioError
from netplex.scenario.backend import FlowGaps

__all__ = ["ProbeResult", "ScenarioResult", "EXIT_OK", "EXIT_FAILED", "EXIT_ERROR"]

EXIT_OK = 0  # every probe passed
EXIT_FAILED = 1  # a probe did not match its expectations
EXIT_ERROR = 2  # the scenario could not be run (bad file, setup line failed, …)


@dataclass(slots=True)
class ProbeResult:
    """One probe's outcome against its expectations."""

    index: int
    kind: str
    expect: str
    ok: bool
    passed: bool
    observed: dict[str, Any] = field(default_factory=dict)
    expect_peer: str | None = None
    what: str = ""  # a human label (`ping web → 10.0.0.2`); not part of the JSON
    flow_gaps: list[FlowGaps] | None = None  # an iperf probe's pauses per flow (for `events`); not in the JSON

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"index": self.index, "kind": self.kind, "expect": self.expect}
        if self.expect_peer is not None:
            d["expect_peer"] = self.expect_peer
        d.update(ok=self.ok, passed=self.passed, observed=self.observed)
        return d


@dataclass(slots=True)
class ScenarioResult:
    """A whole run. `error` is set when the scenario could not be run: a setup
    failure {node, line, file_line, command, message}, a bad file
    {file, file_line, field, message}, or a backend failure {message}."""

    scenario: str
    backend: str
    probes: list[ProbeResult] = field(default_factory=list)
    error: dict[str, Any] | None = None
    # what the backend could not do as written (e.g. a link delay on a kernel without netem)
    notes: list[str] = field(default_factory=list)
    # the backend's Backend.link_netns_aliases after the build, for `diff` (not part of the JSON)
    link_netns_aliases: dict[tuple[str, int], str] = field(default_factory=dict)
    # SCENARIO.md v1.1 `events:`: each event's time and the outage per traffic flow (None: no events)
    events: list[dict[str, Any]] | None = None

    @property
    def exit_status(self) -> int:
        if self.error is not None:
            return EXIT_ERROR
        return EXIT_OK if all(p.passed for p in self.probes) else EXIT_FAILED

    @property
    def passed(self) -> bool:
        return self.exit_status == EXIT_OK

    def to_json(self) -> dict[str, Any]:
        d: dict[str, Any] = {"scenario": self.scenario, "backend": self.backend, "passed": self.passed}
        if self.error is not None:
            d["exit_status"] = EXIT_ERROR
            d["error"] = self.error
        d["probes"] = [p.to_json() for p in self.probes]
        if self.events is not None:
            d["events"] = self.events
        if self.notes:
            d["notes"] = list(self.notes)
        return d

    @classmethod
    def from_error(cls, err: ScenarioError, scenario: str, backend: str) -> ScenarioResult:
        """The result for a file that could not be loaded."""
        return cls(scenario=scenario, backend=backend, error=err.to_json())
