"""`netplex fabric three-tier|leaf-spine`: the scenario files the builders write load, run,
and show what a failure costs (STP's reconvergence, measured on the kernel twin too)."""
from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from netplex.fabric import FabricError, leaf_spine, network, three_tier
from netplex.scenario.events import parse_events_option
from netplex.scenario.loader import load_scenario, load_scenario_text
from netplex.scenario.runner import run_scenario
from netplex.scenario.sim import SimBackend

ROOT = Path(__file__).resolve().parents[2]
DC = ROOT / "examples" / "dc-three-tier.yaml"


def run(text: str, events: str = ""):
    scenario = load_scenario_text(text, "fabric.yaml")
    scenario.events.extend(parse_events_option(events) if events else [])
    return run_scenario(scenario, SimBackend())


def test_three_tier_has_the_seeds_layers_and_runs() -> None:
    text = three_tier(2, 2, 2)
    scenario = load_scenario_text(text, "dc.yaml")
    names = set(scenario.nodes)
    assert {"core1", "core2", "agg1-1", "agg1-2", "agg2-2", "tor2-2", "h2-2-2"} <= names
    assert len(names) == 2 + 4 + 4 + 8 and len(scenario.links) == 8 + 8 + 8
    assert "stp_state 1" in scenario.nodes["agg1-1"].setup
    res = run(text)
    assert res.passed, [p.to_json() for p in res.probes if not p.passed]


def test_an_stp_uplink_cut_costs_two_forward_delays() -> None:
    res = run_scenario(load_scenario(DC), SimBackend())
    assert res.passed
    (flow,) = res.events[0]["flows"]
    # the blocked uplink becomes the root port: listening 2 s + learning 2 s
    assert 4000 <= flow["outage_ms"] <= 4100 and "recovered" not in flow


def test_a_cut_of_the_blocked_uplink_costs_nothing() -> None:
    res = run(three_tier(1, 2, 1), "at 8s cut tor1-1:u2")
    assert res.events[0]["flows"][0]["outage_ms"] == 0.0


def test_bonded_hosts_have_two_tors_and_survive_a_tor_failure() -> None:
    text = three_tier(1, 1, 1, bonded_hosts=True)
    scenario = load_scenario_text(text, "dc.yaml")
    assert {"tor1-1a", "tor1-1b"} <= set(scenario.nodes)
    assert "mode active-backup" in scenario.nodes["h1-1-1"].setup
    res = run(three_tier(1, 2, 1, bonded_hosts=True), "at 8.05s fail tor1-1a")
    assert res.passed
    (flow,) = res.events[0]["flows"]
    assert flow["outage_ms"] < 5000     # the bond moves at once; STP must then open tor1-1b's uplink


def test_leaf_spine_routes_every_leaf_through_the_spines() -> None:
    text = leaf_spine(2, 3, 2)
    scenario = load_scenario_text(text, "ls.yaml")
    assert "ip route add 10.3.0.0/24 via 172.16.2.5" in scenario.nodes["s2"].setup
    assert "ip route add default via 172.16.2.2" in scenario.nodes["l2"].setup   # leaf 2 through spine 2
    res = run(text)
    assert res.passed, [p.to_json() for p in res.probes if not p.passed]
    # without ECMP a cut uplink is an outage until someone fixes the route
    res = run(text, "at 2s cut l1:s1")
    assert res.events[0]["flows"][0].get("recovered") is False


def test_leaf_spine_ecmp_keeps_the_flow_when_a_spine_fails() -> None:
    text = leaf_spine(2, 3, 1, ecmp=True)
    scenario = load_scenario_text(text, "ls.yaml")
    assert ("ip route add default nexthop via 172.16.1.0 dev s1 nexthop via 172.16.2.0 dev s2"
            in scenario.nodes["l1"].setup)
    assert "ignore_routes_with_linkdown=1" in scenario.nodes["s1"].setup
    res = run(text)
    assert res.passed, [p.to_json() for p in res.probes if not p.passed]
    # each spine carries the flow in turn: failing either one, the leaves skip its dead links
    for spine in ("s1", "s2"):
        res = run(text, f"at 2s fail {spine}")
        (flow,) = res.events[0]["flows"]
        assert flow.get("recovered") is not False and flow.get("lost", 0) == 0, flow
    # the leaf's own cut uplink: the leaf moves at once (its return path through the other spine)
    res = run(text, "at 2s cut l1:s1")
    assert res.events[0]["flows"][0].get("recovered") is not False, res.events[0]


def test_leaf_spine_bgp_withdraws_a_cut_link_where_static_routes_black_hole() -> None:
    text = leaf_spine(2, 3, 1, bgp=True)
    scenario = load_scenario_text(text, "ls.yaml")
    assert "neighbor 172.16.1.0 remote-as 65000" in scenario.nodes["l1"].files["/etc/frr/frr.conf"]
    assert "/usr/lib/frr/frrinit.sh start" in scenario.nodes["s2"].setup
    res = run(text)
    assert res.passed, [p.to_json() for p in res.probes if not p.passed]
    # the receiving leaf's uplink to s1 is cut (the flow hashes onto s1 first): s1's session to l3
    # drops with the link (fast-external-failover), it withdraws 10.3.0.0/24, the sending leaf
    # keeps only s2 — where the static fabric above loses the flow for good
    for ev in ("at 7s cut l3:s1", "at 7s fail s1", "at 7s cut l1:s2"):
        (flow,) = run(text, ev).events[0]["flows"]
        assert flow.get("recovered") is not False and flow.get("lost", 0) == 0, (ev, flow)
    static = leaf_spine(2, 3, 1)
    (flow,) = run(static, "at 2s cut l3:s1").events[0]["flows"]
    assert flow.get("recovered") is False


def test_leaf_spine_isps_spreads_the_default_route_over_the_isps_and_survives_losing_one() -> None:
    doc = yaml.safe_load(leaf_spine(2, 2, 1, bgp=True, isps=2))
    doc["probes"][1:1] = [{"cmd": {"node": "border", "run": "ip route show proto bgp"}},
                          {"cmd": {"node": "l1", "run": "ip route show proto bgp"}}]
    doc["probes"].append({"cmd": {"node": "border", "run": "ip route show default"}})
    doc["events"] = [{"at": "8s", "cut": "border:isp1"}]      # during the iperf probe
    res = run(yaml.safe_dump(doc))
    assert res.passed, [p.to_json() for p in res.probes if not p.passed]
    border, leaf, after = (res.probes[i].observed["output"] for i in (1, 2, -1))
    # zebra installs through nexthop objects (`nhid N`, netplex/frr/zebra.py); their ids are left out here
    border, leaf, after = (re.sub(r"nhid \d+ ", "", t) for t in (border, leaf, after))
    assert "default metric 20 \n\tnexthop via 203.0.113.1 dev isp1 weight 1 \n" \
           "\tnexthop via 203.0.113.5 dev isp2 weight 1 \n" in border          # multipath-relax over two ASes
    assert leaf.startswith("default metric 20 \n\tnexthop via 172.16.1.0 dev s1 weight 1 \n")
    assert after == "default via 203.0.113.5 dev isp2 proto bgp metric 20 \n"   # ISP1's cable was cut


def test_three_tier_isps_gives_the_flat_network_a_border_router_and_survives_losing_an_isp() -> None:
    """`--isps 2`: a border router on core1 peers with two ISPs in FRR (netplex's bgpd in the
    simulator); every host's default route goes through it; one ISP's cable cut, the default
    route and the flows to the Internet move to the other."""
    doc = yaml.safe_load(three_tier(1, 2, 1, isps=2))
    assert {"border", "isp1", "isp2"} <= set(doc["nodes"]) and "core1:border" in str(doc["links"])
    assert "ip route add default via 10.255.255.254" in doc["nodes"]["h1-2-1"]["setup"]
    assert "  network 10.0.0.0/8\n" in doc["nodes"]["border"]["files"]["/etc/frr/frr.conf"]
    doc["probes"][3:3] = [{"cmd": {"node": "border", "run": "ip route show default"}}]
    doc["probes"] += [{"ping": {"from": "h1-1-1", "to": "198.51.100.1", "count": 2}},
                      {"cmd": {"node": "border", "run": "ip route show default"}}]
    doc["events"] = [{"at": "8s", "cut": "border:isp1"}]     # during the iperf probe
    res = run(yaml.safe_dump(doc))
    assert res.passed, [p.to_json() for p in res.probes if not p.passed]
    before, after = (re.sub(r"nhid \d+ ", "", res.probes[i].observed["output"]) for i in (3, -1))
    assert before == ("default proto bgp metric 20 \n\tnexthop via 203.0.113.1 dev isp1 weight 1 \n"
                      "\tnexthop via 203.0.113.5 dev isp2 weight 1 \n")
    assert after == "default via 203.0.113.5 dev isp2 proto bgp metric 20 \n"   # ISP1's cable was cut
    assert res.probes[2].observed["replies"] == 2 and res.probes[-2].observed["replies"] == 2


@pytest.mark.parametrize(("call", "message"), [
    (lambda: three_tier(1, 1, 1, isps=9), "fabric: --isps must be 0 to 8, not 9"),
    (lambda: three_tier(0, 1, 1), "fabric: --pods must be at least 1, not 0"),
    (lambda: three_tier(10, 1, 1), "fabric: at most 9 pods"),
    (lambda: leaf_spine(2, 2, 1, isps=2), "fabric: --isps needs --bgp"),
])
def test_builders_refuse_what_they_cannot_build(call, message: str) -> None:
    with pytest.raises(FabricError) as e:
        call()
    assert message in e.value.message and e.value.status == 2


def test_the_fabric_command(tmp_path: Path) -> None:
    env = {"PYTHONPATH": str(ROOT), "PATH": "/usr/bin:/bin"}
    r = subprocess.run([sys.executable, "-m", "netplex.cli", "fabric", "leaf-spine", "--spines", "2", "--leaves", "2",
                        "--hosts-per-leaf", "1"], capture_output=True, text=True, env=env)
    assert r.returncode == 0 and r.stdout.startswith("name: leaf-spine-2x2x1\n")
    (tmp_path / "ls.yaml").write_text(r.stdout)
    assert load_scenario(tmp_path / "ls.yaml").nodes
    r = subprocess.run([sys.executable, "-m", "netplex.cli", "fabric", "three-tier", "--isps", "9"],
                       capture_output=True, text=True, env=env)
    assert (r.returncode, r.stderr) == (2, "netplex: fabric: --isps must be 0 to 8, not 9\n")


@pytest.mark.linux
def test_the_kernel_twin_measures_the_same_stp_outage(differential) -> None:
    sim, linux = differential.sim(DC), differential.linux(DC)
    assert linux.passed, linux.to_json()
    s, k = sim.events[0]["flows"][0], linux.events[0]["flows"][0]
    assert abs(s["outage_ms"] - k["outage_ms"]) < 250      # 4008 ms and 4032 ms measured here


def test_a_builder_from_python_gives_a_live_network() -> None:
    net = network(leaf_spine(2, 2, 1, ecmp=True))
    assert sorted(net.nodes) == ["h1-1", "h2-1", "l1", "l2", "s1", "s2"]
    r = net.nodes["h1-1"].run("ping -c 1 10.2.0.2")
    assert r.status == 0 and "1 received" in r.output, r.output
    assert "nexthop via 172.16.1.0 dev s1 weight 1" in net.nodes["l1"].run("ip route show default").output
    with pytest.raises(FabricError) as e:
        network(leaf_spine(1, 1, 1).replace("sysctl -w net.ipv4.ip_forward=1", "sysctl -w net.ipv4.bogus=1", 1))
    assert e.value.message.startswith("fabric: s1: sysctl -w net.ipv4.bogus=1: ")
