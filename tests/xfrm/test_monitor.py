"""`ip xfrm monitor` (iproute2 ip/xfrm_monitor.c) in the simulator: the notifications of the
namespace's SAD and SPD (xfrm_user.c's km_state_notify, km_policy_notify, km_query) printed
while the simulation runs. The kernel twin has no xfrm here, so the texts are iproute2's
printers read from its source, as `ip xfrm state/policy list` prints them."""
from __future__ import annotations

from pathlib import Path

import pytest

from netplex.packet.addr import ip_to_int
from netplex.scenario.loader import load_scenario
from netplex.scenario.runner import run_scenario
from netplex.scenario.sim import SimBackend
from tests.test_robustness import _Terminal

from .conftest import GCM_KEY, run_ok

ROOT = Path(__file__).resolve().parents[2]
SA = (f"ip xfrm state add src 192.168.0.1 dst 192.168.0.2 proto esp spi 0x100 reqid 1 mode transport "
      f"aead 'rfc4106(gcm(aes))' {GCM_KEY} 128")
SA_TEXT = ("src 192.168.0.1 dst 192.168.0.2\n"
           "\tproto esp spi 0x00000100 reqid 1 mode transport\n"
           "\treplay-window 0 \n"
           f"\taead rfc4106(gcm(aes)) {GCM_KEY} 128\n"
           "\tanti-replay context: seq 0x0, oseq 0x0, bitmap 0x00000000\n"
           "\tsel src 0.0.0.0/0 dst 0.0.0.0/0 \n")
POLICY = ("ip xfrm policy add src 10.0.0.0/8 dst 10.1.0.0/16 dir out "
          "tmpl src 192.168.0.1 dst 192.168.0.2 proto esp reqid 1 mode tunnel")
POLICY_TEXT = ("src 10.0.0.0/8 dst 10.1.0.0/16 \n"
               "\tdir out priority 0 ptype main \n"
               "\ttmpl src 192.168.0.1 dst 192.168.0.2\n"
               "\t\tproto esp reqid 1 mode tunnel\n")
SEC = 1_000_000_000


def _later(net, node, *lines: str) -> None:
    """Each line run on `node` one simulated second after the previous, while a monitor runs."""
    for k, line in enumerate(lines, 1):
        net.sched.at(net.sched.now + k * SEC, node.run, line)


def test_lifetimes_expire_soft_then_hard(pair) -> None:
    _net, a, _b = pair
    r = a.run(f"{SA} limit time-soft 2 limit time-hard 4; timeout 6 ip xfrm monitor")
    assert (r.status, r.error) == (124, "")
    # an EXPIRE message carries the SA's xfrm_usersa_info only (build_expire): no algorithm or replay lines
    expired = ("Expired src 192.168.0.1 dst 192.168.0.2\n"
               "\tproto esp spi 0x00000100 reqid 1 mode transport\n"
               "\treplay-window 0 \n"
               "\tsel src 0.0.0.0/0 dst 0.0.0.0/0 \n")
    assert r.output == f"{expired}\thard 0\n{expired}\thard 1\n"
    assert a.cmd("ip xfrm state count") == "\t SAD count 0\n"


def test_every_change_of_sad_and_spd_is_printed_as_it_happens(pair) -> None:
    net, a, _b = pair
    _later(net, a, POLICY, SA, f"{SA.replace(' add ', ' update ')} flag noecn",
           "ip xfrm state delete src 192.168.0.1 dst 192.168.0.2 proto esp spi 0x100",
           POLICY.replace(" add ", " update "), "ip xfrm state flush; ip xfrm policy flush")
    r = a.run("timeout 8 ip xfrm monitor")
    assert r.status == 124
    noecn = SA_TEXT.replace("replay-window 0 \n", "replay-window 0 flag noecn\n")
    assert r.output == (POLICY_TEXT + SA_TEXT + "Updated " + noecn + "Deleted " + noecn
                        + "Updated " + POLICY_TEXT + "Flushed state proto 0\nFlushed policy \n")
    # the object list keeps only those groups; -o folds each record on one line
    _later(net, a, POLICY, SA, "ip xfrm state flush proto esp; ip xfrm policy flush")
    r = a.run("timeout 5 ip -o xfrm monitor SA")
    assert r.output == SA_TEXT.replace("\n", "\\") + "\n" + "Flushed state proto esp\\\n"
    _later(net, a, POLICY, SA, "ip xfrm state flush")
    assert a.run("timeout 4 ip xfrm monitor pol").output == POLICY_TEXT


def test_acquire_of_a_policy_without_sa(pair) -> None:
    net, a, _b = pair
    run_ok(a, "ip xfrm policy add src 192.168.0.1 dst 192.168.0.2 dir out "
              "tmpl src 192.168.0.1 dst 192.168.0.2 proto esp reqid 1 mode tunnel")
    _later(net, a, "ping -c 1 -W 1 192.168.0.2")
    r = a.run("timeout 3 ip xfrm monitor acquire expire")
    assert r.output == ("acquire proto esp \n"
                        "  sel src 192.168.0.1/32 dst 192.168.0.2/32 proto icmp type 8 code 0 dev eth0 \n"
                        "  policy src 192.168.0.1/32 dst 192.168.0.2/32 \n"
                        "    \tdir out priority 0 ptype main \n"
                        "    \ttmpl src 192.168.0.1 dst 192.168.0.2\n"
                        "    \t\tproto esp reqid 1 mode tunnel\n"
                        "\n")
    # SA events are not in the acquire and expire groups
    _later(net, a, SA)
    assert a.run("timeout 2 ip xfrm monitor acquire expire").output == ""


@pytest.mark.parametrize(("line", "status", "error"), [
    ("ip xfrm monitor frob", 255, 'Argument "frob" is unknown, try "ip xfrm monitor help".\n'),
    ("ip xfrm monitor help", 255, "Usage: ip xfrm monitor [ nokeys ] [ all-nsid ] [ all | OBJECTS | help ]\n"
                                  "OBJECTS := { acquire | expire | SA | aevent | policy | report }\n"),
    ("ip xfrm monitor file", 255, 'Command line is not complete. Try option "help"\n'),
    ("ip xfrm monitor SA aevent", 2, "netplex: ip xfrm monitor aevent is not supported (netplex sends no "
                                     "replay/timer async events (XFRM_MSG_NEWAE) and no XFRM_MSG_REPORT)\n"),
    ("ip xfrm monitor all-nsid", 2, "netplex: ip xfrm monitor all-nsid is not supported (netplex has no "
                                    "namespace ids: monitor one namespace (ip -n NAME xfrm monitor))\n"),
    ("ip xfrm monitor &", 0, "netplex: ip xfrm monitor in a background job (&) is not supported (netplex's "
                             "shell runs a job to completion before the next command, so it would see none of "
                             "what follows; run `timeout N ip xfrm monitor` while a daemon or a lifetime "
                             "changes the SAD)\n"),
])
def test_bad_arguments_and_refusals(pair, line: str, status: int, error: str) -> None:
    net, a, _b = pair
    now = net.sched.now
    r = a.run(line)
    assert (r.status, r.error) == (status, error)
    assert net.sched.now == now


def test_off_a_terminal_without_timeout_it_stops_at_netplex_limit(pair) -> None:
    net, a, _b = pair
    _later(net, a, SA)
    r = a.run("ip xfrm monitor nokeys")
    assert r.status == 2 and r.error.startswith("netplex: ip xfrm monitor stopped at netplex's limit (60 s")
    assert r.output == SA_TEXT.replace(GCM_KEY, "<<Keys hidden>>")


def test_charon_establishes_and_rekeys_under_the_monitor(tmp_path) -> None:
    """gw1's trap policy catches pc1's traffic (ACQUIRE), charon negotiates and installs the CHILD
    SA, rekeys it at its soft lifetime (rekey_time 20 s) and deletes the old SAs."""
    s = (ROOT / "examples" / "ipsec-rekey.yaml").read_text()
    s = s.replace("      swanctl --initiate --child offices\n", "")
    s = s.replace("mode = tunnel", "mode = tunnel\n                start_action = trap", 1)
    (tmp_path / "rk.yaml").write_text(s[:s.index("probes:")])
    b = SimBackend()
    run_scenario(load_scenario(tmp_path / "rk.yaml"), b)
    net, gw1 = b.net, b.net.nodes["gw1"]
    tx = net.nodes["pc1"].ns.sockets.udp_socket()
    for k in range(1, 25):
        net.sched.at(net.sched.now + k * SEC, tx.sendto, b"hello", ip_to_int("10.2.0.10"), 9)
    r = gw1.run("timeout 25 ip xfrm monitor")
    assert (r.status, r.error) == (124, "")
    heads = [line for line in r.output.splitlines() if line and not line.startswith((" ", "\t"))]
    assert heads[0] == "acquire proto esp "
    assert heads[1:4] == ["src 198.51.100.1 dst 192.0.2.1", "src 192.0.2.1 dst 198.51.100.1",
                          "Updated src 10.1.0.0/16 dst 10.2.0.0/16 "]
    spis = [line.split()[3] for line in r.output.splitlines() if line.startswith("\tproto esp spi")]
    first, second = spis[0:2], spis[2:4]
    assert set(first).isdisjoint(second)
    # the old pair is deleted after the new one is in, and what is left is the new pair
    deleted = [h for h in heads if h.startswith("Deleted src ")]
    assert len(deleted) == 2 and spis[-2:] == first
    assert heads.index(deleted[0]) > heads.index("src 198.51.100.1 dst 192.0.2.1", 2)
    state = gw1.cmd("ip xfrm state")
    assert all(spi in state for spi in second) and not any(spi in state for spi in first)



def test_at_a_terminal_each_event_is_written_as_it_comes_until_ctrl_c(pair) -> None:
    net, a, _b = pair
    _later(net, a, SA, "ip xfrm state delete src 192.168.0.1 dst 192.168.0.2 proto esp spi 0x100", POLICY)
    term = _Terminal(2_500_000_000)
    a.shell.terminal = term
    try:
        r = a.run("ip xfrm monitor; echo st=$?")
    finally:
        a.shell.terminal = None
    # one write per event, at its time; the policy added at 3 s comes after Ctrl-C
    chunks = [t for t in term.text if t]
    assert chunks[:2] == [SA_TEXT, "Deleted " + SA_TEXT]
    assert "".join(chunks[2:]) + r.output == "st=130\n"
