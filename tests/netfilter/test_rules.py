"""Rule traversal as ipt_do_table: first match, jump/goto/RETURN, policies, counters, the chain index."""
from __future__ import annotations

from collections.abc import Callable
from typing import Any

from netplex import Network
from netplex.stack.netfilter import table as tbl
from tests.conftest import run_ok


def indexed_and_linear(run: Callable[[], Any]) -> list[Any]:
    """`run()` with the chain index as it is, then with every chain walked linearly."""
    results = []
    for index_min in (tbl.INDEX_MIN, 10 ** 9):
        saved, tbl.INDEX_MIN = tbl.INDEX_MIN, index_min
        try:
            results.append(run())
        finally:
            tbl.INDEX_MIN = saved
    return results


def test_counters_and_policy_counters(pair) -> None:
    net, h1, h2, be = pair
    run_ok(h2, "iptables -P INPUT DROP")
    run_ok(h2, "iptables -A INPUT -p icmp -j ACCEPT")
    h1.run("ping -c 3 10.0.0.2")
    be.udp("h1", "10.0.0.2", 53)     # falls to the policy: one 42-byte datagram (20 + 8 + the probe line)
    out = run_ok(h2, "iptables -L INPUT -v -x -n")
    assert out.splitlines()[0] == "Chain INPUT (policy DROP 1 packets, 42 bytes)"
    assert out.splitlines()[2].split()[:3] == ["3", "252", "ACCEPT"]
    assert run_ok(h2, "iptables-save -c").splitlines()[2:5] == [
        ":INPUT DROP [1:42]", ":FORWARD ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]"]
    run_ok(h2, "iptables -Z INPUT")
    assert "policy DROP 0 packets, 0 bytes" in run_ok(h2, "iptables -L INPUT -v")


def test_jump_goto_return(pair) -> None:
    net, h1, h2, be = pair
    for line in ("iptables -N a", "iptables -N b", "iptables -A INPUT -p tcp -j a", "iptables -A INPUT -p tcp -j DROP",
                 "iptables -A a -p tcp --dport 22 -g b", "iptables -A a -p tcp --dport 80 -j RETURN",
                 "iptables -A a -j ACCEPT", "iptables -A b -j RETURN"):
        run_ok(h2, line)
    # 22: goto b, RETURN from b returns past a to INPUT's next rule → DROP
    assert not be.tcp("h1", "10.0.0.2", 22).ok
    # 80: RETURN from a → INPUT's DROP
    assert not be.tcp("h1", "10.0.0.2", 80).ok
    run_ok(h2, "iptables -D INPUT 2")
    assert be.tcp("h1", "10.0.0.2", 80).ok and be.tcp("h1", "10.0.0.2", 22).ok


def test_first_match_with_index_on_long_chain(pair) -> None:
    net, h1, h2, be = pair
    lines = ["*filter", ":INPUT ACCEPT [0:0]"]
    for p in range(1000, 1200):
        lines.append(f"-A INPUT -p tcp -m tcp --dport {p} -j DROP")
    lines += ["-A INPUT -i eth0 -p tcp -m tcp --dport 22 -j ACCEPT", "-A INPUT -p tcp -j DROP", "COMMIT"]
    h2.shell.env["RULES"] = "\n".join(lines) + "\n"
    run_ok(h2, 'printf "%s" "$RULES" | iptables-restore')
    assert be.tcp("h1", "10.0.0.2", 22).ok
    assert not be.tcp("h1", "10.0.0.2", 80).ok
    out = run_ok(h2, "iptables -L INPUT -v -n").splitlines()
    assert out[2 + 200].split()[0] != "0"     # the port-22 rule counted
    assert out[2 + 201].split()[0] != "0"     # the catch-all counted the port-80 SYNs
    # inserting before the indexed rules keeps first-match order
    run_ok(h2, "iptables -I INPUT -p tcp --dport 22 -j DROP")
    assert not be.tcp("h1", "10.0.0.2", 22).ok


def test_loop_free_user_chain_counters() -> None:
    n = Network().add_node("n")
    run_ok(n, "iptables -N c && iptables -A OUTPUT -j c && iptables -A c -j RETURN")
    run_ok(n, "ip link set lo up")
    n.run("ping -c 2 127.0.0.1")
    out = run_ok(n, "iptables -L -v -n -x")
    assert "Chain c (1 references)" in out
    assert out.count("       4      336 ") == 2      # 2 requests + 2 replies through OUTPUT, and through c


def test_index_agrees_with_linear_walk() -> None:
    """Seeded random rulesets × packets: the indexed walk gives the linear walk's verdicts and counters."""
    import random

    from benchmarks_netfilter import packets, ruleset  # type: ignore[import-not-found]

    from netplex.shell.iptables import restore_text
    from netplex.stack.netfilter.core import netfilter_of

    rng = random.Random(7)
    text = ruleset(300, rng).replace("-A FORWARD -j DROP", "-A FORWARD -p tcp -j DROP\n-A FORWARD -j ACCEPT")
    pk = packets(text, 3000, random.Random(8))

    def run() -> tuple[list[int], str]:
        net = Network()
        n = net.add_node("fw")
        net.add_node("p")
        net.add_link("fw:eth0", "p:eth0")
        net.add_link("fw:eth1", "p:eth1")
        assert restore_text(n.ns, netfilter_of(n.ns), text).status == 0
        devs = (n.ns.dev("eth0"), n.ns.dev("eth1"))
        hook = n.ns.hooks["FORWARD"]
        verdicts = []
        for frame, d in pk:
            frame.meta = None
            verdicts.append(hook(n.ns, frame, devs[d], devs[1 - d]))
        return verdicts, n.run("iptables-save -c").output.split("\n", 1)[1]

    results = indexed_and_linear(run)
    assert results[0] == results[1]


def test_physdev_pins_agree_with_linear_walk() -> None:
    """Bridged packets through per-port physdev jumps (Neutron's sg-chain layout, with a
    wildcard and an inverted one among them): the index that leaves out other ports' rules
    gives the linear walk's verdicts and counters."""

    rules = ["iptables -N allow", "iptables -A allow -j ACCEPT", "iptables -N deny", "iptables -A deny -j DROP",
             "iptables -A FORWARD -m physdev --physdev-out p1+ --physdev-is-bridged -j allow",
             "iptables -A FORWARD -m physdev ! --physdev-in p3 --physdev-out p3 -j deny",
             "iptables -A FORWARD -m physdev --physdev-in p2 --physdev-out p5 -j deny"]
    for i in range(10):
        rules += [f"iptables -A FORWARD -m physdev --physdev-out p{i} --physdev-is-bridged -j "
                  f"{'deny' if i % 3 == 0 else 'allow'}",
                  f"iptables -A FORWARD -m physdev --physdev-in p{i} --physdev-is-bridged -j "
                  f"{'deny' if i % 4 == 1 else 'allow'}"]
        # in PREROUTING a bridged packet has no out port yet: --physdev-out rules match it (counted)
        rules += [f"iptables -t mangle -A PREROUTING -m physdev --physdev-out p{i}",
                  f"iptables -t mangle -A PREROUTING -m physdev --physdev-in p{i}",
                  # what the bridge's own address sends has an out port and no in port
                  f"iptables -t mangle -A POSTROUTING -m physdev --physdev-in p{i}",
                  f"iptables -t mangle -A POSTROUTING -m physdev --physdev-out p{i}"]

    def run() -> tuple[list[int], str]:
        net = Network()
        sw = net.add_node("sw")
        hosts = [net.add_node(f"h{i}") for i in range(10)]
        for i, h in enumerate(hosts):
            net.add_link(f"h{i}:eth0", f"sw:p{i}")
            run_ok(h, f"ip addr add 10.0.0.{i + 1}/24 dev eth0 && ip link set eth0 up")
        run_ok(sw, "ip link add br0 type bridge && ip link set br0 up && "
                   "sysctl -q -w net.bridge.bridge-nf-call-iptables=1")
        for i in range(10):
            run_ok(sw, f"ip link set p{i} master br0 && ip link set p{i} up")
        for line in rules:
            run_ok(sw, line)
        run_ok(sw, "ip addr add 10.0.0.100/24 dev br0")
        pings = [hosts[a].run(f"ping -c 1 -W 1 10.0.0.{b + 1}").status
                 for a in range(10) for b in range(10) if a != b]
        pings += [sw.run(f"ping -c 1 -W 1 10.0.0.{b + 1}").status for b in range(10)]
        return pings, sw.run("iptables-save -c").output.split("\n", 1)[1]

    results = indexed_and_linear(run)
    assert results[0] == results[1]
    assert 0 < results[0][0].count(0) < 100     # some pairs pass, some are dropped
