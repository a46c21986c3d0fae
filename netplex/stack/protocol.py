"""The IPv4 transport protocol table (net/ipv4/protocol.c: inet_protos, inet_add_protocol).

`ip_local_deliver` hands a datagram addressed to this host to the handler
registered for its protocol number, as ip_protocol_deliver_rcu does with
`inet_protos[protocol]`. ICMP, IGMP, TCP, UDP and GRE are registered where
the namespace is assembled (`netns.py`, as inet_init does in af_inet.c); a
new protocol (ESP, a test's toy protocol) is one `inet_add_protocol` call.

A handler is `handler(ns, dev, ip, rtype)`; `rtype` is the input route's
type ("local" or "broadcast"). A handler that returns False did not take
the datagram after all (GRE on a namespace without tunnels: the kernel's
ip_gre module is not loaded), and the datagram is treated as for an
unregistered protocol: ICMP protocol unreachable, then dropped.
"""
from __future__ import annotations

import errno
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from netplex.errors import NetplexError

if TYPE_CHECKING:
    from netplex.packet.ipv4 import IPv4

InetProtoHandler = Callable[[Any, Any, "IPv4", str], "bool | None"]

MAX_INET_PROTOS = 256

INET_PROTOS: dict[int, InetProtoHandler] = {}


def inet_add_protocol(protocol: int, handler: InetProtoHandler) -> None:
    """inet_add_protocol: one handler per protocol number; a second one is refused."""
    if not 0 <= protocol < MAX_INET_PROTOS:
        raise NetplexError(f"protocol {protocol} out of range", errno.EINVAL)
    if protocol in INET_PROTOS:
        raise NetplexError(f"protocol {protocol} already registered", errno.EBUSY)
    INET_PROTOS[protocol] = handler


def inet_del_protocol(protocol: int, handler: InetProtoHandler) -> None:
    """inet_del_protocol: remove `handler` if it is the one registered."""
    if INET_PROTOS.get(protocol) is not handler:
        raise NetplexError(f"protocol {protocol} not registered by this handler", errno.ENOENT)
    del INET_PROTOS[protocol]
