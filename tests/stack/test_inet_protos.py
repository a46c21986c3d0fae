"""The inet_protos registry (net/ipv4/protocol.c): ip_local_deliver hands a datagram
to the handler registered for its protocol number; an unregistered protocol gets
ICMP protocol unreachable, as before."""
from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from netplex.errors import NetplexError
from netplex.packet.icmp import ICMP_DEST_UNREACH, ICMP_PROT_UNREACH, Icmp
from netplex.packet.ipv4 import IPPROTO_ICMP, IPPROTO_UDP, IPv4
from netplex.stack.ipv4 import OutRoute
from netplex.stack.protocol import INET_PROTOS, inet_add_protocol, inet_del_protocol

TOY_PROTO = 253   # RFC 3692: for experimentation and testing


def _send(ns: Any, dst: str, proto: int, payload: bytes) -> None:
    d = int.from_bytes(bytes(int(x) for x in dst.split(".")), "big")
    rt = ns.ip_route_output(d)
    assert isinstance(rt, OutRoute)
    ns.ip_local_out(IPv4(rt.src, d, proto, payload, ttl=64), rt)


@pytest.fixture
def icmp_seen() -> Iterator[list[Icmp]]:
    """Wraps the registered ICMP handler (through the registry) to see what arrives."""
    seen: list[Icmp] = []
    orig = INET_PROTOS[IPPROTO_ICMP]

    def spy(ns: Any, dev: Any, ip: IPv4, rtype: str) -> bool | None:
        if isinstance(ip.payload, Icmp):
            seen.append(ip.payload)
        return orig(ns, dev, ip, rtype)

    inet_del_protocol(IPPROTO_ICMP, orig)
    inet_add_protocol(IPPROTO_ICMP, spy)
    try:
        yield seen
    finally:
        inet_del_protocol(IPPROTO_ICMP, spy)
        inet_add_protocol(IPPROTO_ICMP, orig)


def test_toy_protocol_receives_its_datagrams(two_hosts, icmp_seen) -> None:
    net, h1, _ = two_hosts
    got: list[tuple[str, str, bytes, str]] = []

    def toy_rcv(ns: Any, dev: Any, ip: IPv4, rtype: str) -> None:
        got.append((ns.name, dev.name, ip.payload, rtype))

    inet_add_protocol(TOY_PROTO, toy_rcv)
    try:
        _send(h1.ns, "10.0.0.2", TOY_PROTO, b"hello")
        net.run_for(1_000_000_000)
    finally:
        inet_del_protocol(TOY_PROTO, toy_rcv)
    assert got == [("h2", "eth0", b"hello", "local")]
    assert not any(m.type == ICMP_DEST_UNREACH for m in icmp_seen)


def test_unregistered_protocol_gets_protocol_unreachable(two_hosts, icmp_seen) -> None:
    net, h1, _ = two_hosts
    assert TOY_PROTO not in INET_PROTOS
    _send(h1.ns, "10.0.0.2", TOY_PROTO, b"hello")
    net.run_for(1_000_000_000)
    assert [(m.type, m.code) for m in icmp_seen] == [(ICMP_DEST_UNREACH, ICMP_PROT_UNREACH)]


def test_registry_refuses_a_second_handler_and_a_stranger() -> None:
    with pytest.raises(NetplexError):
        inet_add_protocol(IPPROTO_UDP, lambda ns, dev, ip, rtype: None)
    with pytest.raises(NetplexError):
        inet_del_protocol(IPPROTO_UDP, lambda ns, dev, ip, rtype: None)
    assert IPPROTO_UDP in INET_PROTOS
