"""The exact flow fast path (stack/fastpath.py) changes nothing but speed.

Every example and differential-corpus scenario, a P1-like router chain and
mixed chains (netfilter, tc, TTL expiry, a route change and neighbour expiry
mid-run, pcaps) run with the fast path on and off; the probe results, every
device counter, neighbour entry, drop count, the clock, the event count and
every captured byte must be the same.
"""
from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from netplex import Network
from netplex.apps.generators import TcpBulk
from netplex.packet.addr import ip_to_int
from netplex.scenario.loader import load_scenario
from netplex.scenario.runner import run_scenario
from netplex.scenario.sim import SimBackend
from netplex.stack.bridge import Bridge
from netplex.stack.device import DEVICE_STATS_FIELDS
from netplex.stack.fastpath import DEVICE_NEUTRAL, FAST_DEVICE_CLASSES, unknown_device_state
from netplex.stack.snmp import proc_net_netstat, proc_net_snmp
from netplex.stack.tcp import TcpSocket

ROOT = Path(__file__).resolve().parents[2]
SCENARIOS = sorted((ROOT / "examples").glob("*.yaml")) + sorted((ROOT / "tests" / "differential" / "corpus").glob("*.yaml"))


def namespaces(net: Network) -> list[Any]:
    """Every namespace of a network: the nodes', their named ones, and every cable's ends."""
    seen: dict[int, Any] = {}
    for node in net.nodes.values():
        m = node.machine
        for ns in (m.root, *m.netns.values()):
            seen.setdefault(id(ns), ns)
    for a, b, _ in net.world.links:
        for end in (a, b):
            seen.setdefault(id(end.ns), end.ns)
    return list(seen.values())


def state(net: Network) -> dict[str, Any]:
    """What the fast path could get wrong: counters (the SNMP MIB's too), timing, neighbours, drops, the clock."""
    out: dict[str, Any] = {"now": net.sched.now, "events": net.sched.events_run}
    for ns in namespaces(net):
        devs = {}
        for name, d in sorted(ns.devices.items()):
            st = d.stats
            devs[name] = ([getattr(st, f) for f in DEVICE_STATS_FIELDS], d.busy_until, d.up)
        neigh = sorted((k, n.state, n.lladdr, n.confirmed, n.updated, n.used, n.probes)
                       for k, n in ns.neigh.entries.items())
        out[f"{ns.name}@{id(ns) % 1}"] = (devs, neigh, sorted((r.name, c) for r, c in ns.drops.items()), ns.ip_id)
        # the SNMP counters as /proc/net/snmp and netstat print them (the fast paths count apart: snmp.Mib)
        out[f"{ns.name}/mib"] = proc_net_snmp(ns.mib, True, 64, 0) + proc_net_netstat(ns.mib)
        for name, d in sorted(ns.devices.items()):
            if isinstance(d, Bridge):   # the FDB as the bridge fast path leaves it: port, updated, used
                out[f"{ns.name}/{name}/fdb"] = sorted(
                    (k, e.port.dev.name if e.port is not None else None, e.updated, e.used, e.is_local, e.is_static)
                    for k, e in d.fdb.items())
    return out


def fast_entries(net: Network) -> int:
    """How many positive flow entries the fast path holds (it must have been used)."""
    return sum(1 for ns in namespaces(net) for d in ns.devices.values() if d.flows
               for fe in d.flows.values() if fe.out is not None)


def bridge_fast_ports(net: Network) -> int:
    """How many bridge ports the bridge fast path found pure (it must have been tried)."""
    return sum(1 for ns in namespaces(net) for d in ns.devices.values()
               if d.bridge_port is not None and d.bridge_port.fast_ok)


def run_file(path: Path, fast: bool, monkeypatch: pytest.MonkeyPatch, pcap: Path | None = None) -> tuple[Any, Any]:
    monkeypatch.setenv("NETPLEX_FASTPATH", "1" if fast else "0")
    sc = load_scenario(path)
    backend = SimBackend(seed=sc.seed, pcap_dir=pcap)
    res = run_scenario(sc, backend)
    return res.to_json(), state(backend.net)


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: f"{p.parent.name}/{p.stem}")
def test_scenario_same_with_and_without_fast_path(path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    on = run_file(path, True, monkeypatch)
    off = run_file(path, False, monkeypatch)
    assert on == off


@pytest.mark.parametrize("name", ["routed", "security-groups", "qos-htb-borrow"])
def test_pcaps_same_with_and_without_fast_path(name: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = ROOT / "examples" / f"{name}.yaml"
    on = run_file(path, True, monkeypatch, tmp_path / "on")
    off = run_file(path, False, monkeypatch, tmp_path / "off")
    assert on == off
    files = sorted(p.name for p in (tmp_path / "on").iterdir())
    assert files == sorted(p.name for p in (tmp_path / "off").iterdir()) and files
    for f in files:
        assert (tmp_path / "on" / f).read_bytes() == (tmp_path / "off" / f).read_bytes(), f


def chain(nrouters: int, extra: dict[int, list[str]] | None = None, loss: float = 0.0,
          bottleneck: int = 0) -> tuple[Network, Any, Any]:
    """h0 → r1..rN → h1, as benchmarks/router_chain.py builds it, with extra lines per router
    (and, with `bottleneck`, r3 → r4 at that rate)."""
    net = Network(seed=3)
    names = ["h0"] + [f"r{i}" for i in range(1, nrouters + 1)] + ["h1"]
    nodes = [net.add_node(n) for n in names]
    for i in range(len(names) - 1):
        net.add_link(f"{names[i]}:eth1", f"{names[i + 1]}:eth0",
                     rate_bps=bottleneck if bottleneck and i == 3 else 1_000_000_000, delay_ns=1_000,
                     loss=loss if i == 5 else 0.0)
    last = len(nodes) - 1
    for i, node in enumerate(nodes):
        lines = []
        if i > 0:
            lines.append(f"ip addr add 10.0.{i - 1}.2/24 dev eth0 && ip link set eth0 up")
        if i < last:
            lines.append(f"ip addr add 10.0.{i}.1/24 dev eth1 && ip link set eth1 up")
        if 0 < i < last:
            lines.append("sysctl -qw net.ipv4.ip_forward=1")
            lines.append(f"ip route add 10.0.0.0/16 via 10.0.{i - 1}.1 metric 10")
            if i < last - 1:
                lines.append(f"ip route add 10.0.{last - 1}.0/24 via 10.0.{i}.2")
        if i == 0:
            lines.append("ip route add default via 10.0.0.2")
        if i == last:
            lines.append(f"ip route add default via 10.0.{i - 1}.1")
        lines += (extra or {}).get(i, [])
        for line in lines:
            r = node.run(line)
            assert r.status == 0, (node.name, line, r.error)
    return net, nodes[0], nodes[-1]


def traffic(net: Network, h0: Any, h1: Any, npkt: int, interval: int, mid: list[tuple[Any, str]] | None = None,
            ttl_every: int = 0) -> list[Any]:
    """UDP datagrams h0 → h1 (some with a TTL too small), with commands run mid-way; what h1 got."""
    got: list[Any] = []
    dst = h1.ns.devices["eth0"]
    server = h1.ns.sockets.udp_socket()
    server.bind(0, 9)
    server.on_recv = lambda d, s, p: got.append((net.now, len(d), s, p))
    client = h0.ns.sockets.udp_socket()
    daddr = ip_to_int(str(h1.cmd("ip -4 -br addr show dev eth0").split()[2]).split("/")[0])
    client.connect(daddr, 9)
    assert dst is not None
    for k in range(npkt):
        size = 100 + (k * 37) % 1300
        net.sched.after(k * interval, client.sendto, bytes(size))
    half = npkt * interval // 2
    net.run_for(half)
    for node, line in mid or []:
        assert node.run(line).status == 0, line
    net.run_for(half + 50_000_000)
    return got


def outputs(net: Network, nodes: list[Any]) -> list[str]:
    return [n.cmd("ip -s link; ip neigh; ip route; nstat -az 2>/dev/null; true") for n in nodes]


@pytest.mark.parametrize("case", ["plain", "mixed"])
def test_chain_same_with_and_without_fast_path(case: str, monkeypatch: pytest.MonkeyPatch) -> None:
    results = []
    for fast in (True, False):
        monkeypatch.setenv("NETPLEX_FASTPATH", "1" if fast else "0")
        if case == "plain":
            net, h0, h1 = chain(6)
            got = traffic(net, h0, h1, 3000, 8_000)
            mid_nodes = [h0, h1]
        else:
            extra = {
                2: ["iptables -A FORWARD -p udp --dport 9 -m length --length 900:1000 -j DROP"],
                3: ["tc qdisc add dev eth1 root tbf rate 200mbit burst 20k latency 5ms"],
                4: ["iptables -t mangle -A FORWARD -j TTL --ttl-dec 1 2>/dev/null || true"],
            }
            net, h0, h1 = chain(6, extra, loss=0.05)      # r5 → r6 loses 5 %
            r5 = net.nodes["r5"]
            mid = [(r5, "ip route replace 10.0.6.0/24 via 10.0.5.2 mtu 1200"),
                   (net.nodes["r1"], "ip link set eth1 mtu 1400")]
            got = traffic(net, h0, h1, 3000, 3_000, mid)
            # the neighbours go STALE after their reachable time: more traffic then
            net.run_for(60_000_000_000)
            got += traffic(net, h0, h1, 200, 10_000)
            mid_nodes = [h0, h1, r5]
        results.append((got, state(net), outputs(net, mid_nodes), fast_entries(net)))
    (got_on, st_on, out_on, n_on), (got_off, st_off, out_off, n_off) = results
    assert n_on > 0 and n_off == 0       # the fast path was used, and only when on
    assert got_on and got_on == got_off
    assert st_on == st_off
    assert out_on == out_off


def bulk_flow(net: Network, h0: Any, h1: Any, daddr: str, duration: int) -> tuple[list[tuple[int, int]], TcpBulk]:
    """A TCP bulk sender on h0 to a listener on h1 (port 5001) for `duration` ns; what h1 reads, when."""
    got: list[tuple[int, int]] = []

    def on_accept(sk: TcpSocket) -> None:
        sk.on_data = lambda s, data: got.append((net.now, len(data)))

    lst = TcpSocket(h1.ns.sockets)
    lst.on_accept = on_accept
    assert lst.listen(5001) == 0
    return got, TcpBulk(h0.ns, ip_to_int(daddr), 5001, net.now, net.now + duration)


def tcp_through_a_bottleneck() -> tuple[Any, ...]:
    net, h0, h1 = chain(6, bottleneck=100_000_000)
    got, bulk = bulk_flow(net, h0, h1, "10.0.6.2", 200_000_000)
    net.run_for(300_000_000)
    bulk.close()
    return got, state(net), outputs(net, [h0, h1, net.nodes["r3"]]), fast_entries(net)


def test_tcp_through_a_bottleneck_same_with_and_without_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    """A bulk TCP flow whose segments queue in r3's FIFO (a busy device) and whose ACKs come back."""
    monkeypatch.setenv("NETPLEX_FASTPATH", "1")
    got_on, st_on, out_on, n_on = tcp_through_a_bottleneck()
    monkeypatch.setenv("NETPLEX_FASTPATH", "0")
    got_off, st_off, out_off, n_off = tcp_through_a_bottleneck()
    assert n_on > 0 and n_off == 0
    assert sum(n for _, n in got_on) > 1_000_000 and got_on == got_off
    assert st_on == st_off
    assert out_on == out_off


def tcp_sender_changes() -> tuple[Any, ...]:
    """A bulk TCP flow while the sender's output changes under it: the gateway's neighbour entry
    replaced (a wrong address, STALE) and flushed, a route with a smaller MTU and back, then an
    OUTPUT rule (owner match) and a POSTROUTING one: the host output fast path
    (Ipv4Path._output_fast) must step aside exactly when the full path would do something else."""
    net, h0, h1 = chain(4, bottleneck=200_000_000)
    got, bulk = bulk_flow(net, h0, h1, "10.0.4.2", 400_000_000)
    for line in ("ip neigh replace 10.0.0.2 lladdr 02:00:00:00:00:99 dev eth1 nud stale",
                 "ip neigh flush dev eth1",
                 "ip route replace default via 10.0.0.2 mtu 1000",
                 "ip route replace default via 10.0.0.2",
                 "iptables -A OUTPUT -p tcp -m owner --uid-owner 0 -j ACCEPT",
                 "iptables -t mangle -A POSTROUTING -p tcp -j ACCEPT"):
        net.run_for(40_000_000)
        r = h0.run(line)
        assert r.status == 0, (line, r.error)
    net.run_for(200_000_000)
    bulk.close()
    return got, state(net), outputs(net, [h0, h1]), h0.cmd("iptables -L -v -n -x; iptables -t mangle -L -v -n -x")


def test_tcp_sender_config_changes_same_with_and_without_fast_path(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NETPLEX_FASTPATH", "1")
    on = tcp_sender_changes()
    monkeypatch.setenv("NETPLEX_FASTPATH", "0")
    off = tcp_sender_changes()
    assert sum(n for _, n in on[0]) > 1_000_000
    assert on == off


@pytest.mark.parametrize("name", ["examples/routed", "tests/differential/corpus/ttl-default"])
def test_fast_path_is_used(name: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NETPLEX_FASTPATH", "1")
    sc = load_scenario(ROOT / f"{name}.yaml")
    backend = SimBackend(seed=sc.seed)
    run_scenario(sc, backend)
    assert fast_entries(backend.net) > 0


def test_every_device_attribute_is_understood() -> None:
    """A device of the compiled build has no __dict__ for `unknown_state` to list: every attribute
    a device is made with must be in DEVICE_NEUTRAL (and `unknown_device_state` tests those that are
    not neutral by name), or the compiled fast path would ignore it where the pure one does not."""
    net = Network(seed=1)
    net.add_node("a")
    net.add_node("b")
    net.add_link("a:eth0", "b:eth0")
    dev = net.nodes["a"].ns.devices["eth0"]
    assert type(dev) in FAST_DEVICE_CLASSES
    try:
        names = set(vars(dev))
    except TypeError:                   # this run imports the compiled build: its attributes are declared
        pytest.skip("a compiled device lists no attributes")
    assert names - DEVICE_NEUTRAL == set()
    assert unknown_device_state(dev, DEVICE_NEUTRAL) is None
    net.nodes["a"].run("ip link set eth0 arp off")
    assert unknown_device_state(dev, DEVICE_NEUTRAL) == "base_flags"
    net.nodes["a"].run("ip link set eth0 arp on")
    assert unknown_device_state(dev, DEVICE_NEUTRAL) is None


def test_socket_dst_cache_follows_configuration() -> None:
    """UdpSocket's sk_dst_cache: a route change between two datagrams takes effect at once."""
    net = Network(seed=1)
    h0, h1 = net.add_node("h0"), net.add_node("h1")
    net.add_link("h0:eth0", "h1:eth0")
    assert h0.run("ip addr add 10.0.0.1/24 dev eth0 && ip link set eth0 up").status == 0
    assert h1.run("ip addr add 10.0.0.2/24 dev eth0 && ip link set eth0 up").status == 0
    got: list[bytes] = []
    srv = h1.ns.sockets.udp_socket()
    srv.bind(0, 9)
    srv.on_recv = lambda d, s, p: got.append(d)
    sk = h0.ns.sockets.udp_socket()
    dst = ip_to_int("10.0.0.2")
    assert sk.sendto(b"a", dst, 9) == 0
    net.run_for(10_000_000)
    assert h0.run("ip route add blackhole 10.0.0.2/32").status == 0
    assert sk.sendto(b"b", dst, 9) == 22          # EINVAL: the blackhole, not the cached route
    assert h0.run("ip route del blackhole 10.0.0.2/32 && ip link set eth0 down").status == 0
    assert sk.sendto(b"c", dst, 9) == 101         # ENETUNREACH: the device went down
    assert h0.run("ip link set eth0 up").status == 0
    assert sk.sendto(b"d", dst, 9) == 0
    net.run_for(10_000_000)
    assert got == [b"a", b"d"]


def bridged(topo: str, changes: bool) -> tuple[Any, ...]:
    """64 hosts on one bridge (star) or 8 leaf bridges under a root (tree), UDP echo between seeded
    pairs as benchmarks/p2_bridge.py, with — when `changes` — what can change a bridged frame's fate
    mid-run: a port blocked and freed again, a host's address moving to another port, hairpin and
    isolated ports, a short ageing time, br_netfilter with an iptables rule, VLAN filtering."""
    import random

    net = Network(seed=5)
    n = 16
    rng = random.Random(5)
    hosts = [net.add_node(f"h{i}") for i in range(n)]
    sw_of = []
    if topo == "star":
        net.add_node("sw")
        for i in range(n):
            net.add_link(f"h{i}:eth0", f"sw:p{i}", rate_bps=1_000_000_000, delay_ns=1_000)
        bridges = {"sw": [f"p{i}" for i in range(n)]}
        sw_of = ["sw"] * n
    else:
        net.add_node("root")
        bridges = {"root": []}
        for lf in range(4):
            net.add_node(f"leaf{lf}")
            net.add_link(f"leaf{lf}:trunk", f"root:p{lf}", rate_bps=100_000_000, delay_ns=1_000)
            bridges["root"].append(f"p{lf}")
            bridges[f"leaf{lf}"] = ["trunk"]
        for i in range(n):
            net.add_link(f"h{i}:eth0", f"leaf{i % 4}:p{i // 4}", rate_bps=1_000_000_000, delay_ns=1_000)
            bridges[f"leaf{i % 4}"].append(f"p{i // 4}")
            sw_of.append(f"leaf{i % 4}")
    for name, ports in bridges.items():
        sw = net.nodes[name]
        assert sw.run("ip link add br0 type bridge && ip link set br0 up").status == 0
        for p in ports:
            assert sw.run(f"ip link set {p} master br0 && ip link set {p} up").status == 0
    for i, h in enumerate(hosts):
        assert h.run(f"ip addr add 10.1.0.{i + 1}/16 dev eth0 && ip link set eth0 up").status == 0
    got: list[Any] = []
    for i in range(n):
        ns = hosts[i].ns
        srv = ns.sockets.udp_socket()
        srv.bind(0, 9)

        def echo(data: bytes, src: int, sport: int, srv: Any = srv, i: int = i) -> None:
            got.append((net.now, i, len(data), src))
            srv.sendto(data, src, sport)

        srv.on_recv = echo
    for i in range(n):
        j = (i + 1 + rng.randrange(n - 1)) % n
        cl = hosts[i].ns.sockets.udp_socket()
        cl.connect(ip_to_int(f"10.1.0.{j + 1}"), 9)
        cl.on_recv = lambda d, s, p, i=i: got.append((net.now, -i, len(d), s))
        start = net.now + 1_000_000 + rng.randrange(50_000)
        for k in range(300):
            net.sched.at(start + k * 20_000 + (k % 7) * 3, cl.sendto, bytes(64 + (k * 53) % 1300))
    net.run_for(1_500_000)
    used = bridge_fast_ports(net)   # before the changes (br_netfilter's hooks stay registered)
    if changes:
        sw = net.nodes[sw_of[3]]
        port3 = "p3" if topo == "star" else "p0"
        # a host's address moves: h2 takes h7's MAC (the FDB entry moves to h2's port)
        mac7 = hosts[7].ns.devices["eth0"].mac.hex(":")
        steps = [
            (sw, f"bridge link set dev {port3} state 1"),             # listening: frames dropped
            (sw, f"bridge link set dev {port3} state 3"),
            (sw, f"bridge link set dev {port3} hairpin on"),
            (sw, f"bridge link set dev {port3} isolated on"),
            # tc changes no configuration generation: the port's ingress qdisc is read per frame
            (sw, f"tc qdisc add dev {port3} ingress"),
            (sw, f"tc filter add dev {port3} ingress matchall action drop"),
            (sw, f"tc qdisc del dev {port3} ingress"),
            (hosts[2], f"ip link set eth0 address {mac7}"),
            (net.nodes[sw_of[5]], "ip link set br0 type bridge ageing_time 100"),   # 1 s: entries age
            (sw, "sysctl -qw net.bridge.bridge-nf-call-iptables=1"),
            (sw, "iptables -A FORWARD -p udp -m length --length 200:400 -j DROP"),
            (sw, "iptables -F FORWARD"),
            (sw, "ip link set br0 type bridge vlan_filtering 1"),
            (sw, "ip link set br0 type bridge vlan_filtering 0"),
        ]
        for node, line in steps:
            net.run_for(600_000)
            assert node.run(line).status == 0, line
    net.run_for(3_000_000_000)
    nodes = [net.nodes[s] for s in dict.fromkeys(sw_of)] + hosts[:4]
    return got, state(net), outputs(net, nodes), used


@pytest.mark.parametrize("topo", ["star", "tree"])
@pytest.mark.parametrize("changes", [False, True], ids=["steady", "changes"])
def test_bridged_same_with_and_without_fast_path(topo: str, changes: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """The bridge fast path (BridgePort.fast_forward): same deliveries, counters, FDB (updated, used,
    port), drops, clock and events as the full br_handle_frame path."""
    monkeypatch.setenv("NETPLEX_FASTPATH", "1")
    got_on, st_on, out_on, n_on = bridged(topo, changes)
    monkeypatch.setenv("NETPLEX_FASTPATH", "0")
    got_off, st_off, out_off, n_off = bridged(topo, changes)
    assert n_on > 0 and n_off == 0
    assert len(got_on) > 1000 and got_on == got_off
    assert st_on == st_off
    assert out_on == out_off


def leaf_spine(changes: bool) -> tuple[Any, ...]:
    """Two leaves routing their /24 from a bridge's own address (hosts on bridge ports, as
    benchmarks/scale.py s1), two spines: UDP echo across leaves (routed from and to a bridge
    device: the bridge and flow fast paths together) and within a leaf; with `changes`, an
    address moving, a port down and up, neighbours flushed, a short ageing time, VLAN filtering
    toggled, a rule on the leaf, and a host sending from the leaf's own address (a martian)."""
    import random

    net = Network(seed=9)
    rng = random.Random(9)
    hosts = []
    for lf in range(2):
        leaf = net.add_node(f"leaf{lf}")
        for k in range(4):
            h = net.add_node(f"h{lf}{k}")
            hosts.append(h)
            net.add_link(f"h{lf}{k}:eth0", f"leaf{lf}:p{k}", rate_bps=1_000_000_000, delay_ns=1_000)
            assert h.run(f"ip addr add 10.{lf}.0.{k + 2}/24 dev eth0 && ip link set eth0 up "
                         f"&& ip route add default via 10.{lf}.0.1").status == 0
        assert leaf.run("ip link add br0 type bridge && ip link set br0 up").status == 0
        for k in range(4):
            assert leaf.run(f"ip link set p{k} master br0 && ip link set p{k} up").status == 0
        assert leaf.run(f"ip addr add 10.{lf}.0.1/24 dev br0 && sysctl -qw net.ipv4.ip_forward=1").status == 0
    for sp in range(2):
        spine = net.add_node(f"spine{sp}")
        assert spine.run("sysctl -qw net.ipv4.ip_forward=1").status == 0
        for lf in range(2):
            net.add_link(f"leaf{lf}:s{sp}", f"spine{sp}:l{lf}", rate_bps=10_000_000_000, delay_ns=1_000)
            assert net.nodes[f"leaf{lf}"].run(f"ip addr add 172.{16 + sp}.{lf}.1/24 dev s{sp} "
                                              f"&& ip link set s{sp} up").status == 0
            assert spine.run(f"ip addr add 172.{16 + sp}.{lf}.2/24 dev l{lf} && ip link set l{lf} up "
                             f"&& ip route add 10.{lf}.0.0/24 via 172.{16 + sp}.{lf}.1").status == 0
    for lf in range(2):
        assert net.nodes[f"leaf{lf}"].run(f"ip route add default via 172.{16 + lf}.{lf}.2").status == 0
    got: list[Any] = []
    addr = [ip_to_int(f"10.{i // 4}.0.{i % 4 + 2}") for i in range(8)]
    for i, h in enumerate(hosts):
        srv = h.ns.sockets.udp_socket()
        srv.bind(0, 9)

        def echo(data: bytes, src: int, sport: int, srv: Any = srv, i: int = i) -> None:
            got.append((net.now, i, len(data), src))
            srv.sendto(data, src, sport)

        srv.on_recv = echo
    for i, h in enumerate(hosts):
        j = (i + 1 + rng.randrange(7)) % 8
        cl = h.ns.sockets.udp_socket()
        cl.connect(addr[j], 9)
        cl.on_recv = lambda d, s, p, i=i: got.append((net.now, -i, len(d), s))
        start = net.now + 1_000_000 + rng.randrange(30_000)
        for k in range(300):
            net.sched.at(start + k * 15_000, cl.sendto, bytes(64 + (k * 97) % 1200))
    net.run_for(1_500_000)
    used = fast_entries(net)
    if changes:
        leaf0, h01 = net.nodes["leaf0"], net.nodes["h01"]
        mac = hosts[2].ns.devices["eth0"].mac.hex(":")
        # h01 also sends from leaf0's own address: the leaf drops it (a martian source)
        assert h01.run("ip addr add 10.0.0.1/32 dev eth0").status == 0
        spoof = h01.ns.sockets.udp_socket()
        spoof.bind(ip_to_int("10.0.0.1"), 7)
        for k in range(50):
            net.sched.after(k * 10_000, spoof.sendto, bytes(100), ip_to_int("10.1.0.3"), 9)
        steps = [
            (hosts[1], f"ip link set eth0 address {mac}"),
            (leaf0, "ip link set p3 down"),
            (leaf0, "ip link set p3 up"),
            (leaf0, "ip neigh flush dev br0"),
            (net.nodes["leaf1"], "ip link set br0 type bridge ageing_time 50"),
            (leaf0, "ip link set br0 type bridge vlan_filtering 1"),
            (leaf0, "ip link set br0 type bridge vlan_filtering 0"),
            (net.nodes["leaf1"], "iptables -A FORWARD -p udp -m length --length 300:500 -j DROP"),
        ]
        for node, line in steps:
            net.run_for(500_000)
            assert node.run(line).status == 0, line
    net.run_for(2_000_000_000)
    nodes = [net.nodes["leaf0"], net.nodes["leaf1"], net.nodes["spine0"], *hosts[:3]]
    return got, state(net), outputs(net, nodes), used


@pytest.mark.parametrize("changes", [False, True], ids=["steady", "changes"])
def test_routed_through_bridges_same_with_and_without_fast_path(changes: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """Routing from and to a bridge's own address (BridgePort.fast_forward into fast_rx on the bridge
    device; fast_rx out through Bridge.fast_upper_out): same as the full path."""
    monkeypatch.setenv("NETPLEX_FASTPATH", "1")
    got_on, st_on, out_on, n_on = leaf_spine(changes)
    monkeypatch.setenv("NETPLEX_FASTPATH", "0")
    got_off, st_off, out_off, n_off = leaf_spine(changes)
    assert n_on > 0 and n_off == 0
    assert len(got_on) > 1000 and got_on == got_off
    assert st_on == st_off
    assert out_on == out_off


def local_fast_devices(net: Network) -> int:
    """How many devices the host fast path (Namespace.ip_local_fast) found pure (it must have been tried)."""
    return sum(1 for ns in namespaces(net) for ok in ns.local_fast[1].values() if ok)


def host_stack(changes: bool) -> tuple[Any, ...]:
    """h0 – r – h1: UDP echo both ways (some datagrams above the MTU: fragments), pings both ways, a
    raw socket's unknown protocol and a closed port (the receiver's ICMP errors), then a sparse
    minute that walks the hosts' neighbours through STALE, DELAY and PROBE. With `changes`, what
    can change a local datagram's fate at the receiver mid-run: an INPUT rule, raw and packet
    sockets, rp_filter, a custom local route, an xfrm policy, an ingress qdisc dropping everything
    (tc changes no configuration generation), the echo server closed and reopened, the MTU,
    forwarding, icmp_echo_ignore_all, a rate-limited echo reply (icmp_ratemask), the default TTL."""
    net, h0, h1 = chain(1)
    r1 = net.nodes["r1"]
    got: list[Any] = []
    a0, a1 = ip_to_int("10.0.0.1"), ip_to_int("10.0.1.2")
    socks: dict[str, Any] = {}

    def serve(node: Any, name: str) -> None:
        srv = node.ns.sockets.udp_socket()
        assert srv.bind(0, 9) == 0
        srv.on_recv = lambda d, s, p, srv=srv: (got.append((net.now, name, len(d), s)), srv.sendto(d, s, p))
        socks[name] = srv

    serve(h0, "h0")
    serve(h1, "h1")
    clients = []
    for node, dst, name in ((h0, a1, "c0"), (h1, a0, "c1")):
        cl = node.ns.sockets.udp_socket()
        cl.connect(dst, 9)
        cl.recverr = True
        cl.on_recv = lambda d, s, p, name=name: got.append((net.now, name, len(d), s))
        cl.on_error = lambda e, name=name: got.append((net.now, name, "err", e))
        clients.append(cl)
    closed = h0.ns.sockets.udp_socket()
    closed.connect(a1, 10)
    closed.recverr = True
    closed.on_error = lambda e: got.append((net.now, "closed", "err", e))

    def unknown_proto() -> None:
        raw = h0.ns.sockets.raw_socket(99)   # open only while it sends: a raw socket sees every datagram
        raw.sendto(bytes(24), a1)
        raw.close()

    pings = [node.ns.sockets.ping_socket(7 + k) for k, node in enumerate((h0, h1))]
    for k, sk in enumerate(pings):
        sk.on_reply = lambda ip, icmp, k=k: got.append((net.now, f"ping{k}", icmp.seq, ip.src, ip.ttl))

    def burst(n: int, every: int) -> None:
        t = net.now
        for k in range(n):
            size = 64 + (k * 211) % 2900 if k % 9 == 0 else 64 + (k * 53) % 1300
            net.sched.at(t + k * every, clients[0].sendto, bytes(size))
            net.sched.at(t + k * every + 3, clients[1].sendto, bytes(size // 2 + 20))
            if k % 5 == 0:
                net.sched.at(t + k * every + 7, pings[0].send, a1, k, bytes(56))
                net.sched.at(t + k * every + 11, pings[1].send, a0, k, bytes(56))
            if k % 40 == 0:
                net.sched.at(t + k * every + 13, closed.sendto, bytes(30))
                net.sched.at(t + k * every + 17, unknown_proto)

    burst(600, 25_000)
    net.run_for(2_000_000)
    used = local_fast_devices(net)
    if changes:
        extra: dict[str, Any] = {}

        def api(what: str) -> None:
            ns = h1.ns
            if what == "raw open":
                extra["raw"] = ns.sockets.raw_socket(17)
                extra["raw"].on_recv = lambda d, s: got.append((net.now, "raw", len(d), s))
            elif what == "raw close":
                extra["raw"].close()
            elif what == "tap open":
                extra["tap"] = ns.sockets.packet_socket(3, 0x0003)
                extra["tap"].on_recv = lambda d, a: got.append((net.now, "tap", len(d)))
            elif what == "tap close":
                extra["tap"].close()
            elif what == "server close":
                socks["h1"].close()
            elif what == "server open":
                serve(h1, "h1")
            elif what == "ping storm":   # more echo requests than a rate-limited reply's bucket holds
                for k in range(20):
                    net.sched.after(k * 15_000, pings[0].send, a1, 5000 + k, bytes(56))

        steps: list[tuple[Any, str]] = [
            (None, "raw open"), (None, "raw close"),
            (None, "tap open"), (None, "tap close"),
            (h1, "sysctl -qw net.ipv4.conf.all.rp_filter=1"),
            (h1, "sysctl -qw net.ipv4.conf.all.rp_filter=0"),
            (h1, "ip xfrm policy add src 10.0.0.0/24 dst 10.0.1.0/24 proto udp dir in action block"),
            (h1, "ip xfrm policy flush"),
            (h1, "tc qdisc add dev eth0 ingress"),
            (h1, "tc filter add dev eth0 ingress matchall action drop"),
            (h1, "tc qdisc del dev eth0 ingress"),
            (None, "server close"), (None, "server open"),
            (h1, "ip link set eth0 mtu 1000"),
            (h1, "ip link set eth0 mtu 1500"),
            (h1, "sysctl -qw net.ipv4.ip_forward=1"),
            (h1, "sysctl -qw net.ipv4.ip_forward=0"),
            (h1, "sysctl -qw net.ipv4.icmp_echo_ignore_all=1"),
            (h1, "sysctl -qw net.ipv4.icmp_echo_ignore_all=0"),
            # the echo reply rate-limited (icmp_ratemask's bit 0), another TTL for the replies
            (h1, "sysctl -qw net.ipv4.icmp_ratemask=6169"), (None, "ping storm"),
            (h1, "sysctl -qw net.ipv4.icmp_ratemask=6168"),
            (h1, "sysctl -qw net.ipv4.ip_default_ttl=33"), (None, "ping storm"),
            (h1, "sysctl -qw net.ipv4.ip_default_ttl=64"),
            (r1, "ip neigh flush all"),
            # last, as they stick: a custom local route (fib_has_custom_local_routes), and netfilter's
            # hooks, registered once a table had rules
            (h1, "ip route add local 10.9.0.0/24 dev lo"),
            (h1, "ip route del local 10.9.0.0/24 dev lo"),
            (h1, "iptables -A INPUT -p udp -m length --length 200:600 -j DROP"),
            (h1, "iptables -F INPUT"),
        ]
        burst(len(steps) * 7, 60_000)   # sparse enough that r1 never queues: its fast path pushes every frame
        for node, line in steps:
            net.run_for(400_000)
            if node is None:
                api(line)
            else:
                assert node.run(line).status == 0, line
    net.run_for(10_000_000)
    for k in range(30):     # sparse: neighbours go STALE, then DELAY and PROBE on the next send
        net.sched.after(k * 1_900_000_000, clients[0].sendto, bytes(100))
        net.sched.after(k * 1_900_000_000 + 5, pings[1].send, a0, 1000 + k, bytes(56))
    net.run_for(60_000_000_000)
    return got, state(net), outputs(net, [h0, h1, r1]), used


@pytest.mark.parametrize("changes", [False, True], ids=["steady", "changes"])
def test_host_stack_same_with_and_without_fast_path(changes: bool, monkeypatch: pytest.MonkeyPatch) -> None:
    """The host side (Namespace.ip_local_fast for local delivery, Ipv4Path._output_fast sending
    through DELAY/PROBE neighbours and straight to the cable): same deliveries, ICMP errors,
    counters, neighbours, drops, clock and events as the full path."""
    monkeypatch.setenv("NETPLEX_FASTPATH", "1")
    got_on, st_on, out_on, n_on = host_stack(changes)
    monkeypatch.setenv("NETPLEX_FASTPATH", "0")
    got_off, st_off, out_off, n_off = host_stack(changes)
    assert n_on > 0 and n_off == 0
    kinds = {g[1] for g in got_on}
    assert {"h0", "h1", "c0", "c1", "ping0", "ping1", "closed"} <= kinds, kinds
    assert len(got_on) > 1000 and got_on == got_off
    assert st_on == st_off
    assert out_on == out_off
