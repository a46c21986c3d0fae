"""IKEv2's transforms and key material (RFC 7296 §2.13-2.15, §3.3.2; RFC 3526 group 14,
RFC 5903 group 19, RFC 8031 group 31; RFC 4868 HMAC-SHA2; RFC 5282 AES-GCM for IKE).

A `Suite` is one negotiated IKE proposal: encryption, PRF, integrity and DH
group. `prf_plus` is §2.13's prf+; `ike_keys` derives SKEYSEED and the seven
SK_* keys (§2.14); `child_keymat` the CHILD SAs' keys (§2.17). `SkCipher`
seals and opens the Encrypted payload (§3.14; RFC 5282 for AEAD). DH private
values come from the caller's random source, so the simulator stays
deterministic; the `cryptography` library does the arithmetic.
"""
from __future__ import annotations

import hashlib
import hmac
from collections.abc import Callable
from dataclasses import dataclass

from cryptography.hazmat.primitives.asymmetric import ec, x25519
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

__all__ = ["DH_GROUPS", "ENCR", "INTEG", "PRF", "DhKey", "EncrAlg", "IntegAlg", "PrfAlg", "SkCipher",
           "child_keymat", "ike_keys", "prf_plus"]

RandBytes = Callable[[int], bytes]

# RFC 3526 §3: 2^2048 - 2^1984 - 1 + 2^64 * ( [2^1918 pi] + 124476 ), generator 2
MODP2048 = int("ffffffffffffffffc90fdaa22168c234c4c6628b80dc1cd129024e088a67cc74020bbea63b139b22514a08798e3404ddef9519b3cd3a431b302b0a6df25f14374fe1356d6d51c245e485b576625e7ec6f44c42e9a637ed6b0bff5cb6f406b7edee386bfb5a899fa5ae9f24117c4b1fe649286651ece45b3dc2007cb8a163bf0598da48361c55d39a69163fa8fd24cf5f83655d23dca3ad961c62f356208552bb9ed529077096966d670c354e4abc9804f1746c08ca18217c32905e462e36ce3be39e772c180e86039b2783a2ec07a28fb5c55df06f4c52c9de2bcbf6955817183995497cea956ae515d2261898fa051015728e5a8aacaa68ffffffffffffffff", 16)


@dataclass(frozen=True, slots=True)
class EncrAlg:
    """An ENCR transform (type 1) with its key length: AES-CBC (12), AES-GCM-16 (20), ChaCha20-Poly1305 (28)."""

    id: int
    keylen: int          # bytes of cipher key (without an AEAD's salt)
    name: str            # strongSwan's proposal keyword

    @property
    def aead(self) -> bool:
        return self.id in (20, 28)

    @property
    def salt(self) -> int:
        return 4 if self.aead else 0


@dataclass(frozen=True, slots=True)
class PrfAlg:
    id: int
    digest: str
    name: str

    @property
    def size(self) -> int:
        return hashlib.new(self.digest).digest_size

    def __call__(self, key: bytes, data: bytes) -> bytes:
        return hmac.new(key, data, self.digest).digest()


@dataclass(frozen=True, slots=True)
class IntegAlg:
    id: int
    digest: str
    keylen: int
    icv: int
    name: str

    def mac(self, key: bytes, data: bytes) -> bytes:
        return hmac.new(key, data, self.digest).digest()[:self.icv]


ENCR = {name: a for a in (EncrAlg(12, 16, "aes128"), EncrAlg(12, 24, "aes192"), EncrAlg(12, 32, "aes256"),
                          EncrAlg(20, 16, "aes128gcm16"), EncrAlg(20, 32, "aes256gcm16"),
                          EncrAlg(28, 32, "chacha20poly1305")) for name in (a.name,)}
PRF = {a.name: a for a in (PrfAlg(5, "sha256", "prfsha256"), PrfAlg(6, "sha384", "prfsha384"),
                           PrfAlg(7, "sha512", "prfsha512"))}
INTEG = {a.name: a for a in (IntegAlg(12, "sha256", 32, 16, "sha256"), IntegAlg(13, "sha384", 48, 24, "sha384"),
                             IntegAlg(14, "sha512", 64, 32, "sha512"))}
DH_GROUPS = {"modp2048": 14, "ecp256": 19, "curve25519": 31, "x25519": 31}
DH_NAMES = {14: "MODP_2048", 19: "ECP_256", 31: "CURVE_25519"}


class DhKey:
    """One side's Diffie-Hellman key for a group; `public` is the KE payload's data."""

    def __init__(self, group: int, rand: RandBytes) -> None:
        self.group = group
        if group == 14:
            self._x = int.from_bytes(rand(32), "big") | 1 << 255
            self.public = pow(2, self._x, MODP2048).to_bytes(256, "big")
        elif group == 19:
            n = 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551
            self._ec = ec.derive_private_key(int.from_bytes(rand(32), "big") % (n - 1) + 1, ec.SECP256R1())
            nums = self._ec.public_key().public_numbers()
            self.public = nums.x.to_bytes(32, "big") + nums.y.to_bytes(32, "big")
        elif group == 31:
            self._x25519 = x25519.X25519PrivateKey.from_private_bytes(rand(32))
            self.public = self._x25519.public_key().public_bytes_raw()
        else:
            raise ValueError(f"DH group {group} not supported")

    def shared(self, peer: bytes) -> bytes | None:
        """g^ir, or None for a public value the group rejects."""
        try:
            if self.group == 14:
                y = int.from_bytes(peer, "big")
                if len(peer) != 256 or not 1 < y < MODP2048 - 1:
                    return None
                return pow(y, self._x, MODP2048).to_bytes(256, "big")
            if self.group == 19:
                if len(peer) != 64:
                    return None
                pub = ec.EllipticCurvePublicNumbers(int.from_bytes(peer[:32], "big"), int.from_bytes(peer[32:], "big"),
                                                    ec.SECP256R1()).public_key()
                return self._ec.exchange(ec.ECDH(), pub)
            if len(peer) != 32:
                return None
            return self._x25519.exchange(x25519.X25519PublicKey.from_public_bytes(peer))
        except ValueError:
            return None


def prf_plus(prf: PrfAlg, key: bytes, seed: bytes, length: int) -> bytes:
    """prf+ (§2.13): T1 = prf(K, S | 0x01), Tn = prf(K, Tn-1 | S | n)."""
    out = b""
    t = b""
    n = 1
    while len(out) < length:
        t = prf(key, t + seed + bytes((n,)))
        out += t
        n += 1
    return out[:length]


@dataclass(slots=True)
class IkeKeys:
    d: bytes
    ai: bytes
    ar: bytes
    ei: bytes
    er: bytes
    pi: bytes
    pr: bytes


def ike_keys(prf: PrfAlg, encr: EncrAlg, integ: IntegAlg | None, ni: bytes, nr: bytes, gir: bytes,
             spii: bytes, spir: bytes, sk_d_old: bytes | None = None) -> IkeKeys:
    """§2.14 (and §2.18 for a rekeyed IKE SA: SKEYSEED = prf(SK_d(old), g^ir (new) | Ni | Nr))."""
    if sk_d_old is None:
        skeyseed = prf(ni + nr, gir)
    else:
        skeyseed = prf(sk_d_old, gir + ni + nr)
    ekey = encr.keylen + encr.salt
    akey = integ.keylen if integ is not None else 0
    p = prf.size
    m = prf_plus(prf, skeyseed, ni + nr + spii + spir, 3 * p + 2 * akey + 2 * ekey)
    o = 0

    def take(n: int) -> bytes:
        nonlocal o
        o += n
        return m[o - n:o]
    return IkeKeys(take(p), take(akey), take(akey), take(ekey), take(ekey), take(p), take(p))


def child_keymat(prf: PrfAlg, sk_d: bytes, ni: bytes, nr: bytes, enc_len: int, integ_len: int,
                 gir: bytes = b"") -> tuple[bytes, bytes, bytes, bytes]:
    """§2.17: KEYMAT = prf+(SK_d, [g^ir (new) |] Ni | Nr); initiator-to-responder keys
    first (encryption, then integrity), then responder-to-initiator."""
    m = prf_plus(prf, sk_d, gir + ni + nr, 2 * (enc_len + integ_len))
    e_i, a_i = m[:enc_len], m[enc_len:enc_len + integ_len]
    r = m[enc_len + integ_len:]
    return e_i, a_i, r[:enc_len], r[enc_len:]


class SkCipher:
    """The Encrypted payload's protection in one direction (§3.14, RFC 5282 §3)."""

    def __init__(self, encr: EncrAlg, integ: IntegAlg | None, ekey: bytes, akey: bytes) -> None:
        self.encr = encr
        self.integ = integ
        self.ekey = ekey
        self.akey = akey
        self.iv_len = 8 if encr.aead else 16
        self.icv_len = 16 if encr.aead else (integ.icv if integ is not None else 0)

    def seal(self, aad_head: bytes, plain: bytes, iv: bytes) -> bytes:
        """IV | ciphertext(plain, padding, pad length) | ICV; `aad_head` is everything before the IV
        (IKE header and the SK payload's generic header, whose lengths already count the whole)."""
        encr = self.encr
        if encr.aead:
            pad = 0
            data = plain + bytes((pad,))
            key, salt = self.ekey[:-4], self.ekey[-4:]
            if encr.id == 28:
                ct = ChaCha20Poly1305(key).encrypt(salt + iv, data, aad_head)
            else:
                ct = AESGCM(key).encrypt(salt + iv, data, aad_head)
            return iv + ct
        pad = -(len(plain) + 1) % 16
        data = plain + bytes(pad) + bytes((pad,))
        c = Cipher(algorithms.AES(self.ekey), modes.CBC(iv)).encryptor()
        body = iv + c.update(data) + c.finalize()
        assert self.integ is not None
        return body + self.integ.mac(self.akey, aad_head + body)

    def open(self, aad_head: bytes, body: bytes) -> bytes | None:
        """The inner payloads, or None when the ICV does not verify."""
        encr = self.encr
        iv_len, icv_len = self.iv_len, self.icv_len
        if len(body) < iv_len + icv_len + 1:
            return None
        if encr.aead:
            iv, ct = body[:iv_len], body[iv_len:]
            key, salt = self.ekey[:-4], self.ekey[-4:]
            try:
                if encr.id == 28:
                    data = ChaCha20Poly1305(key).decrypt(salt + iv, ct, aad_head)
                else:
                    data = AESGCM(key).decrypt(salt + iv, ct, aad_head)
            except Exception:
                return None
        else:
            assert self.integ is not None
            mac_in, icv = body[:-icv_len], body[-icv_len:]
            if not hmac.compare_digest(self.integ.mac(self.akey, aad_head + mac_in), icv):
                return None
            iv, ct = body[:iv_len], body[iv_len:-icv_len]
            if len(ct) % 16:
                return None
            d = Cipher(algorithms.AES(self.ekey), modes.CBC(iv)).decryptor()
            data = d.update(ct) + d.finalize()
        pad = data[-1]
        if pad + 1 > len(data):
            return None
        return data[:len(data) - 1 - pad]
