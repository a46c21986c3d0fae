"""/proc/net/xfrm_stat (net/xfrm/xfrm_proc.c): the namespace's LINUX_MIB_XFRM* counters, the 28
names of Linux 6.1 in xfrm_mib_list's order, `%-24s\\t%lu` each, read with `cat` on a node. Each
drop of the simulator's xfrm moves its counter and no other: typed as ip xfrm and ping commands.
This kernel has no xfrm, so there is no twin comparison."""
from __future__ import annotations

import pytest

from netplex.stack.xfrm.state import XFRM_MIB_LIST
from tests.xfrm.conftest import GCM_KEY, run_ok, transport_sas

GCM = f"aead 'rfc4106(gcm(aes))' {GCM_KEY} 128"
OTHER_KEY = "0x" + "ff" * 20


def xfrm_stat(node) -> dict[str, int]:
    r = node.run("cat /proc/net/xfrm_stat")
    assert r.status == 0, r.error
    out = {}
    for line in r.output.splitlines():
        name, value = line.split("\t")
        out[name.rstrip()] = int(value)
    return out


def moved(before: dict[str, int], after: dict[str, int]) -> dict[str, int]:
    return {k: after[k] - before[k] for k in after if after[k] != before[k]}


def test_format_and_names(pair) -> None:
    """Every name padded to 24, a tab, the value; the kernel's order; all zero on a fresh node; listed
    in /proc/net."""
    _net, a, _b = pair
    text = a.cmd("cat /proc/net/xfrm_stat")
    assert text.startswith("XfrmInError             \t0\nXfrmInBufferError       \t0\nXfrmInHdrError          \t0\n")
    assert text.endswith("XfrmOutStateInvalid     \t0\nXfrmAcquireError        \t0\n")
    assert len(XFRM_MIB_LIST) == 28 and [ln.split("\t")[0].rstrip() for ln in text.splitlines()] == list(XFRM_MIB_LIST)
    assert set(xfrm_stat(a).values()) == {0}
    assert "xfrm_stat" in a.cmd("ls /proc/net").split()


def _out_block(a, b) -> None:
    run_ok(a, "ip xfrm policy add dst 192.168.0.2 dir out action block")


def _out_no_states(a, b) -> None:
    run_ok(a, "ip xfrm policy add dst 192.168.0.2 dir out tmpl proto esp mode transport")


def _in_tmpl_mismatch(a, b) -> None:
    run_ok(b, "ip xfrm policy add src 192.168.0.1 dst 192.168.0.2 dir in tmpl proto esp mode transport")


def _in_pol_block(a, b) -> None:
    run_ok(b, "ip xfrm policy add src 192.168.0.1 dst 192.168.0.2 dir in action block")


def _in_no_states(a, b) -> None:
    run_ok(a, f"ip xfrm state add src 192.168.0.1 dst 192.168.0.2 proto esp spi 0x100 reqid 1 mode transport {GCM}",
           "ip xfrm policy add src 192.168.0.1 dst 192.168.0.2 dir out tmpl proto esp reqid 1 mode transport")


def _in_proto_error(a, b) -> None:
    _in_no_states(a, b)
    run_ok(b, f"ip xfrm state add src 192.168.0.1 dst 192.168.0.2 proto esp spi 0x100 reqid 1 mode transport "
              f"aead 'rfc4106(gcm(aes))' {OTHER_KEY} 128")


def _in_seq_error(a, b) -> None:
    _in_no_states(a, b)    # b's window already at 100: a's first packet (seq 1) is a replay
    run_ok(b, "ip xfrm state add src 192.168.0.1 dst 192.168.0.2 proto esp spi 0x100 reqid 1 mode transport "
              f"{GCM} replay-window 32 replay-seq 100")


def _in_expired(a, b) -> None:
    _in_no_states(a, b)
    run_ok(b, f"ip xfrm state add src 192.168.0.1 dst 192.168.0.2 proto esp spi 0x100 reqid 1 mode transport {GCM} "
              "limit packet-hard 0")


def _in_no_pols(a, b) -> None:
    """A tunnel-mode SA's packet with no in policy at all: its inner packet is refused."""
    for n in (a, b):
        run_ok(n, f"ip xfrm state add src 192.168.0.1 dst 192.168.0.2 proto esp spi 0x100 reqid 1 mode tunnel {GCM}")
    run_ok(a, "ip xfrm policy add src 192.168.0.1 dst 192.168.0.2 dir out tmpl src 192.168.0.1 dst 192.168.0.2 "
              "proto esp reqid 1 mode tunnel")


def _out_expired(a, b) -> None:
    run_ok(a, f"ip xfrm state add src 192.168.0.1 dst 192.168.0.2 proto esp spi 0x100 reqid 1 mode transport {GCM} "
              "limit packet-hard 0",
           "ip xfrm policy add src 192.168.0.1 dst 192.168.0.2 dir out tmpl proto esp reqid 1 mode transport")


def _out_seq_error(a, b) -> None:
    run_ok(a, f"ip xfrm state add src 192.168.0.1 dst 192.168.0.2 proto esp spi 0x100 reqid 1 mode transport {GCM} "
              "replay-oseq 0xffffffff",
           "ip xfrm policy add src 192.168.0.1 dst 192.168.0.2 dir out tmpl proto esp reqid 1 mode transport")


# (setup, the node whose counter moves, the counter): a pings b once after the setup
CASES = {
    "XfrmOutPolBlock": (_out_block, "a"),
    "XfrmOutNoStates": (_out_no_states, "a"),
    "XfrmOutStateExpired": (_out_expired, "a"),
    "XfrmOutStateSeqError": (_out_seq_error, "a"),
    "XfrmInTmplMismatch": (_in_tmpl_mismatch, "b"),
    "XfrmInPolBlock": (_in_pol_block, "b"),
    "XfrmInNoStates": (_in_no_states, "b"),
    "XfrmInStateProtoError": (_in_proto_error, "b"),
    "XfrmInStateSeqError": (_in_seq_error, "b"),
    "XfrmInStateExpired": (_in_expired, "b"),
    "XfrmInNoPols": (_in_no_pols, "b"),
}


@pytest.mark.parametrize("counter", sorted(CASES))
def test_each_drop_moves_its_counter(pair, counter: str) -> None:
    _net, a, b = pair
    setup, where = CASES[counter]
    setup(a, b)
    node = a if where == "a" else b
    before, other_before = xfrm_stat(node), xfrm_stat(b if node is a else a)
    r = a.run("ping -c 1 -W 1 192.168.0.2")
    assert r.status != 0, r.output
    assert moved(before, xfrm_stat(node)) == {counter: 1}
    assert moved(other_before, xfrm_stat(b if node is a else a)) == {}


def test_traffic_that_passes_moves_nothing(pair) -> None:
    """ESP both ways, and local traffic (lo is NOXFRM/NOPOLICY: inetdev_init) with a block policy."""
    _net, a, b = pair
    transport_sas(a, b)
    before_a, before_b = xfrm_stat(a), xfrm_stat(b)
    assert "1 received" in a.cmd("ping -c 1 192.168.0.2")
    run_ok(a, "ip xfrm policy add dst 192.168.0.1 dir out action block")
    assert "1 received" in a.cmd("ping -c 1 192.168.0.1")
    assert moved(before_a, xfrm_stat(a)) == {} and moved(before_b, xfrm_stat(b)) == {}


def test_per_namespace(pair) -> None:
    """Each network namespace has its own (net->mib.xfrm_statistics): `ip netns exec` reads the one's."""
    _net, a, _b = pair
    run_ok(a, "ip netns add x", "ip link add v0 type veth peer name v1", "ip link set v1 netns x",
           "ip -n x addr add 10.9.0.1/24 dev v1", "ip -n x link set v1 up",
           "ip -n x xfrm policy add dst 10.9.0.2 dir out action block")
    assert a.run("ip netns exec x ping -c 1 -W 1 10.9.0.2").status != 0
    assert "XfrmOutPolBlock         \t1\n" in a.cmd("ip netns exec x cat /proc/net/xfrm_stat")
    assert xfrm_stat(a)["XfrmOutPolBlock"] == 0
