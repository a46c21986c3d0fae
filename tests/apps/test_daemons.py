"""The userspace programs that moved into apps/ are processes: `ps` shows them,
`kill` ends them and closes what they opened."""
from __future__ import annotations

from netplex.network import Network
from netplex.scenario.model import Node as ScenarioNode
from netplex.scenario.sim import SimBackend

PROXY = "docker-proxy -proto tcp -host-ip 0.0.0.0 -host-port 10080 -container-ip 172.17.0.2 -container-port 80"


def test_docker_proxy_is_a_process_and_kill_frees_its_port() -> None:
    net = Network()
    h = net.add_node("h")
    assert h.run(PROXY).status == 0
    assert h.run("pidof docker-proxy").output == "2\n"
    assert "    2 docker-proxy    " + PROXY in h.run("ps -o pid,comm,args").output.splitlines()
    assert 10080 in h.ns.sockets.tcp_listen
    assert h.run("kill $(pidof docker-proxy)").status == 0
    assert 10080 not in h.ns.sockets.tcp_listen
    assert h.run(PROXY).status == 0            # the port is free again


def test_smcrouted_is_a_process_in_the_machine_and_kill_flushes_mroutes() -> None:
    net = Network()
    a, b = net.add_node("a"), net.add_node("b")
    assert a.run("smcrouted").status == 0
    assert b.run("smcrouted").status == 0      # each machine has its own /run
    r = a.run("smcrouted")
    assert (r.status, r.error) == (1, "smcrouted: Daemon already running (/run/smcroute.sock)\n")
    pid = int(a.run("pidof smcrouted").output)
    assert a.ns.mrt is not None
    assert a.run(f"kill -9 {pid}").status == 0
    assert a.ns.mrt is None                    # its mroute socket closed: MRT_DONE
    r = a.run("smcroutectl add eth0 239.1.1.1 eth1")
    assert r.status == 1 and r.error.startswith("smcroutectl: Cannot find IPC socket /run/smcroute.sock\n")
    assert b.run("smcroutectl kill").status == 0
    assert b.run("pidof smcrouted").status == 1 and b.ns.mrt is None


def test_scenario_services_are_one_daemon_per_node() -> None:
    be = SimBackend()
    be.build({"h": ScenarioNode()}, [])
    be.start_services("h", [("tcp", 80), ("udp", 53)])
    h = be.node("h")
    assert h.run("ps -o comm,args -C netplex-service").output == (
        "COMMAND         COMMAND\nnetplex-service netplex-service tcp:80 udp:53\n")
    assert 80 in h.ns.sockets.tcp_listen and 53 in h.ns.sockets.udp
    h.run("kill $(pidof netplex-service)")
    assert 80 not in h.ns.sockets.tcp_listen and 53 not in h.ns.sockets.udp
