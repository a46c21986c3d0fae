"""decode(encode(x)) == x for every header, plus golden bytes."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from netplex.packet import (
    ACK,
    ARPOP_REQUEST,
    BROADCAST_MAC,
    ETH_P_8021AD,
    ETH_P_ARP,
    ETH_P_IP,
    ICMP_DEST_UNREACH,
    ICMP_ECHO,
    ICMP_FRAG_NEEDED,
    IP_DF,
    IPPROTO_ICMP,
    IPPROTO_TCP,
    IPPROTO_UDP,
    SYN,
    UDP_PORTS,
    Arp,
    Dot1Q,
    Ethernet,
    Icmp,
    IPv4,
    Tcp,
    Udp,
    ip_to_int,
    mac_to_bytes,
)
from netplex.packet import ipv4 as ipv4_mod
from netplex.packet import tcp as tcp_mod
from netplex.packet import udp as udp_mod

from ._strategies import arps, ethernets, icmps, ipv4s, tcps, udps

A = ip_to_int("10.0.0.1")
B = ip_to_int("10.0.0.2")
MAC1 = mac_to_bytes("02:00:00:00:00:01")
MAC2 = mac_to_bytes("02:00:00:00:00:02")


# ---- properties -------------------------------------------------------------

@given(ethernets())
@settings(max_examples=300)
def test_ethernet_roundtrip(frame: Ethernet) -> None:
    data = frame.encode()
    assert len(data) == frame.wire_len()
    assert Ethernet.decode(data) == frame


@given(ethernets(), st.binary(min_size=1, max_size=40))
def test_ethernet_tolerates_padding(frame: Ethernet, pad: bytes) -> None:
    if frame.type != ETH_P_IP and frame.type != ETH_P_ARP:
        return  # opaque payloads keep their padding, as they must
    assert Ethernet.decode(frame.encode() + pad) == frame


@given(ipv4s())
@settings(max_examples=300)
def test_ipv4_roundtrip(pkt: IPv4) -> None:
    data = pkt.encode()
    assert len(data) == pkt.wire_len()
    assert ipv4_mod.verify(data)
    assert IPv4.decode(data) == pkt


@given(arps)
def test_arp_roundtrip(a: Arp) -> None:
    data = a.encode()
    assert len(data) == a.wire_len() == 28
    assert Arp.decode(data) == a


@given(icmps())
def test_icmp_roundtrip(m: Icmp) -> None:
    data = m.encode()
    assert len(data) == m.wire_len()
    assert Icmp.decode(data) == m


@given(udps, st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1))
def test_udp_roundtrip(d: Udp, src: int, dst: int) -> None:
    data = d.encode(src, dst)
    assert len(data) == d.wire_len()
    assert udp_mod.verify(data, src, dst)
    assert data[6:8] != b"\x00\x00"  # a computed 0 is sent as 0xFFFF
    assert Udp.decode(data, src, dst) == d


@given(tcps(), st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1))
@settings(max_examples=300)
def test_tcp_roundtrip(seg: Tcp, src: int, dst: int) -> None:
    data = seg.encode(src, dst)
    assert len(data) == seg.wire_len()
    assert (data[12] >> 4) * 4 == 20 + seg.options_len() <= 60
    assert tcp_mod.verify(data, src, dst)
    assert Tcp.decode(data) == seg


@given(ethernets())
def test_copy_is_independent_header(frame: Ethernet) -> None:
    c = frame.copy()
    assert c == frame and c is not frame
    if isinstance(frame.payload, IPv4):
        assert c.payload is not frame.payload
        assert c.payload.payload is frame.payload.payload  # transport shared
        c.payload.ttl = (frame.payload.ttl + 1) & 0xFF
        assert c.payload.ttl != frame.payload.ttl
    c.dst = b"\x00" * 6
    assert frame.dst != c.dst or frame.dst == b"\x00" * 6


# ---- golden bytes -------------------------------------------------------------

def test_linux_syn_golden() -> None:
    """A SYN as Linux sends it: mss, sackOK+TS packed, nop, wscale."""
    syn = Tcp(40000, 80, seq=0x01020304, flags=SYN, window=64240, mss=1460,
              sack_perm=True, timestamps=(0xAABBCCDD, 0), wscale=7)
    data = syn.encode(A, B)
    assert data[12] >> 4 == 10
    assert data[20:] == bytes.fromhex("020405b4" "0402080a" "aabbccdd" "00000000" "01030307")
    assert tcp_mod.verify(data, A, B)


@pytest.mark.parametrize("kwargs, options", [
    (dict(timestamps=(1, 2)), "0101080a" "00000001" "00000002"),
    (dict(sack_perm=True), "01010402"),
    (dict(mss=536, sack_perm=True, wscale=0), "02040218" "01010402" "01030300"),
    (dict(timestamps=(5, 6), sack=((100, 200),)),
     "0101080a" "00000005" "00000006" "0101050a" "00000064" "000000c8"),
    (dict(sack=((1, 2), (3, 4))), "01010512" "00000001" "00000002" "00000003" "00000004"),
    (dict(extra_options=b"\x1e\x03\x01"), "1e030100"),
])
def test_tcp_option_layout(kwargs: dict, options: str) -> None:
    seg = Tcp(1, 2, flags=ACK, **kwargs)
    data = seg.encode(A, B)
    assert data[20:].hex() == options
    assert Tcp.decode(data) == seg


def test_tcp_decode_any_order() -> None:
    # Options in an order Linux would not use, with EOL padding.
    opts = bytes.fromhex("030305" "080a000000090000000a" "0402" "020405dc" "00" "00")
    hdr = bytearray(Tcp(1, 2).encode())
    hdr[12] = (5 + len(opts) // 4) << 4
    seg = Tcp.decode(bytes(hdr) + opts)
    assert (seg.wscale, seg.timestamps, seg.sack_perm, seg.mss) == (5, (9, 10), True, 1500)
    assert seg.extra_options == b""


def test_ping_frame_golden() -> None:
    frame = Ethernet(MAC2, MAC1, ETH_P_IP,
                     IPv4(A, B, IPPROTO_ICMP, Icmp(ICMP_ECHO, 0, id=0x1234, seq=1,
                                                   payload=b"abcdefgh"),
                          id=0x4321, flags=IP_DF))
    data = frame.encode()
    assert data.hex() == (
        "020000000002" "020000000001" "0800"
        "4500" "0024" "4321" "4000" "40" "01" "e3b5" "0a000001" "0a000002"
        "0800" "5435" "1234" "0001" "6162636465666768")
    assert Ethernet.decode(data) == frame


def test_arp_request_golden() -> None:
    req = Arp(ARPOP_REQUEST, MAC1, A, b"\x00" * 6, B)
    frame = Ethernet(BROADCAST_MAC, MAC1, ETH_P_ARP, req)
    assert frame.encode().hex() == (
        "ffffffffffff" "020000000001" "0806"
        "0001" "0800" "06" "04" "0001" "020000000001" "0a000001" "000000000000" "0a000002")
    assert frame.wire_len() == 42  # veth does not pad to 60


def test_vlan_golden() -> None:
    frame = Ethernet(MAC2, MAC1, ETH_P_IP, IPv4(A, B, 253, b""),
                     vlans=(Dot1Q(100, pcp=5, tpid=ETH_P_8021AD), Dot1Q(4095, dei=1)))
    data = frame.encode()
    assert data[12:22].hex() == "88a8" "a064" "8100" "1fff" "0800"
    assert Ethernet.decode(data) == frame
    assert frame.wire_len() == 14 + 8 + 20


def test_udp_zero_checksum_sent_as_ffff() -> None:
    # Find a payload whose checksum computes to 0 and check it goes out as FFFF.
    base = Udp(1, 2, b"\x00\x00")
    c = int.from_bytes(base.encode(A, B)[6:8], "big")
    # Adding c to the payload word makes the ones' complement sum -0.
    d = Udp(1, 2, c.to_bytes(2, "big"))
    data = d.encode(A, B)
    assert data[6:8] == b"\xff\xff"
    assert udp_mod.verify(data, A, B)


def test_udp_port_registry(monkeypatch: pytest.MonkeyPatch) -> None:
    inner = Ethernet(MAC1, MAC2, ETH_P_ARP, Arp(1, MAC2, B, b"\x00" * 6, A))
    d = Udp(12345, 9999, inner)
    assert d.wire_len() == 8 + 42
    data = d.encode(A, B)
    assert Udp.decode(data).payload == inner.encode()  # unbound port: bytes
    monkeypatch.setitem(UDP_PORTS, 9999, Ethernet)
    assert Udp.decode(data) == d


def test_ipv4_options_padded() -> None:
    pkt = IPv4(A, B, 253, b"x", options=b"\x94\x04\x00")  # 3 bytes -> padded to 4
    data = pkt.encode()
    assert data[0] == 0x46 and len(data) == pkt.wire_len() == 25
    assert IPv4.decode(data).options == b"\x94\x04\x00\x00"


def test_ipv4_fragment_payload_stays_bytes() -> None:
    udp = Udp(1, 2, b"y" * 40).encode(A, B)
    first = IPv4.decode(IPv4(A, B, IPPROTO_UDP, udp[:24], flags=1).encode())
    assert first.payload == udp[:24]
    later = IPv4.decode(IPv4(A, B, IPPROTO_UDP, udp[24:], frag=3).encode())
    assert later.payload == udp[24:]


def test_icmp_error_quotes_like_icmp_send() -> None:
    big = IPv4(A, B, IPPROTO_UDP, Udp(1, 2, b"z" * 1400)).encode()
    err = Icmp.error(ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, big, rest=1400)
    assert err.payload == big[:548]
    assert IPv4(B, A, IPPROTO_ICMP, err).wire_len() == 576
    small = IPv4(A, B, IPPROTO_TCP, Tcp(1, 2, flags=SYN))
    err2 = Icmp.error(ICMP_DEST_UNREACH, 3, small)
    assert err2.payload == small.encode()
    assert err2.encode()[4:8] == b"\x00\x00\x00\x00"
    assert Icmp.error(3, 4, big, rest=1400).encode()[6:8] == (1400).to_bytes(2, "big")


@pytest.mark.parametrize("data", [b"", b"\x02" * 13])
def test_truncated_ethernet(data: bytes) -> None:
    with pytest.raises(ValueError):
        Ethernet.decode(data)


def test_truncated_inner_headers() -> None:
    with pytest.raises(ValueError):
        IPv4.decode(b"\x45" + b"\x00" * 10)
    with pytest.raises(ValueError):
        IPv4.decode(bytes.fromhex("6000000000000000000000000000000000000000"))
    with pytest.raises(ValueError):
        Tcp.decode(b"\x00" * 19)
    with pytest.raises(ValueError):
        Udp.decode(b"\x00" * 7)
    with pytest.raises(ValueError):
        Icmp.decode(b"\x08\x00")
    with pytest.raises(ValueError):
        Arp.decode(b"\x00" * 27)
    assert not ipv4_mod.verify(b"\x45\x00")
