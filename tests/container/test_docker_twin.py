"""docker on the kernel twin: the same dockerd, run through the real ip/sysctl/iptables.

The example scenarios run on both backends and must agree probe by probe; moby's
goldens are replayed on the real kernel's iptables. `make test` runs
docker-run-publish and two goldens (the twin's budget); NETPLEX_CONTAINER_TWIN=1
runs every docker example and all 70 goldens (about 3 s a case).
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from netplex.container.golden import GoldenCase, cases, docker_commands, iptables_dump
from netplex.scenario.model import Node as NodeModel
from netplex.twin.backend import LinuxBackend

ROOT = Path(__file__).resolve().parents[2]
GOLDEN = ROOT / "tests" / "data" / "moby" / "TestIptabler"
ALL = [c for c in cases(GOLDEN) if c.opts.get("gwm") != "routed"]
EVERYTHING = os.environ.get("NETPLEX_CONTAINER_TWIN") == "1"
SAMPLE = ["hairpin=true,internal=false,icc=false,masq=true,snat=true,gwm=nat,bindlh=true",
          "hairpin=false,internal=false,icc=false,masq=false,snat=false,gwm=nat-unprotected,bindlh=true"]
CASES = ALL if EVERYTHING else [c for c in ALL if c.name in SAMPLE]
EXAMPLES = (["docker-run-publish", "docker-two-networks", "docker-clash", "docker-dns", "docker-classic"] if EVERYTHING
            else ["docker-run-publish", "docker-dns"])


@pytest.mark.linux
@pytest.mark.parametrize("name", EXAMPLES)
def test_docker_example_agrees(differential, name: str) -> None:
    differential.assert_agree(ROOT / "examples" / f"{name}.yaml")


@pytest.mark.linux
@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_moby_golden_on_the_kernel(case: GoldenCase) -> None:
    with LinuxBackend() as b:
        b.build({"h": NodeModel(kind="docker-host")}, [])

        def sh(line: str) -> tuple[int, str]:
            r = b.run("h", line)
            assert r.status == 0 or line.startswith("iptables-save"), (line, r.error)
            return r.status, r.output

        for line in docker_commands(case):
            sh(line)
        assert iptables_dump(sh, drop_user_chain=True) == case.expected
