from __future__ import annotations

import struct

from hypothesis import given
from hypothesis import strategies as st

from netplex.packet import inet_checksum, pseudo_header, transport_checksum


def reference(data: bytes) -> int:
    """RFC 1071 §4.1, word by word with end-around carry."""
    if len(data) & 1:
        data += b"\x00"
    s = 0
    for (w,) in struct.iter_unpack("!H", data):
        s += w
        s = (s & 0xFFFF) + (s >> 16)
    return ~s & 0xFFFF


def test_rfc1071_example() -> None:
    # RFC 1071 §3: the words 0001 f203 f4f5 f6f7 sum to ddf2.
    assert inet_checksum(bytes.fromhex("0001f203f4f5f6f7")) == ~0xDDF2 & 0xFFFF


def test_ipv4_header_golden() -> None:
    # A classic example header; its checksum is b861.
    hdr = bytes.fromhex("450000730000400040110000c0a80001c0a800c7")
    assert inet_checksum(hdr) == 0xB861
    assert inet_checksum(hdr[:10] + b"\xb8\x61" + hdr[12:]) == 0


def test_edge_cases() -> None:
    assert inet_checksum(b"") == 0xFFFF
    assert inet_checksum(b"\x00" * 7) == 0xFFFF
    assert inet_checksum(b"\xff\xff") == 0  # -0 sums to 0xFFFF
    assert inet_checksum(b"\xff\xfe\x00\x01") == 0
    assert inet_checksum(b"\x01") == 0xFEFF


@given(st.binary(max_size=3000))
def test_matches_reference(data: bytes) -> None:
    assert inet_checksum(data) == reference(data)


@given(st.binary(min_size=2, max_size=200))
def test_verifies_to_zero(data: bytes) -> None:
    data = data[:len(data) & ~1]
    c = inet_checksum(data + b"\x00\x00")
    assert inet_checksum(data + c.to_bytes(2, "big")) == 0


def test_pseudo_header() -> None:
    assert pseudo_header(0x0A000001, 0x0A000002, 17, 0x1234) == bytes.fromhex(
        "0a0000010a000002" "0011" "1234")


@given(st.integers(0, 2**32 - 1), st.integers(0, 2**32 - 1), st.sampled_from([6, 17]),
       st.binary(max_size=1600))
def test_transport_checksum(src: int, dst: int, proto: int, seg: bytes) -> None:
    assert transport_checksum(src, dst, proto, seg) == reference(
        pseudo_header(src, dst, proto, len(seg)) + seg)
