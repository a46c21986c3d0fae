"""IKEv2's key exchange and key derivation against published vectors.

- Diffie-Hellman group 19 (256-bit random ECP): RFC 5903 §8.1, the initiator's and responder's
  private values, KE payload data and g^ir (the x coordinate, as RFC 5903 §7 says IKEv2 uses).
- Group 31 (Curve25519): RFC 7748 §6.1, Alice's and Bob's keys and the shared secret (RFC 8031
  puts X25519's 32 bytes in the KE payload as they are).
- Key derivation (RFC 7296 §2.13, §2.14, §2.17, §2.18): a NIST CAVS IKEv2 KDF vector (SP 800-135,
  PRF HMAC-SHA-1), as libreswan's CAVS driver (testing/programs/ikev2-cavs) prints it: SKEYSEED,
  DKM = prf+(SKEYSEED, Ni | Nr | SPIi | SPIr), DKM(Child SA) = prf+(SK_d, Ni | Nr),
  DKM(Child SA D-H) = prf+(SK_d, g^ir (new) | Ni | Nr), SKEYSEED(Rekey) = prf(SK_d, g^ir (new) | Ni | Nr).
  netplex's ike_keys and child_keymat must split exactly those streams into SK_d, SK_ai, SK_ar,
  SK_ei, SK_er, SK_pi, SK_pr and the CHILD SA's keys.
"""
from __future__ import annotations

from netplex.ike.transforms import ENCR, INTEG, DhKey, PrfAlg, child_keymat, ike_keys, prf_plus

# RFC 5903 §8.1
ECP256_I = "C88F01F510D9AC3F70A292DAA2316DE544E9AAB8AFE84049C62A9C57862D1433"
ECP256_GI = ("DAD0B65394221CF9B051E1FECA5787D098DFE637FC90B9EF945D0C3772581180"
             "5271A0461CDB8252D61F1C456FA3E59AB1F45B33ACCF5F58389E0577B8990BB3")
ECP256_R = "C6EF9C5D78AE012A011164ACB397CE2088685D8F06BF9BE0B283AB46476BEE53"
ECP256_GR = ("D12DFB5289C8D4F81208B70270398C342296970A0BCCB74C736FC7554494BF63"
             "56FBF3CA366CC23E8157854C13C58D6AAC23F046ADA30F8353E74F33039872AB")
ECP256_GIR = "D6840F6B42F6EDAFD13116E0E12565202FEF8E9ECE7DCE03812464D04B9442DE"
# RFC 7748 §6.1
X25519_A = "77076d0a7318a57d3c16c17251b26645df4c2f87ebc0992ab177fba51db92c2a"
X25519_A_PUB = "8520f0098930a754748b7ddcb43ef75a0dbf3a0d26381af4eba4a98eaa9b4e6a"
X25519_B = "5dab087e624a8a4b79e17f8b83800ee66f3bb1292618b6fd1c2f8b27ff88e0eb"
X25519_B_PUB = "de9edb7d7b7dc1b4d35b61c2ece435373f8343c85b78674dadfc7e146f882b4f"
X25519_K = "4a5d9d5ba4ce2de1728e3bf480350f25e07e21c947d19e3376f09b3c1e161742"
# NIST CAVS IKEv2 KDF, SHA-1 (from libreswan's ikev2-cavs driver)
CAVS = {
    "gir": "4b2c1f971981a8ad8d0abeafabf38cf75fc8349c148142465ed9c8b516b8be52",
    "gir_new": "863f3c9d06efd39d2b907b97f8699e5dd5251ef64a2a176f36ee40c87d4f9330",
    "ni": "32b50d5f4a3763f3", "nr": "9206a04b26564cb1", "spii": "34c9e7c188868785", "spir": "3ff77d760d2b2199",
    "skeyseed": "a9a7b222b59f8f48645f28a1db5b5f5d7479cba7",
    "dkm": "a14293677cc80ff8f9cc0eee30d895da9d8f405666e30ef0dfcb63c634a46002a2a63080e514a062768b76606f9fa5e992204fc"
           "5a670bde3f10d6b027113936a5c55b648a194ae587b0088d52204b702c979fa280870d2ed41efa9c549fd11198af1670b143d384bd"
           "275c5f594cf266b05ebadca855e4249520a441a81157435a7a56cc4",
    "dkm_child": "8059e3ee8810e6c3a91bc8bcd2a7a41151b8d0e6ae239c7b38093ad85ef4c5811a8e7b5d1cdabd9560b2d5e092d1f24e2d4"
                 "b85eccdf0ad0dc9abd94b51ee71814ca6dbc8bb51b6309f5b9545c7eb35cf5580b1e521a8fe20754a2d883ba0c2cf285f524a"
                 "ea6545b33106bc03e614296d319d41d4b50b3f510b1c0a22f3e664994d234cb4",
    "dkm_child_dh": "bb43244c1860ad65ee1e211ffe8bb3661750c8f89cb9f547df7f4fa61d37301628190e38c66232eab4b3ab14c400a519"
                    "7dd3730ed4820a8a10394d51e1c0400052f63ebd36b0e7ef53aaed31eba4a5080d7d4b5666023a8bbb5ffb7857240f9a05"
                    "884d1b7d2f933708450b7b3288f1fc863ab49fa901227cffc06e27899c7054d56fd74c",
    "skeyseed_rekey": "63e81194946ebd05df7df5ebf5d8750056bf1f1d",
}
PRF_SHA1 = PrfAlg(2, "sha1", "prfsha1")


def _fixed(data: bytes):
    return lambda n: data[:n]


def test_ecp256_group_19_rfc5903() -> None:
    # DhKey draws the scalar as 1 + (random mod (n - 1)): the random i - 1 gives the private value i
    i = int(ECP256_I, 16)
    ki = DhKey(19, _fixed((i - 1).to_bytes(32, "big")))
    kr = DhKey(19, _fixed((int(ECP256_R, 16) - 1).to_bytes(32, "big")))
    assert ki.public.hex().upper() == ECP256_GI and kr.public.hex().upper() == ECP256_GR
    assert ki.shared(kr.public).hex().upper() == ECP256_GIR == kr.shared(ki.public).hex().upper()
    assert ki.shared(b"\x00" * 64) is None          # not a point on the curve


def test_curve25519_group_31_rfc7748() -> None:
    a, b = DhKey(31, _fixed(bytes.fromhex(X25519_A))), DhKey(31, _fixed(bytes.fromhex(X25519_B)))
    assert a.public.hex() == X25519_A_PUB and b.public.hex() == X25519_B_PUB
    assert a.shared(b.public).hex() == X25519_K == b.shared(a.public).hex()


def _v(name: str) -> bytes:
    return bytes.fromhex(CAVS[name])


def _cat(k) -> bytes:
    return k.d + k.ai + k.ar + k.ei + k.er + k.pi + k.pr


def test_ikev2_kdf_cavs_sa_keys() -> None:
    assert PRF_SHA1(_v("ni") + _v("nr"), _v("gir")) == _v("skeyseed")
    k = ike_keys(PRF_SHA1, ENCR["aes128"], INTEG["sha256"], _v("ni"), _v("nr"), _v("gir"), _v("spii"), _v("spir"))
    dkm = _v("dkm")
    assert len(dkm) == 132 and _cat(k)[:132] == dkm
    assert (len(k.d), len(k.ai), len(k.ei), len(k.pi)) == (20, 32, 16, 20)


def test_ikev2_kdf_cavs_child_sa_keys() -> None:
    sk_d = _v("dkm")[:20]
    for enc_len, integ_len in ((16, 32), (36, 0), (32, 0)):     # aes128-sha256, aes256gcm16 (+salt), chacha
        n = 2 * (enc_len + integ_len)
        plain = child_keymat(PRF_SHA1, sk_d, _v("ni"), _v("nr"), enc_len, integ_len)
        assert b"".join(plain) == _v("dkm_child")[:n]
        pfs = child_keymat(PRF_SHA1, sk_d, _v("ni"), _v("nr"), enc_len, integ_len, _v("gir_new"))
        assert b"".join(pfs) == _v("dkm_child_dh")[:n]


def test_ikev2_kdf_cavs_ike_sa_rekey() -> None:
    sk_d = _v("dkm")[:20]
    assert PRF_SHA1(sk_d, _v("gir_new") + _v("ni") + _v("nr")) == _v("skeyseed_rekey")
    k = ike_keys(PRF_SHA1, ENCR["aes256gcm16"], None, _v("ni"), _v("nr"), _v("gir_new"), _v("spii"), _v("spir"),
                 sk_d_old=sk_d)
    want = prf_plus(PRF_SHA1, _v("skeyseed_rekey"), _v("ni") + _v("nr") + _v("spii") + _v("spir"), len(_cat(k)))
    assert _cat(k) == want and k.ai == b"" and len(k.ei) == 36
