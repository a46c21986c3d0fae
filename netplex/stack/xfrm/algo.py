"""The transforms an SA can name, and ESP's seal and open with them
(net/xfrm/xfrm_algo.c's tables, net/ipv4/esp4.c; RFC 4303 §2, RFC 4106,
RFC 7634, RFC 4868, RFC 3602).

An `Algo` is one entry of the kernel's tables: its canonical name (what
`ip xfrm state` prints), the compatibility names `ip xfrm` also accepts
(`aes` for `cbc(aes)`, `sha256` for `hmac(sha256)`), the key lengths its
cipher accepts, and for authentication the default truncation
(`icv_truncbits`) and full length (`icv_fullbits`). The crypto itself is the
`cryptography` library's (AES-GCM, ChaCha20-Poly1305, AES-CBC) and the
standard library's HMAC.

Sealing (esp_output): payload, padding 1, 2, 3, ... up to the cipher's
block (at least 4, ALIGN(blocksize, 4) as esp_output_head), pad length,
next header; AEAD transforms authenticate SPI and sequence number as the
associated data (RFC 4106 §5), CBC+HMAC authenticate SPI, sequence, IV and
ciphertext (RFC 4303 §3.3.2.1). IVs: the 64-bit sequence number for GCM and
ChaCha20 (unique per key, as RFC 4106 §3.1 asks; the kernel's seqiv adds a
salt), and AES_K(sequence) for CBC (unpredictable without the key,
NIST SP 800-38A appendix C), so that a run stays deterministic.
"""
from __future__ import annotations

import hmac
from dataclasses import dataclass
from typing import Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM, ChaCha20Poly1305

__all__ = ["AEAD_ALGOS", "AUTH_ALGOS", "ENC_ALGOS", "AhTransform", "Algo", "AlgoKey", "EspTransform", "find_algo"]

AlgoKind = Literal["aead", "enc", "auth"]


@dataclass(frozen=True, slots=True)
class Algo:
    """One xfrm_algo_desc."""

    name: str
    kind: AlgoKind
    key_bits: tuple[int, ...] = ()      # accepted key lengths (bits, with the AEAD's salt); () = any
    icv_bits: tuple[int, ...] = ()      # AEAD: accepted ICV lengths
    trunc_bits: int = 0                 # auth: icv_truncbits (what `auth` without a length uses)
    full_bits: int = 0                  # auth: icv_fullbits (the most `auth-trunc` may keep)
    iv: int = 0                         # IV bytes on the wire
    block: int = 1                      # cipher block size
    aliases: tuple[str, ...] = ()
    digest: str = ""                    # auth: the hashlib name


AEAD_ALGOS = (
    Algo("rfc4106(gcm(aes))", "aead", (160, 224, 288), (64, 96, 128), iv=8),
    Algo("rfc7539esp(chacha20,poly1305)", "aead", (288,), (128,), iv=8),
)
ENC_ALGOS = (
    Algo("cbc(aes)", "enc", (128, 192, 256), iv=16, block=16, aliases=("aes",)),
    Algo("ecb(cipher_null)", "enc", (0,), aliases=("cipher_null",)),
)
AUTH_ALGOS = (
    Algo("hmac(md5)", "auth", trunc_bits=96, full_bits=128, aliases=("md5",), digest="md5"),
    Algo("hmac(sha1)", "auth", trunc_bits=96, full_bits=160, aliases=("sha1",), digest="sha1"),
    Algo("hmac(sha256)", "auth", trunc_bits=96, full_bits=256, aliases=("sha256",), digest="sha256"),
    Algo("hmac(sha384)", "auth", trunc_bits=192, full_bits=384, aliases=("sha384",), digest="sha384"),
    Algo("hmac(sha512)", "auth", trunc_bits=256, full_bits=512, aliases=("sha512",), digest="sha512"),
    Algo("digest_null", "auth", trunc_bits=0, full_bits=0, aliases=("digest_null",)),
)
_TABLES: dict[str, tuple[Algo, ...]] = {"aead": AEAD_ALGOS, "enc": ENC_ALGOS, "auth": AUTH_ALGOS}


def find_algo(kind: AlgoKind, name: str) -> Algo | None:
    """xfrm_{aead,ealg,aalg}_get_byname: by canonical name or alias."""
    for a in _TABLES[kind]:
        if name == a.name or name in a.aliases:
            return a
    return None


@dataclass(slots=True)
class AlgoKey:
    """An algorithm with the SA's key (xfrm_algo / xfrm_algo_aead / xfrm_algo_auth)."""

    algo: Algo
    key: bytes
    icv_bits: int = 0      # AEAD: alg_icv_len; auth: alg_trunc_len

    def key_ok(self) -> bool:
        """What crypto_*_setkey accepts (esp_init_state fails with EINVAL otherwise)."""
        a = self.algo
        return not a.key_bits or len(self.key) * 8 in a.key_bits


class AhTransform:
    """An SA's AH transform (net/ipv4/ah4.c ah_init_state): the keyed HMAC truncated to the SA's
    length, and the ICV field's size, padded to 8 bytes (4 with `flag align4`) as the kernel's AH
    for IPv4 pads it."""

    __slots__ = ("auth", "icv_len", "full_len", "field_len", "full_field_len")

    def __init__(self, auth: AlgoKey, align4: bool = False) -> None:
        self.auth = auth
        self.icv_len = auth.icv_bits // 8                 # ahp->icv_trunc_len
        self.full_len = auth.algo.full_bits // 8          # ahp->icv_full_len
        align = 4 if align4 else 8
        self.field_len = -(-(12 + self.icv_len) // align) * align - 12          # ICV and its padding
        self.full_field_len = -(-(12 + self.full_len) // align) * align - 12

    def icv(self, data: bytes) -> bytes:
        """The truncated HMAC over `data` (the packet with its mutable fields and ICV zeroed)."""
        a = self.auth
        if not a.algo.digest:
            return b""
        return hmac.new(a.key, data, a.algo.digest).digest()[:self.icv_len]


class EspTransform:
    """An SA's ESP transform, keyed once: seal and open the bytes after SPI and sequence."""

    __slots__ = ("aead", "enc", "auth", "iv_len", "block", "icv_len", "_ecb", "_aead", "_salt")

    def __init__(self, aead: AlgoKey | None, enc: AlgoKey | None, auth: AlgoKey | None) -> None:
        self.aead = aead
        self.enc = enc
        self.auth = auth
        self._ecb = None
        self._aead: AESGCM | ChaCha20Poly1305 | None = None   # keyed once (16-byte ICV: the one-shot API)
        self._salt = b""
        if aead is not None:
            self.iv_len = aead.algo.iv
            self.block = 4
            self.icv_len = aead.icv_bits // 8
            self._salt = aead.key[-4:]
            if aead.algo.name.startswith("rfc7539esp"):
                self._aead = ChaCha20Poly1305(aead.key[:-4])
            elif self.icv_len == 16:
                self._aead = AESGCM(aead.key[:-4])
        else:
            assert enc is not None
            self.iv_len = enc.algo.iv
            self.block = max(4, (enc.algo.block + 3) & ~3)
            self.icv_len = auth.icv_bits // 8 if auth is not None else 0
            if enc.algo.name == "cbc(aes)":
                self._ecb = Cipher(algorithms.AES(enc.key), modes.ECB())

    def overhead(self) -> int:
        """Bytes ESP adds beyond the payload at most: header, IV, padding, trailer, ICV."""
        return 8 + self.iv_len + self.block + 1 + self.icv_len

    def seal(self, spi: int, seq: int, payload: bytes, next_header: int, iv: bytes | None = None) -> bytes:
        """esp_output: IV, ciphertext of payload+padding+trailer, ICV. An AEAD's IV is the sequence
        number unless `iv` gives one (the published ESP test vectors choose theirs)."""
        pad = -(len(payload) + 2) % self.block
        plain = payload + bytes(range(1, pad + 1)) + bytes((pad, next_header))
        head = spi.to_bytes(4, "big") + seq.to_bytes(4, "big")
        aead = self.aead
        if aead is not None:
            iv = seq.to_bytes(8, "big") if iv is None else iv
            if self._aead is not None:
                return iv + self._aead.encrypt(self._salt + iv, plain, head)
            key, salt = aead.key[:-4], aead.key[-4:]
            enc = Cipher(algorithms.AES(key), modes.GCM(salt + iv)).encryptor()
            enc.authenticate_additional_data(head)
            ct = enc.update(plain) + enc.finalize()
            return iv + ct + enc.tag[:self.icv_len]
        body = self._encrypt(seq, plain)
        return body + self._icv(head + body)

    def open(self, spi: int, seq: int, data: bytes) -> tuple[bytes, int] | None:
        """esp_input: (payload, next header), or None when the ICV or the padding is wrong."""
        iv_len, icv_len = self.iv_len, self.icv_len
        if len(data) < iv_len + icv_len + 2 or (len(data) - iv_len - icv_len) % self.block:
            return None
        head = spi.to_bytes(4, "big") + seq.to_bytes(4, "big")
        aead = self.aead
        if aead is not None:
            iv, ct, tag = data[:iv_len], data[iv_len:len(data) - icv_len], data[len(data) - icv_len:]
            key, salt = aead.key[:-4], aead.key[-4:]
            try:
                if self._aead is not None:
                    plain = self._aead.decrypt(salt + iv, ct + tag, head)
                else:
                    dec = Cipher(algorithms.AES(key), modes.GCM(salt + iv, tag, min_tag_length=4)).decryptor()
                    dec.authenticate_additional_data(head)
                    plain = dec.update(ct) + dec.finalize()
            except InvalidTag:
                return None
        else:
            body, icv = data[:len(data) - icv_len], data[len(data) - icv_len:]
            if icv_len and not hmac.compare_digest(self._icv(head + body), icv):
                return None
            plain = self._decrypt(body)
        pad, nh = plain[-2], plain[-1]
        if pad + 2 > len(plain):
            return None
        return plain[:len(plain) - 2 - pad], nh

    def _icv(self, data: bytes) -> bytes:
        auth = self.auth
        if auth is None or not auth.algo.digest:
            return b""
        return hmac.new(auth.key, data, auth.algo.digest).digest()[:self.icv_len]

    def _encrypt(self, seq: int, plain: bytes) -> bytes:
        if self._ecb is None:
            return plain       # ecb(cipher_null)
        ecb = self._ecb.encryptor()
        iv = ecb.update(seq.to_bytes(16, "big")) + ecb.finalize()
        enc = self.enc
        assert enc is not None
        c = Cipher(algorithms.AES(enc.key), modes.CBC(iv)).encryptor()
        return iv + c.update(plain) + c.finalize()

    def _decrypt(self, body: bytes) -> bytes:
        if self._ecb is None:
            return body
        enc = self.enc
        assert enc is not None
        iv, ct = body[:16], body[16:]
        d = Cipher(algorithms.AES(enc.key), modes.CBC(iv)).decryptor()
        return d.update(ct) + d.finalize()
