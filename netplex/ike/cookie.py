"""IKEv2 cookies (RFC 7296 §2.6): a responder under load answers an IKE_SA_INIT
request with only N(COOKIE) and keeps no state; the initiator sends the same
request again with that notification first, and only then does the responder
create an IKE SA.

The responder's side follows strongSwan 5.9's receiver.c (drop_ike_sa_init,
cookie_required, check_cookie): cookies are asked for while the half-open IKE
SAs (those we answered and that have not authenticated) reach
`charon.cookie_threshold` (30) in all or `charon.cookie_threshold_ip` (3) from
the initiator's address, and for COOKIE_CALMDOWN_DELAY (10 s) after that was
last true; an initiator over `charon.block_threshold` (5) half-open SAs is
ignored. `charon.dos_protection = no` turns all three off. The cookie is the
RFC's suggestion: a 4-byte secret version (the time it was made, in seconds)
and SHA-1(Ni | IPi | SPIi | secret), valid COOKIE_LIFETIME seconds.

The initiator's side is in `sa.IkeSa` (`_init_response`).
"""
from __future__ import annotations

import hashlib
import hmac
import struct
from collections.abc import Callable
from dataclasses import dataclass

from netplex.ike import message as m
from netplex.ike.message import IkeDecodeError, IkeHeader

__all__ = ["COOKIE_CALMDOWN_DELAY", "CookieGuard", "DosSettings", "cookie_response", "request_cookie"]

COOKIE_CALMDOWN_DELAY = 10    # receiver.c: seconds cookies stay on after the threshold was last reached
COOKIE_LIFETIME = 10          # receiver.c: seconds a cookie is good for
COOKIE_SECRET_SWITCH = 120    # receiver.c: a new secret after this many seconds of use
_NOTIFY_HDR = 8               # generic payload header (4) + protocol, SPI size, type (4)


@dataclass(slots=True)
class DosSettings:
    """strongswan.conf's charon.* keys for IKE_SA_INIT flooding (strongswan.conf(5))."""

    cookie_threshold: int = 30
    cookie_threshold_ip: int = 3
    block_threshold: int = 5

    @classmethod
    def from_settings(cls, charon: dict[str, object]) -> DosSettings:
        """From the `charon` section of strongswan.conf; `dos_protection = no` zeroes the thresholds."""
        d = cls()
        if str(charon.get("dos_protection", "yes")).lower() in ("no", "false", "0", "disabled"):
            return cls(0, 0, 0)
        for key in ("cookie_threshold", "cookie_threshold_ip", "block_threshold"):
            v = charon.get(key)
            if isinstance(v, str) and v.strip().isdigit():
                setattr(d, key, int(v))
        return d


def request_cookie(data: bytes) -> bytes | None:
    """The cookie of an IKE_SA_INIT request whose first payload is N(COOKIE) (as the RFC requires, and
    as charon's check_cookie reads it), else None."""
    if len(data) < m.HDR_LEN + _NOTIFY_HDR or data[16] != m.PT_NOTIFY:
        return None
    plen = int.from_bytes(data[m.HDR_LEN + 2:m.HDR_LEN + 4], "big")
    if int.from_bytes(data[m.HDR_LEN + 6:m.HDR_LEN + 8], "big") != m.N_COOKIE or data[m.HDR_LEN + 5] != 0 \
            or plen < _NOTIFY_HDR:
        return None
    return data[m.HDR_LEN + _NOTIFY_HDR:m.HDR_LEN + plen]


def cookie_response(h: IkeHeader, cookie: bytes) -> bytes:
    """The stateless IKE_SA_INIT response: the request's SPIi, SPIr zero, Message ID 0, N(COOKIE) only."""
    first, body = m.build_chain([(m.PT_NOTIFY, m.build_notify(m.N_COOKIE, cookie))])
    out = IkeHeader(h.spii, b"\0" * 8, first, m.IKE_SA_INIT, m.FLAG_R, 0)
    return out.pack(m.HDR_LEN + len(body)) + body


def _nonce(data: bytes, h: IkeHeader) -> bytes:
    for pt, body in m.parse_chain(h.next, data[m.HDR_LEN:]):
        if pt == m.PT_NONCE:
            return body
    raise IkeDecodeError("IKE_SA_INIT without a nonce")


class CookieGuard:
    """The receiver's decision on each IKE_SA_INIT request that would create an IKE SA."""

    def __init__(self, settings: DosSettings, rand: Callable[[int], bytes]) -> None:
        self.settings = settings
        self.rand = rand
        self.secret = rand(16)
        self.secret_old = self.secret
        self.secret_first_use = 0     # 0: not used yet
        self.last_threshold: dict[int, int] = {}    # 0 (global) or the initiator's address → when reached
        self.sent = 0                 # COOKIE notifications sent

    def _required(self, key: int, threshold: int, half_open: int, now: int) -> bool:
        """cookie_required: the threshold reached now, or less than COOKIE_CALMDOWN_DELAY ago."""
        if not threshold:
            return False
        if half_open >= threshold:
            self.last_threshold[key] = now
            return True
        last = self.last_threshold.get(key, 0)
        return bool(last) and now < last + COOKIE_CALMDOWN_DELAY

    def _cookie(self, t: int, secret: bytes, ni: bytes, src: int, spii: bytes) -> bytes:
        return struct.pack("!I", t) + hashlib.sha1(ni + src.to_bytes(4, "big") + spii + secret).digest()

    def _valid(self, cookie: bytes, ni: bytes, src: int, spii: bytes, now: int) -> bool:
        """cookie_verify: the right length, not older than COOKIE_LIFETIME, made with one of our secrets."""
        if len(cookie) != 4 + 20:
            return False
        t = int.from_bytes(cookie[:4], "big")
        if t + COOKIE_LIFETIME < now:
            return False
        secret = self.secret if t >= self.secret_first_use else self.secret_old
        return hmac.compare_digest(cookie, self._cookie(t, secret, ni, src, spii))

    def check(self, data: bytes, h: IkeHeader, src: int, half_open: int, half_open_ip: int,
              now: int) -> tuple[str, bytes]:
        """drop_ike_sa_init: ("ok", b""), ("cookie", the response to send) or ("block", b"")."""
        s = self.settings
        if self._required(0, s.cookie_threshold, half_open, now) or \
                self._required(src, s.cookie_threshold_ip, half_open_ip, now):
            ni = _nonce(data, h)
            got = request_cookie(data)
            if got is None or not self._valid(got, ni, src, h.spii, now):
                if not self.secret_first_use:
                    self.secret_first_use = now
                elif now - self.secret_first_use > COOKIE_SECRET_SWITCH:
                    self.secret_old, self.secret = self.secret, self.rand(16)
                    self.secret_first_use = now
                self.sent += 1
                return "cookie", cookie_response(h, self._cookie(now, self.secret, ni, src, h.spii))
        if s.block_threshold and half_open_ip >= s.block_threshold:
            return "block", b""
        return "ok", b""
