"""Event elision (engine/scheduler.py): an event run inline, when the run loop would pop it next
anyway, changes nothing but speed — not the order, the clock, the event count or the storm check.

The engine's protocol (`may_inline`) is checked with plain callables, then the user of it, the
flow fast path's hop loop (stack/fastpath.py `fast_rx`), with timers firing mid-flow, runs cut
by `until` and by `stop`, and a storm, each with elision on and off (NETPLEX_ELIDE).
"""
from __future__ import annotations

import sys
from typing import Any

import pytest

import netplex.engine.scheduler as scheduler
from netplex import Network
from netplex.engine.scheduler import EventStorm, Scheduler
from netplex.packet.addr import ip_to_int
from tests.stack.test_fastpath import chain, state


def relay(s: Scheduler, log: list[Any], name: str, hops: int, gap: int) -> None:
    """A frame crossing `hops` hops `gap` ns apart: each hop's last act schedules the next —
    or, when `may_inline` allows it, runs it at once (as fast_rx does)."""
    while True:
        log.append((s.now, name, hops))
        if not hops:
            return
        hops -= 1
        when = s.now + gap
        if not s.may_inline(when):
            s.at(when, relay, s, log, name, hops, gap)
            return
        s.inlined(when)


def engine_run(elide: bool, how: str) -> tuple[Any, ...]:
    s = Scheduler(elide=elide)
    log: list[Any] = []

    def nested() -> None:                  # a command that runs the clock inside an event
        log.append((s.now, "nested"))
        s.run(until=s.now + 2_500)
        log.append((s.now, "nested-done"))

    for k in range(6):
        s.at(k * 4_000, relay, s, log, f"f{k}", 7, 1_000)    # 7 µs paths, 4 µs apart: mostly elided
    for t in (2_500, 9_000, 9_001, 13_000):                  # timers due while frames cross
        s.at(t, log.append, (t, "timer"))
    s.at(17_500, nested)
    if how == "run":
        s.run()
    elif how == "until":
        for end in range(1_300, 40_000, 1_300):              # cuts that fall between hops
            s.run(until=end)
            log.append((s.now, "cut", s.events_run))
    else:
        s.run(until=40_000, stop=lambda: len(log) > 30)
        log.append((s.now, "stopped", s.events_run))
        s.run()
    return log, s.now, s.events_run, s.pending(), s.inline_until


@pytest.mark.parametrize("how", ["run", "until", "stop"])
def test_engine_same_with_and_without_elision(how: str) -> None:
    on, off = engine_run(True, how), engine_run(False, how)
    assert on == off
    assert on[-1] == -1                    # outside run nothing may run inline


def test_nothing_runs_inline_before_an_equal_time_event_or_past_until() -> None:
    s = Scheduler()
    s.at(10, lambda: None)
    s.inline_until = 100                   # as `run` sets it
    assert s.may_inline(5) and not s.may_inline(10) and not s.may_inline(11)
    s.heap.clear()
    assert s.may_inline(100) and not s.may_inline(101)
    s.storm_left = 1                       # the run's storm check is due after this event
    assert not s.may_inline(50)


def elided_chain(elide: bool, monkeypatch: pytest.MonkeyPatch, how: str) -> tuple[Any, ...]:
    """P1's chain with sparse UDP (one datagram in flight: every router hop can be elided),
    a timer every 2.7 µs reading the routers' counters mid-flow, and the run cut by `until` or
    `stop`; what the timers saw, h1's datagrams and the whole state."""
    monkeypatch.setenv("NETPLEX_FASTPATH", "1")
    monkeypatch.setenv("NETPLEX_ELIDE", "1" if elide else "0")
    net, h0, h1 = chain(6)
    got: list[Any] = []
    seen: list[Any] = []
    srv = h1.ns.sockets.udp_socket()
    srv.bind(0, 9)
    srv.on_recv = lambda d, s, p: got.append((net.now, len(d)))
    cl = h0.ns.sockets.udp_socket()
    cl.connect(ip_to_int("10.0.6.2"), 9)
    cl.sendto(b"arp")                      # neighbours resolved by the full path first
    net.run_for(10_000_000)
    routers = [net.nodes[f"r{i}"].ns.devices["eth1"].stats for i in range(1, 7)]
    t0 = net.now
    for k in range(60):
        net.sched.at(t0 + k * 40_000, cl.sendto, bytes(100 + 17 * k))
    for k in range(900):
        net.sched.at(t0 + k * 2_700, lambda: seen.append((net.now, [st.tx_packets for st in routers])))
    if how == "until":
        for _ in range(200):               # cuts that fall between hops, and inside a path
            net.run_for(25_013)
    elif how == "stop":
        while len(got) < 60:
            want = len(got) + 7
            net.run_until(lambda want=want: len(got) >= want, 1_000_000_000)
            seen.append(("stopped", net.now))
    net.run_for(10_000_000)
    return got, seen, state(net), net.sched.seq


@pytest.mark.parametrize("how", ["run", "until", "stop"])
def test_fast_path_hops_same_with_and_without_elision(how: str, monkeypatch: pytest.MonkeyPatch) -> None:
    *on, seq_on = elided_chain(True, monkeypatch, how)
    *off, seq_off = elided_chain(False, monkeypatch, how)
    assert len(on[0]) == 61 and on == off     # 60 and the first
    if how != "stop":                      # a `stop` test runs after every event: nothing inline
        assert seq_on < seq_off            # hops were elided (their pushes not made)


def storm(elide: bool, monkeypatch: pytest.MonkeyPatch) -> tuple[Any, ...]:
    """A datagram circling a routing loop of three routers over zero-delay, infinitely fast links
    — every hop at one instant, each one elided — with the storm check every 16 events: it must
    fire after the same event, with the same events pending."""
    monkeypatch.setenv("NETPLEX_FASTPATH", "1")
    monkeypatch.setenv("NETPLEX_ELIDE", "1" if elide else "0")
    net = Network(seed=1)
    h0 = net.add_node("h0")
    rs = [net.add_node(f"r{i}") for i in range(3)]
    net.add_link("h0:eth0", "r0:eth0")
    for i in range(3):
        net.add_link(f"r{i}:a", f"r{(i + 1) % 3}:b")
    assert h0.run("ip addr add 10.0.0.1/24 dev eth0 && ip link set eth0 up && "
                  "ip route add default via 10.0.0.2").status == 0
    assert rs[0].run("ip addr add 10.0.0.2/24 dev eth0 && ip link set eth0 up").status == 0
    for i, r in enumerate(rs):
        nxt = (i + 1) % 3
        assert r.run(f"ip addr add 10.1.{i}.1/24 dev a && ip link set a up && "
                     f"ip addr add 10.1.{(i + 2) % 3}.2/24 dev b && ip link set b up && "
                     f"sysctl -qw net.ipv4.ip_forward=1 && ip route add 10.9.0.0/16 via 10.1.{i}.2 && "
                     f"ip route add 10.0.0.0/24 via 10.1.{(i + 2) % 3}.1").status == 0 or nxt == 1
    cl = h0.ns.sockets.udp_socket()
    cl.connect(ip_to_int("10.9.9.9"), 9)
    cl.sendto(b"arp")                      # the full path resolves the ring's neighbours
    net.run_for(1_000_000)
    net.sched.at(net.now + 1_000, cl.sendto, bytes(64))
    with monkeypatch.context() as m:
        m.setattr(scheduler, "STORM_EVENTS", 16)
        try:
            net.run_for(1_000_000)
            err = None
        except EventStorm as e:
            err = e.message
    return err, state(net), net.sched.seq


@pytest.mark.skipif(not scheduler.__file__.endswith(".py"), reason="the compiled scheduler's STORM_EVENTS is "
                    "a constant the test cannot lower")
def test_storm_check_same_with_and_without_elision(monkeypatch: pytest.MonkeyPatch) -> None:
    *on, seq_on = storm(True, monkeypatch)
    *off, seq_off = storm(False, monkeypatch)
    assert on[0] is not None and "without simulated time passing" in on[0]
    assert on == off and seq_on < seq_off


def tail_engine_run(elide: bool, how: str) -> tuple[Any, ...]:
    """Tail events with plain callables: deliveries that open a tail and leave in it a wake-up for
    now or a dequeue `at` a later time, with equal-time events pushed before them (which must run
    first), a nested run inside an open tail, and an event that raises with its tail open."""
    s = Scheduler(elide=elide)
    log: list[Any] = []

    def wake(tag: Any) -> None:
        log.append((s.now, "wake", tag))

    def deliver(k: int) -> None:
        log.append((s.now, "deliver", k))
        s.tail_ok = True                   # as ip_local_fast opens it
        if k % 3 == 0:
            s.at(s.now, wake, k)           # a wake-up now (the tail takes it)
            s.at(s.now, wake, (k, "second"))   # the tail is full: the heap
        elif k % 3 == 1:
            s.at(s.now + 700, wake, k)     # a dequeue later
        if k == 7:
            s.run(until=s.now + 900)       # a command's run inside the open tail: it runs the tail's dequeue
            log.append((s.now, "nested-done"))
        if k == 11:
            raise ValueError("boom")
        s.tail_close()

    for k in range(16):
        t = k * 1_000 - (k % 2) * 400
        s.at(t, deliver, k)
        if k % 4 == 0:
            s.at(t + 700, log.append, (t + 700, "timer"))      # equal-time with a later dequeue
        if k % 5 == 0:
            s.at(t, log.append, (t, "same-instant"))         # pushed after the delivery: runs after its wake
    cuts = {"run": [None], "until": list(range(450, 20_000, 450)) + [None]}.get(how, [None])
    for end in cuts:
        try:
            if how == "stop":
                s.run(until=20_000, stop=lambda: len(log) > 25)
                log.append((s.now, "stopped"))
                s.run()
            else:
                s.run(until=end)
        except ValueError:
            log.append((s.now, "raised", s.tail_ok, s.tail))
            s.run(until=end)
        log.append((s.now, "cut", s.events_run))
    return log, s.now, s.events_run, s.pending(), s.seq, s.tail_ok, s.tail


@pytest.mark.parametrize("how", ["run", "until", "stop"])
def test_tail_events_same_with_and_without_elision(how: str) -> None:
    on, off = tail_engine_run(True, how), tail_engine_run(False, how)
    assert on == off
    times = [e[0] for e in on[0]]
    assert times == sorted(times)          # the clock never goes back (a nested run ran the tail's event)
    assert ("raised" in [e[1] for e in on[0]]) and on[-2:] == (False, None)


def tcp_bulk(elide: bool, monkeypatch: pytest.MonkeyPatch, how: str) -> tuple[Any, ...]:
    """A TCP bulk flow across the chain through a 200 Mbit/s bottleneck (segments queue in a
    router's FIFO, the sender's device queues bursts), the reader woken per segment: its wake-ups
    and the sender's dequeues go through the scheduler's tail. What the reader got and when, a
    timer's samples of the sockets mid-flow, and the whole state."""
    from netplex.stack.tcp import TcpSocket

    monkeypatch.setenv("NETPLEX_FASTPATH", "1")
    monkeypatch.setenv("NETPLEX_ELIDE", "1" if elide else "0")
    net, h0, h1 = chain(4, bottleneck=200_000_000)
    got: list[Any] = []
    seen: list[Any] = []
    conns: list[TcpSocket] = []
    inline = [0]                           # wake-ups run by tail_close itself (not popped)

    def on_accept(sk: TcpSocket) -> None:
        conns.append(sk)
        def on_data(s: TcpSocket, data: bytes) -> None:
            got.append((net.now, len(data), s.rcv_nxt))
            caller = sys._getframe(1).f_code.co_name
            inline[0] += caller == "tail_close"

        sk.on_data = on_data

    lst = TcpSocket(h1.ns.sockets)
    lst.on_accept = on_accept
    assert lst.listen(5001) == 0
    cl = TcpSocket(h0.ns.sockets)
    cl.on_connect = lambda sk: sk.send(bytes(3 << 20))
    assert cl.connect(ip_to_int("10.0.4.2"), 5001) == 0
    t0 = net.now
    for k in range(300):
        net.sched.at(t0 + k * 333_331, lambda: seen.append((net.now, cl.snd_una, cl.cwnd, cl.srtt, len(got))))
    if how == "until":
        for _ in range(400):
            net.run_for(250_013)
    elif how == "stop":
        for want in range(50, 2_000, 97):
            net.run_until(lambda want=want: len(got) >= want, 1_000_000_000)
            seen.append(("stopped", net.now))
    net.run_for(200_000_000)
    return got, seen, state(net), cl.cwnd, cl.srtt, conns[0].rcv_nxt, inline[0]


@pytest.mark.parametrize("how", ["run", "until", "stop"])
def test_tcp_tail_events_same_with_and_without_elision(how: str, monkeypatch: pytest.MonkeyPatch) -> None:
    *on, inline_on = tcp_bulk(True, monkeypatch, how)
    *off, inline_off = tcp_bulk(False, monkeypatch, how)
    assert sum(n for _, n, _ in on[0]) == 3 << 20
    assert on == off
    assert inline_off == 0
    if how != "stop" and scheduler.__file__.endswith(".py"):   # (a compiled tail_close has no frame)
        assert inline_on > len(on[0]) // 2       # most wake-ups ran from the tail, not the heap
