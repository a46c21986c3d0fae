"""`arping` (iputils-arping 20221126) as a user types it: the texts, counts and statuses below
are what the real arping printed between two namespaces on the kernel twin (the same run is
tests/differential/corpus/arp-arping-garp.yaml, compared whole there), and the clock it takes."""
from __future__ import annotations

import pytest

from tests.conftest import run_ok

USAGE_HEAD = "\nUsage:\n  arping [options] <destination>\n"


@pytest.fixture
def pair(sim_pair):
    be, h, s = sim_pair
    run_ok(h, "ip link set eth0 address 02:00:00:00:00:01")
    run_ok(s, "ip link set eth0 address 02:00:00:00:00:02")
    return h, s, be.net.sched


def run(node, line: str) -> tuple[int, str, str]:
    r = node.run(line)
    return r.status, r.output, r.error


def test_requests_answered_then_unicast(pair) -> None:
    h, _, sched = pair
    before = sched.now
    r = h.run("arping -c 2 -I eth0 10.0.0.2")
    assert r.status == 0
    lines = r.output.splitlines()
    assert lines[0] == "ARPING 10.0.0.2 from 10.0.0.1 eth0"
    assert [ln.rsplit(" ", 1)[0] for ln in lines[1:3]] == ["Unicast reply from 10.0.0.2 [02:00:00:00:00:02] "] * 2
    assert lines[3:] == ["Sent 2 probes (1 broadcast(s))", "Received 2 response(s)"]
    assert sched.now - before == 2_000_000_000   # a packet at 0 and 1 s; the third tick ends it
    assert h.run("arping -b -c 2 -I eth0 10.0.0.2").output.splitlines()[-2] == "Sent 2 probes (2 broadcast(s))"
    r = h.run("arping -f -c 3 10.0.0.2")   # the device from the route; quits on the first reply
    assert r.status == 0 and r.output.splitlines()[-2:] == ["Sent 1 probes (1 broadcast(s))", "Received 1 response(s)"]


def test_unanswered_and_duplicate_address_detection(pair) -> None:
    h, _, _ = pair
    assert run(h, "arping -c 1 -w 1 -I eth0 10.0.0.9") == \
        (1, "ARPING 10.0.0.9 from 10.0.0.1 eth0\nSent 1 probes (1 broadcast(s))\nReceived 0 response(s)\n", "")
    r = h.run("arping -D -I eth0 -c 2 10.0.0.2")   # someone has it: status 1
    assert r.status == 1 and r.output.startswith("ARPING 10.0.0.2 from 0.0.0.0 eth0\nUnicast reply from 10.0.0.2 [")
    assert run(h, "arping -D -q -I eth0 -c 2 -w 3 10.0.0.9") == (0, "", "")


def test_gratuitous_arp_moves_an_existing_entry_and_makes_none(pair) -> None:
    h, s, _ = pair
    run_ok(h, "arping -c 1 -w 1 -I eth0 10.0.0.2")     # s learns h (STALE)
    r = run(h, "ip link set eth0 address 02:00:00:00:00:aa; arping -U -I eth0 -c 1 -w 2 10.0.0.1")
    assert r == (0, "ARPING 10.0.0.1 from 10.0.0.1 eth0\nSent 1 probes (1 broadcast(s))\nReceived 0 response(s)\n", "")
    assert run_ok(s, "ip neigh show 10.0.0.1") == "10.0.0.1 dev eth0 lladdr 02:00:00:00:00:aa STALE \n"
    run_ok(h, "ip link set eth0 address 02:00:00:00:00:bb; arping -A -I eth0 -c 1 -w 2 10.0.0.1")
    assert run_ok(s, "ip neigh show 10.0.0.1") == "10.0.0.1 dev eth0 lladdr 02:00:00:00:00:bb STALE \n"
    run_ok(h, "ip addr add 10.0.0.11/24 dev eth0; arping -q -U -I eth0 -c 1 10.0.0.11")
    assert run_ok(s, "ip neigh show 10.0.0.11") == ""                  # arp_accept=0: no entry made
    run_ok(s, "sysctl -qw net.ipv4.conf.eth0.arp_accept=1")
    run_ok(h, "arping -q -U -I eth0 -c 1 10.0.0.11")
    assert run_ok(s, "ip neigh show 10.0.0.11") == "10.0.0.11 dev eth0 lladdr 02:00:00:00:00:bb STALE \n"


@pytest.mark.parametrize(("line", "status", "out", "err"), [
    ("arping -w 4.5 -I eth0 10.0.0.2", 1, "", "arping: invalid argument: '4.5'\n"),
    ("arping -c 0 -I eth0 10.0.0.2", 1, "", "arping: invalid argument: '0': out of range: 1 <= value <= 2147483647\n"),
    ("arping -I eth9 -c 1 10.0.0.2", 2, "", "arping: Device eth9 not available.\n"),
    ("arping -I lo -c 1 10.0.0.2", 2, 'Interface "lo" is not ARPable\n', ""),
    ("arping -s 10.0.0.5 -c 1 -I eth0 10.0.0.2", 2, "", "arping: bind: Cannot assign requested address\n"),
    ("arping -U -I eth0 -c 1 -w 2 10.0.0.7", 2, "", "arping: bind: Cannot assign requested address\n"),
    ("arping -c 1 192.0.2.1", 1, "", "arping: NETLINK_ROUTE unexpected iov element\n"),
])
def test_bad_input_is_arpings_text_and_status(pair, line: str, status: int, out: str, err: str) -> None:
    h, _, _ = pair
    assert run(h, line) == (status, out, err)


def test_usage_and_unbounded_runs(pair) -> None:
    h, _, _ = pair
    r = h.run("arping -x")
    assert r.status == 2 and r.error.startswith("arping: invalid option -- 'x'\n" + USAGE_HEAD)
    r = h.run("arping -c")
    assert r.status == 2 and r.error.startswith("arping: option requires an argument -- 'c'\n" + USAGE_HEAD)
    assert h.run("arping").error.startswith(USAGE_HEAD) and h.run("arping a b").status == 2
    r = h.run("arping -I eth0 10.0.0.2")
    assert r.status == 2 and r.error.startswith("netplex: arping without -c COUNT or -w DEADLINE is not supported")
