"""Milenage against every 3GPP test set of TS 35.208 (and GSM-Milenage against TS 55.205)."""
from __future__ import annotations

import json
from pathlib import Path

import pytest

from netplex.mobile.milenage import Milenage, kasme, opc_from_op, xor

DATA = json.loads((Path(__file__).parent.parent / "data/3gpp/milenage_test_sets.json").read_text())
SETS = DATA["milenage"]
GSM = DATA["gsm_milenage"]


def test_all_sets_present() -> None:
    assert len(SETS) == 19 and len(GSM) == 19


@pytest.mark.parametrize("ts", SETS, ids=[f"set{t['test_set']}" for t in SETS])
def test_milenage_test_set(ts: dict[str, str]) -> None:
    h = bytes.fromhex
    k, rand, sqn, amf = h(ts["k"]), h(ts["rand"]), h(ts["sqn"]), h(ts["amf"])
    assert opc_from_op(k, h(ts["op"])).hex() == ts["opc"]
    m = Milenage(k, h(ts["opc"]))
    mac_a, mac_s = m.f1(rand, sqn, amf)
    res, ck, ik, ak, ak_star = m.f2345(rand)
    assert (mac_a.hex(), mac_s.hex(), res.hex(), ck.hex(), ik.hex(), ak.hex(), ak_star.hex()) == (
        ts["f1"], ts["f1star"], ts["f2"], ts["f3"], ts["f4"], ts["f5"], ts["f5star"])


@pytest.mark.parametrize("ts", GSM, ids=[f"set{t['test_set']}" for t in GSM])
def test_gsm_milenage_test_set(ts: dict[str, str]) -> None:
    h = bytes.fromhex
    m = Milenage(h(ts["k"]), h(ts["opc"]))
    sres, kc = m.gsm(h(ts["rand"]))
    assert (sres.hex(), kc.hex()) == (ts["sres1"], ts["kc"])
    assert m.f2345(h(ts["rand"]))[0][:4].hex() == ts["sres2"]   # SRES#2: the first 32 bits of RES


def test_kasme_depends_on_the_serving_network() -> None:
    ck, ik, sqn_ak = bytes(16), bytes(range(16)), xor(bytes(6), bytes(6))
    assert kasme(ck, ik, "00101", sqn_ak) != kasme(ck, ik, "21407", sqn_ak)
    assert len(kasme(ck, ik, "00101", sqn_ak)) == 32


def test_bad_key_length_is_refused() -> None:
    with pytest.raises(ValueError):
        Milenage(bytes(15), bytes(16))
