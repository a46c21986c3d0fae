"""ospfd (netplex/frr/ospfd.py) as a user meets it: frr.conf with `router ospf`, `network ... area`,
`ip ospf cost`, hello/dead timers, point-to-point and broadcast networks, `vtysh -c 'show ip
ospf neighbor'` and `show ip route ospf`, the kernel's `proto ospf` routes; its packets read by
scapy's OSPF layer; a neighbour lost and the routes moving; containerlab's frr01 lab. Against
Debian's FRR 8.4 ospfd on the kernel twin: tests/frr/ospf-triangle.yaml agrees."""
from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
from scapy.utils import PcapReader

from netplex.clab import load_clab
from netplex.packet import ospf as op
from netplex.scenario.diff import DEFAULT_NORMALISATIONS, Normalisation
from netplex.scenario.loader import load_scenario
from netplex.scenario.model import Probe
from netplex.scenario.runner import run_scenario
from netplex.scenario.sim import SimBackend

HERE = Path(__file__).resolve().parent
TRIANGLE = HERE / "ospf-triangle.yaml"
FRR01 = HERE.parent / "data" / "containerlab" / "frr01" / "frr01.clab.yml"

R3_ROUTES = """\
O>* 10.0.12.0/24 [110/15] via 10.0.13.1, eth0, weight 1, 00:00:09
  *                       via 10.0.23.2, eth1, weight 1, 00:00:09
O   10.0.13.0/24 [110/10] is directly connected, eth0, weight 1, 00:00:13
O   10.0.23.0/24 [110/10] is directly connected, eth1, weight 1, 00:00:13
"""


def _outputs(scenario, pcap_dir: Path | None = None) -> list[str]:
    result = run_scenario(scenario, SimBackend(seed=scenario.seed, pcap_dir=pcap_dir))
    assert result.error is None, result.error
    return [p.observed.get("output", "") for p in result.probes]


def test_triangle_neighbours_dr_election_costs_and_ecmp() -> None:
    r1, r2, r3 = _outputs(load_scenario(TRIANGLE))
    assert re.search(r"^10\.0\.0\.2          1 Full/-          1\d\.000s            4\.000s 10\.0\.12\.2       "
                     r"eth0:10\.0\.12\.1                       0     0     0$", r1, re.M), r1
    assert "10.0.0.3          1 Full/DR " in r1                  # the higher router ID on r1-r3
    assert "10.0.0.3          0 Full/DROther " in r2             # priority 0: never DR
    assert "10.0.0.1          1 Full/Backup " in r3 and "10.0.0.2          1 Full/DR " in r3
    assert "O>* 10.0.23.0/24 [110/15] via 10.0.12.2, eth0, weight 1" in r1     # p2p cost 5 + 10
    assert R3_ROUTES in r3
    assert "10.0.12.0/24 nhid 3 proto ospf metric 20 \n\tnexthop via 10.0.13.1 dev eth0 weight 1 \n" \
           "\tnexthop via 10.0.23.2 dev eth1 weight 1 \n" in r3
    assert "interface eth1\n ip ospf dead-interval 4\n ip ospf hello-interval 1\n ip ospf priority 0\nexit\n" in r3
    assert "router ospf\n ospf router-id 10.0.0.3\n network 10.0.0.0/16 area 0\nexit\n" in r3
    assert "hostname r3\nno ipv6 forwarding\n" in r3          # r3 forwards: zebra writes no `no ip forwarding`


def test_a_lost_neighbour_moves_the_routes_and_packets_are_ospf(tmp_path: Path) -> None:
    scenario = load_scenario(TRIANGLE)
    scenario.probes[:] = [Probe.model_validate(p) for p in (
        {"cmd": {"node": "r2", "run": "sleep 14; ip link set eth0 down; sleep 6; vtysh -c 'show ip ospf neighbor' "
                 "-c 'show ip route ospf'"}},
        {"cmd": {"node": "r2", "run": "vtysh -c 'show ip ospf'; echo $?; vtysh -c 'show ip ospf database'; echo $?"}},
    )]
    out, refused = _outputs(scenario, tmp_path)
    assert refused == "2\n2\n"          # answered by FRR, not by netplex: refused by name (on stderr)
    assert "10.0.0.1" not in out.split("Codes:")[0]            # r1 is gone (dead interval 4 s)
    assert "O>* 10.0.13.0/24 [110/20] via 10.0.23.3, eth1, weight 1" in out
    scapy_ospf = pytest.importorskip("scapy.contrib.ospf")
    with PcapReader(str(tmp_path / "r1-eth1.pcap")) as reader:
        packets = list(reader)
    hellos = [p for p in packets if p.haslayer(scapy_ospf.OSPF_Hello) and p["IP"].src == "10.0.13.1"]
    assert hellos, "no hello on r1's eth1"
    h = hellos[-1]                                              # after the election
    assert h[scapy_ospf.OSPF_Hdr].version == 2 and h[scapy_ospf.OSPF_Hdr].src == "10.0.0.1"
    assert h[scapy_ospf.OSPF_Hello].hellointerval == 1 and h[scapy_ospf.OSPF_Hello].deadinterval == 4
    assert h["IP"].dst == "224.0.0.5" and h["IP"].ttl == 1
    raw = bytes(h[scapy_ospf.OSPF_Hdr])
    assert op.decode(raw).dr == 0x0A000D03                       # 10.0.13.3, r3's address
    again = h[scapy_ospf.OSPF_Hdr].copy()
    again.chksum = None
    assert bytes(again) == raw                                  # scapy computes the same checksum


def test_lsa_fletcher_checksum_and_codec_round_trip() -> None:
    lsa = op.Lsa(op.LsaHeader(1, 2, op.LSA_ROUTER, 0x0A000001, 0x0A000001, -0x7FFFFFFF),
                 links=[op.RouterLink(0x0A000C00, 0xFFFFFF00, op.LINK_STUB, 10)])
    data = lsa.encode()
    c0 = c1 = 0                                                  # RFC 905 annex B: the sums come out zero
    for b in data[2:]:
        c0 = (c0 + b) % 255
        c1 = (c1 + c0) % 255
    assert (c0, c1) == (0, 0)
    p = op.OspfPacket(op.LSU, 0x0A000001, 0, lsas=[lsa])
    back = op.decode(op.encode(p))
    assert back.lsas[0].links == lsa.links and back.lsas[0].header.checksum == lsa.header.checksum
    with pytest.raises(ValueError):
        op.decode(op.encode(p)[:-1] + b"\x00")


def test_frr01_lab_pcs_reach_each_other_over_ospf() -> None:
    """containerlab's lab-examples/frr01 unmodified: FRR started as its image does, OSPF between
    the three routers, each PC pings the others."""
    lab = load_clab(FRR01)
    probes = [{"cmd": {"node": "pc1", "run": "sleep 50"}}]
    probes += [{"ping": {"from": a, "to": b}} for a, b in
               (("pc1", "192.168.12.2"), ("pc1", "192.168.13.2"), ("pc2", "192.168.13.2"))]
    probes.append({"cmd": {"node": "router2", "run": "vtysh -c 'show ip ospf neighbor'"}})
    lab.scenario.probes.extend(Probe.model_validate(p) for p in probes)
    result = run_scenario(lab.scenario, SimBackend())
    assert result.error is None, result.error
    assert [p.ok for p in result.probes] == [True] * 5
    table = result.probes[-1].observed["output"]
    assert re.search(r"^10\.10\.10\.1 +1 Full/(DR|Backup) ", table, re.M), table   # router IDs from lo
    assert re.search(r"^10\.10\.10\.3 +1 Full/(DR|Backup) ", table, re.M), table


def _sorted_nexthops(m: re.Match[str], aliases: object) -> str:
    return "".join(sorted(m.group(0).splitlines(keepends=True)))


OSPF_RULES = (
    Normalisation(re.compile(r"^(\S+ +\d+ \S+) +\S+ +\S+ +(\S+) +(\S+) +\d+ +\d+ +\d+$", re.M),
                  r"\1 <up> <dead> \2 \3 <lists>",
                  "a neighbour's Up Time and Dead Time count the twin's wall clock (its timers run late on a "
                  "loaded machine), netplex's simulated time; RXmtL: real ospfd acknowledges a point-to-point "
                  "neighbour's LSA late (delayed acks), so it may still be on the retransmission list"),
    Normalisation(re.compile(r"\b\d\d:\d\d:\d\d\b"), "<uptime>", "route uptimes: wall clock vs simulated"),
    Normalisation(re.compile(r"(?:^\tnexthop via .*\n)+", re.M), _sorted_nexthops,
                  "the kernel's nexthops of an ECMP route are in the order real ospfd learned the paths "
                  "(which LSA reached it first is a race); compared in address order"),
    Normalisation(re.compile(r"\bnhid \d+ "), "nhid <id> ", "zebra's nexthop ids (see test_bgp_twin.py)"),
)
NORMS = replace(DEFAULT_NORMALISATIONS, rules=(*DEFAULT_NORMALISATIONS.rules, *OSPF_RULES))


@pytest.mark.linux
def test_triangle_agrees_with_real_ospfd(differential) -> None:
    differential.assert_agree(TRIANGLE, normalisations=NORMS)
