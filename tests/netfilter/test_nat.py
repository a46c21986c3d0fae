"""NAT through the commands users type: SNAT/DNAT/MASQUERADE/REDIRECT, ranges, ICMP errors."""
from __future__ import annotations

from netplex.network import Network
from netplex.scenario.sim import SimBackend
from netplex.stack.netfilter.nat import jhash2


def routed(fw_rules: list[str]) -> Network:
    net = Network(seed=5)
    for n in ("client", "fw", "server"):
        net.add_node(n)
    net.add_link("client:eth0", "fw:eth0")
    net.add_link("fw:eth1", "server:eth0")
    net["client"].cmd("ip addr add 10.0.0.2/24 dev eth0 && ip link set eth0 up && ip route add default via 10.0.0.1")
    net["fw"].cmd("ip addr add 10.0.0.1/24 dev eth0 && ip addr add 10.0.1.1/24 dev eth1 && "
                  "ip link set eth0 up && ip link set eth1 up && sysctl -w net.ipv4.ip_forward=1")
    net["server"].cmd("ip addr add 10.0.1.2/24 dev eth0 && ip link set eth0 up && ip route add default via 10.0.1.1")
    for line in fw_rules:
        r = net["fw"].run(line)
        assert r.status == 0, (line, r.error)
    SimBackend(network=net).start_services("server", [("tcp", 80), ("udp", 53)])
    return net


def test_masquerade_peer_and_entry() -> None:
    net = routed(["iptables -t nat -A POSTROUTING -o eth1 -j MASQUERADE"])
    r = net.probe({"tcp": {"from": "client", "to": "10.0.1.2", "port": 80}}, expect_peer="10.0.1.1")
    assert r.passed, r.observed
    assert r.observed["peer_port"] == int(r.observed["local"].split(":")[1])  # the source port is kept
    out = net["fw"].run("conntrack -L -n").output
    assert "src=10.0.1.2 dst=10.0.1.1 sport=80" in out


def test_dnat_and_counted_once() -> None:
    net = routed(["iptables -t nat -A PREROUTING -d 10.0.0.1 -p tcp --dport 8080 -j DNAT --to-destination 10.0.1.2:80"])
    r = net.probe({"tcp": {"from": "client", "to": "10.0.0.1", "port": 8080}}, expect_peer="10.0.0.2")
    assert r.passed, r.observed
    listing = net["fw"].run("iptables -t nat -L PREROUTING -v -n -x").output
    assert "       1       60 DNAT       6    --  *      *       0.0.0.0/0            10.0.0.1             tcp dpt:8080 to:10.0.1.2:80" in listing


def test_snat_port_range() -> None:
    net = routed(["iptables -t nat -A POSTROUTING -o eth1 -p udp -j SNAT --to-source 10.0.1.1:20000-20010"])
    r = net.probe({"udp": {"from": "client", "to": "10.0.1.2", "port": 53}})
    assert r.ok and r.observed["peer"] == "10.0.1.1" and 20000 <= r.observed["peer_port"] <= 20010


def test_icmp_error_translated_back() -> None:
    net = routed(["iptables -t nat -A PREROUTING -d 10.0.0.1 -p udp --dport 5353 -j DNAT --to-destination 10.0.1.2:54"])
    r = net.probe({"udp": {"from": "client", "to": "10.0.0.1", "port": 5353}})
    assert not r.ok and r.observed["error"] == "Connection refused"


def test_redirect() -> None:
    net = routed(["iptables -t nat -A PREROUTING -i eth0 -p tcp --dport 2222 -j REDIRECT --to-ports 22"])
    SimBackend(network=net).start_services("fw", [("tcp", 22)])
    r = net.probe({"tcp": {"from": "client", "to": "10.0.1.2", "port": 2222}}, expect_peer="10.0.0.2")
    assert r.passed, r.observed


def test_save_and_list_text() -> None:
    net = routed(["iptables -t nat -A POSTROUTING -p tcp -j SNAT --to-source 1.2.3.4-1.2.3.9:100-200 --random --persistent",
                  "iptables -t nat -A POSTROUTING -p tcp -j MASQUERADE --to-ports 1000-2000 --random",
                  "iptables -t raw -A PREROUTING -p udp -j CT --notrack"])
    save = net["fw"].run("iptables-save").output
    assert "-A POSTROUTING -p tcp -j SNAT --to-source 1.2.3.4-1.2.3.9:100-200 --random --persistent" in save
    assert "-A POSTROUTING -p tcp -j MASQUERADE --to-ports 1000-2000 --random" in save
    assert "-A PREROUTING -p udp -j CT --notrack" in save
    out = net["fw"].run("iptables -t nat -L POSTROUTING -n").output
    assert "to:1.2.3.4-1.2.3.9:100-200 random persistent" in out
    assert "masq ports: 1000-2000 random" in out


def test_nat_errors() -> None:
    net = routed([])
    r = net["fw"].run("iptables -t nat -A POSTROUTING -j SNAT --to-source 1.2.3.4:80")
    assert r.status == 2 and "Need TCP, UDP, SCTP or DCCP with port specification" in r.error
    r = net["fw"].run("iptables -t nat -A POSTROUTING -j SNAT")
    assert r.error.startswith('iptables v1.8.9 (nf_tables): SNAT: option "--to-source" must be specified\n\n')
    r = net["fw"].run("iptables -t nat -A PREROUTING -j SNAT --to-source 1.2.3.4")
    assert r.status == 4 and "RULE_APPEND failed (Invalid argument): rule in chain PREROUTING" in r.error


def test_jhash_address_choice_matches_kernel() -> None:
    """find_best_ips_proto's choice, checked against a 6.x kernel: 10.0.0.1 → 10.0.0.3 maps to 10.0.1.57
    in 10.0.1.1-10.0.1.100; with --persistent (no destination in the hash) to 10.0.1.27."""
    le = lambda a: int.from_bytes(a.to_bytes(4, "big"), "little")  # noqa: E731
    src, lo = 0x0A000001, 0x0A000101
    j = jhash2([le(src), 0, 0, 0], le(0x0A000003))
    assert lo + ((j * 100) >> 32) == 0x0A000139
    j = jhash2([le(src), 0, 0, 0], 0)
    assert lo + ((j * 100) >> 32) == 0x0A00011B
