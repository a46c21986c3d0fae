"""Hook registration and dispatch, zero cost without rules, br_netfilter with physdev, trace events."""
from __future__ import annotations

from netplex import Network
from netplex.scenario.sim import SimBackend
from netplex.stack.dropreason import SkbDropReason
from netplex.stack.netfilter.core import NF_ACCEPT, NF_DROP, NF_STOP, netfilter_of
from tests.conftest import run_ok


def test_priority_order_and_verdicts(pair) -> None:
    net, h1, h2, be = pair
    nf = netfilter_of(h2.ns)
    calls: list[str] = []
    nf.register("INPUT", 10, lambda c: calls.append("b") or NF_ACCEPT, "b")
    nf.register("INPUT", -10, lambda c: calls.append("a") or NF_ACCEPT, "a")
    h1.run("ping -c 1 10.0.0.2")
    assert calls == ["a", "b"]
    nf.register("INPUT", 0, lambda c: NF_STOP, "stop")
    calls.clear()
    h1.run("ping -c 1 10.0.0.2")
    assert calls == ["a"]
    nf.register("INPUT", -20, lambda c: NF_DROP, "drop")
    assert "100% packet loss" in h1.run("ping -c 1 -W 1 10.0.0.2").output
    assert h2.ns.drops.get(SkbDropReason.NETFILTER_DROP) == 1
    for n in ("a", "b", "stop", "drop"):
        nf.unregister("INPUT", n)
    assert "INPUT" not in h2.ns.hooks


def test_no_hooks_until_a_chain_exists() -> None:
    n = Network().add_node("n")
    run_ok(n, "iptables -L && iptables -t mangle -S && iptables-save -t raw")
    assert not n.ns.hooks                  # listing creates nothing in the kernel
    run_ok(n, "iptables -N user")           # the table exists now, but no built-in chain does
    assert not any(name.startswith("filter") for h in ("INPUT", "FORWARD", "OUTPUT")
                   for _, name in n.ns.netfilter.registered(h))
    run_ok(n, "iptables -A INPUT -j ACCEPT")
    assert [name for _, name in n.ns.netfilter.registered("INPUT") if name.startswith("filter")] == ["filter:INPUT"]
    assert not n.ns.netfilter.registered("FORWARD") or all(
        not name.startswith("filter") for _, name in n.ns.netfilter.registered("FORWARD"))
    # iptables-save lists the table (with every built-in chain) once it exists
    assert run_ok(n, "iptables-save").splitlines()[1:6] == [
        "*filter", ":INPUT ACCEPT [0:0]", ":FORWARD ACCEPT [0:0]", ":OUTPUT ACCEPT [0:0]", ":user - [0:0]"]


def test_trace_events_per_rule(pair) -> None:
    net, h1, h2, be = pair
    run_ok(h2, "iptables -A INPUT -p tcp --dport 80 -j ACCEPT")
    run_ok(h2, "iptables -A INPUT -p tcp --dport 22 -j DROP")
    net.tracer.on = True
    be.tcp("h1", "10.0.0.2", 22)
    net.tracer.on = False
    rules = [(e.hook, e.table, e.chain, e.rule, e.verdict) for e in net.tracer.events
             if e.node == "h2" and e.stage == "INPUT"]
    assert ("INPUT", "filter", "INPUT", 2, "DROP") in rules
    net.tracer.clear()
    h1.run("ping -c 1 10.0.0.2")
    assert not net.tracer.events


def bridged():
    """a — br0 on b — c: b bridges veth1 and veth2; a 10.0.0.1, c 10.0.0.3."""
    net = Network()
    a, b, c = (net.add_node(x) for x in "abc")
    net.add_link("a:eth0", "b:veth1")
    net.add_link("c:eth0", "b:veth2")
    run_ok(a, "ip addr add 10.0.0.1/24 dev eth0 && ip link set eth0 up")
    run_ok(c, "ip addr add 10.0.0.3/24 dev eth0 && ip link set eth0 up")
    run_ok(b, "ip link add br0 type bridge && ip link set br0 up && ip link set veth1 master br0 && "
              "ip link set veth2 master br0 && ip link set veth1 up && ip link set veth2 up")
    be = SimBackend(network=net)
    be.start_services("c", [("tcp", 22), ("tcp", 80)])
    return net, a, b, c, be


def test_br_netfilter_physdev() -> None:
    net, a, b, c, be = bridged()
    run_ok(b, "iptables -A FORWARD -m physdev --physdev-in veth1 -p tcp --dport 22 -j DROP")
    # br_netfilter's default in a new namespace (every Docker/Kubernetes host): 1
    assert run_ok(b, "sysctl -n net.bridge.bridge-nf-call-iptables").strip() == "1"
    assert not be.tcp("a", "10.0.0.3", 22).ok
    run_ok(b, "sysctl -w net.bridge.bridge-nf-call-iptables=0")
    assert be.tcp("a", "10.0.0.3", 22).ok          # bridged frames skip iptables
    run_ok(b, "sysctl -w net.bridge.bridge-nf-call-iptables=1")
    assert be.tcp("a", "10.0.0.3", 80).ok
    out = run_ok(b, "iptables -L FORWARD -v -n -x").splitlines()
    assert out[2].split()[0] != "0"
    assert "in br0" not in out[2]
    run_ok(b, "iptables -F && iptables -A FORWARD -i br0 -o br0 -m physdev --physdev-is-bridged "
              "--physdev-out veth2 -p icmp -j DROP")
    assert "100% packet loss" in a.run("ping -c 1 -W 1 10.0.0.3").output
