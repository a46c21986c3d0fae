"""Long-lived per-host state of a namespace: the inet_peer (net/ipv4/inetpeer.c, include/net/inetpeer.h).

The kernel keeps one `struct inet_peer` per remote address, and three rate limiters read and
write the SAME fields of it:

- `ip_error` (net/ipv4/route.c): an ICMP error about a packet that had no route (or met an
  unreachable/prohibit route or rule) costs ip_rt_error_cost (HZ: 1 s) of the sender's
  `rate_tokens`, which hold at most ip_rt_error_burst (5 s): five at once, then one a second.
  Refused ones are silent (no counter).
- `inet_peer_xrlim_allow` (icmpv4_xrlim_allow, net/ipv4/icmp.c; written out in Ipv4Path.icmpv4_xrlim_allow,
  its one caller, which runs once an ICMP error): a type of icmp_ratemask costs
  icmp_ratelimit of the same `rate_tokens` (at most XRLIM_BURST_FACTOR = 6 of them); the time
  since `rate_last` is added only when it is not zero, so right after ip_error (same jiffy) the
  bucket is read as ip_error left it. With icmp_ratelimit 0 any elapsed time caps the tokens
  at 0: an ICMP error (a port unreachable, say) empties the bucket ip_error then needs.
- `ip_rt_send_redirect` (route.c): `rate_last` and `n_redirects` (see Ipv4Path.ip_rt_send_redirect),
  resetting `rate_tokens` after ip_rt_redirect_silence.

A new peer has no tokens and `rate_last` 60 s in the past, so its first use finds a full bucket.
netplex counts time in nanoseconds where the kernel counts jiffies; within one event the two
readings are the same instant (the kernel's rare tick between ip_error and icmp_send is not
modelled: it is what made corpus `rule-actions` flaky on the twin with icmp_ratelimit 0).
"""
from __future__ import annotations

NSEC_PER_SEC = 1_000_000_000
IP_RT_ERROR_COST_NS = NSEC_PER_SEC           # ip_rt_error_cost = HZ
IP_RT_ERROR_BURST_NS = 5 * NSEC_PER_SEC      # ip_rt_error_burst = 5 * HZ
XRLIM_BURST_FACTOR = 6
NEW_PEER_AGE_NS = 60 * NSEC_PER_SEC          # inet_getpeer: rate_last = jiffies - 60 * HZ


class InetPeer:
    """struct inet_peer's rate-limiting fields."""

    __slots__ = ("rate_tokens", "rate_last", "n_redirects")

    def __init__(self, now: int) -> None:
        self.rate_tokens = 0
        self.rate_last = now - NEW_PEER_AGE_NS
        self.n_redirects = 0


def inet_getpeer(peers: dict[int, InetPeer], addr: int, now: int) -> InetPeer:
    """inet_getpeer_v4 with create: the peer of `addr`, made on first use."""
    peer = peers.get(addr)
    if peer is None:
        peer = peers[addr] = InetPeer(now)
    return peer


def ip_error_allow(peer: InetPeer, now: int) -> bool:
    """ip_error's test: may an ICMP error go to this sender now (and take its cost)?"""
    tokens = min(peer.rate_tokens + now - peer.rate_last, IP_RT_ERROR_BURST_NS)
    peer.rate_last = now
    if tokens >= IP_RT_ERROR_COST_NS:
        peer.rate_tokens = tokens - IP_RT_ERROR_COST_NS
        return True
    peer.rate_tokens = tokens
    return False
