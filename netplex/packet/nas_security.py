"""EPS security (TS 33.401): the key derivation function and the keys derived from K_ASME.

Annex A.7 KDF (TS 33.220 Annex B.2): HMAC-SHA-256(key, FC || P0 || L0 || P1 || L1 ...).
    K_eNB (A.3):            FC 0x11, P0 = the uplink NAS COUNT (4 octets)
    K_NASenc, K_NASint (A.7): FC 0x15, P0 = algorithm type distinguisher (1 enc, 2 int), P1 = algorithm id;
                              the key is the 128 least significant bits of the 256-bit output
"""
from __future__ import annotations

import hashlib
import hmac

__all__ = ["kdf", "kenb", "nas_keys", "NAS_ENC_ALG", "NAS_INT_ALG"]

NAS_ENC_ALG, NAS_INT_ALG = 1, 2     # A.7 algorithm type distinguishers


def kdf(key: bytes, fc: int, *params: bytes) -> bytes:
    """TS 33.220 B.2: S = FC || P0 || L0 || ...; HMAC-SHA-256(key, S)."""
    s = bytes((fc,)) + b"".join(p + len(p).to_bytes(2, "big") for p in params)
    return hmac.new(key, s, hashlib.sha256).digest()


def kenb(kasme: bytes, ul_nas_count: int) -> bytes:
    """A.3: K_eNB from K_ASME and the uplink NAS COUNT of the message that set up the context."""
    return kdf(kasme, 0x11, ul_nas_count.to_bytes(4, "big"))


def nas_keys(kasme: bytes, enc_alg: int, int_alg: int) -> tuple[bytes, bytes]:
    """A.7: (K_NASenc, K_NASint), 128 bits each, for the selected algorithm identities."""
    enc = kdf(kasme, 0x15, bytes((NAS_ENC_ALG,)), bytes((enc_alg,)))[16:]
    integ = kdf(kasme, 0x15, bytes((NAS_INT_ALG,)), bytes((int_alg,)))[16:]
    return enc, integ
