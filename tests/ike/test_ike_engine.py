"""netplex's IKEv2 engine against itself (the interop with charon is tests/twin/test_ike_charon.py)."""
from __future__ import annotations

import random

import pytest

from netplex.ike.config import ConfigError, parse_swanctl
from netplex.ike.message import FLAG_I, IkeHeader
from netplex.ike.proposal import ProposalError, choose, parse_proposals
from netplex.ike.sa import IkeSa
from netplex.ike.transforms import MODP2048, PRF, prf_plus

CONF = """
connections {
  s2s {
    local_addrs = 192.0.2.1
    remote_addrs = 198.51.100.1
    proposals = PROPS
    local {
      auth = psk
      id = gw1
    }
    remote {
      auth = psk
      id = gw2
    }
    children {
      net {
        local_ts = 10.1.0.0/16
        remote_ts = 10.2.0.0/16
        esp_proposals = ESP
      }
    }
  }
}
secrets {
  ike-1 {
    id-1 = gw1
    id-2 = gw2
    secret = "s3cret"
  }
}
"""


def _mirror(text: str) -> str:
    swaps = (("192.0.2.1", "198.51.100.1"), ("gw1", "gw2"), ("10.1.0.0/16", "10.2.0.0/16"))
    for a, b in swaps:
        text = text.replace(a, "\0").replace(b, a).replace("\0", b)
    return text.replace("id = gw2\n    }\n    remote", "id = gw2\n    }\n    remote")


def _pair(props: str = "aes128-sha256-x25519", esp: str = "aes128gcm16", psk_b: bytes = b"s3cret"):
    text = CONF.replace("PROPS", props).replace("ESP", esp)
    a_cfg = parse_swanctl(text).connections["s2s"]
    b_cfg = parse_swanctl(_mirror(text)).connections["s2s"]
    rng = random.Random(7)
    a = IkeSa(a_cfg, 0xC0000201, 0xC6336401, True, rng.randbytes, b"s3cret", lambda: 0)
    b = IkeSa(b_cfg, 0xC6336401, 0xC0000201, False, rng.randbytes, psk_b, lambda: 0)
    return a, b


def _exchange(first: bytes, a: IkeSa, b: IkeSa) -> None:
    msgs, turn = [first], b
    for _ in range(10):
        out: list[bytes] = []
        for d in msgs:
            out += turn.receive(d)
        if not out:
            return
        msgs, turn = out, (a if turn is b else b)


@pytest.mark.parametrize("props,esp", [("aes128-sha256-x25519", "aes128gcm16"),
                                       ("aes256-sha512-ecp256", "aes256-sha384"),
                                       ("aes128gcm16-prfsha256-modp2048", "chacha20poly1305")])
def test_ike_sa_and_child_sa_between_two_netplex_peers(props: str, esp: str) -> None:
    a, b = _pair(props, esp)
    _exchange(a.initiate(a.cfg.children["net"]), a, b)
    assert (a.state, b.state) == ("ESTABLISHED", "ESTABLISHED")
    assert a.remote_id == "gw2" and b.remote_id == "gw1"
    ca, cb = a.children[0], b.children[0]
    assert (ca.spi_in, ca.spi_out) == (cb.spi_out, cb.spi_in)
    assert (ca.enc_out, ca.int_out) == (cb.enc_in, cb.int_in) and ca.enc_out != ca.enc_in


def test_wrong_psk_is_authentication_failed_and_no_child() -> None:
    a, b = _pair(psk_b=b"other")
    _exchange(a.initiate(a.cfg.children["net"]), a, b)
    assert ("auth_failed", "AUTHENTICATION_FAILED") in a.events
    assert b.events == [("auth_failed", "tried 1 shared key for 'gw2' - 'gw1', but MAC mismatched")]
    assert a.children == [] and b.children == [] and a.state == b.state == "DESTROYED"


def test_invalid_ke_payload_makes_the_initiator_retry_with_the_group_asked_for() -> None:
    a, b = _pair()
    a.cfg.proposals = "aes128-sha256-x25519-ecp256"
    b.cfg.proposals = "aes128-sha256-ecp256"
    _exchange(a.initiate(a.cfg.children["net"]), a, b)
    assert a.state == "ESTABLISHED" and a.chosen is not None and a.chosen.dh == 19


def test_rekey_with_pfs_replaces_the_child_and_deletes_the_old() -> None:
    a, b = _pair(esp="aes128gcm16-x25519")
    _exchange(a.initiate(a.cfg.children["net"]), a, b)
    old = a.children[0]
    _exchange(a.rekey_child(old), a, b)
    assert [e for e, _x in a.events] == ["ike_up", "child_up", "child_rekeyed", "child_down"]
    assert len(a.children) == len(b.children) == 1
    assert a.children[0].spi_in != old.spi_in and a.children[0].enc_out == b.children[0].enc_in


def test_no_common_proposal() -> None:
    a, b = _pair()
    b.cfg.proposals = "aes256-sha512-modp2048"
    _exchange(a.initiate(a.cfg.children["net"]), a, b)
    assert ("no_proposal", None) in a.events and a.state == "DESTROYED"


def test_prf_plus_and_the_group_14_prime() -> None:
    prf = PRF["prfsha256"]
    out = prf_plus(prf, b"k", b"seed", 80)
    t1 = prf(b"k", b"seed\x01")
    t2 = prf(b"k", t1 + b"seed\x02")
    assert out[:64] == t1 + t2 and len(out) == 80
    assert MODP2048.bit_length() == 2048 and MODP2048 >> 1984 == (1 << 64) - 1 and MODP2048 & ((1 << 64) - 1) == 2**64 - 1


def test_proposal_keywords() -> None:
    p = parse_proposals("aes128-sha256-x25519", 1)[0]
    assert p.transforms == [(1, 12, 128), (3, 12, None), (4, 31, None), (2, 5, None)]
    assert choose(parse_proposals("aes128gcm16", 3), parse_proposals("aes256gcm16,aes128gcm16", 3), 3) is not None
    with pytest.raises(ProposalError):
        parse_proposals("3des-md5-modp1024", 1)


def test_swanctl_conf_refuses_what_it_does_not_model() -> None:
    with pytest.raises(ConfigError, match="local.auth = eap-md5 is not supported"):
        parse_swanctl("connections {\n c {\n local {\n auth = eap-md5\n }\n }\n}\n")
    with pytest.raises(ConfigError, match="mobike is not supported"):
        parse_swanctl("connections {\n c {\n mobike = no\n }\n}\n")
    with pytest.raises(ConfigError, match=r"children.net.ah_proposals is not supported \(netplex's charon negotiates ESP"):
        parse_swanctl("connections {\n c {\n children {\n net {\n ah_proposals = sha256\n }\n }\n }\n}\n")
    with pytest.raises(ConfigError, match="missing"):
        parse_swanctl("connections {\n c {\n")


def _new_sa(sa: IkeSa) -> IkeSa:
    return next(x for e, x in sa.events if e == "ike_rekeyed")


@pytest.mark.parametrize("rekeyer", ["initiator", "responder"])
def test_rekeying_the_ike_sa_moves_the_child_sas_to_new_keys(rekeyer: str) -> None:
    a, b = _pair("aes256-sha256-ecp256", "aes128gcm16")
    _exchange(a.initiate(a.cfg.children["net"]), a, b)
    x, y = (a, b) if rekeyer == "initiator" else (b, a)
    child_x, child_y = x.children[0], y.children[0]
    _exchange(x.rekey_ike(), x, y)
    nx, ny = _new_sa(x), _new_sa(y)
    # new SPIs, both ends agree; the asker is the new SA's initiator (§2.18)
    assert (nx.spii, nx.spir) == (ny.spii, ny.spir) and nx.spii not in (a.spii, a.spir)
    assert nx.initiator and not ny.initiator
    assert nx.sk_d == ny.sk_d and nx.sk_d != x.sk_d
    assert nx.children == [child_x] and ny.children == [child_y] and x.children == y.children == []
    # the asker deleted the old IKE SA on the old SA's keys; the CHILD SAs were not touched
    assert x.state == "DESTROYED" and y.state == "DESTROYED"
    assert not any(e == "child_down" for e, _c in x.events + y.events)
    # the new IKE SA works: a liveness check, then a CHILD SA rekey with new keys from the new SK_d
    _exchange(nx.dpd(), nx, ny)
    assert nx.outstanding is None and nx.my_mid == 1 and ny.peer_mid == 1
    _exchange(nx.rekey_child(child_x), nx, ny)
    assert len(nx.children) == len(ny.children) == 1
    cx, cy = nx.children[0], ny.children[0]
    assert cx is not child_x and (cx.enc_out, cx.enc_in) == (cy.enc_in, cy.enc_out)


def test_a_child_sa_rekeyed_by_both_ends_at_once_keeps_one() -> None:
    a, b = _pair("aes128-sha256-x25519", "aes128gcm16-x25519")
    _exchange(a.initiate(a.cfg.children["net"]), a, b)
    ra, rb = a.rekey_child(a.children[0]), b.rekey_child(b.children[0])
    # the two requests cross on the wire
    resp_b, resp_a = b.receive(ra), a.receive(rb)
    _exchange_all(a.receive(resp_b[0]) + b.receive(resp_a[0]), a, b)
    assert len(a.children) == len(b.children) == 1
    ca, cb = a.children[0], b.children[0]
    assert (ca.spi_in, ca.spi_out) == (cb.spi_out, cb.spi_in)


def _exchange_all(msgs: list[bytes], a: IkeSa, b: IkeSa) -> None:
    """Deliver each message to the other side from its sender (a, the IKE SA's initiator, sets the I flag)."""
    pending = list(msgs)
    for _ in range(20):
        if not pending:
            return
        d = pending.pop(0)
        h = IkeHeader.unpack(d)
        pending += (b if h.flags & FLAG_I else a).receive(d)
