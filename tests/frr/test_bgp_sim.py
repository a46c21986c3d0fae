"""FRR on simulated nodes: frrinit.sh, bgpd's sessions and routes, vtysh — as a user types them."""
from __future__ import annotations

from pathlib import Path

import pytest

from netplex.network import Network
from netplex.scenario.loader import load_scenario
from netplex.scenario.runner import run_scenario
from netplex.scenario.sim import SimBackend

NSEC = 1_000_000_000


def conf(name: str, asn: int, rid: str, neighbors: list[tuple[str, int]], networks: list[str] = (),
         profile: str = "datacenter", policy: bool = False, extra: str = "") -> str:
    lines = [f"frr defaults {profile}", f"hostname {name}", f"router bgp {asn}", f" bgp router-id {rid}"]
    if not policy:
        lines.append(" no bgp ebgp-requires-policy")
    lines += [f" neighbor {a} remote-as {r}" for a, r in neighbors]
    lines += [" address-family ipv4 unicast", *[f"  network {p}" for p in networks], " exit-address-family"]
    return "\n".join(lines) + "\n" + extra


def start(net: Network, node: str, frr_conf: str, bgpd: bool = True) -> None:
    m = net[node].machine
    m.fs.write("/etc/frr/daemons", b"bgpd=yes\n" if bgpd else b"bgpd=no\n")
    m.fs.write("/etc/frr/frr.conf", frr_conf.encode())
    r = net[node].run("/usr/lib/frr/frrinit.sh start")
    assert r.status == 0, r.error


def sh(net: Network, node: str, line: str) -> tuple[int, str]:
    r = net[node].run(line)
    return r.status, r.output + r.error


def cable() -> Network:
    """r1 and r2 on one cable, 10.0.12.0/24, no FRR yet."""
    net = Network()
    net.add_node("r1")
    net.add_node("r2")
    net.add_link("r1:eth0", "r2:eth0")
    for n, a in (("r1", "10.0.12.1/24"), ("r2", "10.0.12.2/24")):
        net[n].run(f"ip addr add {a} dev eth0")
        net[n].run("ip link set eth0 up")
    return net


def pair(profile: str = "datacenter", policy: bool = False) -> Network:
    """r1 (AS 65001, announcing 10.1.0.0/24 on lo) and r2 (AS 65002) on one cable."""
    net = cable()
    net["r1"].run("ip addr add 10.1.0.1/24 dev lo")
    net["r1"].run("ip link set lo up")
    start(net, "r1", conf("r1", 65001, "10.0.0.1", [("10.0.12.2", 65002)], ["10.1.0.0/24"], profile, policy))
    start(net, "r2", conf("r2", 65002, "10.0.0.2", [("10.0.12.1", 65001)], [], profile, policy))
    net.run_for(3 * NSEC)
    return net


def leaf_spine() -> Network:
    """Two spines (AS 65000), two leaves (65001, 65002), each leaf's rack subnet announced."""
    net = Network()
    for n in ("s1", "s2", "l1", "l2"):
        net.add_node(n)
    for s in (1, 2):
        for leaf in (1, 2):
            net.add_link(f"s{s}:l{leaf}", f"l{leaf}:s{s}")
    for s in (1, 2):
        for leaf in (1, 2):
            net[f"s{s}"].run(f"ip addr add 10.{s}{leaf}.0.1/31 dev l{leaf}")
            net[f"s{s}"].run(f"ip link set l{leaf} up")
            net[f"l{leaf}"].run(f"ip addr add 10.{s}{leaf}.0.0/31 dev s{s}")
            net[f"l{leaf}"].run(f"ip link set s{s} up")
    for leaf in (1, 2):
        net[f"l{leaf}"].run(f"ip addr add 10.{leaf}.0.1/24 dev lo")
        net[f"l{leaf}"].run("ip link set lo up")
    for s in (1, 2):
        start(net, f"s{s}", conf(f"s{s}", 65000, f"10.0.0.{s}", [(f"10.{s}1.0.0", 65001), (f"10.{s}2.0.0", 65002)]))
    for leaf in (1, 2):
        start(net, f"l{leaf}", conf(f"l{leaf}", 65000 + leaf, f"10.0.1.{leaf}",
                                    [(f"10.1{leaf}.0.1", 65000), (f"10.2{leaf}.0.1", 65000)], [f"10.{leaf}.0.0/24"]))
    net.run_for(3 * NSEC)
    return net


def test_two_routers_peer_and_the_route_reaches_the_kernel() -> None:
    net = pair()
    status, out = sh(net, "r2", "vtysh -c 'show ip bgp summary'")
    assert status == 0
    row = next(line for line in out.splitlines() if line.startswith("r1(10.0.12.1)"))
    assert row.split()[1:3] == ["4", "65001"] and row.split()[-3:] == ["1", "1", "N/A"]
    assert sh(net, "r2", "ip route show proto bgp")[1] == "10.1.0.0/24 nhid 2 via 10.0.12.1 dev eth0 metric 20 \n"
    _, table = sh(net, "r2", "vtysh -c 'sh ip b'")    # abbreviations, as vtysh takes them
    assert "*> 10.1.0.0/24      10.0.12.1(r1)            0             0 65001 i" in table
    _, ps = sh(net, "r2", "ps -e")
    assert all(d in ps for d in ("watchfrr", "zebra", "bgpd", "staticd"))


def test_without_a_policy_ebgp_routes_are_neither_taken_nor_sent() -> None:
    net = pair(profile="traditional", policy=True)
    _, out = sh(net, "r2", "vtysh -c 'show ip bgp summary'")
    row = next(line for line in out.splitlines() if line.startswith("10.0.12.1"))
    assert row.split()[-3:] == ["(Policy)", "(Policy)", "N/A"]
    assert sh(net, "r2", "ip route show proto bgp")[1] == ""


def test_leaf_spine_multipath_is_one_ecmp_route_and_a_cut_uplink_leaves_one_nexthop() -> None:
    net = leaf_spine()
    _, table = sh(net, "l1", "vtysh -c 'show ip bgp'")
    assert "*> 10.2.0.0/24      10.11.0.1(s1)                          0 65000 65002 i" in table
    assert "*=                  10.21.0.1(s2)                          0 65000 65002 i" in table
    assert sh(net, "l1", "ip route show proto bgp")[1] == (
        "10.2.0.0/24 nhid 4 metric 20 \n\tnexthop via 10.11.0.1 dev s1 weight 1 \n"
        "\tnexthop via 10.21.0.1 dev s2 weight 1 \n")
    _, entry = sh(net, "l1", "vtysh -c 'show ip bgp 10.2.0.0/24'")
    assert "Paths: (2 available, best #1, table default)" in entry
    assert "      Origin IGP, valid, external, multipath, bestpath-from-AS 65000, best (Router ID)" in entry
    # the cable l1-s1 is cut at l1: fast-external-failover drops the session at once
    net["l1"].run("ip link set s1 down")
    net.run_for(NSEC // 10)
    assert sh(net, "l1", "ip route show proto bgp")[1] == "10.2.0.0/24 nhid 6 via 10.21.0.1 dev s2 metric 20 \n"
    _, summary = sh(net, "s1", "vtysh -c 'show ip bgp summary'")
    net["l1"].run("ip link set s1 up")
    net.run_for(5 * NSEC)
    # both paths are back in bgpd and zebra; the kernel's group 4 lost s1's path with the link and
    # FRR 8.4's zebra does not push a group it holds installed again: one path, as on the twin
    _, table = sh(net, "l1", "vtysh -c 'show ip bgp'")
    assert "*=" in table and "10.11.0.1(s1)" in table and "10.21.0.1(s2)" in table
    assert sh(net, "l1", "ip route show proto bgp")[1] == "10.2.0.0/24 nhid 4 via 10.21.0.1 dev s2 metric 20 \n"
    assert sh(net, "l1", "ip nexthop show id 4")[1] == "id 4 group 6 proto zebra \n"


def test_a_spine_gone_silent_is_dropped_when_the_hold_timer_expires() -> None:
    net = leaf_spine()
    net["s1"].run("iptables -A INPUT -p tcp --sport 179 -j DROP; iptables -A INPUT -p tcp --dport 179 -j DROP")
    net.run_for(8 * NSEC)        # datacenter hold time 9 s: still ECMP
    assert "nexthop via 10.11.0.1" in sh(net, "l1", "ip route show proto bgp")[1]
    net.run_for(2 * NSEC)
    assert sh(net, "l1", "ip route show proto bgp")[1] == "10.2.0.0/24 nhid 6 via 10.21.0.1 dev s2 metric 20 \n"
    _, summary = sh(net, "l1", "vtysh -c 'show ip bgp summary'")
    assert any("(10.11.0.1)" in line and "Established" not in line and line.split()[-3] in
               ("Active", "Connect", "Idle") for line in summary.splitlines())


def test_a_killed_bgpd_closes_its_connections_and_the_peer_drops_at_once() -> None:
    net = leaf_spine()
    net["s1"].run("kill -9 $(pidof bgpd)")
    net.run_for(NSEC // 10)
    assert sh(net, "l1", "ip route show proto bgp")[1] == "10.2.0.0/24 nhid 6 via 10.21.0.1 dev s2 metric 20 \n"


def test_stopping_frr_sends_cease_and_removes_its_routes() -> None:
    net = pair()
    status, out = sh(net, "r1", "/usr/lib/frr/frrinit.sh stop")
    assert (status, out) == (0, "Stopped watchfrr.\nStopped bgpd.\nStopped staticd.\nStopped zebra.\n")
    net.run_for(NSEC // 10)
    assert sh(net, "r2", "ip route show proto bgp")[1] == ""     # r2 heard the Cease at once
    assert sh(net, "r1", "vtysh -c 'show ip bgp'") == (1, "Exiting: failed to connect to any daemons.\n")


def test_vtysh_configures_a_running_bgpd() -> None:
    net = cable()
    for n in ("r1", "r2"):
        start(net, n, "frr defaults traditional\n")
    net["r1"].run("ip addr add 10.1.0.1/24 dev lo; ip link set lo up")
    for n, asn, peer, pasn in (("r1", 65001, "10.0.12.2", 65002), ("r2", 65002, "10.0.12.1", 65001)):
        status, out = sh(net, n, f"vtysh -c 'conf t' -c 'router bgp {asn}' -c 'no bgp ebgp-requires-policy' "
                                 f"-c 'neighbor {peer} remote-as {pasn}' -c 'address-family ipv4 unicast' "
                                 + ("-c 'network 10.1.0.0/24'" if n == "r1" else "-c 'exit-address-family'"))
        assert (status, out) == (0, "")
    net.run_for(3 * NSEC)
    assert sh(net, "r2", "ip route show proto bgp")[1] == "10.1.0.0/24 nhid 2 via 10.0.12.1 dev eth0 metric 20 \n"
    _, running = sh(net, "r1", "vtysh -c 'show running-config'")
    assert "router bgp 65001\n no bgp ebgp-requires-policy\n neighbor 10.0.12.2 remote-as 65002\n !\n" \
           " address-family ipv4 unicast\n  network 10.1.0.0/24\n exit-address-family\nexit\n" in running
    assert sh(net, "r1", "vtysh -c 'write memory'")[0] == 0
    assert "neighbor 10.0.12.2 remote-as 65002" in sh(net, "r1", "cat /etc/frr/frr.conf")[1]


# FRR 8.4.4's vtysh answers to bad lines (status 1), as tests/frr/test_bgp_interop.py checks on the
# real bgpd: a prefix of a command is incomplete, a command with a value no reading takes is unknown
FRR_ANSWERS: list[tuple[list[str], str]] = [
    (["show ip"], "% Command incomplete: show ip\n"),
    (["show"], "% Command incomplete: show\n"),
    (["s"], "% Command incomplete: s\n"),
    (["clear ip bgp"], "% Command incomplete: clear ip bgp\n"),
    (["sho ip bgp x.y"], "% Unknown command: sho ip bgp x.y\n"),
    (["conf t", "router bgp 65001", "neighbor"], "% Command incomplete: neighbor\n"),
    (["conf t", "router bgp 65001", "neighbor 10.0.0.1"], "% Command incomplete: neighbor 10.0.0.1\n"),
    (["conf t", "router bgp 65001", "neighbor 10.0.0.1 remote-as"],
     "% Command incomplete: neighbor 10.0.0.1 remote-as\n"),
    (["conf t", "router bgp 65001", "neighbor 10.0.0.1 remote-as foo"],
     "% Unknown command: neighbor 10.0.0.1 remote-as foo\n"),
    (["conf t", "router bgp 65001", "bgp"], "% Command incomplete: bgp\n"),
    (["conf t", "rout"], "% Command incomplete: rout\n"),
    (["conf t", "router bgp 65001", "address-family ipv4 unicast", "network"], "% Command incomplete: network\n"),
    (["conf t", "router bgp 65001", "address-family ipv4 unicast", "network 10.0.0.0/33"],
     "% Unknown command: network 10.0.0.0/33\n"),
]


@pytest.mark.parametrize("lines, status, message", [
    *[(lines, 1, answer) for lines, answer in FRR_ANSWERS],
    (["conf t", "router bgp 65001", "neighbor 1.2.3.4 description x"], 1,
     "% Specify remote-as or peer-group commands first\n"),
    (["conf t", "router bgp 65001", "router bgp 65009"], 1, "BGP is already running; AS is 65001\n"),
    (["show ip bgp foo"], 1, "% Unknown command: show ip bgp foo\n"),
    (["show bogus"], 1, "% Unknown command: show bogus\n"),
    (["conf t", "router bgp 65001", "neighbor 10.0.12.2 remote-as 65002", "neighbor 10.0.12.2 route-map X in"], 2,
     'netplex: vtysh: "neighbor 10.0.12.2 route-map X in" is not supported\n'),
])
def test_bad_vtysh_input_gets_frrs_answer_and_status(lines: list[str], status: int, message: str) -> None:
    net = Network()
    net.add_node("r1")
    start(net, "r1", "frr defaults traditional\n")
    argv = " ".join(f"-c '{x}'" for x in lines)
    assert sh(net, "r1", f"vtysh {argv}") == (status, message)


def test_an_unmodelled_frr_conf_line_stops_the_start_naming_file_and_line() -> None:
    net = Network()
    net.add_node("r1")
    m = net["r1"].machine
    m.fs.write("/etc/frr/daemons", b"bgpd=yes\n")
    m.fs.write("/etc/frr/frr.conf", b"router bgp 65001\n neighbor 10.0.0.2 remote-as 65002\n"
                                    b" neighbor 10.0.0.2 route-map IN in\n")
    status, out = sh(net, "r1", "/usr/lib/frr/frrinit.sh start")
    assert (status, out) == (1, 'netplex: /etc/frr/frr.conf line 3: "neighbor 10.0.0.2 route-map IN in" '
                                "is not supported\n")
    assert "zebra" not in sh(net, "r1", "ps -e")[1]
    assert sh(net, "r1", "vtysh -c 'show ip bgp'")[0] == 1


def test_frrinit_status_lists_the_daemons() -> None:
    net = pair()
    assert sh(net, "r1", "/usr/lib/frr/frrinit.sh status") == (0, (
        "Status of watchfrr: running.\nStatus of zebra: running.\nStatus of bgpd: running.\n"
        "Status of staticd: running.\n"))


def test_a_peer_with_the_wrong_as_never_establishes() -> None:
    net = cable()
    start(net, "r1", conf("r1", 65001, "10.0.0.1", [("10.0.12.2", 65099)]))   # r2 is 65002
    start(net, "r2", conf("r2", 65002, "10.0.0.2", [("10.0.12.1", 65001)]))
    net.run_for(5 * NSEC)
    _, out = sh(net, "r1", "vtysh -c 'show ip bgp summary'")
    row = next(line for line in out.splitlines() if line.startswith("10.0.12.2"))
    assert row.split()[-3] in ("Active", "Connect", "Idle", "OpenSent")


def test_ibgp_border_prefers_the_shorter_path_through_its_peer_with_local_pref_and_distance_200() -> None:
    res = run_scenario(load_scenario(Path(__file__).with_name("ibgp-two-borders.yaml")), SimBackend())
    assert res.passed, [p.to_json() for p in res.probes if not p.passed]
    table = res.probes[2].observed["output"]
    assert "*>i                 10.0.12.1                0    100      0 64500 i" in table
    assert "*>i10.0.0.0/24      10.0.12.1                0    100      0 i" in table
    assert "      Origin IGP, metric 0, localpref 100, valid, internal, best (AS Path)" in \
        res.probes[3].observed["output"]
    b1 = res.probes[7].observed["output"]
    assert "10.0.12.2" not in b1        # b2's best is iBGP-learned: not sent back over iBGP


def test_clear_ip_bgp_resets_the_sessions_which_come_back_with_their_routes() -> None:
    net = pair()
    assert sh(net, "r1", "vtysh -c 'clear ip bgp *'") == (0, "")
    net.run_for(NSEC // 10)
    assert sh(net, "r2", "ip route show proto bgp")[1] == ""        # r2 heard Cease 6/4 and dropped
    net.run_for(3 * NSEC)
    assert sh(net, "r2", "ip route show proto bgp")[1] == "10.1.0.0/24 nhid 2 via 10.0.12.1 dev eth0 metric 20 \n"
    assert sh(net, "r1", "vtysh -c 'clear ip bgp 10.0.12.9'")[0] == 1
    assert sh(net, "r1", "vtysh -c 'clear ip bgp * soft'")[0] == 2


def test_a_peer_group_gives_its_members_remote_as_timers_and_next_hop_self() -> None:
    res = run_scenario(load_scenario(Path(__file__).with_name("peer-group.yaml")), SimBackend())
    assert res.passed, [p.to_json() for p in res.probes if not p.passed]
    summary, running = res.probes[1].observed["output"], res.probes[2].observed["output"]
    assert "Peer groups 1, using 64 bytes of memory" in summary
    assert " neighbor FABRIC peer-group\n neighbor FABRIC remote-as external\n neighbor FABRIC timers 3 9\n" \
           " neighbor 10.0.12.2 peer-group FABRIC\n" in running
    assert res.probes[3].observed["output"] == "% Configure the peer-group first\n"
    assert res.probes[4].observed["output"] == "% Peer-group member cannot override remote-as of peer-group.\n"


def test_ibgp_over_loopbacks_resolves_the_next_hop_recursively() -> None:
    res = run_scenario(load_scenario(Path(__file__).with_name("ibgp-loopbacks.yaml")), SimBackend())
    assert res.passed, [p.to_json() for p in res.probes if not p.passed]
    assert res.probes[3].observed["output"] == "10.2.0.0/24 nhid 3 via 10.0.1.2 dev tr0 metric 20 \n"
    assert res.probes[5].observed["output"].endswith(
        "B>  10.2.0.0/24 [200/0] via 10.255.0.2 (recursive), weight 1, 00:00:04\n"
        "  *                       via 10.0.1.2, tr0, weight 1, 00:00:04\n")
