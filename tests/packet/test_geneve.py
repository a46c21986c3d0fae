"""Geneve (RFC 8926) bytes: ours read by scapy's GENEVE layer, scapy's (with options) read by ours."""
from __future__ import annotations

import pytest

pytest.importorskip("scapy")

from scapy.contrib.geneve import GENEVE  # noqa: E402
from scapy.layers.inet import IP, UDP  # noqa: E402
from scapy.layers.l2 import Ether  # noqa: E402

from netplex.packet import GENEVE_PORT, Ethernet, Geneve, IPv4, Udp, ip_to_int  # noqa: E402


def _inner() -> Ethernet:
    return Ethernet.decode(bytes(Ether(src="02:00:00:00:00:01", dst="02:00:00:00:00:02") / IP(src="10.0.0.1",
                                                                                             dst="10.0.0.2")))


def test_scapy_reads_our_geneve() -> None:
    outer = IPv4(ip_to_int("10.1.0.1"), ip_to_int("10.1.0.2"), 17, Udp(49152, GENEVE_PORT, Geneve(5000, _inner())))
    s = IP(outer.encode())
    assert (s[UDP].dport, s[GENEVE].vni, s[GENEVE].proto, s[GENEVE].optionlen, s[GENEVE].version) == (
        6081, 5000, 0x6558, 0, 0)
    assert s[GENEVE].payload[IP].dst == "10.0.0.2"


def test_we_read_scapys_geneve_with_options() -> None:
    s = GENEVE(vni=0xABCDE, proto=0x6558, optionlen=2, options=b"\x01\x02\x03\x04\x05\x06\x07\x08") / Ether(
        bytes(_inner().encode()))
    g = Geneve.decode(bytes(s))
    assert (g.vni, g.proto, g.options) == (0xABCDE, 0x6558, b"\x01\x02\x03\x04\x05\x06\x07\x08")
    assert isinstance(g.payload, Ethernet) and g.payload.encode() == _inner().encode()
    assert g.encode() == bytes(s)


def test_bad_geneve_is_refused() -> None:
    with pytest.raises(ValueError):
        Geneve.decode(b"\x00" * 7)
    with pytest.raises(ValueError):
        Geneve.decode(b"\x80" + b"\x00" * 7)      # version 2
    with pytest.raises(ValueError):
        Geneve.decode(b"\x02" + b"\x00" * 7)      # 8 bytes of options announced, none there
