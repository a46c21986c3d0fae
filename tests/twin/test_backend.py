"""The linux backend against the real kernel: build, setup lines, services, probes, shaping."""
from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator

import pytest

from netplex.scenario.diff import DEFAULT_NORMALISATIONS
from netplex.scenario.model import Link, Node
from netplex.twin import TwinUnavailable, netns
from netplex.twin.backend import LinuxBackend, tbf_params

pytestmark = pytest.mark.linux


def nodes(*names: str) -> dict[str, Node]:
    return {n: Node() for n in names}


def veth(a: str, b: str, **keys: object) -> Link:
    """A link as a scenario file writes it (`rate: 10mbit`, `delay: 1ms`), validated."""
    return Link.model_validate({"ends": [a, b], "kind": "veth", **keys})


def tap(a: str, b: str, **keys: object) -> Link:
    return Link.model_validate({"ends": [a, b], "kind": "tap", **keys})


def setup(be: LinuxBackend, node: str, text: str) -> None:
    for line in text.strip().splitlines():
        res = be.run(node, line.strip())
        assert res.status == 0, (node, line, res.error)


@pytest.fixture
def pair() -> Iterator[LinuxBackend]:
    """h1 -- h2 on 10.0.0.0/24, h2 serving tcp:80 and udp:53."""
    with LinuxBackend() as be:
        be.build(nodes("h1", "h2"), [veth("h1:eth0", "h2:eth0")])
        setup(be, "h1", "ip addr add 10.0.0.1/24 dev eth0\nip link set eth0 up")
        setup(be, "h2", "ip addr add 10.0.0.2/24 dev eth0\nip link set eth0 up")
        be.start_services("h2", [("tcp", 80), ("udp", 53)])
        yield be


def test_build_gives_fresh_namespaces_with_links_down() -> None:
    with LinuxBackend() as be:
        be.build(nodes("h1", "h2"), [veth("h1:eth0", "h2:eth1")])
        links = be.run("h1", "ip -o link show").output
        assert "1: lo: <LOOPBACK> " in links  # lo down, as in a fresh namespace
        assert "eth0@" in links and "state DOWN" in links
        assert "eth1@" in be.run("h2", "ip -o link show").output
        names = [be.namespace("h1"), be.namespace("h2")]
        assert all(n.startswith(be.prefix + "-") and netns.exists(n) for n in names)
    assert not any(netns.exists(n) for n in names)


@pytest.mark.tools("ping")
def test_ping_ok_and_fail(pair: LinuxBackend) -> None:
    ok = pair.ping("h1", "10.0.0.2", 1)
    assert ok.ok and ok.observed["sent"] == 1 and ok.observed["replies"] == 1
    assert ok.observed["rtt_ms"] > 0
    bad = pair.ping("h1", "10.0.0.9", 1)
    assert not bad.ok and bad.observed == {"sent": 1, "replies": 0}


def test_tcp_ok_reports_peer(pair: LinuxBackend) -> None:
    out = pair.tcp("h1", "10.0.0.2", 80)
    assert out.ok
    assert out.observed["peer"] == "10.0.0.1"
    assert out.observed["reply"] == f"peer 10.0.0.1:{out.observed['peer_port']}"
    assert out.observed["local"] == f"10.0.0.1:{out.observed['peer_port']}"


def test_udp_ok_reports_peer(pair: LinuxBackend) -> None:
    out = pair.udp("h1", "10.0.0.2", 53)
    assert out.ok and out.observed["peer"] == "10.0.0.1"


def test_closed_ports_are_refused(pair: LinuxBackend) -> None:
    assert pair.tcp("h1", "10.0.0.2", 81).observed == {"error": "Connection refused"}
    assert pair.udp("h1", "10.0.0.2", 54).observed == {"reply": "", "error": "Connection refused"}


@pytest.mark.parametrize(
    "route, error",
    [
        ("unreachable 10.9.0.0/16", "No route to host"),
        ("prohibit 10.9.0.0/16", "Permission denied"),
        ("blackhole 10.9.0.0/16", "Invalid argument"),
        (None, "Network is unreachable"),
    ],
)
def test_route_errors_worded_as_libc(pair: LinuxBackend, route: str | None, error: str) -> None:
    if route:
        setup(pair, "h1", f"ip route add {route}")
    assert pair.tcp("h1", "10.9.0.1", 80).observed == {"error": error}
    assert pair.udp("h1", "10.9.0.1", 53).observed == {"reply": "", "error": error}


@pytest.mark.tools("iptables")
def test_dropped_syn_times_out_and_output_drop_is_eperm(pair: LinuxBackend) -> None:
    setup(pair, "h2", "iptables -A INPUT -p tcp --dport 80 -j DROP")
    assert pair.tcp("h1", "10.0.0.2", 80).observed == {"error": "timed out"}
    setup(pair, "h1", "iptables -A OUTPUT -p udp --dport 53 -j DROP")
    assert pair.udp("h1", "10.0.0.2", 53).observed == {"reply": "", "error": "Operation not permitted"}


def test_rejected_line_returns_the_kernel_text() -> None:
    with open("/proc/sys/net/ipv4/ip_forward") as f:
        root_forward = f.read()
    with LinuxBackend() as be:
        be.build(nodes("h1"), [])
        res = be.run("h1", "ip addr add 10.0.0.1/24 dev eth9")
        assert (res.status, res.error) == (1, 'Cannot find device "eth9"\n')
        res = be.run("h1", "sysctl -w net.ipv4.ip_forward=1 && sysctl -n net.ipv4.ip_forward | tr 1 x")
        assert res.status == 0 and res.output.endswith("x\n")
    with open("/proc/sys/net/ipv4/ip_forward") as f:  # the sysctl changed only the namespace
        assert f.read() == root_forward


@pytest.mark.tools("ping")
def test_bridge_of_three_nodes() -> None:
    links = [veth(f"sw:p{i}", f"h{i}:eth0") for i in (1, 2, 3)]
    with LinuxBackend() as be:
        be.build(nodes("sw", "h1", "h2", "h3"), links)
        setup(be, "sw", "ip link add br0 type bridge\nip link set br0 up")
        for i in (1, 2, 3):
            setup(be, "sw", f"ip link set p{i} master br0\nip link set p{i} up")
            setup(be, f"h{i}", f"ip addr add 10.0.0.{i}/24 dev eth0\nip link set eth0 up")
        assert be.ping("h1", "10.0.0.2", 1).ok
        assert be.ping("h3", "10.0.0.1", 1).ok
        be.start_services("h3", [("tcp", 8080)])
        assert be.tcp("h2", "10.0.0.3", 8080).observed["peer"] == "10.0.0.2"


@pytest.mark.tools("ping")
def test_tap_link_relays_frames() -> None:
    with LinuxBackend() as be:
        be.build(nodes("host", "vm1"), [tap("host:tap0", "vm1:eth0")])
        assert "tap" in be.run("host", "ip -d link show tap0").output
        setup(be, "host", "ip addr add 192.168.122.1/24 dev tap0\nip link set tap0 up")
        setup(be, "vm1", "ip addr add 192.168.122.10/24 dev eth0\nip link set eth0 up")
        assert be.ping("host", "192.168.122.10", 1).ok
        be.start_services("vm1", [("tcp", 22)])
        assert be.tcp("host", "192.168.122.10", 22).observed["peer"] == "192.168.122.1"


def test_rate_shapes_the_wire_and_leaves_the_devices_alone() -> None:
    with LinuxBackend() as be:
        be.build(nodes("a", "b"), [veth("a:eth0", "b:eth0", rate="10mbit")])
        wire_ns = f"{be.prefix}-w0"
        assert wire_ns in be.namespaces and netns.exists(wire_ns)
        with open(str(be.state_path)) as f:
            assert wire_ns in json.load(f)["namespaces"]  # listed, so `netplex clean` removes it
        for node in ("a", "b"):  # the kernel's default qdisc: the user may add a root qdisc
            setup(be, node, "ip link set eth0 up")
            assert be.run(node, "tc qdisc show dev eth0").output == "qdisc noqueue 0: root refcnt 2 \n"
        setup(be, "a", "tc qdisc add dev eth0 root handle 1: pfifo_fast")
        qdiscs = wire_tool(wire_ns, "tc", "qdisc", "show")
        assert "qdisc tbf" in qdiscs and "dev wa root" in qdiscs and "dev wb root" in qdiscs
        assert qdiscs.count("rate 10Mbit") == 2, qdiscs
        assert be.notes == []
    assert not netns.exists(wire_ns)


def wire_tool(ns: str, *argv: str) -> str:
    return subprocess.run([argv[0], "-n", ns, *argv[1:]], capture_output=True, text=True, check=True).stdout


def test_wire_is_a_transparent_bridge() -> None:
    with LinuxBackend() as be:
        be.build(nodes("a", "b"), [veth("a:eth0", "b:eth0", rate="100mbit", mtu=9000)])
        ns = f"{be.prefix}-w0"
        details = wire_tool(ns, "ip", "-d", "link", "show", "wire")
        for option in ("stp_state 0", "group_fwd_mask 0xfff8", "mcast_snooping 0", "nf_call_iptables 0"):
            assert option in details, details
        ports = wire_tool(ns, "ip", "-d", "link", "show", "master", "wire")
        assert ports.count("learning off flood on") == 2 and ports.count("mtu 65535 qdisc tbf") == 2, ports
        assert "inet6" not in wire_tool(ns, "ip", "addr")
        for end in ("a", "b"):
            assert "mtu 9000" in be.run(end, "ip link show eth0").output

        def sysctl() -> str:
            with open("/proc/sys/net/bridge/bridge-nf-call-iptables") as f:
                return f.read().strip()

        if os.path.exists("/proc/sys/net/bridge/bridge-nf-call-iptables"):
            assert netns.run_in(ns, sysctl) == "0"


# Destinations of frames sent from a to b, and whether they cross a wire (a plain veth passes all).
LINK_LOCAL = {
    "01:80:c2:00:00:00": True,  # STP BPDU: forwarded by a bridge with STP off
    "01:80:c2:00:00:01": False,  # MAC Control (PAUSE): always dropped by a bridge
    "01:80:c2:00:00:02": False,  # Slow Protocols (LACP): the kernel refuses group_fwd_mask bit 2
    "01:80:c2:00:00:03": True,  # 802.1X
    "01:80:c2:00:00:0e": True,  # LLDP
    "01:80:c2:00:00:21": True,  # GVRP/MVRP: not link-local to the bridge, plain multicast
    "01:00:5e:00:00:fb": True,  # IPv4 multicast (mDNS), with mcast_snooping 0
    "01:00:5e:00:00:16": True,  # an IGMPv3 report (sent as IPv4 below)
    "ff:ff:ff:ff:ff:ff": True,
    "02:00:00:00:00:99": True,  # unknown unicast
}


def _frames_through(be: LinuxBackend) -> dict[str, bool]:
    """Send one raw frame to each LINK_LOCAL destination from a:eth0; which arrived at b:eth0?"""
    import socket
    import time

    def raw(node: str) -> socket.socket:
        def open_() -> socket.socket:
            s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(0x0003))
            s.bind(("eth0", 0))
            return s
        return netns.run_in(be.namespace(node), open_)

    tx, rx = raw("a"), raw("b")
    try:
        rx.setblocking(False)
        src = bytes.fromhex("020000000001")
        for dst in LINK_LOCAL:
            mac = bytes.fromhex(dst.replace(":", ""))
            if dst == "01:00:5e:00:00:16":  # IPv4 (TTL 1, proto 2, router alert) to 224.0.0.22
                payload = (bytes.fromhex("460000280000000001020000c0000201e0000016940400002200f9fb00000000")
                           + bytes(12))
                tx.send(mac + src + b"\x08\x00" + payload)
            else:  # ethertype 0x88b5 (IEEE local experimental)
                tx.send(mac + src + b"\x88\xb5" + bytes(46))
        time.sleep(0.3)
        seen = set()
        while True:
            try:
                frame = rx.recv(2048)
            except BlockingIOError:
                break
            if frame[6:12] == src:
                seen.add(":".join(f"{b:02x}" for b in frame[:6]))
        return {dst: dst in seen for dst in LINK_LOCAL}
    finally:
        tx.close()
        rx.close()


@pytest.mark.parametrize("shaped", [False, True], ids=["veth", "wire"])
def test_link_local_frames_on_a_veth_and_a_wire(shaped: bool) -> None:
    extra = {"rate": "100mbit"} if shaped else {}
    with LinuxBackend() as be:
        be.build(nodes("a", "b"), [veth("a:eth0", "b:eth0", **extra)])
        setup(be, "a", "ip link set eth0 up")
        setup(be, "b", "ip link set eth0 up")
        be.run("a", "true")  # runs the pending linkwatch events (the wire's ports forward)
        got = _frames_through(be)
    want = LINK_LOCAL if shaped else dict.fromkeys(LINK_LOCAL, True)
    assert got == want


def test_wire_carrier_follows_the_wire_not_the_far_end() -> None:
    """Documented difference (netplex/twin/wire.py): a user end has carrier once it is up."""
    with LinuxBackend() as be:
        be.build(nodes("a", "b", "c", "d"), [veth("a:eth0", "b:eth0", rate="10mbit"),
                                              veth("c:eth0", "d:eth0")])
        setup(be, "a", "ip link set eth0 up")
        setup(be, "c", "ip link set eth0 up")
        assert "NO-CARRIER" in be.run("c", "ip link show eth0").output  # plain veth, far end down
        shaped = be.run("a", "ip link show eth0").output
        assert "LOWER_UP" in shaped and "state UP" in shaped


def test_a_node_sees_only_its_own_namespaces() -> None:
    """A node's /run/netns holds what `ip netns add` made there: `ip netns list` shows that,
    and a veth to another node (or to a shaped link's wire) shows `link-netnsid N`, as the
    simulator prints it (issue 9: the run's other namespaces were listed)."""
    with LinuxBackend() as be:
        be.build(nodes("a", "b", "c"), [veth("a:eth0", "b:eth1", rate="10mbit"), veth("a:eth1", "c:eth0")])
        assert be.run("a", "ip netns add red && ip netns list").output == "red\n"
        assert be.run("b", "ip netns list").output == ""
        normalise = DEFAULT_NORMALISATIONS.with_aliases(be.link_netns_aliases).text
        out_a = be.run("a", "ip link show").output
        assert be.prefix not in out_a and "link-netns " not in out_a
        assert "eth0@if<idx>: " in normalise(out_a) and "link-netnsid <id>\n" in normalise(out_a)
        assert normalise(be.run("b", "ip -o link show eth1").output).endswith("\\    link/ether <mac> brd "
                                                                        "ff:ff:ff:ff:ff:ff link-netnsid <id>\n")


@pytest.mark.tools("ping")
def test_wire_names_avoid_node_names() -> None:
    with LinuxBackend() as be:
        be.build(nodes("w0", "b"), [veth("w0:eth0", "b:eth0", loss=0.5)])
        assert sorted(be.namespaces) == sorted(f"{be.prefix}-{n}" for n in ("w0", "b", "w0_"))
        setup(be, "w0", "ip addr add 10.0.0.1/24 dev eth0\nip link set eth0 up")
        setup(be, "b", "ip addr add 10.0.0.2/24 dev eth0\nip link set eth0 up")
        assert be.ping("w0", "10.0.0.2", 1).ok or be.notes == []  # netem loss may drop it


def test_tbf_params_cover_a_frame_and_a_tick() -> None:
    assert tbf_params(100_000, 1500) == (1514, 1514 + 15140)
    burst, limit = tbf_params(1_000_000_000, 1500)
    assert burst == 500_001 and limit == burst + 6_250_000


def test_delay_and_loss_without_netem_are_noted() -> None:
    with LinuxBackend() as be:
        be.build(nodes("h1", "h2"), [veth("h1:eth0", "h2:eth0", delay="1ms", loss=0.01)])
        assert "qdisc" not in be.run("h1", "tc qdisc show dev eth0").output
        netem = "qdisc netem" in wire_tool(f"{be.prefix}-w0", "tc", "qdisc", "show")
        if netem:  # a kernel with sch_netem: applied on the wire, nothing to note
            assert be.notes == []
        else:
            assert be.notes == [
                "delay on h1:eth0 not applied: kernel lacks sch_netem",
                "loss on h1:eth0 not applied: kernel lacks sch_netem",
                "delay on h2:eth0 not applied: kernel lacks sch_netem",
                "loss on h2:eth0 not applied: kernel lacks sch_netem",
            ]


def test_rate_on_a_tap_link_is_noted() -> None:
    with LinuxBackend() as be:
        be.build(nodes("host", "vm1"), [tap("host:tap0", "vm1:eth0", rate="1mbit")])
        assert "tbf" not in be.run("host", "tc qdisc show dev tap0").output
        assert be.notes == [("rate, delay and loss of tap link host:tap0 -- vm1:eth0 not applied: "
                             "the linux backend shapes veth links only")]


def test_close_is_idempotent_and_removes_state() -> None:
    be = LinuxBackend()
    be.build(nodes("h1"), [])
    path = be.state_path
    assert path is not None and os.path.exists(path)
    be.close()
    be.close()
    assert not os.path.exists(path) and not netns.exists(be.namespace("h1"))


def test_services_fail_loudly_on_a_busy_port(pair: LinuxBackend) -> None:
    from netplex.twin import TwinError

    with pytest.raises(TwinError, match="Address already in use"):
        pair.start_services("h2", [("tcp", 80)])


def test_not_root_is_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(os, "geteuid", lambda: 1000)
    with pytest.raises(TwinUnavailable) as info:
        LinuxBackend()
    assert str(info.value) == "the linux backend needs root (netns, veth)"


def test_benchmark_runs_small() -> None:
    root = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    res = subprocess.run(
        [os.sys.executable, os.path.join(root, "benchmarks", "twin_startup.py"), "20"],
        capture_output=True, text=True, cwd=root, env=dict(os.environ, PYTHONPATH=root), timeout=60,
    )
    assert res.returncode == 0, res.stderr
    assert '"nodes": 20' in res.stdout


def test_background_daemon_does_not_block_the_line() -> None:
    with LinuxBackend() as be:
        be.build(nodes("h1"), [])
        res = be.run("h1", "sleep 30 & echo started")
        assert (res.status, res.output) == (0, "started\n")
