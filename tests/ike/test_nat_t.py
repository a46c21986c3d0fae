"""NAT traversal in the simulator (RFC 7296 §2.23, RFC 3948): a branch gateway behind a masquerading
router, the NAT detected by both sides, IKE moved to UDP 4500, ESP in UDP through the NAT and back,
NAT-keepalives holding the router's mapping; tshark reads the wire as UDP-encapsulated ESP."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from netplex.scenario.loader import load_scenario
from netplex.scenario.runner import run_scenario
from netplex.scenario.sim import SimBackend

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "ipsec-nat-t.yaml"
NSEC = 1_000_000_000


def _run(path: Path = EXAMPLE, pcap_dir: Path | None = None):
    b = SimBackend(pcap_dir=pcap_dir) if pcap_dir else SimBackend()
    return run_scenario(load_scenario(path), b), b.net


def test_both_sides_detect_the_nat_and_use_udp_4500() -> None:
    res, net = _run()
    assert res.passed, res
    hq, branch = net.nodes["hq"], net.nodes["branch"]
    # hq sees the router's address; each side installed ESP in UDP between the ports the other uses
    assert "  local  'branch.example.org' @ 192.168.1.2[4500]\n  remote 'hq.example.org' @ 198.51.100.1[4500]" \
        in branch.cmd("swanctl --list-sas")
    states = hq.cmd("ip xfrm state")
    assert states.count("\tencap type espinudp sport 4500 dport 4500 addr 0.0.0.0\n") == 2
    assert "src 203.0.113.2 dst 198.51.100.1" in states
    # nothing but UDP crosses the router: no IP protocol 50 entry in its conntrack table
    assert "esp" not in net.nodes["homerouter"].cmd("conntrack -L")


def test_keepalives_hold_the_nat_mapping_while_the_tunnel_is_idle() -> None:
    _res, net = _run()
    router = net.nodes["homerouter"]
    net.run_for(400 * NSEC)       # no traffic but IKE's: UDP's 120 s conntrack timeout would have ended it
    assert "sport=4500 dport=4500" in router.cmd("conntrack -L -p udp --dport 4500")
    r = net.nodes["pc1"].run("ping -c 2 10.2.0.10")
    assert r.status == 0 and "2 received" in r.output


def test_without_a_nat_nothing_is_encapsulated_unless_encap_yes(tmp_path: Path) -> None:
    s = EXAMPLE.read_text().replace("      iptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE\n",
                                    "      ip route add 10.2.0.0/16 via 192.168.1.2\n")
    # without the NAT, hq must reach the branch's own address
    s = s.replace("      ip route add default via 198.51.100.254\n      sysctl",
                  "      ip route add default via 198.51.100.254\n      sysctl", 1)
    s = s.replace("      ip addr add 203.0.113.254/24 dev eth1\n",
                  "      ip addr add 203.0.113.254/24 dev eth1\n      ip route add 192.168.1.0/24 via 203.0.113.2\n")
    s = s.replace("remote 'branch.example.org' @ 203.0.113.2[4500]", "remote 'branch.example.org' @ 192.168.1.2[500]")
    s = s.replace("INSTALLED, TUNNEL-in-UDP,", "INSTALLED, TUNNEL,")
    s = s[:s.index("  - cmd: {node: branch, run: \"ip xfrm state\"}")]
    path = tmp_path / "plain.yaml"
    path.write_text(s)
    res, net = _run(path)
    assert res.passed, res
    assert "encap" not in net.nodes["hq"].cmd("ip xfrm state")
    path.write_text(s.replace("            remote_addrs = 198.51.100.1\n",
                              "            remote_addrs = 198.51.100.1\n            encap = yes\n")
                    .replace("INSTALLED, TUNNEL,", "INSTALLED, TUNNEL-in-UDP,")
                    .replace("@ 192.168.1.2[500]", "@ 192.168.1.2[4500]"))
    res, net = _run(path)
    assert res.passed, res
    assert net.nodes["hq"].cmd("ip xfrm state").count("encap type espinudp") == 2


@pytest.mark.tools("tshark")
def test_tshark_sees_udp_encapsulated_esp_and_ike_on_4500(tmp_path: Path) -> None:
    res, _net = _run(pcap_dir=tmp_path)
    assert res.passed
    proc = subprocess.run(["tshark", "-r", str(tmp_path / "internet-eth1.pcap"), "-T", "fields", "-e",
                           "frame.protocols", "-e", "ip.src", "-e", "udp.srcport", "-e", "udp.dstport",
                           "-e", "isakmp.exchangetype"], capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    rows = [r.split("\t") for r in proc.stdout.splitlines()]
    protos = {r[0] for r in rows}
    assert "eth:ethertype:ip:udp:isakmp" in protos            # IKE_SA_INIT on 500
    assert "eth:ethertype:ip:udp:udpencap:esp" in protos      # ESP in UDP (RFC 3948)
    assert not any(p.startswith("eth:ethertype:ip:esp") for p in protos)
    # IKE_AUTH went over 4500 after the non-ESP marker, from the router's public address
    assert any(r[0].endswith("udpencap:isakmp") and r[2:4] == ["4500", "4500"] and r[4] == "35" for r in rows), rows
