"""Stacking / MLAG (issue 15 item 3): two Linux bridges acting as one switch for the bonds
that reach both (netplex/apps/mlagd.py over ebtables and the bridge FDB), measured against
STP on the same cut in examples/dc-stp-vs-stack.yaml."""
from __future__ import annotations

from pathlib import Path

import yaml

from netplex.fabric import three_tier
from netplex.network import Network
from tests.fabric.test_builders import run

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "dc-stp-vs-stack.yaml"


def outages(res, event: int) -> dict[int, dict]:
    return {f["flow"]: f for f in res.events[event]["flows"]}


def test_the_same_cut_costs_stp_30_seconds_and_the_mlag_pair_one_miimon_round() -> None:
    res = run(EXAMPLE.read_text())
    assert res.passed, [p.to_json() for p in res.probes if not p.passed]
    stp, mlag = outages(res, 0), outages(res, 1)
    # STP (flow 0, ca -> ha): the blocked port listens 15 s and learns 15 s (the kernel's forward delay)
    assert 30_000 <= stp[0]["outage_ms"] <= 32_100 and "recovered" not in stp[0], stp
    assert all(stp[i]["outage_ms"] == 0 for i in (1, 2, 3, 4)), stp     # the MLAG side never noticed
    # MLAG (flows 1-4, cb <-> hb): the flows that crossed the cut link lose what one MII round
    # (100 ms) and mlagd's message to the peer take; the others nothing
    hit = [f for f in mlag.values() if f["outage_ms"] > 0]
    assert hit and all(f["outage_ms"] <= 200 and "recovered" not in f for f in hit), mlag
    assert mlag[0]["outage_ms"] == 0


def test_a_failed_member_costs_one_miimon_round_and_the_other_carries_on() -> None:
    doc = yaml.safe_load(EXAMPLE.read_text())
    doc["events"] = [{"at": "41.05s", "fail": "m1"}]
    doc["probes"] = [p for p in doc["probes"] if "FORWARD" not in str(p) and "static" not in str(p)]
    doc["probes"] += [{"cmd": {"node": "m2", "run": "sleep 4"}},
                      {"cmd": {"node": "m2", "run": "mlagctl"}, "expect_output": "The peer is not alive"},
                      {"cmd": {"node": "m2", "run": "ebtables -L FORWARD"},
                       "expect_output": "Bridge chain: FORWARD, entries: 0, policy: ACCEPT"}]
    res = run(yaml.safe_dump(doc))
    assert res.passed, [p.to_json() for p in res.probes if not p.passed]
    flows = outages(res, 0)
    hit = [f for f in flows.values() if f["outage_ms"] > 0]
    # cb's and tb's bonds drop their m1 port at the next MII round; m2 carries everything
    assert hit and all(f["outage_ms"] <= 200 and "recovered" not in f for f in hit), flows


def pair() -> Network:
    """m1/m2 with one dual-connected bond each to a server's 802.3ad bond, and a peer link."""
    net = Network()
    for n in ("m1", "m2", "srv"):
        net.add_node(n)
    net.add_link("srv:eth0", "m1:t1")
    net.add_link("srv:eth1", "m2:t1")
    net.add_link("m1:peer", "m2:peer")
    for i, n in enumerate(("m1", "m2"), start=1):
        r = net.nodes[n].run(
            "ip link add br0 type bridge\n"
            "ip link add bond1 type bond mode 802.3ad miimon 100 lacp_rate fast ad_actor_system 44:38:39:ff:00:01\n"
            "ip link set t1 master bond1\n"
            "for p in bond1 peer; do ip link set $p master br0; ip link set $p up; done\n"
            f"ip addr add 169.254.1.{i}/30 dev br0\nip link set br0 up")
        assert r.status == 0, r.error
    r = net.nodes["srv"].run("ip link add bond0 type bond mode 802.3ad miimon 100 lacp_rate fast\n"
                             "ip link set eth0 master bond0\nip link set eth1 master bond0\n"
                             "ip addr add 10.0.0.10/24 dev bond0\nip link set bond0 up")
    assert r.status == 0, r.error
    return net


def test_mlagd_keeps_the_split_horizon_until_it_ends() -> None:
    net = pair()
    m1 = net.nodes["m1"]
    assert m1.run("mlagd --peer-link peer --peer-ip 169.254.1.2 bond1:1").status == 0
    assert net.nodes["m2"].run("mlagd --peer-link peer --peer-ip 169.254.1.1 bond1:1").status == 0
    net.run_for(3_000_000_000)
    assert "-i peer -o bond1 -j DROP\n" in m1.run("ebtables -L FORWARD").output
    status = m1.run("mlagctl").output
    assert status.startswith("The peer is alive\n") and "bond1              1  up    up    on" in status, status
    # the server's bond aggregates across both switches: one partner system, both ports
    assert "Number of ports: 2" in net.nodes["srv"].run("cat /proc/net/bonding/bond0").output
    assert m1.run("mlagd --peer-link peer --peer-ip 169.254.1.2 bond1:1").error == \
        "mlagd: already running in this network namespace\n"
    assert m1.run("pkill mlagd || kill $(pidof mlagd)").status == 0
    assert m1.run("ebtables -L FORWARD").output == \
        "Bridge table: filter\n\nBridge chain: FORWARD, entries: 0, policy: ACCEPT\n"
    assert m1.run("mlagctl").error == "mlagctl: mlagd is not running\n"


def test_bad_mlagd_input_starts_nothing() -> None:
    net = pair()
    m1 = net.nodes["m1"]
    for line, message in [
        ("mlagd --peer-link peer bond1:1", "mlagd: --peer-link, --peer-ip and at least one BOND:ID are needed\n"),
        ("mlagd --peer-link peer --peer-ip 1.2.3 bond1:1", "mlagd: invalid peer address: 1.2.3\n"),
        ("mlagd --peer-link peer --peer-ip 169.254.1.2 bond1", "mlagd: invalid bond bond1 (write BOND:ID, ID 1-65535)\n"),
        ("mlagd --peer-link peer --peer-ip 169.254.1.2 bond1:1 bond1:2", "mlagd: bond bond1 or id 2 given twice\n"),
        ("mlagd --bogus", "mlagd: unknown option --bogus\n"),
    ]:
        r = m1.run(line)
        assert (r.status, r.error.splitlines()[0] + "\n") == (1, message), (line, r.error)
    r = m1.run("mlagd --peer-link nosuch --peer-ip 169.254.1.2 bond1:1")
    assert (r.status, r.error) == (1, "mlagd: nosuch: no such device\n")
    r = m1.run("mlagd --peer-link t1 --peer-ip 169.254.1.2 bond1:1")
    assert (r.status, r.error) == (1, "mlagd: peer link t1 is not a bridge port\n")
    assert "mlagd" not in m1.run("ps aux").output
    assert m1.run("ebtables -L FORWARD").output.endswith("entries: 0, policy: ACCEPT\n")


def test_a_stacked_three_tier_loses_one_miimon_round_where_stp_loses_two_forward_delays() -> None:
    doc = yaml.safe_load(three_tier(2, 2, 1, stacked=True))
    assert "mlagd --peer-link peer --peer-ip 169.254.1.2 bt1:1 bt2:2 bc:100" in doc["nodes"]["agg1-1"]["setup"]
    assert "ad_actor_system 44:38:39:ff:00:00" in doc["nodes"]["core2"]["setup"]
    assert "stp_state" not in str(doc["nodes"])
    # the cut TOR uplink of the STP fabric costs 4 s (test_builders); here each event costs the
    # flows crossing it one MII round, at most, and every flow recovers
    _each_event_costs_one_miimon_round(doc, ("h1-1-1", "10.2.2.1"), ("h2-2-1", "10.1.1.1"),
                                       ("at 10.05s cut tor1-1:u1", "at 10.05s fail agg1-2", "at 10.05s fail core1"))


def _each_event_costs_one_miimon_round(doc: dict, one: tuple[str, str], other: tuple[str, str],
                                       events: tuple[str, ...]) -> None:
    """Four UDP flows each way between `one` and `other` (host, address); every event of
    `events`, alone, costs some of them an outage of at most one MII round and all recover."""
    doc["probes"][-1]["iperf"]["flows"] = [
        {"from": src, "to": dst, "port": port + i, "proto": "udp", "rate": "1mbit", "size": 1000}
        for (src, dst), port in ((one, 5001), (other, 5101)) for i in range(4)]
    text = yaml.safe_dump(doc)
    for ev in events:
        res = run(text, ev)
        assert res.passed, (ev, [p.to_json() for p in res.probes if not p.passed])
        flows = res.events[0]["flows"]
        assert len(flows) == 8 and any(f["outage_ms"] > 0 for f in flows), (ev, flows)
        assert all(f["outage_ms"] <= 200 and "recovered" not in f for f in flows), (ev, flows)


def test_hosts_bonded_to_a_stacked_tor_pair_ride_out_a_tor_failure() -> None:
    """`--stacked --bonded-hosts`: the seed's servers, two NICs in one LACP bond to a TOR pair that
    acts as one switch; losing a host's cable, a TOR uplink or a whole TOR costs one MII round."""
    doc = yaml.safe_load(three_tier(2, 2, 2, bonded_hosts=True, stacked=True))
    assert "mlagd --peer-link peer --peer-ip 169.254.32.2 bu:100 bh1:1 bh2:2" in doc["nodes"]["tor1-1a"]["setup"]
    assert "ip addr add 169.254.32.6/30 dev br0" in doc["nodes"]["tor1-2b"]["setup"]   # each pair its own /30
    assert "mlagd --peer-link peer --peer-ip 169.254.1.2 bt1:1 bt2:2 bc:100" in doc["nodes"]["agg1-1"]["setup"]
    assert "ip link set t1b master bt1" in doc["nodes"]["agg1-2"]["setup"]
    assert "mode 802.3ad" in doc["nodes"]["h1-1-1"]["setup"] and "stp_state" not in str(doc["nodes"])
    _each_event_costs_one_miimon_round(doc, ("h1-1-1", "10.2.2.2"), ("h2-2-2", "10.1.1.1"),
                                       ("at 10.05s cut h1-1-1:eth0", "at 10.05s cut tor1-1b:u2",
                                        "at 10.05s fail tor1-1a"))


def test_a_stacked_three_tier_with_isps_reaches_the_internet_through_the_core_pair() -> None:
    """`--stacked --isps 2`: the border router hangs off core1's bridge by a plain port; hosts of
    both pods reach the ISPs' 198.51.100.1 (through core2 and the peer link when they hash there)."""
    doc = yaml.safe_load(three_tier(2, 1, 1, stacked=True, isps=2))
    assert "for p in ba1 ba2 border peer; do" in doc["nodes"]["core1"]["setup"]
    assert "border" not in doc["nodes"]["core2"]["setup"]
    doc["probes"].insert(-1, {"ping": {"from": "h2-1-1", "to": "198.51.100.1", "count": 2}})
    res = run(yaml.safe_dump(doc))
    assert res.passed and len(res.probes) == 6, [p.to_json() for p in res.probes if not p.passed]
