"""Bonding (stack/bond.py) through the commands a user types and the scenarios they run:
`ip link add ... type bond`, `ip link set DEV master bond0`, /proc/net/bonding, `ip -d link`,
active-backup failover, 802.3ad with LACP on both ends, LACPDUs on the wire."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from netplex.network import Network
from netplex.packet.ethernet import Ethernet
from netplex.packet.ipv4 import IPv4
from netplex.packet.lacp import ETH_P_SLOW, LACP_MAC, Lacpdu, Marker
from netplex.packet.pcap import read_pcap
from netplex.packet.udp import Udp
from netplex.scenario.loader import load_scenario, load_scenario_text
from netplex.scenario.runner import run_scenario
from netplex.scenario.sim import SimBackend
from netplex.stack.bond import bond_xmit_hash

ROOT = Path(__file__).resolve().parents[2]
AB = ROOT / "examples" / "dc-bond-active-backup.yaml"
LACP = ROOT / "examples" / "dc-bond-lacp.yaml"
ARPMON = ROOT / "examples" / "dc-bond-arp-monitor.yaml"


def pair() -> Network:
    net = Network()
    net.add_node("h")
    net.add_node("s")
    net.add_link("h:eth0", "s:p0")
    net.add_link("h:eth1", "s:p1")
    return net


def sh(net: Network, node: str, line: str) -> tuple[int, str]:
    r = net[node].run(line)
    return r.status, r.output + r.error


def test_the_bond_takes_its_first_port_mac_and_gives_it_to_every_port() -> None:
    net = pair()
    h = net["h"]
    eth0, eth1 = h.ns.devices["eth0"].mac, h.ns.devices["eth1"].mac
    assert sh(net, "h", "ip link add bond0 type bond mode active-backup")[0] == 0
    sh(net, "h", "ip link set eth0 master bond0")
    sh(net, "h", "ip link set eth1 master bond0")
    assert h.ns.devices["bond0"].mac == eth0 == h.ns.devices["eth1"].mac
    out = sh(net, "h", "ip link show eth1")[1]
    assert "SLAVE,UP>" in out and "master bond0" in out   # enslaving opens the port (its peer is down)
    assert "<BROADCAST,MULTICAST,MASTER>" in sh(net, "h", "ip link show bond0")[1]
    assert f"Permanent HW addr: {':'.join(f'{b:02x}' for b in eth1)}" in sh(net, "h", "cat /proc/net/bonding/bond0")[1]
    sh(net, "h", "ip link set eth1 nomaster")
    assert h.ns.devices["eth1"].mac == eth1          # released: its own address back
    assert sh(net, "h", "ls /proc/net/bonding")[1].split() == ["bond0"]


@pytest.mark.parametrize(("line", "status", "message"), [
    ("ip link add b0 type bond mode foo", 255, 'Error: argument "foo" is wrong: invalid mode'),
    ("ip link add b0 type bond miimon x", 255, 'Error: argument "x" is wrong: invalid miimon'),
    ("ip link add b0 type bond lacp_rate medium", 255, 'Error: argument "medium" is wrong: invalid lacp_rate'),
    ("ip link add b0 type bond primary nosuch", 1, 'Cannot find device "nosuch"'),
    ("ip link add b0 type bond frobnicate 1", 1, 'bond: unknown command "frobnicate"?'),
    ("ip link add b0 type bond mode balance-alb arp_interval 100", 2, "RTNETLINK answers: Permission denied"),
    ("ip link add b0 type bond miimon 100 arp_interval 100", 2,
     "Error: ARP monitoring cannot be used with MII monitoring."),
    ("ip link add b0 type bond arp_ip_target 10.0.0.x", 1, 'Error: an IP address is expected rather than "10.0.0.x".'),
    ("ip link add b0 type bond arp_ip_target 224.0.0.1", 2, "RTNETLINK answers: Invalid argument"),
    ("ip link add b0 type bond arp_ip_target 10.0.0.1,10.0.0.1", 2, "RTNETLINK answers: Invalid argument"),
    ("ip link add b0 type bond arp_ip_target", 255, "Command line is not complete."),
    ("ip link add b0 type bond mode 802.3ad arp_interval 100", 2, "RTNETLINK answers: Permission denied"),
    ("ip link add b0 type bond updelay 150", 2, "RTNETLINK answers: Invalid argument"),
])
def test_bad_bond_options_get_iproute2s_errors_and_change_nothing(line: str, status: int, message: str) -> None:
    net = pair()
    st, out = sh(net, "h", line)
    assert st == status and message in out
    assert "b0" not in net["h"].ns.devices


def test_options_the_kernel_refuses_on_an_up_bond_or_one_with_ports() -> None:
    net = pair()
    sh(net, "h", "ip link add bond0 type bond mode 802.3ad")
    sh(net, "h", "ip link set eth0 master bond0")
    st, out = sh(net, "h", "ip link set bond0 type bond mode active-backup")
    assert st == 2 and out.strip() == "Error: unable to set option because the bond device has slaves."
    sh(net, "h", "ip link set bond0 up")
    st, out = sh(net, "h", "ip link set bond0 type bond lacp_rate fast")
    assert st == 2 and out.strip() == "Error: unable to set option because the bond is up."
    assert sh(net, "h", "ip link set bond0 type bond xmit_hash_policy layer3+4")[0] == 0
    assert "xmit_hash_policy layer3+4 " in sh(net, "h", "ip -d link show bond0")[1]


def test_active_backup_fails_over_within_one_miimon_period_and_announces_the_move() -> None:
    res = run_scenario(load_scenario(AB), SimBackend())
    assert res.passed, [p.to_json() for p in res.probes if not p.passed]
    (ev,) = res.events
    for flow in ev["flows"]:
        # the cut is 50 ms before the next MII round: the pause is that, plus one packet interval
        assert 40 <= flow["outage_ms"] <= 108, flow


def test_active_backup_sends_a_gratuitous_arp_through_the_new_port(tmp_path: Path) -> None:
    run_scenario(load_scenario(AB), SimBackend(pcap_dir=tmp_path))
    frames = [(t, Ethernet.decode(f)) for t, f in read_pcap(tmp_path / "srv-eth1.pcap")]
    garps = [(t, f) for t, f in frames if f.type == 0x0806 and f.dst == b"\xff" * 6
             and f.payload.op == 1 and f.payload.spa == f.payload.tpa]
    # the first came in: eth0's announcement when the bond first went active, flooded back by
    # the switches; the second went out at the failover, 3 s later (num_grat_arp 1)
    assert len(garps) == 2 and garps[1][0] - garps[0][0] >= 2_900_000_000
    assert garps[1][1].src == garps[0][1].src


def test_lacp_aggregates_both_links_and_a_silent_partner_expires_in_three_seconds() -> None:
    res = run_scenario(load_scenario(LACP), SimBackend())
    assert res.passed, [p.to_json() for p in res.probes if not p.passed]
    flows = res.events[0]["flows"]
    moved = [f for f in flows if f["outage_ms"] > 0]
    assert moved and len(moved) < len(flows)          # only the flows hashed to eth0 pause
    for f in moved:
        # fast rate: the partner's last LACPDU came within 1 s before; 3 s after it, expired
        assert 2000 <= f["outage_ms"] <= 3000 and "recovered" not in f


def test_lacpdus_on_the_wire_decode_with_scapy(tmp_path: Path) -> None:
    from scapy.contrib.lacp import LACP as ScapyLacp
    from scapy.layers.l2 import Ether

    run_scenario(load_scenario(LACP), SimBackend(pcap_dir=tmp_path))
    raw = [f for _t, f in read_pcap(tmp_path / "srv-eth1.pcap")]
    ours = [Ethernet.decode(f) for f in raw]
    pdus = [(r, e) for r, e in zip(raw, ours) if e.type == ETH_P_SLOW]
    assert len(pdus) >= 8 and all(e.dst == LACP_MAC and isinstance(e.payload, Lacpdu) for _r, e in pdus)
    states = set()
    for r, e in pdus:
        s = Ether(r)[ScapyLacp]
        assert (s.actor_key, s.actor_port_number, s.actor_state) == (e.payload.actor.key, e.payload.actor.port,
                                                              e.payload.actor.state)
        assert s.actor_system == ":".join(f"{b:02x}" for b in e.payload.actor.system)
        assert bytes(Ether(r)) == r     # scapy rebuilds the very bytes
        states.add(s.actor_state)
    assert 63 in states   # active, short timeout, aggregating, in sync, collecting, distributing


@pytest.mark.skipif(shutil.which("tshark") is None, reason="tshark is not installed")
def test_tshark_reads_the_lacpdus_without_complaint(tmp_path: Path) -> None:
    run_scenario(load_scenario(LACP), SimBackend(pcap_dir=tmp_path))
    out = subprocess.run(["tshark", "-r", str(tmp_path / "srv-eth0.pcap"), "-Y", "lacp", "-T", "fields",
                          "-e", "lacp.actor.key", "-e", "lacp.actor.state", "-e", "_ws.expert"],
                         capture_output=True, text=True, check=True).stdout.splitlines()
    rows = [line.split("\t") for line in out]
    assert rows and all(r[0] == "15" and r[2] == "" for r in rows)
    assert "0x3f" in {r[1] for r in rows}


def test_proc_and_ip_details_of_an_aggregated_bond() -> None:
    backend = SimBackend()
    scenario = load_scenario(LACP)
    scenario.probes = scenario.probes[:1]
    scenario.events = []
    run_scenario(scenario, backend)
    proc = backend.run("srv", "cat /proc/net/bonding/bond0").output
    tor_mac = backend.run("tor", "cat /sys/class/net/bond0/address").output.strip()
    assert "Bonding Mode: IEEE 802.3ad Dynamic link aggregation\nTransmit Hash Policy: layer3+4 (1)\n" in proc
    assert f"\tPartner Mac Address: {tor_mac}\n" in proc and "LACP rate: fast\n" in proc
    assert proc.count("    port state: 63\n") == 4       # both ports, actor and partner
    details = backend.run("srv", "ip -d link show bond0").output
    assert f"ad_aggregator 1 ad_num_ports 2 ad_actor_key 15 ad_partner_key 15 ad_partner_mac {tor_mac} " in details
    assert "numtxqueues 16 numrxqueues 16 " in details
    slave = backend.run("srv", "ip -d link show eth0").output.splitlines()
    assert slave[2] == "    veth "
    assert slave[3].startswith("    bond_slave state ACTIVE mii_status UP link_failure_count 0 perm_hwaddr ")
    assert "ad_actor_oper_port_state_str <active,short_timeout,aggregating,in_sync,collecting,distributing>" \
        in slave[3]


def test_the_layer3_4_hash_is_the_kernels() -> None:
    """bond_xmit_hash for 10.0.0.1:1000 -> 10.0.0.2:2000 (UDP), worked by hand from
    bond_main.c: ports word 0xd007e803 (little-endian load), xor the addresses
    0x0200000a ^ 0x0100000a, fold by 16 and 8, shift right by one."""
    ip = IPv4(0x0A000001, 0x0A000002, 17, Udp(1000, 2000, b""))
    frame = Ethernet(b"\x02" * 6, b"\x04" * 6, 0x0800, ip)
    h = 0xD007E803 ^ 0x0200000A ^ 0x0100000A
    h ^= h >> 16
    h ^= h >> 8
    assert bond_xmit_hash(frame, 1) == h >> 1
    assert bond_xmit_hash(frame, 0) == 0x02 ^ 0x04 ^ 0x0800          # layer2
    spread = {bond_xmit_hash(Ethernet(b"\x02" * 6, b"\x04" * 6, 0x0800,
                                      IPv4(0x0A000001, 0x0A000002, 17, Udp(p, 5001, b""))), 1) % 2
              for p in range(40000, 40016)}
    assert spread == {0, 1}


@pytest.mark.linux
def test_the_twin_skips_bonding_where_the_kernel_lacks_it(differential) -> None:
    from netplex.twin.features import kernel_has

    if kernel_has("bonding"):
        result = differential.linux(AB)
        assert result.error is None
    else:
        with pytest.raises(pytest.skip.Exception, match="bonding"):
            differential.linux(AB)
        pytest.skip("this kernel lacks bonding: proven in the simulator only")


def test_lacp_slow_rate_times_a_silent_partner_out_after_90_seconds() -> None:
    """lacp_rate slow on both ends: LACPDUs every 30 s, the partner expires 90 s after the
    last one, so a switch port that stops speaking costs its flows 60 to 90 s."""
    text = LACP.read_text().replace("lacp_rate fast", "lacp_rate slow").replace("duration: 6s", "duration: 100s")
    text = text.replace("ad_actor_oper_port_state 63", "ad_actor_oper_port_state 61")   # no short timeout bit
    text = text.replace("  - cmd: {node: srv, run: \"grep 'Number of ports' /proc/net/bonding/bond0\"}\n"
                        "    expect_output: \"Number of ports: 1\"\n", "")
    scenario = load_scenario_text(text, "slow.yaml")
    res = run_scenario(scenario, SimBackend())
    assert res.passed, [p.to_json() for p in res.probes if not p.passed]
    moved = [f for f in res.events[0]["flows"] if f["outage_ms"] > 0]
    assert moved and all(60_000 <= f["outage_ms"] <= 90_100 for f in moved), moved


def test_the_arp_monitor_fails_over_when_the_path_dies_beyond_a_cable_that_stays_up() -> None:
    res = run_scenario(load_scenario(ARPMON), SimBackend())
    assert res.passed, [p.to_json() for p in res.probes if not p.passed]
    (ev,) = res.events
    for flow in ev["flows"]:
        # the last answer came just before the cut; eth0 goes down once arp_missed_max (2)
        # intervals and a half have passed without one, at a 100 ms round
        assert 240 <= flow["outage_ms"] <= 320, flow


def test_the_mii_monitor_never_sees_a_dead_uplink() -> None:
    text = ARPMON.read_text().replace("arp_interval 100 arp_ip_target 10.0.0.1", "miimon 100")
    res = run_scenario(load_scenario_text(text, "mii.yaml"), SimBackend())
    failed = [p for p in res.probes if not p.passed]
    # no ARP target line; the bond stays on eth0 (still up) and the flows die with the uplink
    assert [p.index for p in failed] == [3, 5, 6], [p.to_json() for p in failed]
    (ev,) = res.events
    assert all(flow["lost"] > 100 for flow in ev["flows"]), ev


def arp_pair(opts: str) -> Network:
    """h's bond over two ports to a bridge s, behind which t holds the target 10.0.0.1."""
    net = pair()
    net.add_node("t")
    net.add_link("t:eth0", "s:p2")
    assert sh(net, "t", "ip addr add 10.0.0.1/24 dev eth0")[0] == 0
    assert sh(net, "t", "ip link set eth0 up")[0] == 0
    sh(net, "h", f"ip link add bond0 type bond {opts}")
    for line in ("ip link set eth0 master bond0", "ip link set eth1 master bond0",
                 "ip addr add 10.0.0.2/24 dev bond0", "ip link set bond0 up"):
        assert sh(net, "h", line)[0] == 0
    for line in ("ip link add br0 type bridge", "ip link set p0 master br0", "ip link set p1 master br0",
                 "ip link set p2 master br0", "ip link set p0 up", "ip link set p1 up", "ip link set p2 up",
                 "ip link set br0 up"):
        assert sh(net, "s", line)[0] == 0
    return net


def test_arp_monitor_options_in_proc_and_ip_details() -> None:
    net = arp_pair("mode active-backup arp_interval 200 arp_ip_target 10.0.0.1,10.0.0.9 arp_validate all")
    net.run_for(2_000_000_000)
    proc = sh(net, "h", "cat /proc/net/bonding/bond0")[1]
    assert ("MII Polling Interval (ms): 0\nUp Delay (ms): 0\nDown Delay (ms): 0\nPeer Notification Delay (ms): 0\n"
            "ARP Polling Interval (ms): 200\nARP Missed Max: 2\n"
            "ARP IP target/s (n.n.n.n form): 10.0.0.1, 10.0.0.9\nNS IPv6 target/s (xx::xx form):\n") in proc
    # both ports came without carrier (s's ports were down): the monitor tried the port after
    # the first (current_arp_slave's rotation), which heard 10.0.0.1 and became active
    assert "Currently Active Slave: eth1\nMII Status: up\n" in proc
    out = sh(net, "h", "ip -d link show bond0")[1]
    assert "miimon 0 " in out and "arp_interval 200 arp_missed_max 2 arp_ip_target 10.0.0.1,10.0.0.9 " \
        "arp_validate all arp_all_targets any " in out
    # miimon back on turns the ARP monitor off
    assert sh(net, "h", "ip link set bond0 type bond miimon 100")[0] == 0
    assert "miimon 100 " in sh(net, "h", "ip -d link show bond0")[1]
    assert "ARP Polling" not in sh(net, "h", "cat /proc/net/bonding/bond0")[1]


def test_arp_validate_all_targets_all_takes_a_port_down_when_one_target_is_silent() -> None:
    # 10.0.0.9 never answers: with arp_all_targets any the bond lives on 10.0.0.1's replies
    net = arp_pair("mode active-backup arp_interval 100 arp_ip_target 10.0.0.1,10.0.0.9 arp_validate all")
    net.run_for(2_000_000_000)
    assert net["h"].ns.devices["bond0"].has_carrier()
    net = arp_pair("mode active-backup arp_interval 100 arp_ip_target 10.0.0.1,10.0.0.9 arp_validate all "
                   "arp_all_targets all")
    net.run_for(2_000_000_000)
    proc = sh(net, "h", "cat /proc/net/bonding/bond0")[1]
    # with arp_all_targets all every target must answer: no port ever comes up
    assert "Currently Active Slave: None\nMII Status: down\n" in proc
    assert not net["h"].ns.devices["bond0"].has_carrier()


def test_the_load_balancing_arp_monitor_keeps_ports_that_hear_answers() -> None:
    net = arp_pair("mode balance-rr arp_interval 100 arp_ip_target 10.0.0.1")
    net.run_for(2_000_000_000)
    proc = sh(net, "h", "cat /proc/net/bonding/bond0")[1]
    assert proc.count("MII Status: up") == 3, proc
    sh(net, "s", "ip link set p0 nomaster")    # p0 keeps its carrier, but nothing behind it answers
    net.run_for(1_000_000_000)
    proc = sh(net, "h", "cat /proc/net/bonding/bond0")[1]
    eth0, eth1 = proc.split("Slave Interface: eth0")[1].split("Slave Interface: eth1")
    assert "MII Status: down\n" in eth0 and "Link Failure Count: 1\n" in eth0
    assert "MII Status: up\n" in eth1 and proc.startswith(proc.split("MII Status")[0] + "MII Status: up")
    assert sh(net, "h", "ping -c 1 -W 1 10.0.0.1")[0] == 0      # balance-rr now uses eth1 alone


def tlb_lan(opts: str, mode: str = "balance-tlb") -> Network:
    """h's balance-tlb (or `mode`) bond over two ports to a bridge s with four clients a-d (10.0.0.10-13)."""
    net = Network()
    for n in ("h", "s", "a", "b", "c", "d"):
        net.add_node(n)
    net.add_link("h:eth0", "s:p0")
    net.add_link("h:eth1", "s:p1")
    for i, n in enumerate("abcd"):
        net.add_link(f"{n}:eth0", f"s:q{i}")
        for line in (f"ip addr add 10.0.0.{10 + i}/24 dev eth0", "ip link set eth0 up"):
            assert sh(net, n, line)[0] == 0
    for line in (f"ip link add bond0 type bond mode {mode} {opts}", "ip link set eth0 master bond0",
                 "ip link set eth1 master bond0", "ip addr add 10.0.0.2/24 dev bond0", "ip link set bond0 up"):
        assert sh(net, "h", line)[0] == 0
    sh(net, "s", "ip link add br0 type bridge")
    for p in ("p0", "p1", "q0", "q1", "q2", "q3", "br0"):
        if p != "br0":
            sh(net, "s", f"ip link set {p} master br0")
        sh(net, "s", f"ip link set {p} up")
    net.run_for(1_000_000_000)
    return net


def ping_all(net: Network) -> None:
    for i in range(4):
        assert sh(net, "h", f"ping -c 3 -i 0.2 10.0.0.{10 + i}")[0] == 0


def tx_packets(net: Network, dev: str) -> int:
    return net["h"].ns.devices[dev].stats.tx_packets


def test_balance_tlb_receives_on_the_active_port_and_spreads_what_it_sends_after_a_rebalance() -> None:
    net = tlb_lan("")
    h = net["h"].ns.devices
    bond_mac, eth1_mac = h["bond0"].mac, h["eth1"].mac
    assert h["eth0"].mac == bond_mac != eth1_mac          # the second port keeps its own address
    ping_all(net)
    # no load is known before the first rebalance: every new destination goes to the first port
    assert tx_packets(net, "eth1") == 0
    net.run_for(11_000_000_000)                            # BOND_TLB_REBALANCE_INTERVAL (10 s) passes
    ping_all(net)
    assert tx_packets(net, "eth1") > 0 and tx_packets(net, "eth0") > 16
    # replies come back to the bond's address: the clients know only the active port's MAC
    for n in "abcd":
        assert f"lladdr {':'.join(f'{b:02x}' for b in bond_mac)}" in sh(net, n, "ip neigh show 10.0.0.2")[1]
    proc = sh(net, "h", "cat /proc/net/bonding/bond0")[1]
    assert "Bonding Mode: transmit load balancing\nPrimary Slave: None\nCurrently Active Slave: eth0\n" in proc
    assert "bond_slave state ACTIVE" in sh(net, "h", "ip -d link show eth1")[1]   # bond_is_lb: never BACKUP


def test_balance_tlb_without_dynamic_lb_hashes_from_the_start() -> None:
    net = tlb_lan("tlb_dynamic_lb 0 xmit_hash_policy layer2+3")
    ping_all(net)
    assert tx_packets(net, "eth0") > 0 and tx_packets(net, "eth1") > 0
    assert "tlb_dynamic_lb 0 " in sh(net, "h", "ip -d link show bond0")[1]


def test_balance_tlb_failover_swaps_the_addresses_and_tells_the_switch() -> None:
    net = tlb_lan("miimon 100")
    h = net["h"].ns.devices
    bond_mac, eth1_mac = h["bond0"].mac, h["eth1"].mac
    ping_all(net)
    sh(net, "s", "ip link set p0 down")                    # eth0 loses its carrier
    net.run_for(300_000_000)
    assert "Currently Active Slave: eth1" in sh(net, "h", "cat /proc/net/bonding/bond0")[1]
    assert h["eth1"].mac == bond_mac and h["eth0"].mac == eth1_mac
    # the learning frames (alb_fasten_mac_swap) moved the bond's MAC to p1 before any traffic
    mac = ":".join(f"{b:02x}" for b in bond_mac)
    assert f"{mac} dev p1 master br0" in sh(net, "s", "bridge fdb show br br0")[1]
    ping_all(net)                                          # the switch learnt where the bond's MAC went
    assert "10.0.0.2" in sh(net, "a", "ip neigh")[1]


def test_balance_tlb_refuses_the_arp_monitor() -> None:
    net = pair()
    st, out = sh(net, "h", "ip link add b0 type bond mode balance-tlb arp_interval 100 arp_ip_target 10.0.0.1")
    assert st == 2 and "RTNETLINK answers: Permission denied" in out and "b0" not in net["h"].ns.devices


def _mac(b: bytes) -> str:
    return ":".join(f"{x:02x}" for x in b)


def _bond_lladdr(net: Network, client: str) -> str:
    out = sh(net, client, "ip neigh show 10.0.0.2")[1]
    return out.split(" lladdr ")[1].split()[0] if " lladdr " in out else ""


def test_balance_alb_answers_each_client_with_another_port() -> None:
    """rlb_arp_xmit: the bond's ARP replies carry the port the client is given (round robin over
    the ports, a first), so the clients send to both ports and both receive."""
    net = tlb_lan("miimon 100", mode="balance-alb")
    h = net["h"].ns.devices
    bond_mac, eth1_mac = h["bond0"].mac, h["eth1"].mac
    assert h["eth0"].mac == bond_mac != eth1_mac
    for n in "abcd":
        assert sh(net, n, "ping -c 2 -i 0.2 10.0.0.2")[0] == 0
    assert [_bond_lladdr(net, n) for n in "abcd"] == [_mac(bond_mac), _mac(eth1_mac)] * 2
    assert h["eth0"].stats.rx_packets > 4 and h["eth1"].stats.rx_packets >= 4   # both ports receive
    assert f"{_mac(eth1_mac)} dev p1 master br0" in sh(net, "s", "bridge fdb show br br0")[1]
    proc = sh(net, "h", "cat /proc/net/bonding/bond0")[1]
    assert "Bonding Mode: adaptive load balancing\nPrimary Slave: None\nCurrently Active Slave: eth0\n" in proc
    assert "bond mode balance-alb " in sh(net, "h", "ip -d link show bond0")[1]
    assert "bond_slave state ACTIVE" in sh(net, "h", "ip -d link show eth1")[1]


def test_balance_alb_teaches_the_clients_it_asked_and_moves_them_off_a_failed_port() -> None:
    """The bond asks first (ARP requests from the bond's MAC): each client's reply gives the
    table its MAC, and RLB_UPDATE_DELAY (2 s) later rlb_update_client's ARP replies teach it its
    port. A port that fails hands its clients to the other, which teaches them at the next
    monitor tick (a client taught less than its locktime, 1 s, before ignores the lesson, as
    arp_process does; RLB_UPDATE_RETRY repeats it)."""
    net = tlb_lan("miimon 100", mode="balance-alb")
    h = net["h"].ns.devices
    bond_mac, eth1_mac = _mac(h["bond0"].mac), _mac(h["eth1"].mac)
    for i in range(4):
        assert sh(net, "h", f"ping -c 1 10.0.0.{10 + i}")[0] == 0
    assert {_bond_lladdr(net, n) for n in "abcd"} == {bond_mac}    # the requests came from the bond's MAC
    net.run_for(2_500_000_000)
    assert sorted(_bond_lladdr(net, n) for n in "abcd") == sorted([bond_mac, eth1_mac] * 2)
    net.run_for(1_000_000_000)     # past the clients' neighbour locktime (1 s) after that lesson
    sh(net, "s", "ip link set p1 down")                            # eth1 loses its carrier
    net.run_for(300_000_000)
    assert {_bond_lladdr(net, n) for n in "abcd"} == {bond_mac}
    for n in "abcd":
        assert sh(net, n, "ping -c 1 -W 1 10.0.0.2")[0] == 0


def _churn(proc: str) -> list[tuple[str, str, str, str]]:
    """Each port's (actor state, partner state, actor count, partner count) in /proc/net/bonding."""
    out = []
    for part in proc.split("Slave Interface: ")[1:]:
        fields = dict(line.split(": ", 1) for line in part.splitlines() if ": " in line)
        out.append((fields["Actor Churn State"], fields["Partner Churn State"],
                    fields["Actor Churned Count"], fields["Partner Churned Count"]))
    return out


def test_churn_detection_monitors_sixty_seconds_then_judges_each_side() -> None:
    """ad_churn_machine: a port begins churned (monitoring); 60 s later each side in sync has no
    churn. A partner that stops speaking LACP expires (the port churns again) and defaults: 60 s
    later both sides are churned, each counted once."""
    net = pair()
    for node in ("h", "s"):
        for line in ("ip link add bond0 type bond mode 802.3ad lacp_rate fast miimon 100",
                     f"ip link set {'eth0' if node == 'h' else 'p0'} master bond0",
                     f"ip link set {'eth1' if node == 'h' else 'p1'} master bond0", "ip link set bond0 up"):
            assert sh(net, node, line)[0] == 0
    net.run_for(2_000_000_000)
    assert _churn(sh(net, "h", "cat /proc/net/bonding/bond0")[1]) == [("monitoring", "monitoring", "0", "0")] * 2
    net.run_for(59_000_000_000)
    assert _churn(sh(net, "h", "cat /proc/net/bonding/bond0")[1]) == [("none", "none", "0", "0")] * 2
    # s's p0 leaves its bond: h's eth0 hears no more LACPDUs, expires (churned again), then defaults
    sh(net, "s", "ip link set p0 nomaster; ip link set p0 up")
    net.run_for(66_000_000_000)     # expired within 3 s, then monitored for 60 s
    eth0, eth1 = _churn(sh(net, "h", "cat /proc/net/bonding/bond0")[1])
    assert eth1 == ("none", "none", "0", "0")
    # eth0 sits alone in a second aggregator (its partner defaulted), not the active one: neither
    # side in sync, both churned -- what a switch port missing from the LAG shows on Linux
    assert eth0 == ("churned", "churned", "1", "1")


def test_the_marker_protocol_is_answered_from_the_ports_own_address() -> None:
    """ad_marker_info_received: a Marker Information PDU (built by scapy here) comes back on
    the same port as a Marker Response with the requester's fields, from the port's permanent
    address to the Slow Protocols group; scapy reads the response as such."""
    from scapy.contrib.lacp import MarkerProtocol, SlowProtocol
    from scapy.layers.l2 import Ether

    net = pair()
    for line in ("ip link add bond0 type bond mode 802.3ad", "ip link set eth0 master bond0",
                 "ip link set eth1 master bond0", "ip link set bond0 up"):
        assert sh(net, "h", line)[0] == 0
    sh(net, "s", "ip link set p0 up; ip link set p1 up")
    net.run_for(1_000_000_000)
    p0 = net["s"].ns.devices["p0"]
    request = bytes(Ether(dst="01:80:c2:00:00:02", src="02:00:00:00:00:99", type=0x8809) / SlowProtocol()
                    / MarkerProtocol(marker_type=1, requester_port=7, requester_system="02:00:00:00:00:99",
                                     requester_transaction_id=0x1234))
    frame = Ethernet.decode(request)
    assert isinstance(frame.payload, Marker) and frame.encode() == request      # our codec, scapy's bytes
    seen: list[bytes] = []
    net.capture = lambda dev, f: seen.append(f.encode()) if dev is p0 and f.type == ETH_P_SLOW else None
    p0.xmit(frame)
    net.run_for(10_000_000)
    responses = [Ether(b) for b in seen if isinstance(Ethernet.decode(b).payload, Marker) and b != request]
    (resp,) = responses
    eth0 = ":".join(f"{x:02x}" for x in net["h"].ns.devices["bond0"].slaves[0].perm_hwaddr)
    assert (resp.dst, resp.src) == ("01:80:c2:00:00:02", eth0)
    m = resp[MarkerProtocol]
    assert (m.marker_type, m.requester_port, m.requester_system, m.requester_transaction_id) == \
        (2, 7, "02:00:00:00:00:99", 0x1234)
