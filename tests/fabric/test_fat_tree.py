"""`netplex fabric fat-tree --k K`: the k-ary fat-tree (Al-Fares et al., SIGCOMM 2008) loads,
every host reaches every other, and the flows between two pods spread over all (k/2)^2 equal
paths (one per core switch), those within a pod over the k/2 aggregation switches."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from netplex.fabric import FabricError, fat_tree, network
from netplex.scenario.loader import load_scenario_text
from netplex.scenario.runner import run_scenario
from netplex.scenario.sim import SimBackend
from tests.conftest import run_ok as ok

ROOT = Path(__file__).resolve().parents[2]


@pytest.fixture(scope="module")
def k4():
    return network(fat_tree(4))


def test_the_k4_tree_has_the_papers_shape() -> None:
    scenario = load_scenario_text(fat_tree(4), "ft.yaml")
    names = set(scenario.nodes)
    assert {n for n in names if n.startswith("c")} == {"c1", "c2", "c3", "c4"}          # (k/2)^2 cores
    assert len([n for n in names if n.startswith(("e", "a"))]) == 16                    # k pods of k/2 + k/2
    assert len([n for n in names if n.startswith("h")]) == 16                           # k^3/4 hosts
    assert len(scenario.links) == 3 * 16          # host-edge, edge-agg, agg-core: k^3/4 each
    res = run_scenario(scenario, SimBackend())
    assert res.passed, [p.to_json() for p in res.probes if not p.passed]


def test_every_host_reaches_every_other(k4) -> None:
    hosts = {name: f"10.{name[1:].replace('-', '.')}" for name in k4.nodes if name.startswith("h")}
    hosts = {name: addr.rpartition(".")[0] + f".{int(addr.rpartition('.')[2]) + 1}" for name, addr in hosts.items()}
    failed = [(a, b) for a in hosts for b, addr in hosts.items()
              if a != b and k4.nodes[a].run(f"ping -c 1 -W 1 {addr}").status != 0]
    assert len(hosts) == 16 and failed == []
    # five switches between pods (edge, agg, core, agg, edge), three within one
    assert "ttl=59" in ok(k4.nodes["h1-1-1"], "ping -c 1 10.4.2.3")
    assert "ttl=61" in ok(k4.nodes["h1-1-1"], "ping -c 1 10.1.2.3")


def _spread(net, switches: list[str], dst: str, src: str = "h1-1-1", flows: int = 32) -> dict[str, int]:
    """Packets towards `dst` each switch forwarded, for `flows` UDP flows (each nc a new source port)."""
    for s in switches:
        ok(net.nodes[s], f"iptables -F FORWARD; iptables -A FORWARD -d {dst}")
    for _ in range(flows):
        ok(net.nodes[src], f"echo x | nc -u -w 1 {dst} 9")
    return {s: int(ok(net.nodes[s], "iptables -nvxL FORWARD | tail -n 1").split()[0]) for s in switches}


def test_ecmp_uses_every_path(k4) -> None:
    # between pods: a core switch fixes the path (it reaches one aggregation switch per pod)
    cores = _spread(k4, ["c1", "c2", "c3", "c4"], "10.4.2.3")
    assert sum(cores.values()) == 32 and min(cores.values()) > 0, cores     # (k/2)^2 = 4 paths
    edge_routes = ok(k4.nodes["e1-1"], "ip route show default")
    agg_routes = ok(k4.nodes["a1-1"], "ip route show default")
    assert edge_routes.count("nexthop") * agg_routes.count("nexthop") == 4
    # within a pod: k/2 = 2 paths, one per aggregation switch; no core sees them
    aggs = _spread(k4, ["a1-1", "a1-2", "c1", "c2", "c3", "c4"], "10.1.2.3")
    assert aggs["a1-1"] > 0 and aggs["a1-2"] > 0 and aggs["a1-1"] + aggs["a1-2"] == 32, aggs
    assert aggs["c1"] + aggs["c2"] + aggs["c3"] + aggs["c4"] == 0


def test_one_seed_everywhere_polarises_the_tree() -> None:
    """The reason each switch gets its own fib_multipath_hash_seed: with the same hash at every
    hop the aggregation switch repeats the edge switch's choice, and half the cores stay idle."""
    text = fat_tree(4)
    for n in range(1, 21):
        text = text.replace(f"fib_multipath_hash_seed={n}\n", "fib_multipath_hash_seed=7\n")
    cores = _spread(network(text), ["c1", "c2", "c3", "c4"], "10.4.2.3")
    assert sorted(cores.values())[:2] == [0, 0] and sum(cores.values()) == 32, cores


def test_a_failed_core_costs_the_other_paths_nothing(k4) -> None:
    ok(k4.nodes["c1"], "ip link set p1 down")   # a1-1 loses the carrier of its link to c1
    try:
        cores = _spread(k4, ["c1", "c2", "c3", "c4"], "10.4.2.3")
        assert cores["c1"] == 0 and sum(cores.values()) == 32, cores
    finally:
        ok(k4.nodes["c1"], "ip link set p1 up")


@pytest.mark.parametrize("k", [0, 3, 50])
def test_bad_k_is_refused(k) -> None:
    with pytest.raises(FabricError, match="--k must be an even number from 2 to 48"):
        fat_tree(k)


def test_the_command_writes_the_same_file() -> None:
    res = subprocess.run([sys.executable, "-m", "netplex.cli", "fabric", "fat-tree", "--k", "2"],
                         capture_output=True, text=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT)})
    assert res.returncode == 0 and res.stdout == fat_tree(2)
    res = subprocess.run([sys.executable, "-m", "netplex.cli", "fabric", "fat-tree", "--k", "5"],
                         capture_output=True, text=True, cwd=ROOT, env={"PYTHONPATH": str(ROOT)})
    assert res.returncode == 2 and "--k must be an even number" in res.stderr


def _twin_scenario(tmp_path: Path, bgp: bool = False) -> Path:
    """fat_tree(4) with probes both backends can judge alike: h1-1-1 reaches every other host,
    48 UDP flows (each `nc` a new source port) to h4-2-3 and every core forwarded some of them
    (the kernel hashes with siphash, netplex with a CRC: which flow takes which core differs,
    that all four paths carry flows must not)."""
    import yaml

    doc = yaml.safe_load(fat_tree(4, bgp=bgp))
    others = [f"10.{p}.{i}.{n + 1}" for p in range(1, 5) for i in (1, 2) for n in (1, 2)][1:]
    cores = ["c1", "c2", "c3", "c4"]
    doc["probes"] = [
        *doc["probes"][:1 if bgp else 0],        # the BGP sessions' wait
        *[{"cmd": {"node": c, "run": "iptables -A FORWARD -d 10.4.2.3"}} for c in cores],
        {"cmd": {"node": "h1-1-1", "run": " && ".join(f"ping -c 1 -W 1 {a} >/dev/null" for a in others)
                 + " && echo reached"}, "expect_output": "reached"},
        {"cmd": {"node": "h1-1-1", "run": "for i in $(seq 48); do echo x | nc -u -q 0 10.4.2.3 9; done"}},
        *[{"cmd": {"node": c, "run": "iptables -nvxL FORWARD | awk 'NR==3 && $1 > 0 {print \"used\"}'"},
           "expect_output": "used"} for c in cores],
    ]
    path = tmp_path / f"fat-tree-k4{'-bgp' if bgp else ''}.yaml"
    path.write_text(yaml.safe_dump(doc, sort_keys=False))
    return path


def test_the_twin_probes_pass_in_the_simulator(tmp_path: Path, differential) -> None:
    res = differential.sim(_twin_scenario(tmp_path))
    assert res.passed, [p.to_json() for p in res.probes if not p.passed]


@pytest.mark.linux
def test_the_kernel_spreads_the_flows_over_every_core_too(tmp_path: Path, differential) -> None:
    """On the kernel each namespace's fib_multipath_hash_seed (Linux 6.11) decorrelates the hops."""
    path = _twin_scenario(tmp_path)
    linux = differential.linux(path)
    assert linux.passed, [p.to_json() for p in linux.probes if not p.passed]


def _delivered(net, flows: int = 32) -> tuple[dict[str, int], int]:
    """The cores' share of `flows` UDP flows from h1-1-1 to h4-2-2 (10.4.2.3), and how many arrived."""
    ok(net.nodes["h4-2-2"], "iptables -F INPUT; iptables -A INPUT -p udp --dport 9")
    cores = _spread(net, ["c1", "c2", "c3", "c4"], "10.4.2.3", flows=flows)
    return cores, int(ok(net.nodes["h4-2-2"], "iptables -nvxL INPUT | tail -n 1").split()[0])


def test_the_bgp_tree_spreads_over_every_core_and_withdraws_a_cut_link() -> None:
    """`--bgp` (RFC 7938's five-stage Clos in FRR, netplex's bgpd here): the same reachability
    and the same four paths between pods; a core that loses its link to the destination pod
    withdraws the pod's routes, so the flows move to the other cores and none is lost, where
    the static tree keeps sending a quarter of them to that core, which drops them."""
    text = fat_tree(4, bgp=True)
    assert "router bgp 4200001001\n" in text and "neighbor 10.1.101.0 remote-as 65001\n" in text
    net = network(text)
    net.run_for(5_000_000_000)                  # the sessions come up, the routes spread
    hosts = [f"10.{p}.{i}.{n}" for p in range(1, 5) for i in (1, 2) for n in (2, 3)]
    failed = [addr for addr in hosts[1:] if net.nodes["h1-1-1"].run(f"ping -c 1 -W 1 {addr}").status != 0]
    assert failed == []
    cores, arrived = _delivered(net)
    assert min(cores.values()) > 0 and arrived == 32, cores
    ok(net.nodes["c1"], "ip link set p4 down")
    net.run_for(1_000_000_000)
    cores, arrived = _delivered(net)
    assert cores["c1"] == 0 and arrived == 32, cores
    static = network(fat_tree(4))
    ok(static.nodes["c1"], "ip link set p4 down")
    _cores, arrived = _delivered(static)
    assert 0 < arrived < 32                     # the flows hashed onto c1 are lost for good


@pytest.mark.linux
@pytest.mark.skipif(os.environ.get("NETPLEX_FRR_TWIN") != "1",
                    reason="the twin's budget: NETPLEX_FRR_TWIN=1 runs it (20 real FRRs, about 40 s)")
def test_real_frr_builds_the_bgp_tree_the_same_way(tmp_path: Path, differential) -> None:
    """The `--bgp` tree with Debian's FRR 8.4 in every switch: h1-1-1 reaches every host and the
    48 flows cross all four cores, as netplex's bgpd has it."""
    path = _twin_scenario(tmp_path, bgp=True)
    sim = differential.sim(path)
    assert sim.passed, [p.to_json() for p in sim.probes if not p.passed]
    linux = differential.linux(path)
    assert linux.passed, [p.to_json() for p in linux.probes if not p.passed]
