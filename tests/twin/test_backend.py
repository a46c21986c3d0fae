"""The linux backend against the real kernel: build, setup lines, services, probes, shaping."""
from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator

import pytest

from netplex.scenario.linux import LinuxBackend, tbf_params
from netplex.twin import TwinUnavailable, netns

pytestmark = pytest.mark.linux


def veth(a: str, b: str, **extra: object) -> dict[str, object]:
    (na, ia), (nb, ib) = a.split(":"), b.split(":")
    return {"ends": [(na, ia), (nb, ib)], "kind": "veth", **extra}


def setup(be: LinuxBackend, node: str, text: str) -> None:
    for line in text.strip().splitlines():
        res = be.run(node, line.strip())
        assert res.status == 0, (node, line, res.error)


@pytest.fixture
def pair() -> Iterator[LinuxBackend]:
    """h1 -- h2 on 10.0.0.0/24, h2 serving tcp:80 and udp:53."""
    with LinuxBackend() as be:
        be.build(["h1", "h2"], [veth("h1:eth0", "h2:eth0")])
        setup(be, "h1", "ip addr add 10.0.0.1/24 dev eth0\nip link set eth0 up")
        setup(be, "h2", "ip addr add 10.0.0.2/24 dev eth0\nip link set eth0 up")
        be.start_services("h2", [("tcp", 80), ("udp", 53)])
        yield be


def test_build_gives_fresh_namespaces_with_links_down() -> None:
    with LinuxBackend() as be:
        be.build(["h1", "h2"], [veth("h1:eth0", "h2:eth1")])
        links = be.run("h1", "ip -o link show").output
        assert "1: lo: <LOOPBACK> " in links  # lo down, as in a fresh namespace
        assert "eth0@" in links and "state DOWN" in links
        assert "eth1@" in be.run("h2", "ip -o link show").output
        names = [be.namespace("h1"), be.namespace("h2")]
        assert all(n.startswith(be.prefix + "-") and netns.exists(n) for n in names)
    assert not any(netns.exists(n) for n in names)


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


def test_dropped_syn_times_out_and_output_drop_is_eperm(pair: LinuxBackend) -> None:
    setup(pair, "h2", "iptables -A INPUT -p tcp --dport 80 -j DROP")
    assert pair.tcp("h1", "10.0.0.2", 80).observed == {"error": "timed out"}
    setup(pair, "h1", "iptables -A OUTPUT -p udp --dport 53 -j DROP")
    assert pair.udp("h1", "10.0.0.2", 53).observed == {"reply": "", "error": "Operation not permitted"}


def test_rejected_line_returns_the_kernel_text() -> None:
    with open("/proc/sys/net/ipv4/ip_forward") as f:
        root_forward = f.read()
    with LinuxBackend() as be:
        be.build(["h1"], [])
        res = be.run("h1", "ip addr add 10.0.0.1/24 dev eth9")
        assert (res.status, res.error) == (1, 'Cannot find device "eth9"\n')
        res = be.run("h1", "sysctl -w net.ipv4.ip_forward=1 && sysctl -n net.ipv4.ip_forward | tr 1 x")
        assert res.status == 0 and res.output.endswith("x\n")
    with open("/proc/sys/net/ipv4/ip_forward") as f:  # the sysctl changed only the namespace
        assert f.read() == root_forward


def test_bridge_of_three_nodes() -> None:
    links = [veth(f"sw:p{i}", f"h{i}:eth0") for i in (1, 2, 3)]
    with LinuxBackend() as be:
        be.build(["sw", "h1", "h2", "h3"], links)
        setup(be, "sw", "ip link add br0 type bridge\nip link set br0 up")
        for i in (1, 2, 3):
            setup(be, "sw", f"ip link set p{i} master br0\nip link set p{i} up")
            setup(be, f"h{i}", f"ip addr add 10.0.0.{i}/24 dev eth0\nip link set eth0 up")
        assert be.ping("h1", "10.0.0.2", 1).ok
        assert be.ping("h3", "10.0.0.1", 1).ok
        be.start_services("h3", [("tcp", 8080)])
        assert be.tcp("h2", "10.0.0.3", 8080).observed["peer"] == "10.0.0.2"


def test_tap_link_relays_frames() -> None:
    with LinuxBackend() as be:
        be.build(["host", "vm1"], [{"ends": [("host", "tap0"), ("vm1", "eth0")], "kind": "tap"}])
        assert "tap" in be.run("host", "ip -d link show tap0").output
        setup(be, "host", "ip addr add 192.168.122.1/24 dev tap0\nip link set tap0 up")
        setup(be, "vm1", "ip addr add 192.168.122.10/24 dev eth0\nip link set eth0 up")
        assert be.ping("host", "192.168.122.10", 1).ok
        be.start_services("vm1", [("tcp", 22)])
        assert be.tcp("host", "192.168.122.10", 22).observed["peer"] == "192.168.122.1"


def test_rate_applies_tbf_on_both_ends() -> None:
    with LinuxBackend() as be:
        be.build(["a", "b"], [veth("a:eth0", "b:eth0", rate_bps=10_000_000)])
        for node in ("a", "b"):
            out = be.run(node, "tc qdisc show dev eth0").output
            assert "qdisc tbf" in out and "rate 10Mbit" in out, out
        assert be.notes == []


def test_tbf_params_cover_a_frame_and_a_tick() -> None:
    assert tbf_params(100_000, 1500) == (1514, 1514 + 15140)
    burst, limit = tbf_params(1_000_000_000, 1500)
    assert burst == 500_001 and limit == burst + 6_250_000


def test_delay_and_loss_without_netem_are_noted() -> None:
    with LinuxBackend() as be:
        be.build(["h1", "h2"], [veth("h1:eth0", "h2:eth0", delay_ns=1_000_000, loss=0.01)])
        netem = "qdisc netem" in be.run("h1", "tc qdisc show dev eth0").output
        if netem:  # a kernel with sch_netem: applied, nothing to note
            assert be.notes == []
        else:
            assert be.notes == [
                "delay on h1:eth0 not applied: kernel lacks sch_netem",
                "loss on h1:eth0 not applied: kernel lacks sch_netem",
                "delay on h2:eth0 not applied: kernel lacks sch_netem",
                "loss on h2:eth0 not applied: kernel lacks sch_netem",
            ]


def test_close_is_idempotent_and_removes_state() -> None:
    be = LinuxBackend()
    be.build(["h1"], [])
    path = be.state_path
    assert path is not None and os.path.exists(path)
    be.close()
    be.close()
    assert not os.path.exists(path) and not netns.exists(be.namespace("h1"))


def test_pcap_is_refused_clearly(tmp_path: object) -> None:
    with pytest.raises(TwinUnavailable, match="--pcap is not supported on the linux backend yet"):
        LinuxBackend(pcap_dir=str(tmp_path))


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
        be.build(["h1"], [])
        res = be.run("h1", "sleep 30 & echo started")
        assert (res.status, res.output) == (0, "started\n")
