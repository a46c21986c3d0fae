"""docker and dockerd on a simulated docker-host, as a user types them."""
from __future__ import annotations

from pathlib import Path

import pytest

from netplex import Network
from netplex.scenario.loader import load_scenario
from netplex.scenario.runner import run_scenario
from netplex.scenario.sim import SimBackend

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture
def host():
    net = Network()
    h = net.add_node("h", kind="docker-host")
    assert h.run("dockerd").status == 0
    return h


def test_not_running() -> None:
    h = Network().add_node("h", kind="docker-host")
    r = h.run("docker ps")
    assert (r.status, r.error) == (1, "Cannot connect to the Docker daemon at unix:///var/run/docker.sock. "
                                      "Is the docker daemon running?\n")


def test_kill_dockerd_closes_the_socket(host) -> None:
    assert host.run("pkill dockerd").status == 0
    assert host.run("docker ps").status == 1


def test_network_ls_and_create(host) -> None:
    nid = host.run("docker network create --subnet 172.30.0.0/24 backend").output.strip()
    assert len(nid) == 64
    lines = host.run("docker network ls").output.splitlines()
    assert lines[0] == "NETWORK ID     NAME      DRIVER    SCOPE"
    assert [ln.split()[1] for ln in lines[1:]] == ["backend", "bridge", "host", "none"]
    assert lines[1] == f"{nid[:12]}   backend   bridge    local"
    assert f"br-{nid[:12]}" in host.run("ip -br link").output
    r = host.run("docker network create backend")
    assert (r.status, r.error) == (1, "Error response from daemon: network with name backend already exists\n")
    r = host.run("docker network create --subnet 172.30.0.128/25 other")
    assert r.status == 1 and "Pool overlaps" in r.error


def test_run_errors_are_dockers_and_change_nothing(host) -> None:
    before = host.run("iptables-save").output
    for line, text in [("docker run -p 99999:80 nginx", "docker: invalid hostPort: 99999\n"),
                       ("docker run -d --network nope nginx",
                        "docker: Error response from daemon: network nope not found\n"),
                       ("docker run --bogus nginx", "unknown flag: --bogus\nSee 'docker run --help'.\n"),
                       ("docker run -v /x:/y nginx", "netplex: docker run --v is not supported\n")]:
        r = host.run(line)
        assert r.status == 125, line
        assert r.error.startswith(text), (line, r.error)
    assert host.run("docker ps -a").output.count("\n") == 1
    assert host.run("iptables-save").output == before


def test_run_publish_rules_and_rm(host) -> None:
    before = host.run("iptables-save -t filter; iptables-save -t nat").output
    cid = host.run("docker run -d --name web -p 8080:80 -p 127.0.0.1:5353:53/udp nginx").output.strip()
    assert host.run("docker port web").output == "53/udp -> 127.0.0.1:5353\n80/tcp -> 0.0.0.0:8080\n"
    assert host.run("docker port web 80").output == "0.0.0.0:8080\n"
    nat = host.run("iptables -t nat -S DOCKER").output
    assert "-A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80" in nat
    assert "-A DOCKER -d 127.0.0.1/32 ! -i docker0 -p udp -m udp --dport 5353 -j DNAT " \
           "--to-destination 172.17.0.2:53" in nat
    raw = host.run("iptables -t raw -S PREROUTING").output
    assert "-A PREROUTING -d 127.0.0.1/32 ! -i lo -p udp -m udp --dport 5353 -j DROP" in raw
    ps = host.run("docker ps").output.splitlines()
    assert ps[1].startswith(cid[:12] + "   nginx     \"/docker-entrypoint.…\"")
    assert ps[1].endswith("127.0.0.1:5353->53/udp   web")
    assert host.run("docker rm web").status == 1
    assert host.run("docker rm -f web").output == "web\n"
    assert host.run("iptables-save -t filter; iptables-save -t nat").output == before
    assert host.run("iptables -t raw -S").output == "-P PREROUTING ACCEPT\n-P OUTPUT ACCEPT\n"
    assert host.run("ip netns list").output == ""
    assert "docker-proxy" not in host.run("ps ax").output


def test_containers_talk_and_exec(host) -> None:
    host.run("docker network create --subnet 10.9.0.0/24 -o com.docker.network.bridge.enable_icc=false quiet")
    host.run("docker run -d --name a --network quiet --ip 10.9.0.10 alpine sleep infinity")
    host.run("docker run -d --name b --network quiet alpine sleep infinity")
    host.run("docker run -d --name c alpine sleep infinity")
    host.run("docker run -d --name d alpine sleep infinity")
    assert host.run("docker exec c ping -c 1 -W 1 172.17.0.3").status == 0       # ICC on docker0
    assert host.run("docker exec b ping -c 1 -W 1 10.9.0.10").status == 1       # ICC off
    assert host.run("docker exec a ip -4 -o addr show eth0").output.split()[3] == "10.9.0.10/24"
    assert host.run("docker exec a ip route").output.startswith("default via 10.9.0.1 dev eth0")
    host.run("docker network connect quiet c")
    assert "eth1" in host.run("docker exec c ip -br link").output
    r = host.run("docker exec nope true")
    assert (r.status, r.error) == (1, "Error response from daemon: No such container: nope\n")
    r = host.run("docker run --rm --network none busybox ip -br link")
    assert r.status == 0 and r.output.splitlines() == ["lo               UNKNOWN        00:00:00:00:00:00 "
                                                       "<LOOPBACK,UP,LOWER_UP> "]


def test_inspect_json(host) -> None:
    import json
    host.run("docker run -d --name web -p 10080:80 nginx")
    [c] = json.loads(host.run("docker inspect web").output)
    assert c["Name"] == "/web" and c["State"]["Running"] is True
    assert c["NetworkSettings"]["Networks"]["bridge"]["IPAddress"] == "172.17.0.2"
    assert c["NetworkSettings"]["Ports"]["80/tcp"] == [{"HostIp": "0.0.0.0", "HostPort": "10080"}]
    [n] = json.loads(host.run("docker network inspect bridge").output)
    assert n["IPAM"]["Config"] == [{"Subnet": "172.17.0.0/16", "Gateway": "172.17.0.1"}]
    assert [v["IPv4Address"] for v in n["Containers"].values()] == ["172.17.0.2/16"]
    r = host.run("docker inspect nothing")
    assert (r.status, r.output, r.error) == (1, "[]\n", "Error: No such object: nothing\n")


def test_daemon_json_and_options() -> None:
    net = Network()
    h = net.add_node("h", kind="docker-host")
    h.machine.fs.write("/etc/docker/daemon.json", b'{"bip": "10.50.0.1/24", "userland-proxy": false, "mtu": 1450}')
    assert h.run("dockerd --icc=false").status == 0
    assert "inet 10.50.0.1/24" in h.run("ip addr show docker0").output
    assert "mtu 1450" in h.run("ip link show docker0").output
    assert h.run("sysctl -n net.ipv4.conf.docker0.route_localnet").output == "1\n"
    assert h.run("sysctl -n net.bridge.bridge-nf-call-iptables").output == "1\n"
    assert "-A DOCKER-FORWARD -i docker0 -o docker0 -j DROP" in h.run("iptables -S").output
    assert ":FORWARD DROP" in h.run("iptables-save -t filter").output   # dockerd turned forwarding on
    h.run("docker run -d --name w -p 80:80 nginx")
    assert h.run("pgrep -f docker-proxy").status == 1       # no userland proxy
    r = Network().add_node("x", kind="docker-host").run("dockerd --ipv6")
    assert (r.status, r.error) == (1, "netplex: dockerd --ipv6 is not supported\n")


@pytest.mark.parametrize("name", ["docker-run-publish", "docker-two-networks", "docker-clash"])
def test_example_scenario(name: str) -> None:
    sc = load_scenario(ROOT / "examples" / f"{name}.yaml")
    res = run_scenario(sc, SimBackend())
    assert res.passed, [p for p in res.probes if not p.passed]
