"""The iptables of Docker 20.10 to 27 (the classic layout), chosen by netplex-engine-version.

moby keeps no goldens for this layout (its v27.5.1 tests check single rules); the
expected outputs here are what moby v27.5.1's bridge driver writes
(setup_ip_tables_linux.go, port_mapping_linux.go, iptables.go ProgramChain,
firewall_linux.go), which is also the `iptables -S` Docker 20.10-27 users publish
(one container with `-p 5005:5000`; a second network's rules above docker0's). The
kernel twin loads the same commands (marked linux) and runs examples/docker-classic.yaml
with NETPLEX_CONTAINER_TWIN=1.
"""
from __future__ import annotations

from pathlib import Path

import pytest

from netplex import Network
from netplex.scenario.loader import load_scenario
from netplex.scenario.model import Node as NodeModel
from netplex.scenario.runner import run_scenario
from netplex.scenario.sim import SimBackend
from netplex.twin.backend import LinuxBackend

ROOT = Path(__file__).resolve().parents[2]

START = ["dockerd --netplex-engine-version 27.5.1", "docker run -d --name web -p 5005:5000 nginx"]
FILTER = """-P INPUT ACCEPT
-P FORWARD DROP
-P OUTPUT ACCEPT
-N DOCKER
-N DOCKER-ISOLATION-STAGE-1
-N DOCKER-ISOLATION-STAGE-2
-N DOCKER-USER
-A FORWARD -j DOCKER-USER
-A FORWARD -j DOCKER-ISOLATION-STAGE-1
-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -o docker0 -j DOCKER
-A FORWARD -i docker0 ! -o docker0 -j ACCEPT
-A FORWARD -i docker0 -o docker0 -j ACCEPT
-A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 5000 -j ACCEPT
-A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2
-A DOCKER-ISOLATION-STAGE-1 -j RETURN
-A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP
-A DOCKER-ISOLATION-STAGE-2 -j RETURN
-A DOCKER-USER -j RETURN
"""
NAT = """-P PREROUTING ACCEPT
-P INPUT ACCEPT
-P OUTPUT ACCEPT
-P POSTROUTING ACCEPT
-N DOCKER
-A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER
-A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER
-A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE
-A POSTROUTING -s 172.17.0.2/32 -d 172.17.0.2/32 -p tcp -m tcp --dport 5000 -j MASQUERADE
-A DOCKER -i docker0 -j RETURN
-A DOCKER ! -i docker0 -p tcp -m tcp --dport 5005 -j DNAT --to-destination 172.17.0.2:5000
"""
BR = "br-763bda580b1c"
SECOND = f"docker network create --subnet 172.18.0.0/16 -o com.docker.network.bridge.name={BR} net1"
FORWARD_TWO = f"""-A FORWARD -j DOCKER-USER
-A FORWARD -j DOCKER-ISOLATION-STAGE-1
-A FORWARD -o {BR} -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -o {BR} -j DOCKER
-A FORWARD -i {BR} ! -o {BR} -j ACCEPT
-A FORWARD -i {BR} -o {BR} -j ACCEPT
-A FORWARD -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT
-A FORWARD -o docker0 -j DOCKER
-A FORWARD -i docker0 ! -o docker0 -j ACCEPT
-A FORWARD -i docker0 -o docker0 -j ACCEPT
"""
ISOLATION_TWO = f"""-A DOCKER-ISOLATION-STAGE-1 -i {BR} ! -o {BR} -j DOCKER-ISOLATION-STAGE-2
-A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2
-A DOCKER-ISOLATION-STAGE-1 -j RETURN
-A DOCKER-ISOLATION-STAGE-2 -o {BR} -j DROP
-A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP
-A DOCKER-ISOLATION-STAGE-2 -j RETURN
"""


def _host(*lines: str):
    h = Network().add_node("h", kind="docker-host")
    for line in lines:
        r = h.run(line)
        assert r.status == 0, (line, r.error)
    return h


def _rules(h, table: str, prefix: str = "-A ") -> str:
    return "".join(ln + "\n" for ln in h.run(f"iptables -t {table} -S").output.splitlines() if ln.startswith(prefix))


def test_default_bridge_and_a_published_port() -> None:
    h = _host(*START)
    assert h.run("iptables -S").output == FILTER
    assert h.run("iptables -t nat -S").output == NAT
    assert h.run("iptables-save -t raw").output.count("-A ") == 0    # no anti-spoofing DROP before 28


def test_a_second_network_goes_on_top() -> None:
    h = _host(*START, SECOND)
    got = h.run("iptables -S").output
    assert "".join(ln + "\n" for ln in got.splitlines() if ln.startswith("-A FORWARD")) == FORWARD_TWO
    assert "".join(ln + "\n" for ln in got.splitlines() if ln.startswith("-A DOCKER-ISOLATION")) == ISOLATION_TWO
    assert "-A POSTROUTING -s 172.18.0.0/16 ! -o br-763bda580b1c -j MASQUERADE" in h.run("iptables -t nat -S").output


def test_icc_off_internal_and_no_userland_proxy() -> None:
    h = _host("dockerd --netplex-engine-version 27.0 --userland-proxy=false",
              "docker network create --subnet 172.30.0.0/24 -o com.docker.network.bridge.name=br-q "
              "-o com.docker.network.bridge.enable_icc=false quiet",
              "docker network create --subnet 172.30.1.0/24 --internal -o com.docker.network.bridge.name=br-v vault",
              "docker run -d --name web -p 8080:80 nginx")
    f = _rules(h, "filter")
    assert "-A FORWARD -i br-q -o br-q -j DROP\n" in f            # appended: below the ACCEPTs
    assert f.index("-A FORWARD -i br-q ! -o br-q -j ACCEPT") < f.index("-A FORWARD -i br-q -o br-q -j DROP")
    assert "-A DOCKER-ISOLATION-STAGE-1 ! -s 172.30.1.0/24 -o br-v -j DROP\n" in f
    assert "-A DOCKER-ISOLATION-STAGE-1 ! -d 172.30.1.0/24 -i br-v -j DROP\n" in f
    assert "-A DOCKER-ISOLATION-STAGE-2 -o br-v -j DROP" not in f   # internal networks are not in setINC
    assert "-A FORWARD -i br-v -o br-v -j ACCEPT\n" in f and "-o br-v -j DOCKER" not in f
    n = _rules(h, "nat")
    assert "-A OUTPUT -m addrtype --dst-type LOCAL -j DOCKER\n" in n            # hairpin: loopback too
    assert "-A POSTROUTING -o docker0 -m addrtype --src-type LOCAL -j MASQUERADE\n" in n
    assert "-A DOCKER -i docker0 -j RETURN" not in n
    assert "-A DOCKER -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80\n" in n


def test_rm_and_network_rm_take_their_rules_away() -> None:
    h = _host("dockerd --netplex-engine-version 27.5.1")
    before = h.run("iptables-save -t filter").output, h.run("iptables-save -t nat").output
    for line in ("docker network create --subnet 172.30.0.0/24 backend",
                 "docker run -d --name web --network backend -p 8080:80 nginx",
                 "docker rm -f web", "docker network rm backend"):
        assert h.run(line).status == 0, line
    assert (h.run("iptables-save -t filter").output, h.run("iptables-save -t nat").output) == before


def test_daemon_json_picks_the_layout() -> None:
    h = Network().add_node("h", kind="docker-host")
    h.machine.fs.write("/etc/docker/daemon.json", b'{"netplex-engine-version": "20.10.24"}')
    assert h.run("dockerd").status == 0
    assert "-N DOCKER-ISOLATION-STAGE-1" in h.run("iptables -S").output
    assert "DOCKER-FORWARD" not in h.run("iptables -S").output


@pytest.mark.parametrize("version", ["19.03", "29.0", "27", "latest"])
def test_engine_versions_outside_the_model_are_refused(version: str) -> None:
    h = Network().add_node("h", kind="docker-host")
    r = h.run(f"dockerd --netplex-engine-version {version}")
    assert (r.status, r.error) == (1, f"netplex: dockerd --netplex-engine-version {version}: netplex writes the "
                                      "iptables rules of Docker 20.10 to 28 (MAJOR.MINOR[.PATCH])\n")
    assert h.run("iptables -S").output == "-P INPUT ACCEPT\n-P FORWARD ACCEPT\n-P OUTPUT ACCEPT\n"


def test_gateway_modes_of_27_are_refused() -> None:
    h = _host("dockerd --netplex-engine-version 27.5.1")
    r = h.run("docker network create -o com.docker.network.bridge.gateway_mode_ipv4=routed r")
    assert r.status == 1 and "is not supported with the iptables of Docker < 28" in r.error
    assert "r" not in h.run("docker network ls --format '{{.Name}}'").output.split()


def test_example_scenario() -> None:
    res = run_scenario(load_scenario(ROOT / "examples" / "docker-classic.yaml"), SimBackend())
    assert res.passed, [p for p in res.probes if not p.passed]


@pytest.mark.linux
def test_the_kernel_loads_the_same_rules() -> None:
    """The same docker commands on the twin: the real iptables takes every rule, and lists the
    filter and nat tables as the simulator does."""
    lines = (*START, SECOND, "docker network create --subnet 172.30.1.0/24 --internal -o "
             "com.docker.network.bridge.name=br-v -o com.docker.network.bridge.enable_icc=false vault")
    sim = _host(*lines)
    with LinuxBackend() as b:
        b.build({"h": NodeModel(kind="docker-host")}, [])
        for line in lines:
            r = b.run("h", line)
            assert r.status == 0, (line, r.error)
        for table in ("filter", "nat"):
            assert b.run("h", f"iptables -t {table} -S").output == sim.run(f"iptables -t {table} -S").output
        got = b.run("h", "iptables -S").output
        assert "".join(ln + "\n" for ln in got.splitlines() if ln.startswith("-A DOCKER-ISOLATION-STAGE-2")) == \
            ISOLATION_TWO.split("-A DOCKER-ISOLATION-STAGE-1 -j RETURN\n")[1]
