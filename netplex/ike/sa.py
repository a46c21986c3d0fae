"""One IKE SA and its CHILD SAs: the IKEv2 exchanges (RFC 7296 §1.2-1.4, §2.8, §2.14-2.17),
sans I/O.

`IkeSa` consumes datagrams (`receive`) and returns what to send; what happened
is in `events` (`ike_up`, `child_up`, `child_rekeyed`, `child_down`,
`ike_down`, `auth_failed`, `no_proposal`). A daemon (netplex's charon in the
simulator, or a real UDP socket on the kernel twin) moves the bytes, keeps the
timers (retransmission, rekeying, DPD) and installs the CHILD SAs' keys.

Exchanges: IKE_SA_INIT (SA, KE, Ni/Nr, NAT detection; INVALID_KE_PAYLOAD
makes the initiator retry with the group asked for), IKE_AUTH with a
pre-shared key (§2.15: AUTH = prf(prf(secret, "Key Pad for IKEv2"),
<message> | nonce | prf(SK_p, ID'))), and the first CHILD SA; CREATE_CHILD_SA
rekeying a CHILD SA (REKEY_SA, optional PFS) and the deletion of the old one;
INFORMATIONAL with Delete payloads and empty ones (liveness checks, DPD).
"""
from __future__ import annotations

import datetime
import hashlib
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import serialization

from netplex.ike import message as m
from netplex.ike.config import ChildConfig, IkeConfig
from netplex.ike.message import IkeDecodeError, IkeHeader, Proposal, TrafficSelector
from netplex.ike.proposal import Chosen, choose, parse_proposals
from netplex.ike.transforms import DhKey, SkCipher, child_keymat, ike_keys
from netplex.ike.x509 import (
    AUTH_DS,
    HASH_SHA256,
    HASH_SHA384,
    HASH_SHA512,
    OUR_HASHES,
    Credentials,
    CredError,
    cert_has_id,
    cert_public_key,
    dn_der,
    dn_from_der,
    is_dn,
    key_kind,
    load_cert,
    pss_hash,
    sign,
    verify,
)

__all__ = ["ChildSa", "IkeSa", "id_payload"]

RandBytes = Callable[[int], bytes]
KEY_PAD = b"Key Pad for IKEv2"
COOKIE_MAX_RETRIES = 5       # ike_init.c MAX_RETRIES: COOKIE or INVALID_KE_PAYLOAD answers before giving up


def id_payload(ident: str, addr: int, cert: x509.Certificate | None = None) -> bytes:
    """An ID payload body for a swanctl `id`, as identification_create_from_string reads it: an IPv4
    address, a DN (`C=CH, O=strongSwan, CN=moon`), user@fqdn, an FQDN (`@` forces one). Unset: the
    certificate's subject DN when there is one, else the address."""
    if not ident or ident == "%any":
        if cert is not None:
            return m.build_id(m.ID_DER_ASN1_DN, cert.subject.public_bytes())
        return m.build_id(m.ID_IPV4_ADDR, addr.to_bytes(4, "big"))
    parts = ident.split(".")
    if len(parts) == 4 and all(p.isdigit() and int(p) < 256 for p in parts):
        return m.build_id(m.ID_IPV4_ADDR, bytes(int(p) for p in parts))
    if ident.startswith("@"):
        return m.build_id(m.ID_FQDN, ident[1:].encode())
    if is_dn(ident):
        try:
            return m.build_id(m.ID_DER_ASN1_DN, dn_der(ident))
        except CredError:
            pass
    if "@" in ident:
        return m.build_id(m.ID_RFC822_ADDR, ident.encode())
    return m.build_id(m.ID_FQDN, ident.encode())


def id_text(body: bytes) -> str:
    t, data = body[0], body[4:]
    if t == m.ID_IPV4_ADDR and len(data) == 4:
        return ".".join(str(b) for b in data)
    if t == m.ID_DER_ASN1_DN:
        try:
            return dn_from_der(data)
        except CredError:
            return data.hex()
    return data.decode(errors="replace")


def _cert_names(cert: x509.Certificate, body: bytes) -> bool:
    """Does the certificate hold the identity of an ID payload (its subject DN, or a subjectAltName)?"""
    if body[:1] == bytes((m.ID_DER_ASN1_DN,)):
        return cert.subject.public_bytes() == body[4:]
    return cert_has_id(cert, id_text(body))


def _kind_word(auth: str) -> str:
    return "RSA" if auth.startswith("rsa") else {"ecdsa": "ECDSA"}.get(auth, "ANY")


_PSS_HASH = {"sha256": HASH_SHA256, "sha384": HASH_SHA384, "sha512": HASH_SHA512}


def id_matches(want: str, body: bytes) -> bool:
    """Does a received ID payload name the identity a config asks for (`%any`: anyone)?"""
    if not want or want == "%any":
        return True
    return id_payload(want, 0)[:1] + id_payload(want, 0)[4:] == body[:1] + body[4:]


@dataclass(slots=True, eq=False)
class ChildSa:
    """A CHILD SA pair as the daemon installs it (inbound and outbound ESP SAs)."""

    cfg: ChildConfig
    reqid: int
    spi_in: int
    spi_out: int = 0
    chosen: Chosen | None = None
    enc_in: bytes = b""
    int_in: bytes = b""
    enc_out: bytes = b""
    int_out: bytes = b""
    ts_local: list[TrafficSelector] = field(default_factory=list)
    ts_remote: list[TrafficSelector] = field(default_factory=list)
    transport: bool = False
    state: str = "CREATED"
    established: int = 0          # seconds
    unique: int = 0
    rekeying: ChildSa | None = None   # the SA a rekey replaces
    initiator: bool = False           # we proposed it (its initiator-to-responder keys are our outbound)
    nonce_min: bytes = b""            # the lower nonce of the exchange that made it (§2.25.1 collisions)


class IkeSa:
    """One IKE SA from one side's point of view."""

    def __init__(self, cfg: IkeConfig, local: int, remote: int, initiator: bool, rand: RandBytes,
                 psk: bytes | None, now: Callable[[], int], unique: int = 1, nat_t: bool = False,
                 creds: Credentials | None = None,
                 wallclock: Callable[[], datetime.datetime] | None = None) -> None:
        self.cfg = cfg
        self.creds = creds or Credentials()
        self.wallclock = wallclock or (lambda: datetime.datetime.now(datetime.UTC))
        self.peer_hashes: set[int] = set()     # RFC 7427 SIGNATURE_HASH_ALGORITHMS the peer announced
        self.certreq_seen = False              # the peer asked for certificates (send_cert = ifasked)
        self.remote_cert: x509.Certificate | None = None
        self.local = local
        self.remote = remote
        self.local_port = 500
        self.remote_port = 500
        self.initiator = initiator
        self.rand = rand
        self.psk = psk
        self.now = now
        self.unique = unique
        self.state = "CONNECTING" if initiator else "CREATED"
        self.spii = rand(8) if initiator else b"\0" * 8
        self.spir = b"\0" * 8
        self.my_mid = 0              # the next request's Message ID
        self.peer_mid = 0            # the next request expected from the peer
        self.events: list[tuple[str, Any]] = []
        self.children: list[ChildSa] = []
        self.pending_child: ChildSa | None = None
        self.chosen: Chosen | None = None
        self.dh: DhKey | None = None
        self.ni = self.nr = b""
        self.init_req = self.init_resp = b""
        self.sk_d = b""
        self.out_cipher: SkCipher | None = None
        self.in_cipher: SkCipher | None = None
        self.sk_pi = self.sk_pr = b""
        self.remote_id = ""
        self.established = 0
        self.last_resp: tuple[int, bytes] | None = None    # (mid, bytes): a retransmitted request gets it again
        self.outstanding: bytes | None = None               # our request awaiting its response
        self.request_kind = ""
        self.next_reqid: Callable[[ChildConfig], int] = lambda c: 1
        self.nat_t = nat_t          # force NAT-T (encap): fake the source NAT hash, as strongSwan's encap=yes
        self.natd = False           # a NAT was detected: IKE on 4500, ESP in UDP
        self.nat_here = False       # we are the one behind it (the peer saw another address): send keepalives
        self.dh_group = 0
        self._rekey_ni = b""
        self._rekey_dh: DhKey | None = None
        self._rekey_spi = b""
        self.rsa_pss = False         # strongswan.conf charon.rsa_pss: RSASSA-PSS for pubkey/rsa auth too
        self.cookie = b""            # the responder's N(COOKIE) data, sent back in IKE_SA_INIT (§2.6)
        self.cookie_retries = 0

    # -- helpers -------------------------------------------------------------
    @property
    def prf(self) -> Any:
        assert self.chosen is not None and self.chosen.prf is not None
        return self.chosen.prf

    def _header(self, exch: int, response: bool, mid: int) -> IkeHeader:
        flags = (m.FLAG_I if self.initiator else 0) | (m.FLAG_R if response else 0)
        return IkeHeader(self.spii, self.spir, 0, exch, flags, mid)

    def _plain(self, exch: int, response: bool, mid: int, payloads: list[tuple[int, bytes]]) -> bytes:
        h = self._header(exch, response, mid)
        first, body = m.build_chain(payloads)
        h.next = first
        return h.pack(m.HDR_LEN + len(body)) + body

    def _encrypted(self, exch: int, response: bool, mid: int, payloads: list[tuple[int, bytes]]) -> bytes:
        c = self.out_cipher
        assert c is not None
        first, inner = m.build_chain(payloads)
        iv = self.rand(c.iv_len)
        # the sealed length is known before sealing: IV, padded plaintext, ICV
        if c.encr.aead:
            sealed_len = c.iv_len + len(inner) + 1 + c.icv_len
        else:
            sealed_len = c.iv_len + len(inner) + 1 + (-(len(inner) + 1) % 16) + c.icv_len
        h = self._header(exch, response, mid)
        h.next = m.PT_SK
        total = m.HDR_LEN + 4 + sealed_len
        head = h.pack(total) + struct.pack("!BBH", first, 0, 4 + sealed_len)
        return head + c.seal(head, inner, iv)

    def _decrypt(self, data: bytes, h: IkeHeader) -> list[tuple[int, bytes]] | None:
        plain = m.parse_chain(h.next, data[m.HDR_LEN:])
        if not plain or plain[0][0] != m.PT_SK or self.in_cipher is None:
            return None
        sk = plain[0][1]
        first = plain[1][1][0]
        head = data[:m.HDR_LEN] + sk[:4]
        inner = self.in_cipher.open(head, sk[4:])
        if inner is None:
            return None
        return m.parse_chain(first, inner)

    def _natd(self, ip: int, port: int, fake: bool = False, spir: bytes | None = None) -> bytes:
        """SHA-1(SPIi | SPIr | IP | port), the SPIs as the message's header carries them (§2.23)."""
        if fake:
            return self.rand(20)
        spir = self.spir if spir is None else spir
        return hashlib.sha1(self.spii + spir + ip.to_bytes(4, "big") + port.to_bytes(2, "big")).digest()

    def _derive(self, gir: bytes) -> None:
        ch = self.chosen
        assert ch is not None and ch.prf is not None
        k = ike_keys(ch.prf, ch.encr, ch.integ, self.ni, self.nr, gir, self.spii, self.spir)
        self.sk_d, self.sk_pi, self.sk_pr = k.d, k.pi, k.pr
        ci = SkCipher(ch.encr, ch.integ, k.ei, k.ai)
        cr = SkCipher(ch.encr, ch.integ, k.er, k.ar)
        self.out_cipher, self.in_cipher = (ci, cr) if self.initiator else (cr, ci)

    # -- authentication (§2.15, RFC 7427) ---------------------------------------------
    def _octets(self, signer_initiator: bool, idbody: bytes) -> bytes:
        """InitiatorSignedOctets / ResponderSignedOctets: the IKE_SA_INIT message, the peer's nonce,
        prf(SK_p, ID')."""
        msg = self.init_req + self.nr if signer_initiator else self.init_resp + self.ni
        key = self.sk_pi if signer_initiator else self.sk_pr
        return msg + self.prf(key, idbody)

    def _psk_mac(self, octets: bytes) -> bytes | None:
        if self.psk is None:
            return None
        return self.prf(self.prf(self.psk, KEY_PAD), octets)

    def _pubkey(self) -> bool:
        return self.cfg.local_auth != "psk" or self.cfg.remote_auth != "psk"

    def local_cert(self) -> x509.Certificate | None:
        """Our certificate: `local.certs`' first, else a loaded one with its private key holding our id."""
        if self.cfg.local_auth == "psk":
            return None
        if self.cfg.local_certs:
            return self.creds.by_file(self.cfg.local_certs[0])
        return self.creds.cert_for_id(self.cfg.local_id)

    def local_id(self) -> bytes:
        """Our ID payload's body: the configured id, else our certificate's subject, else our address."""
        return id_payload(self.cfg.local_id, self.local, self.local_cert())

    def _init_extras(self, responder: bool) -> list[tuple[int, bytes]]:
        """IKE_SA_INIT's CERTREQ (a responder's) and SIGNATURE_HASH_ALGORITHMS, for public-key auth."""
        if not self._pubkey():
            return []
        out = []
        if responder:
            out += self._certreq()
        hashes = b"".join(h.to_bytes(2, "big") for h in OUR_HASHES)
        return out + [(m.PT_NOTIFY, m.build_notify(m.N_SIGNATURE_HASH_ALGORITHMS, hashes))]

    def _certreq(self) -> list[tuple[int, bytes]]:
        if self.cfg.remote_auth == "psk" or not self.cfg.send_certreq or not self.creds.cacerts:
            return []
        return [(m.PT_CERTREQ, bytes((m.CERT_X509_SIGNATURE,)) + self.creds.certreq())]

    def _peer_init_extras(self, payloads: list[tuple[int, bytes]]) -> None:
        for t, b in payloads:
            if t == m.PT_CERTREQ:
                self.certreq_seen = True
            elif t == m.PT_NOTIFY:
                ntype, _p, _s, data = m.parse_notify(b)
                if ntype == m.N_SIGNATURE_HASH_ALGORITHMS:
                    self.peer_hashes = {int.from_bytes(data[i:i + 2], "big") for i in range(0, len(data) - 1, 2)}

    def _auth_payloads(self, signer_initiator: bool, idbody: bytes) -> tuple[list[tuple[int, bytes]],
                                                                              list[tuple[int, bytes]]] | None:
        """(CERT payloads, [AUTH]) proving our identity; None when we lack the secret or key."""
        octets = self._octets(signer_initiator, idbody)
        if self.cfg.local_auth == "psk":
            mac = self._psk_mac(octets)
            return None if mac is None else ([], [(m.PT_AUTH, m.build_auth(m.AUTH_PSK, mac))])
        cert = self.local_cert()
        key = self.creds.private_key_for(cert) if cert is not None else None
        if cert is None or key is None:
            return None
        try:
            auth = self.cfg.local_auth
            pss = auth.startswith("rsa/pss") or (self.rsa_pss and auth in ("pubkey", "rsa"))
            method, data = sign(key, octets, self.peer_hashes, pss, _PSS_HASH.get(auth.rpartition("-")[2], 0))
        except CredError:
            return None
        certs = []
        if self.cfg.send_cert == "always" or (self.cfg.send_cert == "ifasked" and self.certreq_seen):
            certs.append((m.PT_CERT, bytes((m.CERT_X509_SIGNATURE,)) + cert.public_bytes(serialization.Encoding.DER)))
        return certs, [(m.PT_AUTH, m.build_auth(method, data))]

    def _verify_peer(self, signer_initiator: bool, idbody: bytes, payloads: list[tuple[int, bytes]]) -> str:
        """'' when the peer's AUTH (and certificate) prove the identity it claims, else why not
        (in strongSwan's words)."""
        auth = next((b for t, b in payloads if t == m.PT_AUTH), None)
        peer = id_text(idbody)
        if auth is None or len(auth) < 4:
            return "no AUTH payload found"
        if not id_matches(self.cfg.remote_id, idbody):
            return f"no matching peer config found for '{peer}'"
        octets = self._octets(signer_initiator, idbody)
        method, data = auth[0], auth[4:]
        if self.cfg.remote_auth == "psk":
            if method != m.AUTH_PSK or data != self._psk_mac(octets):
                return f"tried 1 shared key for '{self.cfg.local_id}' - '{peer}', but MAC mismatched"
            return ""
        if method == m.AUTH_PSK:
            return "pre-shared key authentication not acceptable"
        sent = []
        for t, b in payloads:
            if t == m.PT_CERT and b[:1] == bytes((m.CERT_X509_SIGNATURE,)):
                try:
                    sent.append(load_cert(b[1:]))
                except CredError:
                    continue
        cands = [c for c in sent[:1] + self.creds.certs if _cert_names(c, idbody)]
        if not cands:
            return f"no trusted {_kind_word(self.cfg.remote_auth)} public key found for '{peer}'"
        anchors = None
        if self.cfg.remote_cacerts:
            anchors = [c for c in (self.creds.by_file(f) for f in self.cfg.remote_cacerts) if c is not None]
        why = ""
        for cert in cands:
            pub = cert_public_key(cert)
            want = self.cfg.remote_auth
            if want == "rsa/pss" and key_kind(pub) != "RSA":
                # charon 5.9 takes RSASSA-PSS and PKCS#1 v1.5 alike under `rsa/pss` (seen on the twin)
                why = f"no trusted RSA public key found for '{peer}'"
                continue
            if want in ("pubkey", "rsa") and method == AUTH_DS and pss_hash(data) is not None and not self.rsa_pss:
                why = f"no trusted {_kind_word(want)} public key found for '{peer}'"   # charon.rsa_pss = no
                continue
            if want in ("rsa", "ecdsa") and key_kind(pub) != want.upper():
                why = f"no trusted {_kind_word(self.cfg.remote_auth)} public key found for '{peer}'"
                continue
            why = self.creds.trusted(cert, sent[1:], self.wallclock(), anchors)
            if why:
                continue
            if verify(pub, method, data, octets):
                self.remote_cert = cert
                return ""
            why = f"signature validation failed, no trusted {key_kind(pub)} public key found for '{peer}'"
        return why

    def _child_keys(self, child: ChildSa, ni: bytes, nr: bytes, gir: bytes = b"") -> None:
        ch = child.chosen
        assert ch is not None
        enc_len = ch.encr.keylen + ch.encr.salt
        int_len = ch.integ.keylen if ch.integ is not None else 0
        ei, ai, er, ar = child_keymat(self.prf, self.sk_d, ni, nr, enc_len, int_len, gir)
        # initiator→responder keys protect the SA whose SPI the responder chose
        if child.initiator:
            child.enc_out, child.int_out, child.enc_in, child.int_in = ei, ai, er, ar
        else:
            child.enc_in, child.int_in, child.enc_out, child.int_out = ei, ai, er, ar

    def _esp_proposals(self, child: ChildConfig, spi: bytes, with_dh: bool) -> list[Proposal]:
        ps = parse_proposals(child.esp_proposals, m.PROTO_ESP)
        for p in ps:
            p.spi = spi
            if not with_dh:
                p.transforms = [t for t in p.transforms if t[0] != m.TT_DH]
        return ps

    def _ts(self, child: ChildConfig, local: bool) -> list[TrafficSelector]:
        ts = child.local_ts if local else child.remote_ts
        if not ts:
            a = self.local if local else self.remote
            return [TrafficSelector(a, a)]
        return ts

    def _new_child(self, cfg: ChildConfig, initiator: bool) -> ChildSa:
        spi = int.from_bytes(self.rand(4), "big") | 0xC0000000
        c = ChildSa(cfg, self.next_reqid(cfg), spi)
        c.transport = cfg.mode == "transport"
        c.initiator = initiator
        return c

    # -- initiating ------------------------------------------------------------
    def initiate(self, child: ChildConfig | None, group: int = 0) -> bytes:
        """IKE_SA_INIT request."""
        props = parse_proposals(self.cfg.proposals, m.PROTO_IKE)
        if not group:
            group = next((i for t, i, _k in props[0].transforms if t == m.TT_DH), 31)
        self.dh_group = group
        self.dh = DhKey(group, self.rand)
        if not (self.cookie and self.ni):
            self.ni = self.rand(32)      # a retry that carries a cookie keeps the nonce the cookie covers
        if child is not None:
            self.pending_child = self._new_child(child, True)
        return self._init_message(props)

    def _init_message(self, props: list[Proposal]) -> bytes:
        """The IKE_SA_INIT request of the current DH key and nonce; N(COOKIE) first when the responder
        asked for one (§2.6)."""
        assert self.dh is not None
        group = self.dh_group
        cookie = [(m.PT_NOTIFY, m.build_notify(m.N_COOKIE, self.cookie))] if self.cookie else []
        payloads = cookie + [(m.PT_SA, m.build_sa(props)), (m.PT_KE, m.build_ke(group, self.dh.public)),
                    (m.PT_NONCE, self.ni),
                    (m.PT_NOTIFY, m.build_notify(m.N_NAT_DETECTION_SOURCE_IP,
                                                 self._natd(self.local, self.local_port, self.nat_t))),
                    (m.PT_NOTIFY, m.build_notify(m.N_NAT_DETECTION_DESTINATION_IP,
                                                 self._natd(self.remote, self.remote_port)))]
        payloads += self._init_extras(False)
        self.init_req = self._plain(m.IKE_SA_INIT, False, 0, payloads)
        self.outstanding = self.init_req
        self.request_kind = "IKE_SA_INIT"
        return self.init_req

    def _auth_request(self) -> bytes | None:
        idi = self.local_id()
        child = self.pending_child
        proof = self._auth_payloads(True, idi)
        if proof is None:
            self.state = "DESTROYED"
            self.events.append(("auth_failed", "no private key or secret found"))
            return None
        payloads = [(m.PT_IDI, idi)] + proof[0] + self._certreq()
        if self.cfg.remote_id and self.cfg.remote_id != "%any":
            payloads.append((m.PT_IDR, id_payload(self.cfg.remote_id, self.remote)))
        payloads += proof[1]
        if child is not None:
            if child.transport:
                payloads.append((m.PT_NOTIFY, m.build_notify(m.N_USE_TRANSPORT_MODE)))
            payloads += [(m.PT_SA, m.build_sa(self._esp_proposals(child.cfg, child.spi_in.to_bytes(4, "big"), False))),
                         (m.PT_TSI, m.build_ts(self._ts(child.cfg, True))),
                         (m.PT_TSR, m.build_ts(self._ts(child.cfg, False)))]
        self.my_mid = 1
        req = self._encrypted(m.IKE_AUTH, False, 1, payloads)
        self.outstanding = req
        self.request_kind = "IKE_AUTH"
        return req

    # -- receiving --------------------------------------------------------------
    def receive(self, data: bytes) -> list[bytes]:
        try:
            h = IkeHeader.unpack(data)
        except IkeDecodeError:
            return []
        if h.flags & m.FLAG_R:
            return self._response(h, data)
        return self._request(h, data)

    def _response(self, h: IkeHeader, data: bytes) -> list[bytes]:
        if self.outstanding is None or h.mid != self.my_mid:
            return []
        kind = self.request_kind
        try:
            if kind == "IKE_SA_INIT":
                return self._init_response(h, data)
            payloads = self._decrypt(data, h)
            if payloads is None:
                return []
            self.outstanding = None
            self.my_mid += 1
            if kind == "IKE_AUTH":
                return self._auth_response(payloads)
            if kind == "CREATE_CHILD_SA":
                return self._rekey_response(payloads)
            if kind == "CREATE_CHILD_SA-IKE":
                return self._ike_rekey_response(payloads)
            if kind == "INFORMATIONAL-DELETE-IKE":
                self.state = "DESTROYED"
                self.events.append(("ike_down", "deleted"))
            if kind == "INFORMATIONAL-DELETE-CHILD":
                pass
            return []
        except (IkeDecodeError, IndexError, struct.error):
            return []

    def _init_response(self, h: IkeHeader, data: bytes) -> list[bytes]:
        payloads = m.parse_chain(h.next, data[m.HDR_LEN:])
        notes = [m.parse_notify(b) for t, b in payloads if t == m.PT_NOTIFY]
        for ntype, _p, _s, nd in notes:
            if ntype == m.N_COOKIE:
                # §2.6: the same request again with the cookie first; charon gives up after 5 retries
                self.cookie_retries += 1
                if self.cookie_retries > COOKIE_MAX_RETRIES or not nd:
                    self.state = "DESTROYED"
                    self.events.append(("cookie_retries", None))
                    return []
                self.cookie = nd
                self.events.append(("cookie", None))
                return [self._init_message(parse_proposals(self.cfg.proposals, m.PROTO_IKE))]
            if ntype == m.N_INVALID_KE_PAYLOAD and len(nd) >= 2:
                group = int.from_bytes(nd[:2], "big")
                child = self.pending_child.cfg if self.pending_child else None
                return [self.initiate(child, group)]
            if ntype == m.N_NO_PROPOSAL_CHOSEN:
                self.state = "DESTROYED"
                self.events.append(("no_proposal", None))
                return []
        sa = next(b for t, b in payloads if t == m.PT_SA)
        props = m.parse_sa(sa)
        chosen = choose(props, parse_proposals(self.cfg.proposals, m.PROTO_IKE), m.PROTO_IKE)
        if chosen is None:
            self.state = "DESTROYED"
            self.events.append(("no_proposal", None))
            return []
        self.chosen = chosen
        group, peer_ke = m.parse_ke(next(b for t, b in payloads if t == m.PT_KE))
        assert self.dh is not None
        if group != self.dh.group:
            return []
        self.nr = next(b for t, b in payloads if t == m.PT_NONCE)
        self.spir = h.spir
        self.init_resp = data
        self._check_nat(notes)
        gir = self.dh.shared(peer_ke)
        if gir is None:
            return []
        self._peer_init_extras(payloads)
        self._derive(gir)
        req = self._auth_request()
        return [] if req is None else [req]

    def _check_nat(self, notes: list[tuple[int, int, bytes, bytes]], spir: bytes | None = None) -> None:
        src = [d for t, _p, _s, d in notes if t == m.N_NAT_DETECTION_SOURCE_IP]
        dst = [d for t, _p, _s, d in notes if t == m.N_NAT_DETECTION_DESTINATION_IP]
        if not src and not dst:
            return
        want_src = self._natd(self.remote, self.remote_port, spir=spir)
        want_dst = self._natd(self.local, self.local_port, spir=spir)
        if dst and want_dst not in dst:
            self.nat_here = True
        if self.nat_t or (src and want_src not in src) or (dst and want_dst not in dst):
            self.natd = True
            if self.initiator:
                # the initiator moves to 4500 for IKE_AUTH (§2.23); the responder follows where it comes from
                self.local_port = self.remote_port = 4500

    def _auth_response(self, payloads: list[tuple[int, bytes]]) -> list[bytes]:
        notes = [m.parse_notify(b) for t, b in payloads if t == m.PT_NOTIFY]
        if any(n[0] == m.N_AUTHENTICATION_FAILED for n in notes):
            self.state = "DESTROYED"
            self.events.append(("auth_failed", "AUTHENTICATION_FAILED"))
            return []
        idr = next((b for t, b in payloads if t == m.PT_IDR), None)
        why = "no IDr payload found" if idr is None else self._verify_peer(False, idr, payloads)
        if why or idr is None:
            # tell the responder, which already installed its side (§2.21.2), in an INFORMATIONAL
            self.state = "DESTROYED"
            self.events.append(("auth_failed", why))
            return [self._encrypted(m.INFORMATIONAL, False, self.my_mid,
                                    [(m.PT_NOTIFY, m.build_notify(m.N_AUTHENTICATION_FAILED))])]
        self.remote_id = id_text(idr)
        self.state = "ESTABLISHED"
        self.established = self.now()
        self.outstanding = None
        self.events.append(("ike_up", None))
        child = self.pending_child
        self.pending_child = None
        if child is not None:
            self._child_from_response(child, payloads, notes, self.ni, self.nr)
        return []

    def _child_from_response(self, child: ChildSa, payloads: list[tuple[int, bytes]],
                             notes: list[tuple[int, int, bytes, bytes]], ni: bytes, nr: bytes,
                             gir: bytes = b"") -> bool:
        sa = next((b for t, b in payloads if t == m.PT_SA), None)
        if sa is None:
            self.events.append(("child_failed", [n[0] for n in notes]))
            return False
        props = m.parse_sa(sa)
        in_auth = child.rekeying is None
        mine = self._esp_proposals(child.cfg, b"", not in_auth)
        chosen = choose(props, mine, m.PROTO_ESP, strip_dh=in_auth)
        if chosen is None or len(props[0].spi) != 4:
            self.events.append(("child_failed", "no proposal"))
            return False
        child.chosen = chosen
        child.spi_out = int.from_bytes(props[0].spi, "big")
        child.ts_local = m.parse_ts(next(b for t, b in payloads if t == m.PT_TSI))
        child.ts_remote = m.parse_ts(next(b for t, b in payloads if t == m.PT_TSR))
        child.transport = any(n[0] == m.N_USE_TRANSPORT_MODE for n in notes)
        self._child_keys(child, ni, nr, gir)
        child.state = "INSTALLED"
        child.established = self.now()
        self.children.append(child)
        self.events.append(("child_up", child))
        return True

    # -- requests from the peer ------------------------------------------------
    def _request(self, h: IkeHeader, data: bytes) -> list[bytes]:
        if self.last_resp is not None and h.mid == self.last_resp[0] and h.mid + 1 == self.peer_mid:
            return [self.last_resp[1]]        # a retransmission: the same response again (§2.1)
        if h.mid != self.peer_mid:
            return []
        try:
            if h.exch == m.IKE_SA_INIT:
                out = self._init_request(h, data)
            else:
                payloads = self._decrypt(data, h)
                if payloads is None:
                    return []
                if h.exch == m.IKE_AUTH:
                    out = self._auth_request_in(h, payloads)
                elif h.exch == m.CREATE_CHILD_SA:
                    out = self._create_child_in(h, payloads)
                elif h.exch == m.INFORMATIONAL:
                    out = self._informational_in(h, payloads)
                else:
                    return []
        except (IkeDecodeError, StopIteration, IndexError, struct.error):
            return []
        if out is not None and self.state == "CREATED":
            return [out]              # an IKE_SA_INIT refusal keeps no state
        if out is not None:
            self.peer_mid = h.mid + 1
            self.last_resp = (h.mid, out)
            return [out]
        return []

    def _init_request(self, h: IkeHeader, data: bytes) -> bytes | None:
        if self.state != "CREATED":
            return None
        payloads = m.parse_chain(h.next, data[m.HDR_LEN:])
        self.spii = h.spii
        props = m.parse_sa(next(b for t, b in payloads if t == m.PT_SA))
        chosen = choose(props, parse_proposals(self.cfg.proposals, m.PROTO_IKE), m.PROTO_IKE)
        if chosen is None:
            self.events.append(("no_proposal", None))
            self.state = "DESTROYED"
            return self._plain(m.IKE_SA_INIT, True, 0, [(m.PT_NOTIFY, m.build_notify(m.N_NO_PROPOSAL_CHOSEN))])
        group, peer_ke = m.parse_ke(next(b for t, b in payloads if t == m.PT_KE))
        if group != chosen.dh:
            # stateless: the initiator retries with the group asked for (§1.2)
            return self._plain(m.IKE_SA_INIT, True, 0, [(m.PT_NOTIFY, m.build_notify(
                m.N_INVALID_KE_PAYLOAD, chosen.dh.to_bytes(2, "big")))])
        self.chosen = chosen
        self.ni = next(b for t, b in payloads if t == m.PT_NONCE)
        self.nr = self.rand(32)
        self.spir = self.rand(8)
        self.dh = DhKey(group, self.rand)
        gir = self.dh.shared(peer_ke)
        if gir is None:
            return None
        self.init_req = data
        notes = [m.parse_notify(b) for t, b in payloads if t == m.PT_NOTIFY]
        self._check_nat(notes, spir=h.spir)     # the request's hashes: its header's SPIr (zero)
        port = self.local_port
        resp = self._plain(m.IKE_SA_INIT, True, 0, [
            (m.PT_SA, m.build_sa([chosen.proposal])), (m.PT_KE, m.build_ke(group, self.dh.public)),
            (m.PT_NONCE, self.nr),
            (m.PT_NOTIFY, m.build_notify(m.N_NAT_DETECTION_SOURCE_IP, self._natd(self.local, port, self.nat_t))),
            (m.PT_NOTIFY, m.build_notify(m.N_NAT_DETECTION_DESTINATION_IP, self._natd(self.remote, self.remote_port)))]
            + self._init_extras(True))
        self._peer_init_extras(payloads)
        self.init_resp = resp
        self._derive(gir)
        self.state = "CONNECTING"
        return resp

    def _auth_request_in(self, h: IkeHeader, payloads: list[tuple[int, bytes]]) -> bytes | None:
        idi = next(b for t, b in payloads if t == m.PT_IDI)
        for t, _b in payloads:
            if t == m.PT_CERTREQ:
                self.certreq_seen = True
        why = self._verify_peer(True, idi, payloads)
        idr = self.local_id()
        proof = None if why else self._auth_payloads(False, idr)
        if proof is None:
            self.state = "DESTROYED"
            self.events.append(("auth_failed", why or "no private key or secret found"))
            return self._encrypted(m.IKE_AUTH, True, h.mid,
                                   [(m.PT_NOTIFY, m.build_notify(m.N_AUTHENTICATION_FAILED))])
        self.remote_id = id_text(idi)
        out = [(m.PT_IDR, idr)] + proof[0] + proof[1]
        self.state = "ESTABLISHED"
        self.established = self.now()
        self.events.append(("ike_up", None))
        if any(t == m.PT_SA for t, _b in payloads):
            out += self._child_responder(payloads, self.ni, self.nr, in_auth=True)
        return self._encrypted(m.IKE_AUTH, True, h.mid, out)

    def _child_responder(self, payloads: list[tuple[int, bytes]], ni: bytes, nr: bytes, in_auth: bool,
                         gir: bytes = b"", rekey: ChildSa | None = None) -> list[tuple[int, bytes]]:
        """Pick the child config whose traffic selectors cover the initiator's, then a proposal."""
        tsi = m.parse_ts(next(b for t, b in payloads if t == m.PT_TSI))
        tsr = m.parse_ts(next(b for t, b in payloads if t == m.PT_TSR))
        notes = [m.parse_notify(b) for t, b in payloads if t == m.PT_NOTIFY]
        cfg = rekey.cfg if rekey is not None else self._match_child(tsi, tsr)
        if cfg is None:
            self.events.append(("child_failed", "TS_UNACCEPTABLE"))
            return [(m.PT_NOTIFY, m.build_notify(m.N_TS_UNACCEPTABLE))]
        props = m.parse_sa(next(b for t, b in payloads if t == m.PT_SA))
        child = self._new_child(cfg, False)
        if rekey is not None:
            child.reqid = rekey.reqid
        chosen = choose(props, self._esp_proposals(cfg, b"", not in_auth), m.PROTO_ESP, strip_dh=in_auth)
        if chosen is None:
            self.events.append(("child_failed", "NO_PROPOSAL_CHOSEN"))
            return [(m.PT_NOTIFY, m.build_notify(m.N_NO_PROPOSAL_CHOSEN))]
        chosen.proposal.spi = child.spi_in.to_bytes(4, "big")
        child.chosen = chosen
        offered = next(p for p in props if p.num == chosen.proposal.num)
        child.spi_out = int.from_bytes(offered.spi, "big")
        child.ts_local, child.ts_remote = self._narrow(tsr, self._ts(cfg, True)), self._narrow(tsi, self._ts(cfg, False))
        child.transport = cfg.mode == "transport" and any(n[0] == m.N_USE_TRANSPORT_MODE for n in notes)
        self._child_keys(child, ni, nr, gir)
        child.state = "INSTALLED"
        child.established = self.now()
        child.rekeying = rekey
        child.nonce_min = min(ni, nr)
        self.children.append(child)
        self.events.append(("child_rekeyed" if rekey is not None else "child_up", child))
        out: list[tuple[int, bytes]] = []
        if child.transport:
            out.append((m.PT_NOTIFY, m.build_notify(m.N_USE_TRANSPORT_MODE)))
        out += [(m.PT_SA, m.build_sa([chosen.proposal]))]
        return out + [(m.PT_TSI, m.build_ts(child.ts_remote)), (m.PT_TSR, m.build_ts(child.ts_local))]

    @staticmethod
    def _narrow(theirs: list[TrafficSelector], mine: list[TrafficSelector]) -> list[TrafficSelector]:
        out = []
        for a in theirs:
            for b in mine:
                s, e = max(a.start, b.start), min(a.end, b.end)
                if s <= e:
                    out.append(TrafficSelector(s, e))
        return out or mine

    def _match_child(self, tsi: list[TrafficSelector], tsr: list[TrafficSelector]) -> ChildConfig | None:
        def covers(mine: list[TrafficSelector], theirs: list[TrafficSelector]) -> bool:
            return any(b.start <= a.end and a.start <= b.end for a in theirs for b in mine)
        for cfg in self.cfg.children.values():
            if covers(self._ts(cfg, False), tsi) and covers(self._ts(cfg, True), tsr):
                return cfg
        return None

    def _create_child_in(self, h: IkeHeader, payloads: list[tuple[int, bytes]]) -> bytes | None:
        sa_body = next((b for t, b in payloads if t == m.PT_SA), None)
        if sa_body is not None:
            props = m.parse_sa(sa_body)
            if props and props[0].proto == m.PROTO_IKE:
                return self._ike_rekey_in(h, payloads, props)
        notes = [m.parse_notify(b) for t, b in payloads if t == m.PT_NOTIFY]
        rekey_spi = next((int.from_bytes(s, "big") for t, p, s, _d in notes if t == m.N_REKEY_SA), None)
        old = next((c for c in self.children if c.spi_out == rekey_spi), None)
        if old is None:
            return self._encrypted(m.CREATE_CHILD_SA, True, h.mid, [(m.PT_NOTIFY, m.build_notify(
                m.N_CHILD_SA_NOT_FOUND, b"", m.PROTO_ESP, (rekey_spi or 0).to_bytes(4, "big")))])
        ni = next(b for t, b in payloads if t == m.PT_NONCE)
        nr = self.rand(32)
        gir = b""
        ke_out: list[tuple[int, bytes]] = []
        ke = next((b for t, b in payloads if t == m.PT_KE), None)
        if ke is not None:
            group, pub = m.parse_ke(ke)
            dh = DhKey(group, self.rand)
            gir = dh.shared(pub) or b""
            ke_out = [(m.PT_KE, m.build_ke(group, dh.public))]
        out = self._child_responder(payloads, ni, nr, False, gir, rekey=old)
        if out and out[0][0] == m.PT_NOTIFY and m.parse_notify(out[0][1])[0] in (m.N_NO_PROPOSAL_CHOSEN,
                                                                               m.N_TS_UNACCEPTABLE):
            return self._encrypted(m.CREATE_CHILD_SA, True, h.mid, out)
        sa_at = next(i for i, (t, _b) in enumerate(out) if t == m.PT_SA)
        out = out[:sa_at + 1] + [(m.PT_NONCE, nr)] + ke_out + out[sa_at + 1:]
        return self._encrypted(m.CREATE_CHILD_SA, True, h.mid, out)

    def _informational_in(self, h: IkeHeader, payloads: list[tuple[int, bytes]]) -> bytes:
        out: list[tuple[int, bytes]] = []
        if any(t == m.PT_NOTIFY and m.parse_notify(b)[0] == m.N_AUTHENTICATION_FAILED for t, b in payloads):
            # the initiator did not believe our AUTH (§2.21.2): the IKE SA and its CHILD SAs are gone
            for c in list(self.children):
                self._drop_child(c)
            self.state = "DESTROYED"
            self.events.append(("auth_failed", "received AUTHENTICATION_FAILED notify error"))
            return self._encrypted(m.INFORMATIONAL, True, h.mid, [])
        for t, b in payloads:
            if t != m.PT_DELETE:
                continue
            proto, spis = m.parse_delete(b)
            if proto == m.PROTO_IKE:
                self.state = "DESTROYED"
                self.events.append(("ike_down", "deleted by peer"))
                for c in list(self.children):
                    self._drop_child(c)
                return self._encrypted(m.INFORMATIONAL, True, h.mid, [])
            gone = []
            for s in spis:
                spi = int.from_bytes(s, "big")
                found = next((c for c in self.children if c.spi_out == spi), None)
                if found is not None:
                    gone.append(found.spi_in.to_bytes(4, "big"))
                    self._drop_child(found)
            if gone:
                out.append((m.PT_DELETE, m.build_delete(m.PROTO_ESP, gone)))
        return self._encrypted(m.INFORMATIONAL, True, h.mid, out)

    def _drop_child(self, c: ChildSa) -> None:
        if c in self.children:
            self.children.remove(c)
            c.state = "DELETED"
            self.events.append(("child_down", c))

    # -- requests we start once established --------------------------------------
    def _request_out(self, exch: int, payloads: list[tuple[int, bytes]], kind: str) -> bytes | None:
        if self.outstanding is not None or self.state != "ESTABLISHED":
            return None
        req = self._encrypted(exch, False, self.my_mid, payloads)
        self.outstanding = req
        self.request_kind = kind
        return req

    def dpd(self) -> bytes | None:
        """An empty INFORMATIONAL request: is the peer alive? (§1.4, DPD)."""
        return self._request_out(m.INFORMATIONAL, [], "INFORMATIONAL")

    def delete(self) -> bytes | None:
        """Delete the IKE SA (and so its CHILD SAs)."""
        req = self._request_out(m.INFORMATIONAL, [(m.PT_DELETE, m.build_delete(m.PROTO_IKE, []))],
                                "INFORMATIONAL-DELETE-IKE")
        for c in list(self.children):
            self._drop_child(c)
        self.state = "DELETING"
        return req

    def delete_child(self, c: ChildSa) -> bytes | None:
        req = self._request_out(m.INFORMATIONAL, [(m.PT_DELETE, m.build_delete(m.PROTO_ESP, [c.spi_in.to_bytes(4, "big")]))],
                                "INFORMATIONAL-DELETE-CHILD")
        if req is not None:
            self._drop_child(c)
        return req

    def rekey_child(self, old: ChildSa) -> bytes | None:
        """CREATE_CHILD_SA rekeying `old` (§1.3.3), with PFS when the ESP proposal names a group."""
        new = self._new_child(old.cfg, True)
        new.reqid = old.reqid
        new.rekeying = old
        props = self._esp_proposals(old.cfg, new.spi_in.to_bytes(4, "big"), True)
        group = next((i for t, i, _k in props[0].transforms if t == m.TT_DH), 0)
        self._rekey_ni = self.rand(32)
        self._rekey_dh = DhKey(group, self.rand) if group else None
        payloads = [(m.PT_NOTIFY, m.build_notify(m.N_REKEY_SA, b"", m.PROTO_ESP, old.spi_in.to_bytes(4, "big")))]
        if new.transport:
            payloads.append((m.PT_NOTIFY, m.build_notify(m.N_USE_TRANSPORT_MODE)))
        payloads += [(m.PT_SA, m.build_sa(props)), (m.PT_NONCE, self._rekey_ni)]
        if self._rekey_dh is not None:
            payloads.append((m.PT_KE, m.build_ke(group, self._rekey_dh.public)))
        payloads += [(m.PT_TSI, m.build_ts(old.ts_local)), (m.PT_TSR, m.build_ts(old.ts_remote))]
        req = self._request_out(m.CREATE_CHILD_SA, payloads, "CREATE_CHILD_SA")
        if req is not None:
            self.pending_child = new
        return req

    def _rekey_response(self, payloads: list[tuple[int, bytes]]) -> list[bytes]:
        new = self.pending_child
        self.pending_child = None
        if new is None:
            return []
        notes = [m.parse_notify(b) for t, b in payloads if t == m.PT_NOTIFY]
        nr = next((b for t, b in payloads if t == m.PT_NONCE), b"")
        gir = b""
        ke = next((b for t, b in payloads if t == m.PT_KE), None)
        if ke is not None and self._rekey_dh is not None:
            gir = self._rekey_dh.shared(m.parse_ke(ke)[1]) or b""
        if not self._child_from_response(new, payloads, notes, self._rekey_ni, nr, gir):
            return []
        self.events[-1] = ("child_rekeyed", new)
        new.nonce_min = min(self._rekey_ni, nr)
        old = new.rekeying
        rival = next((o for o in self.children if o is not new and o.rekeying is old and not o.initiator), None)
        if rival is not None and new.nonce_min < rival.nonce_min:
            # both ends rekeyed it at once (§2.25.1): the SA of the exchange with the lowest nonce is
            # redundant and its initiator deletes it; the other end deletes the old one
            req = self.delete_child(new)
            return [req] if req is not None else []
        if old is not None:
            req = self.delete_child(old)
            return [req] if req is not None else []
        return []

    # -- rekeying the IKE SA (§1.3.2, §2.18) ------------------------------------------
    def _successor(self, initiator: bool, spii: bytes, spir: bytes, chosen: Chosen, ni: bytes, nr: bytes,
                   gir: bytes) -> IkeSa:
        """The new IKE SA: keys from SKEYSEED = prf(SK_d (old), g^ir (new) | Ni | Nr), its own Message
        IDs from 0, the CHILD SAs moved to it; the one who asked for the rekey is its initiator."""
        new = IkeSa(self.cfg, self.local, self.remote, initiator, self.rand, self.psk, self.now,
                    nat_t=self.nat_t, creds=self.creds, wallclock=self.wallclock)
        new.spii, new.spir, new.chosen, new.ni, new.nr = spii, spir, chosen, ni, nr
        new.dh_group = chosen.dh
        k = ike_keys(chosen.prf, chosen.encr, chosen.integ, ni, nr, gir, spii, spir, sk_d_old=self.sk_d) \
            if chosen.prf is not None else None
        assert k is not None
        new.sk_d, new.sk_pi, new.sk_pr = k.d, k.pi, k.pr
        ci, cr = SkCipher(chosen.encr, chosen.integ, k.ei, k.ai), SkCipher(chosen.encr, chosen.integ, k.er, k.ar)
        new.out_cipher, new.in_cipher = (ci, cr) if initiator else (cr, ci)
        new.state = "ESTABLISHED"
        new.established = self.now()
        new.remote_id, new.remote_cert, new.peer_hashes = self.remote_id, self.remote_cert, self.peer_hashes
        new.local_port, new.remote_port, new.natd, new.nat_here = (self.local_port, self.remote_port, self.natd,
                                                                  self.nat_here)
        new.next_reqid = self.next_reqid
        new.children, self.children = self.children, []
        self.events.append(("ike_rekeyed", new))
        return new

    def rekey_ike(self) -> bytes | None:
        """CREATE_CHILD_SA with an IKE proposal (a new SPIi), Ni and KEi: the IKE SA rekeyed (§1.3.2)."""
        if self.state != "ESTABLISHED" or self.chosen is None:
            return None
        spi = self.rand(8)
        props = parse_proposals(self.cfg.proposals, m.PROTO_IKE)
        for p in props:
            p.spi = spi
        group = self.chosen.dh
        self._rekey_ni = self.rand(32)
        self._rekey_dh = DhKey(group, self.rand)
        payloads = [(m.PT_SA, m.build_sa(props)), (m.PT_NONCE, self._rekey_ni),
                    (m.PT_KE, m.build_ke(group, self._rekey_dh.public))]
        req = self._request_out(m.CREATE_CHILD_SA, payloads, "CREATE_CHILD_SA-IKE")
        if req is not None:
            self._rekey_spi = spi
            self.state = "REKEYING"
        return req

    def _ike_rekey_response(self, payloads: list[tuple[int, bytes]]) -> list[bytes]:
        self.state = "ESTABLISHED"
        sa = next((b for t, b in payloads if t == m.PT_SA), None)
        ke = next((b for t, b in payloads if t == m.PT_KE), None)
        nr = next((b for t, b in payloads if t == m.PT_NONCE), None)
        if sa is None or ke is None or nr is None or self._rekey_dh is None:
            notes = [m.parse_notify(b)[0] for t, b in payloads if t == m.PT_NOTIFY]
            self.events.append(("ike_rekey_failed", notes))
            return []
        props = m.parse_sa(sa)
        chosen = choose(props, parse_proposals(self.cfg.proposals, m.PROTO_IKE), m.PROTO_IKE)
        group, pub = m.parse_ke(ke)
        gir = self._rekey_dh.shared(pub) if group == self._rekey_dh.group else None
        if chosen is None or gir is None or len(props[0].spi) != 8:
            self.events.append(("ike_rekey_failed", "no proposal"))
            return []
        self._successor(True, self._rekey_spi, props[0].spi, chosen, self._rekey_ni, nr, gir)
        # the rekeying side deletes the old IKE SA (§2.18); its CHILD SAs now live on the new one
        req = self.delete()
        return [req] if req is not None else []

    def _ike_rekey_in(self, h: IkeHeader, payloads: list[tuple[int, bytes]], props: list[Proposal]) -> bytes:
        chosen = choose(props, parse_proposals(self.cfg.proposals, m.PROTO_IKE), m.PROTO_IKE)
        ke = next((b for t, b in payloads if t == m.PT_KE), None)
        ni = next((b for t, b in payloads if t == m.PT_NONCE), None)
        if chosen is None or ke is None or ni is None:
            return self._encrypted(m.CREATE_CHILD_SA, True, h.mid,
                                   [(m.PT_NOTIFY, m.build_notify(m.N_NO_PROPOSAL_CHOSEN))])
        group, pub = m.parse_ke(ke)
        if group != chosen.dh:
            return self._encrypted(m.CREATE_CHILD_SA, True, h.mid, [(m.PT_NOTIFY, m.build_notify(
                m.N_INVALID_KE_PAYLOAD, chosen.dh.to_bytes(2, "big")))])
        dh = DhKey(group, self.rand)
        gir = dh.shared(pub)
        if gir is None:
            return self._encrypted(m.CREATE_CHILD_SA, True, h.mid,
                                   [(m.PT_NOTIFY, m.build_notify(m.N_INVALID_SYNTAX))])
        nr = self.rand(32)
        spir = self.rand(8)
        offered = next(p for p in props if p.num == chosen.proposal.num)
        chosen.proposal.spi = spir
        self._successor(False, offered.spi, spir, chosen, ni, nr, gir)
        return self._encrypted(m.CREATE_CHILD_SA, True, h.mid, [
            (m.PT_SA, m.build_sa([chosen.proposal])), (m.PT_NONCE, nr), (m.PT_KE, m.build_ke(group, dh.public))])

    def retransmit(self) -> bytes | None:
        return self.outstanding

