"""MPLS (RFC 3032) as Linux's mpls_router/mpls_iptunnel: the module, `ip -f mpls route`,
`encap mpls`, label switching, TTL, and the label stack on the wire (scapy, tshark)."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from netplex.network import Network
from netplex.scenario.loader import load_scenario
from netplex.scenario.runner import run_scenario
from netplex.scenario.sim import SimBackend
from tests.l2.conftest import run_ok

ROOT = Path(__file__).resolve().parents[2]
EXAMPLE = ROOT / "examples" / "mpls-lsp.yaml"


def lsp() -> Network:
    """The example's six nodes, set up line by line from the YAML."""
    doc = yaml.safe_load(EXAMPLE.read_text())
    net = Network()
    nodes = {name: net.add_node(name) for name in doc["nodes"]}
    for link in doc["links"]:
        net.add_link(*link["ends"])
    for name, spec in doc["nodes"].items():
        run_ok(nodes[name], *[ln for ln in spec["setup"].splitlines() if ln.strip()])
        run_ok(nodes[name], "ip link set lo up")
    return net


def ping(net: Network, src: str, dst: str, extra: str = "") -> bool:
    r = net.nodes[src].run(f"ping -c 1 -W 1 {extra} {dst}")
    return r.status == 0


def test_module_absent_keeps_sysctl_and_refuses_like_linux() -> None:
    net = Network()
    a, b = net.add_node("a"), net.add_node("b")
    net.add_link("a:eth0", "b:eth0")
    before = a.run("sysctl -a").output
    assert "net.mpls" not in before
    r = a.run("ip -f mpls route add 100 via inet 10.0.0.2 dev eth0")
    assert (r.status, r.error) == (2, "RTNETLINK answers: Operation not supported\n")
    r = a.run("ip -f mpls route show")
    assert (r.status, r.output) == (0, "")
    r = a.run("sysctl net.mpls.platform_labels")
    assert r.status != 0 and "cannot stat /proc/sys/net/mpls/platform_labels" in r.error
    run_ok(a, "ip addr add 10.0.0.1/24 dev eth0", "ip link set eth0 up")
    r = a.run("ip route add 10.9.0.0/24 encap mpls 100 via 10.0.0.2")
    assert (r.status, r.error) == (2, "Error: LWT encapsulation type not supported.\n")
    # the module is kernel-wide: loaded from a, b sees the keys too (one per device, and lo)
    run_ok(a, "modprobe mpls_router")
    out = b.run("sysctl -a").output
    for line in ("net.mpls.platform_labels = 0", "net.mpls.ip_ttl_propagate = 1", "net.mpls.default_ttl = 255",
                 "net.mpls.conf.eth0.input = 0", "net.mpls.conf.lo.input = 0"):
        assert line + "\n" in out
    assert b.run("cat /proc/sys/net/mpls/default_ttl").output == "255\n"
    # without mpls_iptunnel, encap mpls is still refused
    r = a.run("ip route add 10.9.0.0/24 encap mpls 100 via 10.0.0.2")
    assert r.status == 2
    r = a.run("modprobe no_such_module")
    assert r.status == 1 and r.error.startswith("netplex: modprobe no_such_module")


def test_label_table_checks_and_show() -> None:
    net = Network()
    a = net.add_node("a")
    net.add_node("b")
    net.add_link("a:eth0", "b:eth0")
    run_ok(a, "modprobe mpls_router", "ip addr add 10.0.0.1/24 dev eth0", "ip link set eth0 up")
    r = a.run("ip -f mpls route add 100 as 200 via inet 10.0.0.2 dev eth0")
    assert (r.status, r.error) == (2, "Error: Label >= configured maximum in platform_labels.\n")
    run_ok(a, "sysctl -w net.mpls.platform_labels=1000")
    r = a.run("ip -f mpls route add 15 via inet 10.0.0.2 dev eth0")
    assert r.error == "Error: Invalid label - must be MPLS_LABEL_FIRST_UNRESERVED or higher.\n"
    r = a.run("ip -f mpls route add 100 as 3 via inet 10.0.0.2 dev eth0")
    assert r.error == "Error: Implicit NULL Label (3) can not be used in encapsulation.\n"
    r = a.run("ip -f mpls route add 100 via 10.0.0.2 dev eth0")
    assert (r.status, r.error) == (1, 'Error: mpls address is expected rather than "10.0.0.2".\n')
    r = a.run("ip -f mpls route add 100 via inet6 2001:db8::1 dev eth0")
    assert r.status == 2 and r.error.startswith("netplex: ")
    run_ok(a, "ip -f mpls route add 100 as 200/300 via inet 10.0.0.2 dev eth0",
           "ip -f mpls route add 101 via inet 10.0.0.2")
    r = a.run("ip -f mpls route add 100 via inet 10.0.0.2 dev eth0")
    assert (r.status, r.error) == (2, "RTNETLINK answers: File exists\n")
    assert a.run("ip -M route").output == ("100 as to 200/300 via inet 10.0.0.2 dev eth0 \n"
                                           "101 via inet 10.0.0.2 dev eth0 \n")
    run_ok(a, "ip -f mpls route replace 100 as 400 via inet 10.0.0.2 dev eth0", "ip -f mpls route del 101")
    assert a.run("ip -f mpls route show").output == "100 as to 400 via inet 10.0.0.2 dev eth0 \n"
    # shrinking the platform label table drops the labels beyond it
    run_ok(a, "sysctl -w net.mpls.platform_labels=50")
    assert a.run("ip -f mpls route show").output == ""
    r = a.run("ip -f mpls link show")
    assert r.status != 0 and "netplex" in r.error


def test_example_probes_pass_and_wire_carries_the_labels(tmp_path: Path) -> None:
    res = run_scenario(load_scenario(EXAMPLE), SimBackend(pcap_dir=tmp_path))
    assert res.error is None
    assert all(p.passed for p in res.probes), [p for p in res.probes if not p.passed]
    from scapy.all import rdpcap
    from scapy.contrib.mpls import MPLS
    from scapy.layers.inet import ICMP, IP

    def stacks(name: str) -> list[tuple[int, int, int, int]]:
        return [(p[MPLS].label, p[MPLS].s, p[MPLS].ttl, p[IP].ttl) for p in rdpcap(str(tmp_path / name))
                if p.haslayer(MPLS) and p.haslayer(ICMP) and p[ICMP].type == 8]
    # ingress push (label TTL = IPv4 TTL after r1's forward), two swaps, each hop one less
    assert stacks("r1-eth1.pcap")[0] == (100, 1, 63, 63)
    assert stacks("r2-eth1.pcap")[0] == (200, 1, 62, 63)
    assert stacks("r3-eth1.pcap")[0] == (300, 1, 61, 63)
    # egress pop: plain IPv4 whose TTL took the label's (ip_ttl_propagate=1)
    h2 = [p for p in rdpcap(str(tmp_path / "h2-eth0.pcap")) if p.haslayer(ICMP) and p[ICMP].type == 8]
    assert h2 and not h2[0].haslayer(MPLS) and h2[0][IP].ttl == 60
    # the way back: PHP at r2 (label 500 popped), so r1 receives IPv4
    back = [p for p in rdpcap(str(tmp_path / "r2-eth0.pcap")) if p.haslayer(ICMP) and p[ICMP].type == 0]
    assert back and not back[0].haslayer(MPLS)
    if shutil.which("tshark"):
        out = subprocess.run(["tshark", "-r", str(tmp_path / "r2-eth1.pcap"), "-Y", "mpls", "-T", "fields",
                              "-e", "eth.type", "-e", "mpls.label", "-e", "mpls.bottom", "-e", "mpls.ttl"],
                             capture_output=True, text=True, check=True).stdout.split("\n")
        assert "0x8847\t200\t1\t62" in out and "0x8847\t500\t1\t62" in out


def test_input_disabled_drops_and_ttl_handling() -> None:
    net = lsp()
    assert ping(net, "h1", "10.2.0.10")
    # a label arriving on a device whose input is off is dropped
    run_ok(net.nodes["r3"], "sysctl -w net.mpls.conf.eth0.input=0")
    assert not ping(net, "h1", "10.2.0.10")
    run_ok(net.nodes["r3"], "sysctl -w net.mpls.conf.eth0.input=1")
    assert ping(net, "h1", "10.2.0.10")
    # TTL expiry inside the LSP: r1 forwards with TTL 1, r2 drops the label (no ICMP from MPLS)
    assert not ping(net, "h1", "10.2.0.10", "-t 2")
    assert ping(net, "h1", "10.2.0.10", "-t 5")


def test_ttl_propagate_off_uses_default_ttl(tmp_path: Path) -> None:
    doc = yaml.safe_load(EXAMPLE.read_text())
    for name in ("r1", "r4"):
        doc["nodes"][name]["setup"] += "sysctl -w net.mpls.ip_ttl_propagate=0\nsysctl -w net.mpls.default_ttl=200\n"
    path = tmp_path / "lsp.yaml"
    path.write_text(yaml.safe_dump(doc))
    res = run_scenario(load_scenario(path), SimBackend(pcap_dir=tmp_path))
    assert res.error is None and res.probes[0].passed
    from scapy.all import rdpcap
    from scapy.contrib.mpls import MPLS
    from scapy.layers.inet import ICMP, IP
    first = [p for p in rdpcap(str(tmp_path / "r1-eth1.pcap")) if p.haslayer(MPLS) and p.haslayer(ICMP)][0]
    assert first[MPLS].ttl == 200
    # the sysctl is kernel-wide in Linux per namespace; r4 pops without copying the label TTL
    h2 = [p for p in rdpcap(str(tmp_path / "h2-eth0.pcap")) if p.haslayer(ICMP) and p[ICMP].type == 8][0]
    assert h2[IP].ttl == 63


@pytest.mark.parametrize("line", ["ip route add 10.9.0.0/24 encap ip id 1 via 10.0.12.2",
                                  "ip -j -f mpls route show"])
def test_refused_in_netplex_words(line: str) -> None:
    net = lsp()
    r = net.nodes["r1"].run(line)
    assert r.status != 0 and r.error.startswith("netplex: ")


def _diamond() -> Network:
    """r1 pushes label 100 towards r2; r2 has a multipath label route over eth1 (to ra) and eth2 (to rb)."""
    net = Network()
    for n in ("r1", "r2", "ra", "rb"):
        net.add_node(n)
    net.add_link("r1:eth0", "r2:eth0")
    net.add_link("r2:eth1", "ra:eth0")
    net.add_link("r2:eth2", "rb:eth0")
    run_ok(net.nodes["r1"], "modprobe mpls_iptunnel", "ip link set eth0 up", "ip addr add 10.0.12.1/24 dev eth0",
           *[f"ip addr add 10.1.0.{i}/32 dev lo" for i in range(10, 42)], "ip link set lo up",
           "ip route add 10.2.0.0/24 encap mpls 100 via 10.0.12.2")
    run_ok(net.nodes["r2"], "modprobe mpls_router", "sysctl -w net.mpls.platform_labels=1000",
           "sysctl -w net.mpls.conf.eth0.input=1", *[f"ip link set eth{i} up" for i in range(3)],
           "ip addr add 10.0.12.2/24 dev eth0", "ip addr add 10.0.2.1/24 dev eth1", "ip addr add 10.0.3.1/24 dev eth2",
           "ip -f mpls route add 100 nexthop as 200 via inet 10.0.2.2 dev eth1 nexthop as 300 via inet 10.0.3.2")
    for n, a in (("ra", "10.0.2.2/24"), ("rb", "10.0.3.2/24")):
        run_ok(net.nodes[n], "ip link set eth0 up", f"ip addr add {a} dev eth0")
    return net


def _tx(node, dev: str) -> int:
    return int(node.cmd(f"cat /sys/class/net/{dev}/statistics/tx_packets"))


def test_multipath_label_route_spreads_flows_and_survives_a_dead_path() -> None:
    net = _diamond()
    r1, r2 = net.nodes["r1"], net.nodes["r2"]
    assert r2.cmd("ip -f mpls route") == ("100 \n\tnexthop as to 200 via inet 10.0.2.2 dev eth1 "
                                          "\n\tnexthop as to 300 via inet 10.0.3.2 dev eth2 \n")
    base = _tx(r2, "eth1"), _tx(r2, "eth2")
    for i in range(10, 42):
        r1.run(f"ping -c 1 -W 1 -I 10.1.0.{i} 10.2.0.9")
    spread = _tx(r2, "eth1") - base[0], _tx(r2, "eth2") - base[1]
    # one flow, one path (same addresses, same hash); 32 flows over both (ARP adds one frame a device)
    assert sum(spread) >= 32 and min(spread) >= 8, spread
    run_ok(r2, "ip link set eth2 down")
    assert "nexthop as to 300 via inet 10.0.3.2 dev eth2 dead linkdown" in r2.cmd("ip -f mpls route")
    before = _tx(r2, "eth1")
    for i in range(10, 26):
        r1.run(f"ping -c 1 -W 1 -I 10.1.0.{i} 10.2.0.9")
    assert _tx(r2, "eth1") - before >= 16


@pytest.mark.parametrize("line,status,error", [
    ("ip -f mpls route add 101 nexthop as 200 via inet 10.0.2.2 weight 2", 2,
     "netplex: ip -f mpls route nexthop weight is not supported\n"),
    ("ip -f mpls route add 101 nexthop", 255, 'Error: unexpected end of line after "nexthop"\n'),
    ("ip -f mpls route add 101 via inet 10.0.2.2 nexthop via inet 10.0.3.2", 2,
     "netplex: ip -f mpls route with via, dev or as besides nexthop is not supported\n"),
    ("ip -f mpls route add 101 nexthop via inet 10.9.9.9", 2, "RTNETLINK answers: Network is unreachable\n"),
])
def test_multipath_errors(line: str, status: int, error: str) -> None:
    r = _diamond().nodes["r2"].run(line)
    assert (r.status, r.error) == (status, error)
