"""EPS NAS security (TS 33.401, TS 24.301 §4.4, §9.1): the keys from K_ASME, 128-EIA2, 128-EEA2,
and the security protected NAS message.

Keys (TS 33.401 Annex A; the KDF of TS 33.220 Annex B.2: HMAC-SHA-256(key, FC || P0 || L0 || ...)):
    K_eNB (A.3):              FC 0x11, P0 = the uplink NAS COUNT (4 octets)
    NH (A.4):                 FC 0x12, P0 = SYNC-input (the initial K_eNB, then the previous NH)
    K_eNB* (A.5):             FC 0x13, P0 = the target's PCI (2), P1 = its EARFCN-DL (2)
    K_NASenc, K_NASint (A.7): FC 0x15, P0 = algorithm type distinguisher (1 enc, 2 int), P1 = algorithm
                              identity; the key is the 128 least significant bits of the output
Algorithms (TS 33.401 Annex B.1.3, B.2.3), inputs COUNT (32 bits), BEARER (5), DIRECTION (1: downlink),
a bit LENGTH:
    128-EEA2: AES-128 in CTR mode, the counter block COUNT || BEARER || DIRECTION || 0^26 || 0^64
    128-EIA2: AES-128-CMAC (NIST SP 800-38B) over COUNT || BEARER || DIRECTION || 0^26 || MESSAGE,
              truncated to its 32 most significant bits (MAC-I / NAS-MAC)
The protected message (TS 24.301 §9.1): security header type | PD 7, NAS-MAC (4), sequence number (1),
the NAS message (ciphered for header types 2 and 4); the MAC covers the sequence number and what follows,
with BEARER 0 (TS 33.401 §8.1.1) and COUNT = 0x00 || overflow (16) || sequence number (8).
"""
from __future__ import annotations

import hashlib
import hmac
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from netplex.packet.nas_eps import PD_EMM, NasError

__all__ = ["kdf", "kenb", "next_hop", "kenb_star", "nas_keys", "eea2", "eia2", "aes_cmac", "NasSecurity", "NAS_ENC_ALG", "NAS_INT_ALG",
           "PLAIN", "SERVICE_REQUEST", "INTEGRITY", "INTEGRITY_CIPHERED", "INTEGRITY_NEW", "INTEGRITY_CIPHERED_NEW", "EEA2", "EIA2"]

NAS_ENC_ALG, NAS_INT_ALG = 1, 2     # A.7 algorithm type distinguishers
EEA2, EIA2 = 2, 2                   # the algorithm identities (TS 33.401 §5.1.3)
# TS 24.301 §9.3.1 security header types
PLAIN, INTEGRITY, INTEGRITY_CIPHERED, INTEGRITY_NEW, INTEGRITY_CIPHERED_NEW = 0, 1, 2, 3, 4
SERVICE_REQUEST = 12                 # "security header for the SERVICE REQUEST message"
CAUSE_SECURITY_MODE_REJECTED = 24    # TS 24.301 Annex A


def kdf(key: bytes, fc: int, *params: bytes) -> bytes:
    """TS 33.220 B.2: S = FC || P0 || L0 || ...; HMAC-SHA-256(key, S)."""
    s = bytes((fc,)) + b"".join(p + len(p).to_bytes(2, "big") for p in params)
    return hmac.new(key, s, hashlib.sha256).digest()


def kenb(kasme: bytes, ul_nas_count: int) -> bytes:
    """A.3: K_eNB from K_ASME and the uplink NAS COUNT."""
    return kdf(kasme, 0x11, ul_nas_count.to_bytes(4, "big"))


def next_hop(kasme: bytes, sync_input: bytes) -> bytes:
    """A.4: NH from K_ASME and the SYNC-input (the K_eNB of the initial context, then the previous NH)."""
    return kdf(kasme, 0x12, sync_input)


def kenb_star(key: bytes, pci: int, earfcn_dl: int) -> bytes:
    """A.5: K_eNB* for a handover from the current K_eNB (horizontal) or an NH (vertical), the target
    cell's PCI and downlink EARFCN."""
    return kdf(key, 0x13, pci.to_bytes(2, "big"), earfcn_dl.to_bytes(2, "big"))


def nas_keys(kasme: bytes, enc_alg: int = EEA2, int_alg: int = EIA2) -> tuple[bytes, bytes]:
    """A.7: (K_NASenc, K_NASint), 128 bits each, for the selected algorithm identities."""
    enc = kdf(kasme, 0x15, bytes((NAS_ENC_ALG,)), bytes((enc_alg,)))[16:]
    integ = kdf(kasme, 0x15, bytes((NAS_INT_ALG,)), bytes((int_alg,)))[16:]
    return enc, integ


def _head(count: int, bearer: int, direction: int) -> bytes:
    return count.to_bytes(4, "big") + bytes(((bearer & 0x1F) << 3 | (direction & 1) << 2, 0, 0, 0))


def _trim(data: bytes, bits: int) -> bytes:
    """The first `bits` bits of `data`, the unused bits of the last octet zero."""
    n = (bits + 7) // 8
    out = bytearray(data[:n])
    if bits % 8:
        out[-1] &= 0xFF << (8 - bits % 8) & 0xFF
    return bytes(out)


def eea2(key: bytes, count: int, bearer: int, direction: int, data: bytes, bits: int | None = None) -> bytes:
    """128-EEA2 (B.1.3): AES-CTR keystream over `bits` bits of `data` (all of it when None)."""
    bits = 8 * len(data) if bits is None else bits
    enc = Cipher(algorithms.AES(key), modes.CTR(_head(count, bearer, direction) + bytes(8))).encryptor()
    return _trim(enc.update(_trim(data, bits)) + enc.finalize(), bits)


def _dbl(block: int) -> int:
    """Doubling in GF(2^128) (SP 800-38B §6.1)."""
    block <<= 1
    return (block ^ 0x87) & (1 << 128) - 1 if block >> 128 else block


def aes_cmac(key: bytes, data: bytes, bits: int | None = None) -> bytes:
    """AES-CMAC (NIST SP 800-38B) of the first `bits` bits of `data`."""
    bits = 8 * len(data) if bits is None else bits
    ecb = Cipher(algorithms.AES(key), modes.ECB()).encryptor()
    k1 = _dbl(int.from_bytes(ecb.update(bytes(16)), "big"))
    k2 = _dbl(k1)
    msg = int.from_bytes(_trim(data, bits), "big") >> (8 * ((bits + 7) // 8) - bits) if bits else 0
    nblocks = max(1, (bits + 127) // 128)
    last_bits = bits - 128 * (nblocks - 1)
    if last_bits == 128:
        last_key, total = k1, msg
    else:
        last_key, total = k2, (msg << 1 | 1) << (128 - last_bits - 1)   # the 10* padding of the last block
    x = 0
    for i in range(nblocks):
        shift = 128 * (nblocks - 1 - i)
        block = (total >> shift) & (1 << 128) - 1
        if i == nblocks - 1:
            block ^= last_key
        x = int.from_bytes(ecb.update((x ^ block).to_bytes(16, "big")), "big")
    return x.to_bytes(16, "big")


def eia2(key: bytes, count: int, bearer: int, direction: int, message: bytes, bits: int | None = None) -> bytes:
    """128-EIA2 (B.2.3): the 32-bit MAC of `bits` bits of `message`."""
    bits = 8 * len(message) if bits is None else bits
    return aes_cmac(key, _head(count, bearer, direction) + _trim(message, bits), 64 + bits)[:4]


@dataclass(slots=True)
class NasSecurity:
    """One side's EPS NAS security context (TS 24.301 §4.4.2): the keys and the two NAS COUNTs.

    `downlink` is True on the MME (it sends downlink), False on the UE."""

    kasme: bytes
    downlink: bool
    enc_alg: int = EEA2
    int_alg: int = EIA2
    k_enc: bytes = b""
    k_int: bytes = b""
    tx_count: int = 0
    rx_count: int = -1                 # the last NAS COUNT received; -1: none yet

    def __post_init__(self) -> None:
        self.k_enc, self.k_int = nas_keys(self.kasme, self.enc_alg, self.int_alg)

    def protect(self, plain: bytes, header_type: int = INTEGRITY_CIPHERED) -> bytes:
        """The security protected NAS message of `plain` (§4.4.3.1: then the sender's COUNT goes up)."""
        count = self.tx_count
        self.tx_count += 1
        direction = 1 if self.downlink else 0
        body = plain
        if header_type in (INTEGRITY_CIPHERED, INTEGRITY_CIPHERED_NEW):
            body = eea2(self.k_enc, count, 0, direction, plain)
        signed = bytes((count & 0xFF,)) + body
        mac = eia2(self.k_int, count, 0, direction, signed)
        return bytes((header_type << 4 | PD_EMM,)) + mac + signed

    def unprotect(self, data: bytes) -> bytes:
        """The plain NAS message inside `data`; NasError when its MAC does not verify (§4.4.4: the
        receiver discards it) or its COUNT was seen before (a replay, §4.4.3.2)."""
        if len(data) < 7 or data[0] & 0x0F != PD_EMM or not 1 <= data[0] >> 4 <= 4:
            raise NasError("not a security protected NAS message")
        header_type, mac, sqn = data[0] >> 4, data[1:5], data[5]
        last = max(self.rx_count, 0)
        count = (last & ~0xFF) | sqn
        if self.rx_count >= 0 and count < last - 128:
            count += 0x100                    # the sequence number wrapped: the overflow counter goes up
        direction = 0 if self.downlink else 1
        if not hmac.compare_digest(eia2(self.k_int, count, 0, direction, data[5:]), mac):
            raise NasError("NAS-MAC does not verify", CAUSE_SECURITY_MODE_REJECTED)
        if count <= self.rx_count:
            raise NasError(f"NAS COUNT {count} replayed", CAUSE_SECURITY_MODE_REJECTED)
        self.rx_count = count
        body = data[6:]
        if header_type in (INTEGRITY_CIPHERED, INTEGRITY_CIPHERED_NEW):
            body = eea2(self.k_enc, count, 0, direction, body)
        return body

    def service_request(self, ksi: int = 0) -> bytes:
        """TS 24.301 §8.2.25: the SERVICE REQUEST, header type 12: KSI and the five low bits of the
        uplink NAS COUNT, then the short MAC — the two low octets of the NAS-MAC over the first two."""
        count = self.tx_count
        self.tx_count += 1
        head = bytes((SERVICE_REQUEST << 4 | PD_EMM, (ksi & 7) << 5 | count & 0x1F))
        return head + eia2(self.k_int, count, 0, 0, head)[2:]

    def check_service_request(self, pdu: bytes) -> bool:
        """The MME's check of a SERVICE REQUEST's short MAC (the COUNT estimated from its five bits)."""
        if len(pdu) != 4 or pdu[0] != (SERVICE_REQUEST << 4 | PD_EMM):
            return False
        last = max(self.rx_count, 0)
        count = (last & ~0x1F) | pdu[1] & 0x1F
        if count <= self.rx_count:
            count += 0x20
        if not hmac.compare_digest(eia2(self.k_int, count, 0, 0, pdu[:2])[2:], pdu[2:]):
            return False
        self.rx_count = count
        return True
