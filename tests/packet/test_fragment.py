"""ipv4.fragment: the geometry of Linux's ip_do_fragment."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netplex.packet import IP_DF, IP_MF, IPPROTO_UDP, IPv4, Udp, fragment, ip_to_int

A = ip_to_int("10.0.0.1")
B = ip_to_int("10.0.0.2")

# Record route (not copied, type 7) then a copied option (security, type 130).
OPTS = bytes.fromhex("07070400000000" "00") + bytes.fromhex("820b" + "00" * 9) + b"\x00"


def test_fits_unchanged() -> None:
    pkt = IPv4(A, B, IPPROTO_UDP, Udp(1, 2, b"a" * 1472))
    assert fragment(pkt, 1500) == [pkt]


def test_linux_geometry_1500() -> None:
    body = Udp(1, 2, b"a" * 3992)  # 4000-byte UDP datagram
    pkt = IPv4(A, B, IPPROTO_UDP, body, id=77)
    frags = fragment(pkt, 1500)
    assert [len(f.payload) for f in frags] == [1480, 1480, 1040]
    assert [f.frag for f in frags] == [0, 185, 370]
    assert [f.flags for f in frags] == [IP_MF, IP_MF, 0]
    assert all(f.id == 77 and f.proto == IPPROTO_UDP for f in frags)
    assert b"".join(f.payload for f in frags) == body.encode(A, B)
    assert [f.wire_len() for f in frags] == [1500, 1500, 1060]


def test_odd_room_rounds_down_to_8() -> None:
    frags = fragment(IPv4(A, B, 253, b"x" * 100), 20 + 44)
    assert [len(f.payload) for f in frags] == [40, 40, 20]


def test_refragment_keeps_offset_and_mf() -> None:
    middle = IPv4(A, B, 253, b"m" * 1000, flags=IP_MF, frag=100)
    frags = fragment(middle, 420)
    assert [f.frag for f in frags] == [100, 150, 200]
    assert all(f.flags & IP_MF for f in frags)  # the original was not the last


def test_df_on_fragments() -> None:
    pkt = IPv4(A, B, 253, b"d" * 100, flags=IP_DF)
    assert not any(f.flags & IP_DF for f in fragment(pkt, 60))
    assert all(f.flags & IP_DF for f in fragment(pkt, 60, keep_df=True))


def test_options_copy_rule() -> None:
    pkt = IPv4(A, B, 253, b"o" * 200, options=OPTS)
    frags = fragment(pkt, 20 + len(OPTS) + 64)
    assert frags[0].options == OPTS
    later = bytes.fromhex("01010101010101" "00") + OPTS[8:]  # RR turned into NOPs
    assert all(f.options == later for f in frags[1:])
    assert len({f.encode()[0] for f in frags}) == 1  # same IHL everywhere, as Linux


def test_mtu_too_small() -> None:
    with pytest.raises(ValueError):
        fragment(IPv4(A, B, 253, b"x" * 100), 27)


@given(st.binary(min_size=1, max_size=5000), st.integers(68, 1500), st.sampled_from([b"", OPTS]))
def test_fragments_reassemble(payload: bytes, mtu: int, opts: bytes) -> None:
    pkt = IPv4(A, B, 253, payload, id=5, options=opts)
    frags = fragment(pkt, mtu)
    assert all(f.wire_len() <= mtu for f in frags)
    assert all(len(f.payload) % 8 == 0 for f in frags[:-1])
    assert [bool(f.flags & IP_MF) for f in frags] == [True] * (len(frags) - 1) + [False]
    data = bytearray()
    for f in frags:
        assert f.frag * 8 == len(data)
        data += f.payload
        assert IPv4.decode(f.encode()) == f
    assert bytes(data) == payload
