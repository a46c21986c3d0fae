"""disable_xfrm and disable_policy (devinet's IN_DEV_NOXFRM / IN_DEV_NOPOLICY): a route out of a
device with disable_xfrm skips the SPD (DST_NOXFRM, xfrm_lookup), and what a device with
disable_policy receives skips the inbound policy check (IPSKB_NOPOLICY). This kernel has no
xfrm, so there is no twin comparison; the semantics are net/ipv4/route.c's and xfrm.h's."""
from __future__ import annotations

from tests.xfrm.conftest import run_ok, transport_sas


def _stat(node, name: str) -> int:
    """The namespace's XFRM MIB counter (what `cat /proc/net/xfrm_stat` prints)."""
    return node.ns.xfrm.stats.get(name, 0)


def test_disable_xfrm_sends_in_the_clear_and_disable_policy_lets_it_in(pair) -> None:
    net, a, b = pair
    transport_sas(a, b)
    assert "1 received" in a.cmd("ping -c 1 192.168.0.2")
    # a's eth0 skips the SPD: the echo request leaves in the clear, and b's in policy (ESP required) drops it
    run_ok(a, "sysctl -qw net.ipv4.conf.eth0.disable_xfrm=1")
    before = _stat(b, "XfrmInTmplMismatch")
    assert "0 received" in a.cmd("ping -c 1 -W 1 192.168.0.2")
    assert _stat(b, "XfrmInTmplMismatch") == before + 1
    assert a.cmd("sysctl net.ipv4.conf.eth0.disable_xfrm") == "net.ipv4.conf.eth0.disable_xfrm = 1\n"
    # b checks no policy on what it receives (`all` is enough): the clear request is answered, the
    # reply still leaves b through its out policy in ESP and satisfies a's in policy
    run_ok(b, "sysctl -qw net.ipv4.conf.all.disable_policy=1")
    assert "1 received" in a.cmd("ping -c 1 192.168.0.2")
    assert _stat(b, "XfrmInTmplMismatch") == before + 1
    # back to the policies: both off again, ESP both ways
    run_ok(a, "sysctl -qw net.ipv4.conf.eth0.disable_xfrm=0")
    run_ok(b, "sysctl -qw net.ipv4.conf.all.disable_policy=0")
    assert "1 received" in a.cmd("ping -c 1 192.168.0.2")
