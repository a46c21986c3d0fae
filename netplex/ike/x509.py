"""Certificates, private keys and identities for IKEv2 public-key authentication.

What strongSwan's credential manager does for charon (libstrongswan's
credentials/, x509 and pkcs1 plugins, identification.c), through the
`cryptography` library:

- credentials as swanctl loads them (swanctl(8), load_creds.c): end-entity
  certificates from `x509/`, CA certificates from `x509ca/`, private keys
  from `private/`, `rsa/`, `ecdsa/`, `pkcs8/`, PEM or DER;
- identities (RFC 7296 §3.5): strongSwan's text forms — an IPv4 address,
  `user@domain` (RFC822), an FQDN (`@` forces one), a Distinguished Name
  `C=CH, O=strongSwan, CN=moon` (ID_DER_ASN1_DN) — and whether a certificate
  holds one (subject DN or a subjectAltName);
- trust: a peer's certificate is trusted when it is one we loaded or chains
  through certificates it sent to a CA we loaded (signatures and validity
  checked), optionally a given CA (`cacerts`);
- AUTH signatures (RFC 7296 §2.15): RFC 7427 Digital Signature (method 14:
  an AlgorithmIdentifier before the signature, the hash agreed through
  SIGNATURE_HASH_ALGORITHMS) for RSA PKCS#1 v1.5, ECDSA and Ed25519, and the
  older methods when the peer does not announce RFC 7427: RSA Digital
  Signature (1, PKCS#1 v1.5 with SHA-1) and ECDSA with SHA-256/384/512 on
  P-256/384/521 (9/10/11, r|s as RFC 4754 §7);
- CERTREQ contents: the SHA-1 of each trusted CA's subjectPublicKeyInfo
  (RFC 7296 §3.7).
RSASSA-PSS signatures are not produced and, received, fail verification.
"""
from __future__ import annotations

import datetime
import hashlib
import ipaddress
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from cryptography import x509
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature, encode_dss_signature
from cryptography.x509.oid import NameOID

__all__ = ["pss_alg_id", "pss_hash", "AUTH_DS", "AUTH_ECDSA_256", "AUTH_RSA", "CRED_DIRS", "CredError", "Credentials", "PrivateKey", "PublicKey",
           "cert_has_id", "dn_der", "dn_text", "key_kind", "load_cert", "load_key", "load_swanctl_creds", "sign",
           "verify"]

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey
PublicKey = rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey

AUTH_RSA, AUTH_ECDSA_256, AUTH_ECDSA_384, AUTH_ECDSA_521, AUTH_DS = 1, 9, 10, 11, 14
# RFC 7427 §4: the hash algorithms of SIGNATURE_HASH_ALGORITHMS
HASH_SHA1, HASH_SHA256, HASH_SHA384, HASH_SHA512, HASH_IDENTITY = 1, 2, 3, 4, 5
OUR_HASHES = (HASH_SHA256, HASH_SHA384, HASH_SHA512, HASH_IDENTITY)
_HASHES: dict[int, Callable[[], hashes.HashAlgorithm]] = {
    HASH_SHA256: hashes.SHA256, HASH_SHA384: hashes.SHA384, HASH_SHA512: hashes.SHA512}

# RFC 7427 Appendix A: the DER AlgorithmIdentifiers, (key kind, hash) → bytes
_ALG_IDS: dict[tuple[str, int], bytes] = {
    ("RSA", HASH_SHA256): bytes.fromhex("300d06092a864886f70d01010b0500"),
    ("RSA", HASH_SHA384): bytes.fromhex("300d06092a864886f70d01010c0500"),
    ("RSA", HASH_SHA512): bytes.fromhex("300d06092a864886f70d01010d0500"),
    ("ECDSA", HASH_SHA256): bytes.fromhex("300a06082a8648ce3d040302"),
    ("ECDSA", HASH_SHA384): bytes.fromhex("300a06082a8648ce3d040303"),
    ("ECDSA", HASH_SHA512): bytes.fromhex("300a06082a8648ce3d040304"),
    ("ED25519", HASH_IDENTITY): bytes.fromhex("300506032b6570"),
}
_BY_ALG_ID = {v: k for k, v in _ALG_IDS.items()}
# RFC 4055 §3.1 / RFC 7427 Appendix A.4: RSASSA-PSS, its parameters (hash, MGF1 with the same hash,
# salt length) in the AlgorithmIdentifier; netplex signs with a salt as long as the hash, as strongSwan
_OID_PSS = bytes.fromhex("06092a864886f70d01010a")
_OID_MGF1 = bytes.fromhex("06092a864886f70d010108")
_HASH_OIDS = {HASH_SHA256: bytes.fromhex("0609608648016503040201"), HASH_SHA384: bytes.fromhex("0609608648016503040202"),
              HASH_SHA512: bytes.fromhex("0609608648016503040203")}
_HASH_LEN = {HASH_SHA256: 32, HASH_SHA384: 48, HASH_SHA512: 64}
# RFC 4754 §3: the curve fixes the hash and the method
_ECDSA_LEGACY = {"secp256r1": (AUTH_ECDSA_256, HASH_SHA256, 32), "secp384r1": (AUTH_ECDSA_384, HASH_SHA384, 48),
                 "secp521r1": (AUTH_ECDSA_521, HASH_SHA512, 66)}

# strongSwan's names for DN attributes (identification.c x501rdns)
_RDN = [("C", NameOID.COUNTRY_NAME), ("ST", NameOID.STATE_OR_PROVINCE_NAME), ("L", NameOID.LOCALITY_NAME),
        ("O", NameOID.ORGANIZATION_NAME), ("OU", NameOID.ORGANIZATIONAL_UNIT_NAME), ("CN", NameOID.COMMON_NAME),
        ("E", NameOID.EMAIL_ADDRESS), ("DC", NameOID.DOMAIN_COMPONENT), ("SN", NameOID.SURNAME),
        ("serialNumber", NameOID.SERIAL_NUMBER), ("UID", NameOID.USER_ID),
        ("G", NameOID.GIVEN_NAME), ("T", NameOID.TITLE)]
_RDN_BY_NAME = {k.lower(): v for k, v in _RDN} | {"emailaddress": NameOID.EMAIL_ADDRESS}
_RDN_BY_OID = {v: k for k, v in _RDN}


class CredError(ValueError):
    """Bytes that are not a certificate or key, or a DN that does not parse."""


def load_cert(data: bytes) -> x509.Certificate:
    """An X.509 certificate, PEM or DER."""
    try:
        if b"-----BEGIN" in data:
            return x509.load_pem_x509_certificate(data)
        return x509.load_der_x509_certificate(data)
    except ValueError as e:
        raise CredError(str(e)) from None


def load_key(data: bytes) -> PrivateKey:
    """A private key, PEM (PKCS#1, SEC1, PKCS#8) or DER, unencrypted."""
    try:
        if b"-----BEGIN" in data:
            key = serialization.load_pem_private_key(data, None)
        else:
            key = serialization.load_der_private_key(data, None)
    except (ValueError, TypeError) as e:
        raise CredError(str(e)) from None
    if not isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey):
        raise CredError("unsupported key type")
    return key


def key_kind(key: PrivateKey | PublicKey) -> str:
    """strongSwan's key type name: RSA, ECDSA, ED25519."""
    if isinstance(key, rsa.RSAPrivateKey | rsa.RSAPublicKey):
        return "RSA"
    if isinstance(key, ec.EllipticCurvePrivateKey | ec.EllipticCurvePublicKey):
        return "ECDSA"
    return "ED25519"


def key_bits(key: PrivateKey | PublicKey) -> int:
    if isinstance(key, ed25519.Ed25519PrivateKey | ed25519.Ed25519PublicKey):
        return 256
    return key.key_size


def _spki(key: PrivateKey | PublicKey) -> bytes:
    pub = key.public_key() if isinstance(key, rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey |
                                         ed25519.Ed25519PrivateKey) else key
    return pub.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


def keyid(key: PrivateKey | PublicKey) -> bytes:
    """SHA-1 of the subjectPublicKeyInfo (strongSwan's KEYID_PUBKEY_INFO_SHA1; a CERTREQ's entries)."""
    return hashlib.sha1(_spki(key)).digest()


def cert_public_key(cert: x509.Certificate) -> PublicKey:
    pub = cert.public_key()
    if not isinstance(pub, rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey):
        raise CredError("unsupported public key")
    return pub


# ---- identities -------------------------------------------------------------

def dn_text(name: x509.Name) -> str:
    """A DN as strongSwan prints it: `C=CH, O=strongSwan, CN=moon`, in the certificate's order."""
    parts = []
    for rdn in name.rdns:
        for a in rdn:
            key = _RDN_BY_OID.get(a.oid, a.oid.dotted_string)
            parts.append(f"{key}={a.value!s}")
    return ", ".join(parts)


def parse_dn(text: str) -> x509.Name:
    """strongSwan's DN text (`C=CH, O=strongSwan, CN=moon`; `,` or `/` separated) as an x509.Name."""
    items = [x.strip() for x in (text.split("/") if text.startswith("/") else text.split(",")) if x.strip()]
    attrs = []
    for item in items:
        key, eq, val = item.partition("=")
        oid = _RDN_BY_NAME.get(key.strip().lower())
        if not eq or oid is None or not val.strip():
            raise CredError(f"invalid DN '{text}'")
        try:
            attrs.append(x509.NameAttribute(oid, val.strip()))
        except ValueError:
            raise CredError(f"invalid DN '{text}'") from None
    if not attrs:
        raise CredError(f"invalid DN '{text}'")
    return x509.Name([x509.RelativeDistinguishedName([a]) for a in attrs])


def dn_der(text: str) -> bytes:
    return parse_dn(text).public_bytes()


def is_dn(ident: str) -> bool:
    """identification_create_from_string: a string with `=` is a Distinguished Name."""
    return "=" in ident


def _der_len(data: bytes, o: int) -> tuple[int, int]:
    n = data[o]
    if n < 0x80:
        return n, o + 1
    k = n & 0x7F
    return int.from_bytes(data[o + 1:o + 1 + k], "big"), o + 1 + k


def dn_from_der(data: bytes) -> str:
    """The text of an ID_DER_ASN1_DN payload's DER Name (a certificate-free parse: SEQUENCE OF SET OF
    SEQUENCE {OID, string})."""
    try:
        if data[0] != 0x30:
            raise CredError("not a DN")
        ln, o = _der_len(data, 1)
        end = o + ln
        parts = []
        while o < end:
            _slen, so = _der_len(data, o + 1)          # SET
            _qlen, qo = _der_len(data, so + 1)         # SEQUENCE
            olen, oo = _der_len(data, qo + 1)          # OID
            oid = x509.ObjectIdentifier(_oid_text(data[oo:oo + olen]))
            vo = oo + olen
            vlen, vs = _der_len(data, vo + 1)
            parts.append(f"{_RDN_BY_OID.get(oid, oid.dotted_string)}={data[vs:vs + vlen].decode(errors='replace')}")
            o = so + _slen
        return ", ".join(parts)
    except (IndexError, ValueError):
        raise CredError("malformed DN") from None


def _oid_text(b: bytes) -> str:
    first = b[0]
    out = [str(min(first // 40, 2)), str(first - 40 * min(first // 40, 2))]
    v = 0
    for byte in b[1:]:
        v = (v << 7) | (byte & 0x7F)
        if not byte & 0x80:
            out.append(str(v))
            v = 0
    return ".".join(out)


def cert_has_id(cert: x509.Certificate, ident: str) -> bool:
    """certificate_t.has_subject: the subject DN, or a subjectAltName (DNS, email, IP address)."""
    if ident in ("", "%any"):
        return True
    if is_dn(ident):
        try:
            return parse_dn(ident).public_bytes() == cert.subject.public_bytes()
        except CredError:
            return False
    try:
        san = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except x509.ExtensionNotFound:
        return False
    name = ident[1:] if ident.startswith("@") else ident
    if name in [str(a) for a in san.get_values_for_type(x509.IPAddress)]:
        return True
    return name in san.get_values_for_type(x509.DNSName) or name in san.get_values_for_type(x509.RFC822Name)


# ---- the store ---------------------------------------------------------------

@dataclass(slots=True)
class Credentials:
    """What swanctl --load-creds loaded into charon: certificates, CA certificates, private keys."""

    certs: list[x509.Certificate] = field(default_factory=list)
    cacerts: list[x509.Certificate] = field(default_factory=list)
    keys: list[PrivateKey] = field(default_factory=list)
    files: dict[str, x509.Certificate] = field(default_factory=dict)   # path → certificate loaded from it

    def by_file(self, name: str) -> x509.Certificate | None:
        """A certificate a config names (`certs = moonCert.pem`: a file of x509/, or x509ca/ for `cacerts`)."""
        if name in self.files:
            return self.files[name]
        return next((c for p, c in self.files.items() if p.endswith("/" + name)), None)

    def private_key_for(self, cert: x509.Certificate) -> PrivateKey | None:
        want = _spki(cert_public_key(cert))
        return next((k for k in self.keys if _spki(k) == want), None)

    def cert_for_id(self, ident: str) -> x509.Certificate | None:
        """Our own certificate for a local identity (one with its private key, first loaded first)."""
        for c in self.certs:
            if cert_has_id(c, ident) and self.private_key_for(c) is not None:
                return c
        return None

    def certreq(self) -> bytes:
        """A CERTREQ's body after the encoding byte: the key ids of our trusted CAs."""
        return b"".join(keyid(cert_public_key(c)) for c in self.cacerts)

    def trusted(self, cert: x509.Certificate, sent: Iterable[x509.Certificate], now: datetime.datetime,
                anchors: list[x509.Certificate] | None = None) -> str:
        """'' when `cert` is trusted at `now`, else why not (strongSwan's log words)."""
        pool = list(sent)
        roots = anchors if anchors is not None else self.cacerts + self.certs
        cur = cert
        for _depth in range(8):
            if not (cur.not_valid_before_utc <= now <= cur.not_valid_after_utc):
                return f"certificate '{dn_text(cur.subject)}' is not valid at this time"
            if any(cur == r for r in roots):
                return ""
            issuer = next((c for c in roots + pool if c.subject == cur.issuer and _issued_by(cur, c)), None)
            if issuer is None:
                return f"no issuer certificate found for \"{dn_text(cur.subject)}\""
            if any(issuer == r for r in roots):
                if not (issuer.not_valid_before_utc <= now <= issuer.not_valid_after_utc):
                    return f"certificate '{dn_text(issuer.subject)}' is not valid at this time"
                return ""
            cur = issuer
        return "certificate path too long"


def _issued_by(cert: x509.Certificate, issuer: x509.Certificate) -> bool:
    try:
        cert.verify_directly_issued_by(issuer)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


# ---- AUTH signatures ---------------------------------------------------------

def _hash_for(key: PrivateKey, peer_hashes: set[int]) -> int | None:
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return HASH_IDENTITY if HASH_IDENTITY in peer_hashes else None
    order = [HASH_SHA256, HASH_SHA384, HASH_SHA512]
    if isinstance(key, ec.EllipticCurvePrivateKey):
        # the hash of the curve's strength first, as strongSwan's signature_schemes_for_key
        order = {"secp384r1": [HASH_SHA384, HASH_SHA512], "secp521r1": [HASH_SHA512]}.get(key.curve.name, order)
    return next((h for h in order if h in peer_hashes), None)


def _der(tag: int, body: bytes) -> bytes:
    n = len(body)
    return bytes((tag,)) + (bytes((n,)) if n < 128 else bytes((0x81, n)) if n < 256 else bytes((0x82,)) + n.to_bytes(2, "big")) + body


def pss_alg_id(h: int) -> bytes:
    """The RSASSA-PSS AlgorithmIdentifier (hash AlgorithmIdentifiers with NULL parameters, trailerField
    left at its DEFAULT, as strongSwan without charon.rsa_pss_trailerfield)."""
    hash_alg = _der(0x30, _HASH_OIDS[h] + b"\x05\x00")
    params = _der(0x30, _der(0xA0, hash_alg) + _der(0xA1, _der(0x30, _OID_MGF1 + hash_alg))
                  + _der(0xA2, _der(0x02, bytes((_HASH_LEN[h],)))))
    return _der(0x30, _OID_PSS + params)


def _pss_params(alg: bytes) -> tuple[int, int] | None:
    """(hash, salt length) of an RSASSA-PSS AlgorithmIdentifier with MGF1 over the same hash, else None."""
    if not alg.startswith(b"\x30") or _OID_PSS not in alg[:16]:
        return None
    h = next((k for k, oid in _HASH_OIDS.items() if oid in alg), None)
    if h is None or alg.count(_HASH_OIDS[h]) != 2 or _OID_MGF1 not in alg:
        return None      # no hash we know, or MGF1 over another hash
    i = alg.find(b"\xa2")
    salt = _HASH_LEN[h] if i < 0 else (alg[i + 4] if alg[i + 2] == 0x02 and alg[i + 3] == 1 else -1)
    return (h, salt) if salt >= 0 else None


def pss_hash(data: bytes) -> int | None:
    """The hash of the RSASSA-PSS signature an RFC 7427 AUTH payload's data carries, else None."""
    p = _pss_params(data[1:1 + data[0]]) if len(data) > 1 else None
    return None if p is None else p[0]


def sign(key: PrivateKey, octets: bytes, peer_hashes: set[int], pss: bool = False,
         want_hash: int = 0) -> tuple[int, bytes]:
    """(AUTH method, AUTH data) signing `octets` (§2.15's InitiatorSignedOctets or Responder's); `pss`:
    an RSA key signs RSASSA-PSS (RFC 7427 only), with `want_hash` when given."""
    h = _hash_for(key, peer_hashes)
    kind = key_kind(key)
    if pss and isinstance(key, rsa.RSAPrivateKey):
        h = want_hash or h
        if h not in _HASH_OIDS:
            raise CredError("no RSASSA-PSS hash the peer supports")
        alg = pss_alg_id(h)
        sig = key.sign(octets, padding.PSS(padding.MGF1(_HASHES[h]()), _HASH_LEN[h]), _HASHES[h]())
        return AUTH_DS, bytes((len(alg),)) + alg + sig
    if h is not None:
        alg = _ALG_IDS[(kind, h)]
        return AUTH_DS, bytes((len(alg),)) + alg + _raw_sign(key, octets, h)
    if isinstance(key, rsa.RSAPrivateKey):
        return AUTH_RSA, key.sign(octets, padding.PKCS1v15(), hashes.SHA1())
    if isinstance(key, ec.EllipticCurvePrivateKey) and key.curve.name in _ECDSA_LEGACY:
        method, hh, size = _ECDSA_LEGACY[key.curve.name]
        r, s = decode_dss_signature(_raw_sign(key, octets, hh))
        return method, r.to_bytes(size, "big") + s.to_bytes(size, "big")
    raise CredError(f"no signature scheme for a {kind} key the peer supports")


def _raw_sign(key: PrivateKey, octets: bytes, h: int) -> bytes:
    if isinstance(key, ed25519.Ed25519PrivateKey):
        return key.sign(octets)
    if isinstance(key, rsa.RSAPrivateKey):
        return key.sign(octets, padding.PKCS1v15(), _HASHES[h]())
    # RFC 6979 nonces: the same scenario signs the same bytes
    return key.sign(octets, ec.ECDSA(_HASHES[h](), deterministic_signing=True))


def verify(pub: PublicKey, method: int, data: bytes, octets: bytes) -> bool:
    """Is `data` (an AUTH payload's data of `method`) a signature of `octets` by `pub`?"""
    try:
        if method == AUTH_DS:
            n = data[0]
            pss = _pss_params(data[1:1 + n])
            if pss is not None:
                if not isinstance(pub, rsa.RSAPublicKey):
                    return False
                h, salt = pss
                pub.verify(data[1 + n:], octets, padding.PSS(padding.MGF1(_HASHES[h]()), salt), _HASHES[h]())
                return True
            found = _BY_ALG_ID.get(data[1:1 + n])
            if found is None or found[0] != key_kind(pub):
                return False
            sig = data[1 + n:]
            _raw_verify(pub, sig, octets, found[1])
            return True
        if method == AUTH_RSA and isinstance(pub, rsa.RSAPublicKey):
            pub.verify(data, octets, padding.PKCS1v15(), hashes.SHA1())
            return True
        if isinstance(pub, ec.EllipticCurvePublicKey) and pub.curve.name in _ECDSA_LEGACY:
            want, h, size = _ECDSA_LEGACY[pub.curve.name]
            if method != want or len(data) != 2 * size:
                return False
            der = encode_dss_signature(int.from_bytes(data[:size], "big"), int.from_bytes(data[size:], "big"))
            pub.verify(der, octets, ec.ECDSA(_HASHES[h]()))
            return True
    except (InvalidSignature, IndexError, ValueError):
        return False
    return False


def _raw_verify(pub: PublicKey, sig: bytes, octets: bytes, h: int) -> None:
    if isinstance(pub, ed25519.Ed25519PublicKey):
        pub.verify(sig, octets)
    elif isinstance(pub, rsa.RSAPublicKey):
        pub.verify(sig, octets, padding.PKCS1v15(), _HASHES[h]())
    else:
        pub.verify(sig, octets, ec.ECDSA(_HASHES[h]()))


# ---- swanctl --load-creds ------------------------------------------------------

# swanctl's credential directories (load_creds.c), in the order it reads them: (dir, what it holds)
CRED_DIRS = (("x509", "cert"), ("x509ca", "cacert"), ("private", "ANY"), ("rsa", "RSA"), ("ecdsa", "ECDSA"),
             ("pkcs8", "ANY"))


def load_swanctl_creds(base: str, listdir: Callable[[str], list[str] | None],
                       read: Callable[[str], bytes | None]) -> tuple[Credentials, list[str], list[str]]:
    """The credentials under a swanctl directory (`/etc/swanctl`): (credentials, what swanctl prints on
    stdout, on stderr). `listdir` gives a directory's names (None: no such directory)."""
    creds = Credentials()
    out: list[str] = []
    err: list[str] = []
    for sub, what in CRED_DIRS:
        names = listdir(f"{base}/{sub}")
        for name in sorted(names or []):
            path = f"{base}/{sub}/{name}"
            data = read(path)
            if data is None:
                continue
            if what in ("cert", "cacert"):
                try:
                    cert = load_cert(data)
                except CredError:
                    err.append(f"loading '{path}' failed: parsing X509 certificate failed")
                    continue
                (creds.certs if what == "cert" else creds.cacerts).append(cert)
                creds.files[path] = cert
                out.append(f"loaded certificate from '{path}'")
                continue
            try:
                key = load_key(data)
            except CredError:
                err.append(f"loading '{path}' failed: parsing {what} private key failed")
                continue
            if what != "ANY" and key_kind(key) != what:
                err.append(f"loading '{path}' failed: parsing {what} private key failed")
                continue
            creds.keys.append(key)
            out.append(f"loaded {key_kind(key)} key from '{path}'")
    return creds, out, err


# ---- making keys and certificates (strongSwan's pki --gen/--self/--issue) -----------------------

_SMALL_PRIMES = [p for p in range(3, 2000) if all(p % d for d in range(2, int(p ** 0.5) + 1))]


def _probable_prime(n: int, randbits: Callable[[int], int]) -> bool:
    if any(n % p == 0 for p in _SMALL_PRIMES):
        return n in _SMALL_PRIMES
    d, r = n - 1, 0
    while d % 2 == 0:
        d, r = d // 2, r + 1
    # Miller-Rabin: 5 rounds for random candidates of 512 bits and more (FIPS 186-4 C.3: under 2^-100)
    for _ in range(5 if n.bit_length() >= 512 else 40):
        a = 2 + randbits(n.bit_length() - 1) % (n - 3)
        x = pow(a, d, n)
        if x in (1, n - 1):
            continue
        for _r in range(r - 1):
            x = pow(x, 2, n)
            if x == n - 1:
                break
        else:
            return False
    return True


def _prime(bits: int, randbits: Callable[[int], int]) -> int:
    while True:
        n = randbits(bits) | (3 << (bits - 2)) | 1   # top two bits set: p*q has exactly 2*bits bits
        if _probable_prime(n, randbits):
            return n


def generate_key(kind: str, bits: int, randbits: Callable[[int], int]) -> PrivateKey:
    """A private key drawn from `randbits` (the simulation's seeded RNG: the same scenario makes the
    same key): RSA (e = 65537), ECDSA on P-256/384/521, Ed25519."""
    if kind == "rsa":
        e = 65537
        while True:
            p, q = _prime(bits // 2, randbits), _prime(bits - bits // 2, randbits)
            phi = (p - 1) * (q - 1)
            if p != q and phi % e and (p * q).bit_length() == bits:
                break
        d = pow(e, -1, phi)
        pub = rsa.RSAPublicNumbers(e, p * q)
        return rsa.RSAPrivateNumbers(p, q, d, d % (p - 1), d % (q - 1), pow(q, -1, p), pub).private_key()
    if kind == "ecdsa":
        curve: ec.EllipticCurve = {256: ec.SECP256R1(), 384: ec.SECP384R1(), 521: ec.SECP521R1()}[bits]
        order = {256: 0xFFFFFFFF00000000FFFFFFFFFFFFFFFFBCE6FAADA7179E84F3B9CAC2FC632551,
                 384: int("ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf581a0db248b0a77a"
                          "ecec196accc52973", 16),
                 521: int("01ffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffa51868783bf2f9"
                          "66b7fcc0148f709a5d03bb5c9b8899c47aebb6fb71e91386409", 16)}[bits]
        return ec.derive_private_key(1 + randbits(bits + 64) % (order - 1), curve)
    return ed25519.Ed25519PrivateKey.from_private_bytes(randbits(256).to_bytes(32, "big"))


def make_certificate(subject: str, public: PublicKey, signer: PrivateKey, issuer: x509.Certificate | None,
                     serial: int, not_before: datetime.datetime, days: int, ca: bool = False,
                     sans: Iterable[str] = ()) -> x509.Certificate:
    """A certificate as pki --self (issuer None) or --issue makes it: subject and authority key ids,
    basicConstraints and keyUsage for a CA, subjectAltNames (DNS, email, IP address)."""
    b = (x509.CertificateBuilder().subject_name(parse_dn(subject))
         .issuer_name(issuer.subject if issuer is not None else parse_dn(subject))
         .public_key(public).serial_number(serial).not_valid_before(not_before)
         .not_valid_after(not_before + datetime.timedelta(days=days))
         .add_extension(x509.SubjectKeyIdentifier.from_public_key(public), critical=False))
    if issuer is not None:
        b = b.add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(cert_public_key(issuer)),
                            critical=False)
    if ca:
        b = b.add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        b = b.add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False),
                            critical=True)
    names: list[x509.GeneralName] = []
    for s in sans:
        parts = s.split(".")
        if len(parts) == 4 and all(p.isdigit() and int(p) < 256 for p in parts):
            names.append(x509.IPAddress(ipaddress.IPv4Address(s)))
        elif "@" in s:
            names.append(x509.RFC822Name(s))
        else:
            names.append(x509.DNSName(s))
    if names:
        b = b.add_extension(x509.SubjectAlternativeName(names), critical=False)
    algo = None if isinstance(signer, ed25519.Ed25519PrivateKey) else hashes.SHA256()
    if isinstance(signer, ec.EllipticCurvePrivateKey):
        return b.sign(signer, algo, ecdsa_deterministic=True)
    return b.sign(signer, algo)


def load_public(data: bytes) -> PublicKey:
    """A public key (PEM or DER SubjectPublicKeyInfo), or the public half of a private key or certificate."""
    for loader in (serialization.load_pem_public_key, serialization.load_der_public_key):
        try:
            pub = loader(data)
        except (ValueError, TypeError):
            continue
        if isinstance(pub, rsa.RSAPublicKey | ec.EllipticCurvePublicKey | ed25519.Ed25519PublicKey):
            return pub
    try:
        return load_key(data).public_key()
    except CredError:
        pass
    return cert_public_key(load_cert(data))
