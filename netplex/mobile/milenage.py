"""Milenage (3GPP TS 35.206) and the EPS-AKA vectors built from it (TS 33.102 §6.3, TS 33.401 §6.1, A.2).

Milenage computes, from the subscriber key K, the operator variant OPc, the
challenge RAND, the sequence number SQN and the AMF:

    f1 / f1*  network authentication code MAC-A / resynchronisation code MAC-S
    f2        the response RES (XRES at the HSS)
    f3, f4    the cipher and integrity keys CK, IK
    f5 / f5*  the anonymity keys AK / AK*

with AES-128 as the kernel function E_K and the constants r1..r5 = 64, 0, 32,
64, 96 and c1..c5 = 0, 1, 2, 4, 8 of TS 35.206 §4.1. Checked against every
test set of TS 35.208 in tests/data/3gpp/. GSM-Milenage's SRES and Kc (TS
55.205 §4, functions c2/c3 of TS 33.102 §6.8.1.2) and K_ASME (TS 33.401
Annex A.2: HMAC-SHA-256 over FC 0x10, the serving network id and SQN xor AK)
complete an EPS authentication vector.
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from netplex.packet.gtpv2c import plmn_id

__all__ = ["Milenage", "AuthVector", "opc_from_op", "kasme", "serving_network_id", "xor"]

R = (64, 0, 32, 64, 96)
C = tuple(i.to_bytes(16, "big") for i in (0, 1, 2, 4, 8))

def xor(a: bytes, b: bytes) -> bytes:
    return bytes(x ^ y for x, y in zip(a, b, strict=True))

def _rot(x: bytes, bits: int) -> bytes:
    """Cyclic left rotation of a 128-bit block by `bits` (a multiple of 8 here)."""
    n = bits // 8
    return x[n:] + x[:n]

def _e(key: bytes, block: bytes) -> bytes:
    enc = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    return enc.update(block) + enc.finalize()

def opc_from_op(k: bytes, op: bytes) -> bytes:
    """TS 35.206 §4.1: OPc = OP xor E_K(OP)."""
    return xor(_e(k, op), op)

@dataclass(slots=True)
class Milenage:
    """One subscriber's Milenage: its 128-bit K and OPc."""

    k: bytes
    opc: bytes

    def __post_init__(self) -> None:
        if len(self.k) != 16 or len(self.opc) != 16:
            raise ValueError("K and OPc are 128 bits (32 hex digits) each")

    def _temp(self, rand: bytes) -> bytes:
        return _e(self.k, xor(rand, self.opc))

    def _out(self, temp: bytes, i: int) -> bytes:
        """OUTi = E_K(rot(TEMP xor OPc, ri) xor ci) xor OPc, for i = 2..5 (index 1..4)."""
        return xor(_e(self.k, xor(_rot(xor(temp, self.opc), R[i]), C[i])), self.opc)

    def f1(self, rand: bytes, sqn: bytes, amf: bytes) -> tuple[bytes, bytes]:
        """(MAC-A, MAC-S): f1 and f1*."""
        temp = self._temp(rand)
        in1 = sqn + amf + sqn + amf
        out1 = xor(_e(self.k, xor(xor(temp, _rot(xor(in1, self.opc), R[0])), C[0])), self.opc)
        return out1[:8], out1[8:]

    def f2345(self, rand: bytes) -> tuple[bytes, bytes, bytes, bytes, bytes]:
        """(RES, CK, IK, AK, AK*): f2, f3, f4, f5 and f5*."""
        temp = self._temp(rand)
        out2 = self._out(temp, 1)
        return out2[8:], self._out(temp, 2), self._out(temp, 3), out2[:6], self._out(temp, 4)[:6]

    def gsm(self, rand: bytes) -> tuple[bytes, bytes]:
        """GSM-Milenage (TS 55.205): (SRES, Kc) by c2 and c3 of TS 33.102 §6.8.1.2."""
        res, ck, ik, _ak, _aks = self.f2345(rand)
        sres = xor(res[:4], res[4:8])
        kc = xor(xor(ck[:8], ck[8:]), xor(ik[:8], ik[8:]))
        return sres, kc

@dataclass(slots=True)
class AuthVector:
    """An EPS authentication vector (TS 33.401 §6.1.1): RAND, XRES, AUTN, K_ASME."""

    rand: bytes
    xres: bytes
    autn: bytes
    kasme: bytes

    @classmethod
    def generate(cls, m: Milenage, rand: bytes, sqn: bytes, amf: bytes, plmn: str) -> AuthVector:
        mac_a, _ = m.f1(rand, sqn, amf)
        res, ck, ik, ak, _ = m.f2345(rand)
        sqn_ak = xor(sqn, ak)
        return cls(rand, res, sqn_ak + amf + mac_a, kasme(ck, ik, plmn, sqn_ak))

def serving_network_id(plmn: str) -> bytes:
    """TS 33.401 A.2's SN id: the PLMN (MCC then a 2- or 3-digit MNC) as three octets ("00101" -> 00 f1 10)."""
    return plmn_id(plmn[:3], plmn[3:])

def kasme(ck: bytes, ik: bytes, plmn: str, sqn_xor_ak: bytes) -> bytes:
    """TS 33.401 A.2: K_ASME = HMAC-SHA-256(CK||IK, 0x10 || SN id || 0x0003 || SQN^AK || 0x0006)."""
    sn = serving_network_id(plmn)
    s = b"\x10" + sn + len(sn).to_bytes(2, "big") + sqn_xor_ak + len(sqn_xor_ak).to_bytes(2, "big")
    return hmac.new(ck + ik, s, hashlib.sha256).digest()
