"""IKEv2 cookies (RFC 7296 §2.6) between two simulated charons: a responder with half-open IKE SAs
answers IKE_SA_INIT with N(COOKIE) only, the initiator sends the request again with the cookie first.
(Against the real charon, both ways: tests/twin/test_ike_charon.py.)"""
from __future__ import annotations

import random
from pathlib import Path

from netplex.apps.charon import find_charon
from netplex.ike.config import parse_swanctl
from netplex.ike.cookie import CookieGuard, DosSettings, request_cookie
from netplex.ike.message import IkeHeader
from netplex.ike.sa import IkeSa
from netplex.scenario.loader import load_scenario
from netplex.scenario.runner import prepare
from netplex.scenario.sim import SimBackend

ROOT = Path(__file__).resolve().parents[2]
STRONGSWAN_CONF = """\
    files:
      /etc/strongswan.conf: |
        # as Debian ships it, then the DoS protection made eager
        charon {
          load_modular = yes
          plugins {
            include strongswan.d/charon/*.conf
          }
          cookie_threshold_ip = 1
        }
        include strongswan.d/*.conf
"""
# gw2 cannot send IKE_AUTH (its second packet to gw1's port 500): gw1 keeps the IKE SA half open
LOSE_AUTH = "iptables -A OUTPUT -p udp --dport 500 -m conntrack --ctstate ESTABLISHED -j DROP"


def _net(tmp_path: Path, conf: str = STRONGSWAN_CONF):
    text = (ROOT / "examples" / "ipsec-site-to-site-psk.yaml").read_text()
    text = text.replace("      swanctl --initiate --child offices\n", "")
    text = text.replace("  gw1:\n    files:\n", "  gw1:\n" + conf, 1)
    path = tmp_path / "cookies.yaml"
    path.write_text(text)
    b = SimBackend()
    assert prepare(load_scenario(path), b) is None
    return b.net


def test_half_open_sa_makes_the_responder_ask_for_a_cookie(tmp_path) -> None:
    net = _net(tmp_path)
    gw1, gw2 = net.nodes["gw1"], net.nodes["gw2"]
    assert gw2.run(LOSE_AUTH).status == 0
    r = gw2.run("swanctl --initiate --child offices --timeout 2")
    assert r.status == 1 and r.error == "initiate failed: timeout\n"
    assert gw2.run("iptables -F OUTPUT").status == 0
    r = gw2.run("swanctl --initiate --child offices")
    assert r.status == 0, r.output + r.error
    assert "[ENC] parsed IKE_SA_INIT response 0 [ N(COOKIE) ]\n" in r.output
    d1 = find_charon(gw1.machine.procs)
    assert d1 is not None and "[ENC] generating IKE_SA_INIT response 0 [ N(COOKIE) ]" in d1.log
    assert d1.cookies is not None and d1.cookies.sent == 1
    assert net.nodes["pc1"].run("ping -c 2 -W 1 10.2.0.10").status == 0
    # the cookie's request is the one IKE_AUTH signed: both sides list the same IKE SA
    sas1, sas2 = gw1.cmd("swanctl --list-sas"), gw2.cmd("swanctl --list-sas")
    up = [ln.split()[-2:] for ln in sas2.splitlines() if "ESTABLISHED" in ln]
    assert len(up) == 1 and all(s.rstrip("*") in sas1 for s in up[0]), (sas1, sas2)
    # the CHILD SA's times are the SAD's (CLOCK_REALTIME) against the same clock: rekey_time = 1h less jitter
    line = next(ln for ln in sas1.splitlines() if "rekeying in" in ln and "installed" in ln)
    assert 3000 < int(line.split("rekeying in ")[1].split("s")[0]) < 3600, line
    assert "    0s ago" in sas1


def test_cookies_stop_once_the_half_open_sa_timed_out(tmp_path) -> None:
    net = _net(tmp_path)
    gw1, gw2 = net.nodes["gw1"], net.nodes["gw2"]
    gw2.run(LOSE_AUTH)
    gw2.run("swanctl --initiate --child offices --timeout 2")
    gw2.run("iptables -F OUTPUT")
    gw2.run("swanctl --terminate --ike site2site")
    net.world.run_for(45 * 1_000_000_000)      # half_open_timeout (30 s), then COOKIE_CALMDOWN_DELAY (10 s)
    d1 = find_charon(gw1.machine.procs)
    assert d1 is not None and "[JOB] deleting half open IKE_SA with 198.51.100.1 after timeout" in d1.log
    r = gw2.run("swanctl --initiate --child offices")
    assert r.status == 0 and "N(COOKIE)" not in r.output
    assert d1.cookies is not None and d1.cookies.sent == 0


def test_dos_protection_off_never_asks(tmp_path) -> None:
    net = _net(tmp_path, STRONGSWAN_CONF.replace("cookie_threshold_ip = 1", "cookie_threshold_ip = 1\n"
                                                 "          dos_protection = no"))
    gw2 = net.nodes["gw2"]
    gw2.run(LOSE_AUTH)
    gw2.run("swanctl --initiate --child offices --timeout 2")
    gw2.run("iptables -F OUTPUT")
    r = gw2.run("swanctl --initiate --child offices")
    assert r.status == 0 and "N(COOKIE)" not in r.output


def test_guard_checks_the_cookie_it_made() -> None:
    """A cookie is good for the request it was made for (Ni, IPi, SPIi) for COOKIE_LIFETIME seconds."""
    rng = random.Random(7)

    def rand(n: int) -> bytes:
        return rng.getrandbits(8 * n).to_bytes(n, "big")
    conf = parse_swanctl("connections { c { proposals = aes128-sha256-x25519\n local { auth = psk }\n"
                         " remote { auth = psk }\n children { k { esp_proposals = aes128gcm16 } } } }")
    cfg = conf.connections["c"]
    init = IkeSa(cfg, 0x0A000001, 0x0A000002, True, rand, b"k", lambda: 0)
    guard = CookieGuard(DosSettings(1, 0, 0), rand)
    req = init.initiate(cfg.children["k"])
    assert request_cookie(req) is None
    verdict, resp = guard.check(req, IkeHeader.unpack(req), 0x0A000001, 1, 1, 100)
    assert verdict == "cookie" and len(resp) == 28 + 8 + 24
    assert init.receive(resp) and init.cookie and request_cookie(init.init_req) == init.cookie
    again = init.init_req
    assert guard.check(again, IkeHeader.unpack(again), 0x0A000001, 1, 1, 105)[0] == "ok"
    # from another address, or too late: another cookie
    assert guard.check(again, IkeHeader.unpack(again), 0x0A000009, 1, 1, 105)[0] == "cookie"
    assert guard.check(again, IkeHeader.unpack(again), 0x0A000001, 1, 1, 111)[0] == "cookie"
    tampered = bytearray(again)
    tampered[40] ^= 1
    assert guard.check(bytes(tampered), IkeHeader.unpack(bytes(tampered)), 0x0A000001, 1, 1, 105)[0] == "cookie"
