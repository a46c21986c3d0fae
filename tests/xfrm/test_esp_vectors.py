"""ESP with AES-GCM (RFC 4106) against the published ESP test cases: draft-mcgrew-gcm-test-01
("Test Cases for the use of GCM and GMAC in IPsec ESP", D. McGrew, 2009, section 4), whose
packets are the plaintext (payload, padding, pad length, next header) and the ESP packet's
SPI, sequence number, IV, ciphertext and ICV for a key and salt. RFC 4106 itself has no
examples; these are the ones the Linux kernel's testmgr (rfc4106(gcm(aes))) and other ESP
implementations check against. Test cases 1 (64-bit extended sequence numbers) and 6 (GMAC,
RFC 4543) are for features netplex does not model.

For each case netplex's ESP transform, keyed the way `ip xfrm state add ... aead
'rfc4106(gcm(aes))' 0x<key><salt> 128` keys it, must open the published ESP packet to the
published payload and next header, and seal that payload to the published bytes exactly.
"""
from __future__ import annotations

import pytest

from netplex.stack.xfrm.algo import AlgoKey, EspTransform, find_algo

# (name, key, salt, SPI, sequence number, IV, plaintext incl. the ESP trailer, ciphertext, ICV)
CASES = [
    ("test case 2 (AES-192)", "feffe9928665731c6d6a8f9467308308feffe9928665731c", "cafebabe", 0x0000A5F8, 0x0000000A,
     "facedbaddecaf888",
     "45000028a4ad4000400678800a01038f0a010612802306b8cb712602dd6bb03e501016d075680001",
     "a5b1f8066029aea40e598b8122de02420938b3ab33f828e687b8858b5bfbdbd0315b27452144cc77",
     "95457b9652037f5318027b5b4cd7a636"),
    ("test case 3 (AES-256)", "abbccddef00112233445566778899aababbccddef00112233445566778899aab", "11223344",
     0x4A2CBFE3, 0x00000002, "0102030405060708",
     "4500003069a6400080062690c0a801029389155e0a9e008b2dc57ee0000000007002400020bf0000020405b40101040201020201",
     "ff425c9b724599df7a3bcd510194e00d6a78107f1b0b1cbf06efae9d65a5d763748a637985771d347f0545659f14e99def842d8e",
     "b335f4eecfdbf831824b4c4915956c96"),
    ("test case 4 (AES-128, zero key)", "00000000000000000000000000000000", "00000000", 0x00000000, 0x00000001,
     "0000000000000000",
     "4500003c99c500008001cb7a40679318010101010800075c0200440061626364"
     "65666768696a6b6c6d6e6f707172737475767761626364656667686901020201",
     "4688daf2f973a392732909c331d56d60f694abaa414b5e7ff5fdcdfff5e9a284"
     "456476492719ffb64de7d9dca1e1d894bc3bd57873ed4d181d19d4d5c8c18af3",
     "f821d496eeb096e98ad2b69e4799c71d"),
    ("test case 5 (AES-128, empty payload, sequence 2^32-1)", "7d773d00c144c525ac619d18c84a3f47", "d9664267",
     0x335467AE, 0xFFFFFFFF, "43457e9182443bc6", "01020201", "437f866b", "cb3f699fe9b0822bac961c4504bef270"),
]


def _transform(key: str, salt: str) -> EspTransform:
    algo = find_algo("aead", "rfc4106(gcm(aes))")
    assert algo is not None
    k = AlgoKey(algo, bytes.fromhex(key + salt), 128)
    assert k.key_ok()
    return EspTransform(k, None, None)


@pytest.mark.parametrize("name,key,salt,spi,seq,iv,plain,ct,icv", CASES, ids=[c[0] for c in CASES])
def test_rfc4106_esp_vector(name: str, key: str, salt: str, spi: int, seq: int, iv: str, plain: str, ct: str,
                            icv: str) -> None:
    tr = _transform(key, salt)
    wire = bytes.fromhex(iv + ct + icv)        # what follows SPI and sequence number in the ESP packet
    plain_b = bytes.fromhex(plain)
    pad, nh = plain_b[-2], plain_b[-1]
    payload = plain_b[:len(plain_b) - 2 - pad]
    assert tr.open(spi, seq, wire) == (payload, nh)
    # esp_output's padding (1, 2, 3, ... to a 4-byte boundary) is the one the test cases use
    assert tr.seal(spi, seq, payload, nh, iv=bytes.fromhex(iv)) == wire
    # a flipped bit anywhere (IV, ciphertext, ICV) or another SPI (the AAD) fails the ICV
    for i in (0, len(wire) // 2, len(wire) - 1):
        bad = bytearray(wire)
        bad[i] ^= 0x01
        assert tr.open(spi, seq, bytes(bad)) is None
    assert tr.open(spi ^ 1, seq, wire) is None


def test_an_sa_keyed_by_ip_xfrm_opens_the_published_packet() -> None:
    from netplex.network import Network

    name, key, salt, spi, seq, iv, plain, ct, icv = CASES[1]
    h = Network().add_node("h1")
    r = h.run(f"ip xfrm state add src 192.0.2.1 dst 198.51.100.1 proto esp spi 0x{spi:08x} mode tunnel "
              f"aead 'rfc4106(gcm(aes))' 0x{key}{salt} 128")
    assert r.status == 0, r.error
    (x,) = h.ns.xfrm.states
    assert x.transform is not None
    assert x.transform.open(spi, seq, bytes.fromhex(iv + ct + icv)) == (bytes.fromhex(plain)[:-4], 1)
