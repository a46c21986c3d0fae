"""`ip xfrm`: iproute2's output and errors, and what the SAD/SPD do with packets."""
from __future__ import annotations

import pytest

from netplex.packet.ipv4 import IPv4
from netplex.stack.dropreason import SkbDropReason

from .conftest import GCM_KEY, run_ok, transport_sas

SA = f"ip xfrm state add src 192.168.0.1 dst 192.168.0.2 proto esp spi 0x100 reqid 1 mode tunnel aead 'rfc4106(gcm(aes))' {GCM_KEY} 128"


def test_state_and_policy_text(pair) -> None:
    _net, a, _b = pair
    run_ok(a, SA, "ip xfrm policy add src 10.1.0.0/16 dst 10.2.0.0/16 proto tcp dport 80 dir out priority 10 "
              "tmpl src 192.168.0.1 dst 192.168.0.2 proto esp reqid 1 mode transport level use")
    assert a.cmd("ip xfrm state") == (
        "src 192.168.0.1 dst 192.168.0.2\n\tproto esp spi 0x00000100 reqid 1 mode tunnel\n\treplay-window 0 \n"
        f"\taead rfc4106(gcm(aes)) {GCM_KEY} 128\n\tanti-replay context: seq 0x0, oseq 0x0, bitmap 0x00000000\n"
        "\tsel src 0.0.0.0/0 dst 0.0.0.0/0 \n")
    assert a.cmd("ip xfrm policy") == (
        "src 10.1.0.0/16 dst 10.2.0.0/16 proto tcp dport 80 \n\tdir out priority 10 ptype main \n"
        "\ttmpl src 192.168.0.1 dst 192.168.0.2\n\t\tproto esp reqid 1 mode transport\n\t\tlevel use \n")
    assert a.cmd("ip xfrm state list nokeys").splitlines()[3] == "\taead rfc4106(gcm(aes)) <<Keys hidden>> 128"
    assert a.cmd("ip xfrm state count; ip xfrm policy count") == "\t SAD count 1\n\t SPD IN  0 OUT 1 FWD 0\n"


@pytest.mark.parametrize("line,status,error", [
    (SA, 2, "RTNETLINK answers: File exists\n"),
    ("ip xfrm state add src 1.1.1.1 dst 2.2.2.2 spi 1", 255, 'Error: argument "XFRM-PROTO" is required\n'),
    ("ip xfrm state add src 1.1.1.1 dst 2.2.2.2 proto esp spi 1 mode tunnel", 1,
     'ALGO-TYPE value "enc" or "aead" is required with XFRM-PROTO value "esp"\n'),
    ("ip xfrm state add src 1.1.1.1 dst 2.2.2.2 proto esp spi 1 enc 'cbc(aes)' 0x0011", 2,
     "RTNETLINK answers: Invalid argument\n"),
    ("ip xfrm state add src 1.1.1.1 dst 2.2.2.2 proto esp spi 1 enc 'cbc(blowfish)' 0x0011", 2,
     "Error: Requested CRYPT algorithm not found.\n"),
    ("ip xfrm state add src 1.1.1.1 dst 2.2.2.2 proto esp spi 1 mode foo", 255,
     'Error: argument "foo" is wrong: MODE value is invalid\n'),
    ("ip xfrm state add proto esp spi 1 aead 'rfc4106(gcm(aes))' 0x00 128 enc aes 0x00", 255,
     'Error: duplicate "ALGO-TYPE": "enc" is the second value.\n'),
    ("ip xfrm state delete src 1.1.1.1 dst 2.2.2.2 proto esp spi 9", 2, "RTNETLINK answers: No such process\n"),
    ("ip xfrm state add src 1.1.1.1 dst 2.2.2.2 proto comp spi 1", 2,
     "netplex: ip xfrm state proto comp (netplex models ESP and AH) is not supported\n"),
    ("ip xfrm state add src 1.1.1.1 dst 2.2.2.2 proto esp spi 1 enc aes 0x00112233445566778899aabbccddeeff "
     "encap espintcp 4500 4500 0.0.0.0", 2, "netplex: ip xfrm state encap espintcp is not supported\n"),
    ("ip xfrm state add src 1.1.1.1 dst 2.2.2.2 proto esp spi 1 enc aes 0x00112233445566778899aabbccddeeff "
     "encap espinudpx 4500 4500 0.0.0.0", 255, 'Error: argument "espinudpx" is wrong: ENCAP-TYPE value is invalid\n'),
    ("ip xfrm state add src 1.1.1.1 dst 2.2.2.2 proto esp spi 1 enc aes 0x00112233445566778899aabbccddeeff "
     "encap espinudp 70000 4500 0.0.0.0", 255,
     'Error: argument "70000" is wrong: SPORT value after "encap" is invalid\n'),
    ("ip xfrm state add src 1.1.1.1 dst 2.2.2.2 proto esp spi 1 enc aes 0x00112233445566778899aabbccddeeff "
     "encap espinudp 4500 4500", 255, 'Command line is not complete. Try option "help"\n'),
    ("ip xfrm policy add src 10.0.0.0/8 dst 10.0.0.0/8", 1, "Not enough information: DIR is required.\n"),
    ("ip xfrm policy add src 10.0.0.0/8 dir sideways", 255, 'Error: argument "sideways" is wrong: DIR value is invalid\n'),
    ("ip xfrm policy delete src 10.9.0.0/16 dir in", 2, "RTNETLINK answers: No such file or directory\n"),
    ("ip xfrm policy get dir in", 1, "Not enough information: either SELECTOR or INDEX is required.\n"),
    ("ip xfrm state frob", 255, 'Command "frob" is unknown, try "ip xfrm state help".\n'),
])
def test_errors_as_iproute2(pair, line: str, status: int, error: str) -> None:
    _net, a, _b = pair
    run_ok(a, SA)
    before = (a.cmd("ip xfrm state"), a.cmd("ip xfrm policy"))
    r = a.run(line)
    assert (r.status, r.error) == (status, error)
    assert (a.cmd("ip xfrm state"), a.cmd("ip xfrm policy")) == before


def test_update_delete_flush_and_filters(pair) -> None:
    _net, a, _b = pair
    run_ok(a, SA, SA.replace("add", "update").replace("reqid 1", "reqid 7"))
    assert "reqid 7" in a.cmd("ip xfrm state list reqid 7")
    assert a.cmd("ip xfrm state list reqid 1") == ""
    run_ok(a, "ip xfrm policy add src 10.1.0.0/16 dst 10.2.0.0/16 dir out",
           "ip xfrm policy add src 10.2.0.0/16 dst 10.1.0.0/16 dir in action block")
    assert a.cmd("ip xfrm policy list dir in").splitlines()[1] == "\tdir in action block priority 0 ptype main "
    assert "index 8 " in a.cmd("ip -s xfrm policy list dir in")
    run_ok(a, "ip xfrm policy delete src 10.2.0.0/16 dst 10.1.0.0/16 dir in", "ip xfrm state deleteall proto esp")
    assert a.cmd("ip xfrm state") == "" and a.cmd("ip xfrm policy count") == "\t SPD IN  0 OUT 1 FWD 0\n"
    run_ok(a, "ip xfrm policy flush")
    assert a.cmd("ip xfrm policy") == ""


def test_plain_traffic_is_dropped_where_a_policy_wants_ipsec(pair) -> None:
    net, a, b = pair
    run_ok(b, "ip xfrm policy add src 192.168.0.1 dst 192.168.0.2 dir in tmpl proto esp mode transport")
    assert "100% packet loss" in a.cmd("ping -c 1 192.168.0.2")
    assert b.ns.drops.get(SkbDropReason.XFRM_POLICY) == 1
    # level use: the template is optional, plain traffic passes
    run_ok(b, "ip xfrm policy update src 192.168.0.1 dst 192.168.0.2 dir in tmpl proto esp mode transport level use")
    assert "1 received" in a.cmd("ping -c 1 192.168.0.2")


def test_out_policy_block_and_missing_sa(pair) -> None:
    _net, a, _b = pair
    run_ok(a, "ip xfrm policy add dst 192.168.0.2 dir out action block")
    r = a.run("ping -c 1 192.168.0.2")
    assert "ping: sendmsg: Operation not permitted" in r.output + r.error
    run_ok(a, "ip xfrm policy update dst 192.168.0.2 dir out tmpl proto esp mode transport")
    assert "100% packet loss" in a.cmd("ping -c 1 192.168.0.2")   # no SA: larval drop, no error
    assert a.ns.xfrm.stats["XfrmOutNoStates"] == 1


def test_replay_and_tampering_are_dropped_and_counted(pair) -> None:
    net, a, b = pair
    transport_sas(a, b, extra="replay-window 32")
    frames = []
    net.world.capture = lambda dev, frame: frames.append(frame.copy()) if dev.name == "eth0" and \
        dev.ns is b.ns and isinstance(frame.payload, IPv4) and frame.payload.proto == 50 \
        and frame.payload.src == 0xC0A80001 else None
    assert "1 received" in a.cmd("ping -c 1 192.168.0.2")
    net.world.capture = None
    esp_frame = frames[0]
    x = b.ns.xfrm.by_id[(0xC0A80002, 0x100, 50)]
    b.ns.devices["eth0"].rx(esp_frame.copy())
    net.run_for(10**8)
    assert x.st_replay == 1
    forged = esp_frame.copy()
    forged.payload.payload.seq = 50
    b.ns.devices["eth0"].rx(forged)
    net.run_for(10**8)
    assert x.st_integrity_failed == 1
    assert "replay-window 0 replay 1 failed 1" in b.cmd("ip -s xfrm state list spi 0x100")


def test_hard_packet_limit_expires_the_sa(pair) -> None:
    _net, a, b = pair
    transport_sas(a, b, extra="limit packet-hard 2")
    assert "2 received" in a.cmd("ping -c 2 192.168.0.2")
    assert "100% packet loss" in a.cmd("ping -c 1 192.168.0.2")
    assert "spi 0x00000100" not in a.cmd("ip xfrm state")


def test_no_xfrm_code_runs_without_policies(pair) -> None:
    _net, a, _b = pair
    assert not a.ns.xfrm and not a.ns.xfrm.spd_out
    run_ok(a, SA)
    assert a.ns.xfrm and not a.ns.xfrm.spd_out
    gen = a.ns.world.config_generation
    run_ok(a, "ip xfrm state flush")
    assert not a.ns.xfrm and a.ns.world.config_generation > gen


def test_oneline(pair) -> None:
    _net, a, _b = pair
    run_ok(a, SA, "ip xfrm policy add src 10.1.0.0/16 dst 10.2.0.0/16 dir out")
    assert a.cmd("ip -o xfrm policy") == "src 10.1.0.0/16 dst 10.2.0.0/16 \\\tdir out priority 0 ptype main \\\n"
    assert a.cmd("ip -o xfrm state").count("\n") == 1
