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


def test_iperf3_server_and_client_are_processes_and_kill_stops_the_flow() -> None:
    from netplex.apps.generators import FlowStats
    from netplex.apps.iperf import Iperf3Client, Iperf3Server
    from netplex.packet.addr import ip_to_int

    net = Network()
    a, b = net.add_node("a"), net.add_node("b")
    net.add_link("a:eth0", "b:eth0")
    a.run("ip addr add 10.0.0.1/24 dev eth0")
    a.run("ip link set eth0 up")
    b.run("ip addr add 10.0.0.2/24 dev eth0")
    b.run("ip link set eth0 up")
    stats = FlowStats(0)
    srv = Iperf3Server("udp", 5201, stats)
    sp = b.machine.procs.spawn(srv.argv(), b.ns, srv)
    cli = Iperf3Client("udp", ip_to_int("10.0.0.2"), 5201, 0, 10_000_000_000, rate_bps=1_000_000, size=1000)
    cp = a.machine.procs.spawn(cli.argv(), a.ns, cli)
    assert a.run("ps -o args -C iperf3").output == \
        "COMMAND\niperf3 -c 10.0.0.2 -p 5201 -t 10 -u -b 1000000 -l 1000\n"
    assert b.run("pidof iperf3").output == f"{sp.pid}\n"
    net.run_for(1_000_000_000)
    got = stats.packets
    assert got > 100
    a.run(f"kill {cp.pid}")
    net.run_for(1_000_000_000)
    assert stats.packets <= got + 1 and cli.sent <= got + 1
    b.run(f"kill {sp.pid}")
    assert 5201 not in b.ns.sockets.udp


def test_smcrouted_socket_is_a_file_in_the_machines_run() -> None:
    net = Network()
    r = net.add_node("r")
    assert r.run("smcrouted -i mr1").status == 0
    assert "mr1.sock" in r.run("ls /run").output.split()
    assert r.run("smcroutectl -i mr1 kill").status == 0
    assert "mr1.sock" not in r.run("ls /run").output.split()
    assert r.run("smcrouted").status == 0
    r.run("rm /run/smcroute.sock")             # smcroutectl finds the daemon by its socket's path
    assert r.run("smcroutectl kill").error.startswith("smcroutectl: Cannot find IPC socket /run/smcroute.sock\n")
    assert r.run("kill $(pidof smcrouted)").status == 0
    r.run("echo x > /tmp/f")
    e = r.run("smcrouted -u /tmp/f/x.sock")     # its folder is a file
    assert e.status == 1 and e.error.startswith("smcrouted: Failed creating IPC socket /tmp/f/x.sock: ")
    assert r.ns.mrt is None and r.run("pidof smcrouted").status == 1
