"""iptables' `-m policy` (xt_policy.c) on IPsec traffic: `--dir in` reads the SAs that
decrypted a packet, `--dir out` the SAs its route will apply (examples/ipsec-firewall.yaml)."""
from __future__ import annotations

import pytest

from netplex.fabric import network
from netplex.network import Network
from netplex.scenario.loader import load_scenario
from netplex.scenario.runner import run_scenario
from netplex.scenario.sim import SimBackend
from tests.l2.conftest import run_ok

from .conftest import ROOT

EXAMPLE = ROOT / "examples" / "ipsec-firewall.yaml"


def firewall(drop: tuple[str, ...] = (), extra_gw2: str = "") -> Network:
    """The example's network, without the gw2 setup lines containing any of `drop`."""
    lines = EXAMPLE.read_text().splitlines()
    kept = [ln for ln in lines if not any(d in ln for d in drop)]
    net = network("\n".join(kept) + "\n")
    if extra_gw2:
        run_ok(net.nodes["gw2"], extra_gw2)
    return net


def counters(net: Network, node: str, chain: str, table: str = "filter") -> list[int]:
    r = net.nodes[node].run(f"iptables -t {table} -L {chain} -v -n -x")
    assert r.status == 0, r.error
    out: str = r.output
    return [int(ln.split()[0]) for ln in out.splitlines()[2:] if ln.strip()]


def ping(net: Network, src: str, dst: str, n: int = 1) -> bool:
    return net.nodes[src].run(f"ping -c {n} -W 1 {dst}").status == 0


def test_example_passes() -> None:
    assert run_scenario(load_scenario(EXAMPLE), SimBackend()).passed


def test_firewall_accepts_by_the_sa_in_and_out() -> None:
    net = firewall()
    assert ping(net, "pc1", "10.2.0.10", 3)
    # rule 1 saw the 3 requests decrypted by reqid 1, rule 2 the 3 replies bound for reqid 2
    assert counters(net, "gw2", "FORWARD") == [3, 3, 0, 0]
    assert ping(net, "pc2", "198.51.100.254")
    assert counters(net, "gw2", "FORWARD") == [3, 3, 1, 1]
    assert not ping(net, "internet", "10.2.0.10")
    assert counters(net, "gw2", "FORWARD") == [3, 3, 1, 1]


def test_wrong_reqid_drops_the_tunnel() -> None:
    net = firewall(drop=("--reqid 1",), extra_gw2=(
        "iptables -I FORWARD -i eth0 -o lan0 -m policy --dir in --pol ipsec --reqid 7 -j ACCEPT"))
    assert not ping(net, "pc1", "10.2.0.10")
    assert counters(net, "gw2", "FORWARD")[0] == 0


@pytest.mark.parametrize("spec, hits", [
    ("--strict --reqid 1 --spi 0x1000 --proto esp --mode tunnel --tunnel-src 192.0.2.0/24 --tunnel-dst 198.51.100.1", 2),
    ("--strict --reqid 1 --proto esp --mode transport", 0),
    ("--strict --reqid 1 --next --reqid 2", 0),        # one SA on the path, two elements
    ("! --spi 0x1000", 0),
    ("! --spi 0x2000", 2),
    ("--tunnel-src 192.0.2.1 --mode tunnel", 2),
    ("--proto ah", 0),
])
def test_policy_elements_in(spec: str, hits: int) -> None:
    net = firewall()
    run_ok(net.nodes["gw2"], f"iptables -A INPUT -m policy --dir in --pol ipsec {spec}")
    assert ping(net, "pc1", "10.2.0.1", 2)     # gw2 itself: INPUT sees the decrypted requests
    assert counters(net, "gw2", "INPUT") == [hits]


@pytest.mark.parametrize("spec, hits", [
    ("--strict --reqid 2 --spi 0x2000 --proto esp --mode tunnel --tunnel-dst 192.0.2.1", 2),
    ("--strict --reqid 2 --next --reqid 2", 0),
    ("--tunnel-dst 192.0.2.0/24", 2),
    ("! --tunnel-dst 192.0.2.0/24", 0),
    ("--pol none", 0),                   # the replies had SAs; the ESP packets (-p esp) have none
])
def test_policy_elements_out(spec: str, hits: int) -> None:
    net = firewall()
    pol = "" if "--pol" in spec else "--pol ipsec "
    # gw2's own replies to office 1 leave through reqid 2 (its policy covers 10.2/16 -> 10.1/16)
    run_ok(net.nodes["gw2"], "ip addr add 10.2.0.2/32 dev lo",
           f"iptables -A OUTPUT -p icmp -m policy --dir out {pol}{spec}")
    assert ping(net, "pc1", "10.2.0.1", 2)
    assert counters(net, "gw2", "OUTPUT") == [hits]


def test_esp_packet_itself_has_no_policy() -> None:
    """The ESP packet is seen before it is decrypted (INPUT) and after it is built (POSTROUTING), and
    carries no SA then: `--pol none` matches it, `--pol ipsec` does not."""
    net = firewall()
    run_ok(net.nodes["gw2"], "iptables -A INPUT -p esp -m policy --dir in --pol none",
           "iptables -A INPUT -p esp -m policy --dir in --pol ipsec",
           "iptables -A POSTROUTING -t mangle -p esp -m policy --dir out --pol none",
           "iptables -A POSTROUTING -t mangle -p icmp -m policy --dir out --pol ipsec")
    assert ping(net, "pc1", "10.2.0.10", 2)
    assert counters(net, "gw2", "INPUT") == [2, 0]
    assert counters(net, "gw2", "POSTROUTING", "mangle") == [2, 2]


def test_masquerade_without_the_exemption_breaks_the_tunnel() -> None:
    """What `--pol none` is for: a MASQUERADE on the tunnel's traffic changes its source to gw2's
    public address, and gw1's policies refuse what comes out of the SA (XfrmInNoPols)."""
    net = firewall(drop=("MASQUERADE",), extra_gw2="iptables -t nat -A POSTROUTING -o eth0 -j MASQUERADE")
    assert not net.nodes["pc2"].run("nc -z -w 1 10.1.0.10 8080").status == 0
    net = firewall()
    assert net.nodes["pc2"].run("nc -z -w 1 10.1.0.10 8080").status == 0
