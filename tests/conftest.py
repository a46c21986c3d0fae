"""Shared fixtures: small simulated topologies built the way users build them, and
the ONE differential harness (`differential`): a scenario on both backends, compared."""
from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

import netplex.cloud.kinds  # noqa: F401 - registers cloud-host and the scenario's cloud: section
import netplex.container.kinds  # noqa: F401 - registers docker-host, docker, dockerd
from netplex import Network
from netplex.scenario.diff import DEFAULT_NORMALISATIONS, DiffReport, Normalisations, compare
from netplex.scenario.loader import load_scenario
from netplex.scenario.results import ScenarioResult
from netplex.scenario.runner import commands_text, run_scenario
from netplex.scenario.sim import SimBackend
from netplex.twin.backend import LinuxBackend
from netplex.twin.features import TWIN_TOOLS, kernel_lacks, needed_by, tool_missing, tools_needed_by


def run_ok(node, line: str) -> str:
    r = node.run(line)
    assert r.status == 0, f"{node.name}: {line!r} -> {r.status}: {r.error}"
    return r.output


@pytest.fixture
def two_hosts():
    """h1 10.0.0.1/24 — h2 10.0.0.2/24 on one veth pair, both up."""
    net = Network()
    h1, h2 = net.add_node("h1"), net.add_node("h2")
    net.add_link("h1:eth0", "h2:eth0")
    for node, a in ((h1, "10.0.0.1"), (h2, "10.0.0.2")):
        run_ok(node, f"ip addr add {a}/24 dev eth0 && ip link set eth0 up && ip link set lo up")
    return net, h1, h2


@pytest.fixture
def routed():
    """h1 — r1 — r2 — h2 over three /24s; forwarding on the routers."""
    net = Network()
    h1, r1, r2, h2 = (net.add_node(n) for n in ("h1", "r1", "r2", "h2"))
    net.add_link("h1:eth0", "r1:eth0")
    net.add_link("r1:eth1", "r2:eth0")
    net.add_link("r2:eth1", "h2:eth0")
    for line in ("ip addr add 10.0.1.10/24 dev eth0", "ip link set eth0 up", "ip route add default via 10.0.1.1"):
        run_ok(h1, line)
    for line in ("ip addr add 10.0.1.1/24 dev eth0", "ip addr add 10.0.12.1/24 dev eth1", "ip link set eth0 up",
                 "ip link set eth1 up", "ip route add 10.0.2.0/24 via 10.0.12.2", "sysctl -qw net.ipv4.ip_forward=1"):
        run_ok(r1, line)
    for line in ("ip addr add 10.0.12.2/24 dev eth0", "ip addr add 10.0.2.1/24 dev eth1", "ip link set eth0 up",
                 "ip link set eth1 up", "ip route add 10.0.1.0/24 via 10.0.12.1", "sysctl -qw net.ipv4.ip_forward=1"):
        run_ok(r2, line)
    for line in ("ip addr add 10.0.2.10/24 dev eth0", "ip link set eth0 up", "ip route add default via 10.0.2.1"):
        run_ok(h2, line)
    return net, h1, r1, r2, h2


def twin_unavailable() -> str | None:
    """Why the kernel twin cannot run here, or None."""
    if os.geteuid() != 0:
        return "the linux backend needs root (network namespaces, veth): run the suite as root"
    missing = tool_missing(TWIN_TOOLS)
    if missing is not None:
        return f"the linux backend needs it: {missing}"
    res = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True)
    if res.returncode != 0:
        return f"`ip netns` is unavailable: {res.stderr.strip()}"
    return None


class Differential:
    """Runs a scenario file on the simulator and on the kernel twin, each once per session, and compares.

    Every differential test goes through it (tests/differential, tests/qdisc, ...):
    `sim(path)` always runs; `linux(path)` first skips the test, naming the missing
    piece, where the twin cannot run the case — not root, a program not installed
    (`netplex.twin.features.TOOLS`, found from the scenario's commands, plus
    `tools`), a kernel feature the scenario uses that this kernel lacks
    (`FEATURES`, found the same way, plus `needs`);
    `compare(path)` is `netplex.scenario.diff.compare` of the two results.
    """

    def __init__(self) -> None:
        self._sim: dict[Path, ScenarioResult] = {}
        self._linux: dict[Path, ScenarioResult] = {}

    def sim(self, path: Path) -> ScenarioResult:
        """The scenario's result on the simulator (its own seed)."""
        if path not in self._sim:
            scenario = load_scenario(path)
            self._sim[path] = run_scenario(scenario, SimBackend(seed=scenario.seed))
        return self._sim[path]

    def skip_unless_twin_runs(self, path: Path, needs: tuple[str, ...] = (), tools: tuple[str, ...] = ()) -> None:
        """Skip the calling test when the kernel twin cannot run `path` here, saying why."""
        reason = twin_unavailable()
        if reason is not None:
            pytest.skip(reason)
        # the file's lines and what its sections compile into (a cloud's agents' commands)
        text = path.read_text() + "\n" + commands_text(load_scenario(path))
        missing = tool_missing((*tools_needed_by(text), *tools))
        if missing is not None:
            pytest.skip(f"{missing}: proven in the simulator only")
        lacking = kernel_lacks((*needed_by(text), *needs))
        if lacking is not None:
            pytest.skip(f"this kernel lacks {lacking}: proven in the simulator only")

    def linux(self, path: Path, needs: tuple[str, ...] = (), tools: tuple[str, ...] = ()) -> ScenarioResult:
        """The scenario's result on the kernel twin (the test skips where it cannot run)."""
        self.skip_unless_twin_runs(path, needs, tools)
        if path not in self._linux:
            self._linux[path] = run_scenario(load_scenario(path), LinuxBackend())
        return self._linux[path]

    def compare(self, path: Path, needs: tuple[str, ...] = (), tools: tuple[str, ...] = (),
                normalisations: Normalisations = DEFAULT_NORMALISATIONS) -> DiffReport:
        """Both results side by side (`diff.compare`), normalised by `normalisations`."""
        linux = self.linux(path, needs, tools)
        return compare(self.sim(path), linux, normalisations=normalisations)

    def assert_agree(self, path: Path, needs: tuple[str, ...] = (), tools: tuple[str, ...] = (),
                     normalisations: Normalisations = DEFAULT_NORMALISATIONS) -> DiffReport:
        """`compare`, and fail the test unless the two backends agree."""
        report = self.compare(path, needs, tools, normalisations)
        assert report.inconclusive is None, report.inconclusive
        assert report.agree, "sim and linux disagree:\n" + "\n".join(report.all_differences())
        return report


@pytest.fixture(scope="session")
def differential() -> Differential:
    """The session's differential harness (see Differential)."""
    return Differential()


@pytest.fixture(autouse=True)
def _tools_installed(request: pytest.FixtureRequest) -> None:
    """`@pytest.mark.tools("ping", ...)`: skip naming the first program (netplex.twin.features.TOOLS)
    not installed on this machine, with the package that installs it."""
    for marker in request.node.iter_markers("tools"):
        missing = tool_missing(marker.args)
        if missing is not None:
            pytest.skip(missing)


@pytest.fixture(autouse=True)
def _linux_only(request: pytest.FixtureRequest) -> Iterator[None]:
    if request.node.get_closest_marker("linux") is not None:
        reason = twin_unavailable()
        if reason is not None:
            pytest.skip(reason)
    yield


def _hypothesis_profiles() -> None:
    """CI runs property tests derandomized, so a red run is reproducible; locally they explore."""
    import os

    from hypothesis import settings

    settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
    settings.register_profile("dev", deadline=None)
    settings.load_profile("ci" if os.environ.get("CI") else "dev")


_hypothesis_profiles()
