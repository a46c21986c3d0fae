"""stack/qdisc/api.py as a later system calls it (OVS QoS, a loader): no shell in between.

The shell's `tc` shows what the API built, byte for byte as for a `tc` line; the
kernel's refusals come back as `TcError` with its errno and extack text; a qdisc
kind registered by a test is created, changed and run like the built-in ones.
"""
from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest

from netplex import Network
from netplex.packet.addr import ip_to_int
from netplex.shell.tc.tc_qdisc import QDISC_UTILS
from netplex.shell.tc.tc_util import QdiscUtil, TcExit
from netplex.stack.qdisc import QDISCS, HtbClassOpts, HtbOpts, Qdisc, TcError, register_qdisc
from netplex.stack.qdisc.api import (
    NLM_F_CREATE,
    NLM_F_EXCL,
    NLM_F_REPLACE,
    qdisc_lookup,
    tc_delete_qdisc,
    tc_modify_class,
    tc_modify_qdisc,
    tc_new_tfilter,
)
from netplex.stack.qdisc.cls import FwOpts
from netplex.stack.qdisc.core import EEXIST, ENOENT, TC_H_ROOT

ADD = NLM_F_CREATE | NLM_F_EXCL
REPLACE = NLM_F_CREATE | NLM_F_REPLACE


def _pair() -> tuple[Network, Any]:
    net = Network(seed=4)
    a, b = net.add_node("a"), net.add_node("b")
    net.add_link("a:eth0", "b:eth0")
    for node, ip in ((a, "10.0.0.1"), (b, "10.0.0.2")):
        assert node.run(f"ip addr add {ip}/24 dev eth0 && ip link set eth0 up").status == 0
    return net, a.ns.devices["eth0"]


def test_htb_through_the_api_shows_as_tc_built_it() -> None:
    net, dev = _pair()
    tc_modify_qdisc(dev, ADD, TC_H_ROOT, 0x10000, "htb", HtbOpts(default=0x10))
    opts = HtbClassOpts(rate=125_000, ceil=125_000, buffer_ticks=25_000_000, cbuffer_ticks=25_000_000)
    tc_modify_class(dev, ADD, 0x10010, 0x10000, opts)
    twin, tdev = _pair()
    cmds = ("tc qdisc add dev eth0 root handle 1: htb default 10",
            "tc class add dev eth0 parent 1: classid 1:10 htb rate 1mbit burst 200000b cburst 200000b")
    for cmd in cmds:
        assert twin.nodes["a"].run(cmd).status == 0
    assert tdev.qdisc.find_class(0x10010).buffer_ticks == opts.buffer_ticks
    show = "tc qdisc show dev eth0; tc class show dev eth0"
    assert net.nodes["a"].run(show).output == twin.nodes["a"].run(show).output


def test_the_kernels_refusals() -> None:
    _, dev = _pair()
    q = tc_modify_qdisc(dev, ADD, TC_H_ROOT, 0x10000, "pfifo")
    assert q is not None and qdisc_lookup(dev, 0x10000) is q
    with pytest.raises(TcError) as e:
        tc_modify_qdisc(dev, ADD, TC_H_ROOT, 0x10000, "pfifo")
    assert (e.value.errno, e.value.message) == (EEXIST, "Error: Exclusivity flag on, cannot modify.")
    with pytest.raises(TcError) as e:
        tc_modify_qdisc(dev, ADD, TC_H_ROOT, 0x20000, "pfifo")
    assert e.value.extack == "NLM_F_REPLACE needed to override"
    with pytest.raises(TcError) as e:
        tc_modify_qdisc(dev, 0, TC_H_ROOT, 0x30000, "pfifo")   # change of a qdisc that is not there
    assert e.value.errno == EEXIST
    with pytest.raises(TcError) as e:
        tc_modify_qdisc(dev, ADD, TC_H_ROOT, 0, "nosuchq")
    assert (e.value.errno, e.value.extack) == (ENOENT, "Specified qdisc kind is unknown")
    tc_delete_qdisc(dev, TC_H_ROOT, None)
    assert dev.qdisc is None


def test_autohandle_is_one_counter_for_every_namespace() -> None:
    net, dev = _pair()
    other = net.nodes["b"].ns.devices["eth0"]
    first = tc_modify_qdisc(dev, ADD, TC_H_ROOT, 0, "pfifo")
    second = tc_modify_qdisc(other, ADD, TC_H_ROOT, 0, "pfifo")
    assert first is not None and second is not None
    assert (first.handle, second.handle) == (0x80010000, 0x80020000)
    assert "qdisc pfifo 8002: root" in net.nodes["b"].run("tc qdisc show dev eth0").output


@dataclass(slots=True)
class ToyOpts:
    limit: int = 2


class ToyQdisc(Qdisc):
    """A FIFO of `limit` packets that counts its init and change calls."""

    kind = "toyq"

    def __init__(self, dev: Any, handle: int, parent: int) -> None:
        super().__init__(dev, handle, parent)
        self.limit = 0
        self.q: deque[tuple[Any, int]] = deque()
        self.calls: list[str] = []

    def init(self, opts: ToyOpts | None) -> None:
        self.calls.append("init")
        self.limit = (opts or ToyOpts()).limit

    def change(self, opts: ToyOpts | None) -> None:
        self.calls.append("change")
        if opts is not None:
            self.limit = opts.limit

    def do_enqueue(self, frame: Any, nbytes: int) -> bool:
        if len(self.q) >= self.limit:
            return False
        self.q.append((frame, nbytes))
        return True

    def do_dequeue(self, now: int) -> tuple[Any, int] | None:
        return self.q.popleft() if self.q else None


@pytest.fixture
def toyq() -> Iterator[type[ToyQdisc]]:
    register_qdisc(ToyQdisc)
    yield ToyQdisc
    del QDISCS["toyq"]


def test_a_registered_qdisc_is_created_changed_and_run(toyq: type[ToyQdisc]) -> None:
    net, dev = _pair()
    q = tc_modify_qdisc(dev, ADD, TC_H_ROOT, 0x50000, "toyq", ToyOpts(limit=3))
    assert isinstance(q, toyq) and dev.qdisc is q and q.limit == 3
    assert tc_modify_qdisc(dev, REPLACE, TC_H_ROOT, 0x50000, "toyq", ToyOpts(limit=100)) is q
    assert (q.calls, q.limit) == (["init", "change"], 100)
    got: list[bytes] = []
    rx = net.nodes["b"].ns.sockets.udp_socket()
    rx.bind(0, 9)
    rx.on_recv = lambda d, s, p: got.append(d)
    tx = net.nodes["a"].ns.sockets.udp_socket()
    for _ in range(4):
        tx.sendto(b"z" * 58, ip_to_int("10.0.0.2"), 9)
    net.run_for(10_000_000)
    assert len(got) == 4 and q.packets >= 4
    out = net.nodes["a"].run("tc qdisc show dev eth0").output
    assert out.startswith("qdisc toyq 5: root refcnt 3 "), out


def test_a_new_kind_is_one_class_and_one_line_in_each_table(toyq: type[ToyQdisc]) -> None:
    """`tc qdisc add ... toyq limit N` once q_toyq's QdiscUtil is in QDISC_UTILS."""
    def parse(words: list[str]) -> ToyOpts:
        if words[:1] != ["limit"] or len(words) != 2 or not words[1].isdigit():
            raise TcExit(1, "Usage: ... toyq [ limit PACKETS ]\n")
        return ToyOpts(int(words[1]))

    QDISC_UTILS["toyq"] = QdiscUtil("toyq", parse, lambda q, o: f"limit {q.limit}p", classless=True)
    try:
        net, dev = _pair()
        a = net.nodes["a"]
        assert a.run("tc qdisc add dev eth0 root handle 7: toyq limit 5").status == 0
        assert a.run("tc qdisc change dev eth0 root handle 7: toyq limit 9").status == 0
        assert a.run("tc qdisc show dev eth0").output == "qdisc toyq 7: root refcnt 3 limit 9p\n"
        bad = a.run("tc qdisc add dev eth0 parent 7:1 toyq lim")
        assert (bad.status, bad.error) == (1, "Usage: ... toyq [ limit PACKETS ]\n")
        cls = a.run("tc class add dev eth0 parent 7: classid 7:1 toyq")
        assert (cls.status, cls.error) == (1, 'Error: Qdisc "toyq" is classless.\n')
    finally:
        del QDISC_UTILS["toyq"]


def test_a_filter_through_the_api() -> None:
    """tc_new_tfilter with typed options: prio 0 takes 0xc000; the kernel's errors by flags."""
    net, dev = _pair()
    tc_modify_qdisc(dev, ADD, TC_H_ROOT, 0x10000, "prio")
    tp = tc_new_tfilter(dev, ADD, 0x10000, 0, 0, 0x0800, "fw", lambda tp: FwOpts(handle=6, classid=0x10002))
    assert (tp.prio, tp.get(6).classid) == (0xC000, 0x10002)
    with pytest.raises(TcError) as e:
        tc_new_tfilter(dev, ADD, 0x10000, 0, 0xC000, 0x0800, "fw", lambda tp: FwOpts(handle=6))
    assert e.value.errno == EEXIST
    with pytest.raises(TcError) as e:
        tc_new_tfilter(dev, 0, 0x10000, 0, 0xC000, 0x0800, "fw", lambda tp: FwOpts(handle=7))
    assert e.value.extack == "Specified filter handle not found"
    out = net.nodes["a"].run("tc filter show dev eth0").output
    assert out == ("filter parent 1: protocol ip pref 49152 fw chain 0 \n"
                   "filter parent 1: protocol ip pref 49152 fw chain 0 handle 0x6 classid 1:2 \n"), out
