"""netplex's dockerd against moby's own iptabler goldens (tests/data/moby)."""
from __future__ import annotations

from pathlib import Path

import pytest

from netplex import Network
from netplex.container.golden import cases, docker_commands, iptables_dump, replay_iptabler

GOLDEN = Path(__file__).resolve().parent.parent / "data" / "moby" / "TestIptabler"
CASES = cases(GOLDEN)


def _shell() -> object:
    h = Network().add_node("h")

    def sh(line: str) -> tuple[int, str]:
        r = h.run(line)
        return r.status, r.output

    return sh


def test_all_goldens_are_there() -> None:
    assert len(CASES) == 102


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_iptabler_matches_golden(case) -> None:
    assert replay_iptabler(case, _shell()) == case.expected


def _docker_host() -> object:
    h = Network().add_node("h", kind="docker-host")

    def sh(line: str) -> tuple[int, str]:
        r = h.run(line)
        assert r.status == 0 or line.startswith("iptables-save"), (line, r.error)
        return r.status, r.output

    return sh


# moby's routed bindings get no host port from the docker CLI (bridge port_mapping_linux.go:
# "DisableNAT is set if the binding is routed"), so the goldens' DNAT and loopback rules for
# gwm=routed, written by calling the iptabler with host port 8080, are not what `docker run -p` makes.
CLI_CASES = [c for c in CASES if c.opts.get("gwm") != "routed"]


@pytest.mark.parametrize("case", CLI_CASES, ids=[c.name for c in CLI_CASES])
def test_docker_commands_match_golden(case) -> None:
    sh = _docker_host()
    for line in docker_commands(case):
        sh(line)
    assert iptables_dump(sh, drop_user_chain=True) == case.expected
