"""strongSwan's proposal keywords (swanctl.conf `proposals`, `esp_proposals`;
strongSwan's proposal_keywords) turned into IKEv2 SA proposals, and the
responder's choice among them (RFC 7296 §2.7, §3.3).

`aes128-sha256-x25519` is ENCR_AES_CBC/128, AUTH_HMAC_SHA2_256_128,
PRF_HMAC_SHA2_256 (taken from the integrity algorithm when no `prf...` is
given, as strongSwan does) and DH group 31; `aes128gcm16-prfsha256-ecp256`
an AEAD proposal; for ESP `aes128gcm16`, `aes256-sha512`,
`chacha20poly1305`, `-esn`/`-noesn` and a DH group for PFS on rekeying.
"""
from __future__ import annotations

from dataclasses import dataclass

from netplex.ike.message import PROTO_ESP, PROTO_IKE, TT_DH, TT_ENCR, TT_ESN, TT_INTEG, TT_PRF, Proposal
from netplex.ike.transforms import DH_GROUPS, ENCR, INTEG, PRF, EncrAlg, IntegAlg, PrfAlg

__all__ = ["Chosen", "ProposalError", "choose", "parse_proposals", "proposal_text"]

# ChaCha20-Poly1305 has one key size and no Key Length attribute (RFC 7634 §2)
ENCR_BY_ID = {(a.id, a.keylen * 8 if a.id != 28 else 0): a for a in ENCR.values()}
PRF_BY_ID = {a.id: a for a in PRF.values()}
INTEG_BY_ID = {a.id: a for a in INTEG.values()}


class ProposalError(ValueError):
    """A proposal keyword netplex does not know."""


def parse_proposals(text: str, proto: int) -> list[Proposal]:
    """A comma-separated list, each `alg-alg-...` one proposal."""
    out = []
    for n, item in enumerate(x.strip() for x in text.split(",") if x.strip()):
        if item == "default":
            item = "aes128-aes256-sha256-sha384-prfsha256-x25519-ecp256-modp2048" if proto == PROTO_IKE \
                else "aes128gcm16-aes256gcm16-chacha20poly1305-aes128-aes256-sha256-sha384"
        p = Proposal(n + 1, proto, b"")
        has_prf = has_esn = False
        for tok in item.split("-"):
            if tok in ENCR:
                a = ENCR[tok]
                p.transforms.append((TT_ENCR, a.id, a.keylen * 8 if a.id != 28 else None))
            elif tok in INTEG:
                p.transforms.append((TT_INTEG, INTEG[tok].id, None))
            elif tok in PRF and proto == PROTO_IKE:
                p.transforms.append((TT_PRF, PRF[tok].id, None))
                has_prf = True
            elif tok in DH_GROUPS:
                p.transforms.append((TT_DH, DH_GROUPS[tok], None))
            elif tok in ("esn", "noesn") and proto == PROTO_ESP:
                if tok == "esn":
                    raise ProposalError("esn")
                p.transforms.append((TT_ESN, 0, None))
                has_esn = True
            else:
                raise ProposalError(tok)
        if proto == PROTO_IKE and not has_prf:
            ids = [i for t, i, _k in p.transforms if t == TT_INTEG] or [12]
            for i in ids:
                # the PRF of the same hash as each integrity algorithm (12→5, 13→6, 14→7)
                p.transforms.append((TT_PRF, i - 7, None))
        if proto == PROTO_ESP and not has_esn:
            p.transforms.append((TT_ESN, 0, None))
        out.append(p)
    return out


@dataclass(slots=True)
class Chosen:
    """One transform of each type out of a proposal (what a responder returns)."""

    proposal: Proposal
    encr: EncrAlg
    integ: IntegAlg | None
    prf: PrfAlg | None
    dh: int

    def text(self) -> str:
        return proposal_text(self)


def _pick(p: Proposal, mine: Proposal, ttype: int) -> tuple[int, int | None] | None:
    theirs = p.of(ttype)
    ours = mine.of(ttype)
    if not theirs and not ours:
        return (0, None)
    for t in theirs:
        if t in ours:
            return t
    return None


def choose(offered: list[Proposal], mine: list[Proposal], proto: int, strip_dh: bool = False) -> Chosen | None:
    """The first of the peer's proposals (in its order, as strongSwan prefers by default
    the initiator's) that one of ours accepts; None: NO_PROPOSAL_CHOSEN."""
    for p in offered:
        if p.proto != proto:
            continue
        for m in mine:
            picks: dict[int, tuple[int, int | None]] = {}
            for tt in (TT_ENCR, TT_INTEG, TT_PRF, TT_DH, TT_ESN):
                if tt == TT_DH and strip_dh:
                    picks[tt] = (0, None)
                    continue
                t = _pick(p, m, tt)
                if t is None:
                    break
                picks[tt] = t
            else:
                eid, ek = picks[TT_ENCR]
                encr = ENCR_BY_ID.get((eid, ek or 0))
                if encr is None:
                    continue
                integ = INTEG_BY_ID.get(picks[TT_INTEG][0])
                prf = PRF_BY_ID.get(picks[TT_PRF][0])
                if not encr.aead and integ is None:
                    continue
                if proto == PROTO_IKE and prf is None:
                    continue
                chosen = Proposal(p.num, proto, p.spi, [(tt, i, k) for tt, (i, k) in picks.items() if i or tt == TT_ESN
                                                        if not (tt == TT_ESN and proto == PROTO_IKE)])
                return Chosen(chosen, encr, integ, prf, picks[TT_DH][0])
    return None


_DH_NAME = {14: "MODP_2048", 19: "ECP_256", 31: "CURVE_25519"}
_ENCR_NAME = {12: "AES_CBC", 20: "AES_GCM_16", 28: "CHACHA20_POLY1305"}
_INTEG_NAME = {12: "HMAC_SHA2_256_128", 13: "HMAC_SHA2_384_192", 14: "HMAC_SHA2_512_256"}
_PRF_NAME = {5: "PRF_HMAC_SHA2_256", 6: "PRF_HMAC_SHA2_384", 7: "PRF_HMAC_SHA2_512"}


def proposal_text(c: Chosen) -> str:
    """strongSwan's `%P` of a selected proposal: `AES_CBC-128/HMAC_SHA2_256_128/PRF_HMAC_SHA2_256/CURVE_25519`."""
    e = c.encr
    parts = [f"{_ENCR_NAME[e.id]}-{e.keylen * 8}" if e.id != 28 else _ENCR_NAME[e.id]]
    if c.integ is not None:
        parts.append(_INTEG_NAME[c.integ.id])
    if c.prf is not None:
        parts.append(_PRF_NAME[c.prf.id])
    if c.dh:
        parts.append(_DH_NAME[c.dh])
    return "/".join(parts)
