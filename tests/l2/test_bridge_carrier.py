"""A bridge's carrier and operstate follow its ports (br_port_carrier_check, br_port_state_selection):
on while at least one port forwards with carrier, whatever made a port stop or start forwarding
(its device or its peer down/up, `bridge link set state`, STP blocking, a port leaving). The bridge
keeps a count of forwarding ports instead of scanning them on each query; this checks the count
against the scan and against what the kernel shows at every step."""
from __future__ import annotations

from netplex.network import Network
from netplex.stack.bridge import Bridge
from tests.l2.conftest import run_ok


def _state(sw: object) -> tuple[str, str]:
    """(operstate, carrier) as /sys/class/net/sw0 shows them, after checking the count."""
    br = sw.ns.devices["sw0"]
    assert isinstance(br, Bridge)
    assert (br.n_fwd > 0) == any(p.forwarding() for p in br.ports)
    assert br.n_fwd == sum(p.forwarding() for p in br.ports)
    op = sw.run("cat /sys/class/net/sw0/operstate")
    car = sw.run("cat /sys/class/net/sw0/carrier")
    return op.output.strip(), car.output.strip() if car.status == 0 else "-"


def test_bridge_carrier_follows_ports() -> None:
    net = Network()
    sw = net.add_node("sw")
    hosts = [net.add_node(f"h{i}") for i in (1, 2)]
    for i, _ in enumerate(hosts, 1):
        net.add_link(f"sw:p{i}", f"h{i}:eth0")
    run_ok(sw, "ip link add sw0 type bridge", "ip link set sw0 up")
    assert _state(sw) == ("unknown", "1")          # never had a port: the carrier it was created with
    run_ok(sw, "ip link set p1 master sw0", "ip link set p2 master sw0")
    assert _state(sw) == ("down", "0")             # ports down
    run_ok(sw, "ip link set p1 up", "ip link set p2 up")
    assert _state(sw) == ("down", "0")             # up, but the peers are down: no carrier
    run_ok(hosts[0], "ip link set eth0 up")
    assert _state(sw) == ("up", "1")               # the peer came up: p1 forwards
    run_ok(hosts[1], "ip link set eth0 up")
    assert _state(sw) == ("up", "1")
    run_ok(hosts[0], "ip link set eth0 down")
    assert _state(sw) == ("up", "1")               # p2 still forwards
    run_ok(hosts[1], "ip link set eth0 down")
    assert _state(sw) == ("down", "0")
    run_ok(hosts[1], "ip link set eth0 up")
    assert _state(sw) == ("up", "1")
    run_ok(sw, "bridge link set dev p2 state 0")
    assert _state(sw) == ("down", "0")             # p1's peer is down and p2 disabled by hand
    run_ok(hosts[0], "ip link set eth0 up")
    assert _state(sw) == ("up", "1")
    run_ok(sw, "ip link set p1 down")
    assert _state(sw) == ("down", "0")
    run_ok(sw, "bridge link set dev p2 state 3")
    assert _state(sw) == ("up", "1")
    run_ok(sw, "ip link set p2 nomaster")
    assert _state(sw) == ("down", "0")             # had ports: no port left, no carrier
    run_ok(sw, "ip link set p2 master sw0", "ip link set p1 up")
    assert _state(sw) == ("up", "1")
    run_ok(sw, "ip link set sw0 type bridge stp_state 1")
    _state(sw)
    run_ok(sw, "ip link set sw0 down")
    assert _state(sw) == ("down", "-")
    run_ok(sw, "ip link set sw0 up")
    net.run_for(1_000_000_000)
    assert _state(sw) == ("down", "0")             # STP listening: nothing forwards yet
    net.run_for(40_000_000_000)
    assert _state(sw) == ("up", "1")               # forwarding after two forward delays
    run_ok(hosts[1], "ip link set eth0 down")
    assert _state(sw) == ("up", "1")
    run_ok(sw, "ip link set p1 down")
    assert _state(sw) == ("down", "0")
