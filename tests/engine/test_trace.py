"""Typed trace events and drop reasons (engine/trace.py, stack/dropreason.py)."""
from __future__ import annotations

import pathlib
import re

import pytest

from netplex import Network
from netplex.engine.trace import TraceEvent
from netplex.stack.dropreason import ROUTE_TYPE_DROP, SkbDropReason
from netplex.stack.route import ROUTE_TYPES
from tests.conftest import run_ok

STACK = pathlib.Path(__file__).resolve().parents[2] / "netplex" / "stack"


@pytest.fixture
def pair(two_hosts):
    return two_hosts


def test_netfilter_drop_is_a_typed_rule_event_and_a_drop_event(pair) -> None:
    net, h1, h2 = pair
    run_ok(h2, "iptables -A INPUT -p tcp --dport 80 -j ACCEPT")
    run_ok(h2, "iptables -A INPUT -p icmp -j DROP")
    net.tracer.on = True
    h1.run("ping -c 1 -W 1 10.0.0.2")
    net.tracer.on = False
    events = [e for e in net.tracer.events if e.node == "h2"]
    rule = [e for e in events if e.hook is not None]
    assert [(e.stage, e.hook, e.table, e.chain, e.rule, e.verdict) for e in rule] == [
        ("INPUT", "INPUT", "filter", "INPUT", 2, "DROP")]
    drops = [e for e in events if e.reason is not None]
    assert [(e.stage, e.dev, e.reason) for e in drops] == [("drop", "eth0", SkbDropReason.NETFILTER_DROP)]
    assert drops[0].time >= rule[0].time
    # the counters are keyed by the enum
    assert h2.ns.drops == {SkbDropReason.NETFILTER_DROP: 1}
    # the human text is what `netplex trace` has always printed
    assert rule[0].text == "filter INPUT rule 2 (-p icmp -j DROP): DROP"
    assert drops[0].text == "dropped on eth0: netfilter_drop"


def test_policy_event_has_no_rule_number(pair) -> None:
    net, h1, h2 = pair
    run_ok(h2, "iptables -P INPUT DROP")
    net.tracer.on = True
    h1.run("ping -c 1 -W 1 10.0.0.2")
    net.tracer.on = False
    [ev] = [e for e in net.tracer.events if e.node == "h2" and e.hook == "INPUT"]
    assert (ev.table, ev.chain, ev.rule, ev.verdict) == ("filter", "INPUT", None, "DROP")


def test_routing_events_carry_devices(pair) -> None:
    net, h1, _ = pair
    net.tracer.on = True
    h1.run("ping -c 1 10.0.0.2")
    net.tracer.on = False
    out = [e for e in net.tracer.events if e.node == "h1" and e.stage == "ip_local_out"]
    assert out and out[0].out_dev == "eth0"
    rcv = [e for e in net.tracer.events if e.node == "h2" and e.stage == "ip_rcv"]
    assert rcv and rcv[0].dev == "eth0"
    local = [e for e in net.tracer.events if e.node == "h2" and e.stage == "fib_lookup"]
    assert local and local[0].verdict == "local"


def test_tracing_off_builds_no_events(pair, monkeypatch) -> None:
    net, h1, h2 = pair
    run_ok(h2, "iptables -A INPUT -p icmp -j DROP")
    built = 0
    init = TraceEvent.__init__

    def counting(self, *args, **kwargs) -> None:
        nonlocal built
        built += 1
        init(self, *args, **kwargs)

    monkeypatch.setattr(TraceEvent, "__init__", counting)
    assert not net.tracer.on
    h1.run("ping -c 3 -W 1 10.0.0.2")
    assert h2.ns.drops[SkbDropReason.NETFILTER_DROP] == 3   # still counted
    assert built == 0 and not net.tracer.events
    net.tracer.on = True
    h1.run("ping -c 1 -W 1 10.0.0.2")
    assert built == len(net.tracer.events) > 0


def test_reasons_are_unique_and_named_like_the_kernel() -> None:
    texts = [m.text for m in SkbDropReason]
    assert len(texts) == len(set(texts))
    for m in SkbDropReason:
        assert re.fullmatch(r"[A-Z][A-Z0-9_]*", m.name)
        assert m.kernel is None or re.fullmatch(r"[A-Z][A-Z0-9_]*", m.kernel)
    assert SkbDropReason.NETFILTER_DROP.kernel == "NETFILTER_DROP"
    assert SkbDropReason.IP_TTL_EXCEEDED.kernel == "IP_INHDR"
    # every route type that does not deliver or forward has its reason
    assert set(ROUTE_TYPE_DROP) == set(ROUTE_TYPES) - {"unicast", "local", "broadcast"}


def test_stack_drops_with_enum_members_only() -> None:
    """A drop with a free-text reason is a bug: every call names a SkbDropReason member."""
    free_text = re.compile(r"(?:\.drop|\btrace_drop)\([^\n]*[\"']")
    bad = [f"{p.relative_to(STACK)}:{i}" for p in STACK.rglob("*.py")
           for i, line in enumerate(p.read_text().splitlines(), 1) if free_text.search(line)]
    assert not bad, bad


def test_qdisc_drop_names_the_qdisc(pair) -> None:
    net, h1, _ = pair
    run_ok(h1, "tc qdisc add dev eth0 root handle 1: tbf rate 1mbit burst 1000 limit 10000")
    net.tracer.on = True
    h1.run("ping -c 1 -s 1400 -W 1 10.0.0.2")
    [ev] = [e for e in net.tracer.events if e.reason is not None]
    assert (ev.node, ev.dev, ev.reason, ev.qdisc, ev.handle) == ("h1", "eth0", SkbDropReason.TBF_OVERSIZE, "tbf",
                                                                 0x10000)
    assert ev.reason.kernel == "QDISC_DROP"


def test_bridge_events_name_bridge_and_ports() -> None:
    net = Network()
    h1, h2, sw = net.add_node("h1"), net.add_node("h2"), net.add_node("sw")
    net.add_link("h1:eth0", "sw:eth1")
    net.add_link("h2:eth0", "sw:eth2")
    run_ok(sw, "ip link add br0 type bridge && ip link set br0 up")
    for port in ("eth1", "eth2"):
        run_ok(sw, f"ip link set {port} master br0 && ip link set {port} up")
    for node, a in ((h1, "10.0.0.1"), (h2, "10.0.0.2")):
        run_ok(node, f"ip addr add {a}/24 dev eth0 && ip link set eth0 up")
    net.tracer.on = True
    h1.run("ping -c 1 10.0.0.2")
    sw_events = [e for e in net.tracer.events if e.node == "sw"]
    learned = {(e.dev, e.port) for e in sw_events if e.stage == "br_fdb_update"}
    assert learned == {("br0", "eth1"), ("br0", "eth2")}
    fwd = {(e.dev, e.port, e.out_dev) for e in sw_events if e.stage == "br_forward"}
    assert ("br0", "eth2", "eth1") in fwd


def test_each_packet_has_its_id(pair) -> None:
    """The echo request keeps one id from the sender's ip_local_out to the receiver's
    ip_local_deliver; the reply is another packet with another id (issue 9: ids were 0)."""
    net, h1, _h2 = pair
    net.tracer.on = True
    h1.run("ping -c 1 10.0.0.2")
    net.tracer.on = False
    ev = net.tracer.events
    request = [e for e in ev if "echo request" in e.text]
    reply = [e for e in ev if "echo reply" in e.text]
    assert request and reply and all(e.packet for e in ev)
    assert {e.packet for e in request} == {request[0].packet}
    assert {e.packet for e in reply} == {reply[0].packet} != {request[0].packet}
    assert {e.node for e in request} == {"h1", "h2"}
    net.tracer.clear()
    assert net.tracer.packet == 0 and net.tracer.packet_id(object()) == 1


def test_netplex_trace_prints_the_packet_id(tmp_path) -> None:
    from typer.testing import CliRunner

    from netplex import cli

    f = tmp_path / "s.yaml"
    f.write_text("nodes:\n  a:\n    setup: |\n      ip addr add 10.0.0.1/24 dev eth0\n      ip link set eth0 up\n"
                 "  b:\n    setup: |\n      ip addr add 10.0.0.2/24 dev eth0\n      ip link set eth0 up\n"
                 "links:\n  - ends: [a:eth0, b:eth0]\n")
    r = CliRunner().invoke(cli.app, ["trace", str(f), "--from", "a", "--to", "10.0.0.2"])
    assert r.exit_code == 0, r.output
    lines = [x for x in r.output.splitlines() if "ip_local_out" in x]
    assert re.search(r"µs  #1 +a +ip_local_out +ICMP 10.0.0.1 > 10.0.0.2 echo request", lines[0])
    assert re.search(r"µs  #\d+ +b +ip_local_out +ICMP 10.0.0.2 > 10.0.0.1 echo reply", lines[1])
