from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from netplex.packet import (
    BROADCAST_MAC,
    bytes_to_mac,
    int_to_ip,
    ip_to_int,
    mac_to_bytes,
    mask_to_prefix,
    prefix_to_mask,
)


def test_ip_golden() -> None:
    assert ip_to_int("10.0.0.1") == 0x0A000001
    assert ip_to_int("255.255.255.255") == 0xFFFFFFFF
    assert ip_to_int("0.0.0.0") == 0
    assert int_to_ip(0xC0A80101) == "192.168.1.1"


@pytest.mark.parametrize("bad", ["", "1.2.3", "1.2.3.4.5", "256.0.0.1", "1.2.3.a",
                                 " 1.2.3.4", "1.2.3.4/24", "::1", "1..2.3", None, 167772161])
def test_ip_rejects(bad: object) -> None:
    with pytest.raises(ValueError):
        ip_to_int(bad)  # type: ignore[arg-type]


@given(st.integers(0, 0xFFFFFFFF))
def test_ip_roundtrip(n: int) -> None:
    assert ip_to_int(int_to_ip(n)) == n


def test_mac_golden() -> None:
    assert mac_to_bytes("aa:bb:cc:dd:ee:ff") == b"\xaa\xbb\xcc\xdd\xee\xff"
    assert mac_to_bytes("AA:BB:CC:00:01:02") == b"\xaa\xbb\xcc\x00\x01\x02"
    assert bytes_to_mac(b"\x02\x00\x0a\x0b\x0c\xff") == "02:00:0a:0b:0c:ff"
    assert bytes_to_mac(BROADCAST_MAC) == "ff:ff:ff:ff:ff:ff"


@pytest.mark.parametrize("bad", ["", "aa:bb:cc:dd:ee", "aa:bb:cc:dd:ee:ff:00", "aa-bb-cc-dd-ee-ff",
                                 "aabb.ccdd.eeff", "a:bb:cc:dd:ee:ff", "gg:bb:cc:dd:ee:ff",
                                 "aa:bb:cc:dd:ee:f ", None])
def test_mac_rejects(bad: object) -> None:
    with pytest.raises(ValueError):
        mac_to_bytes(bad)  # type: ignore[arg-type]


@given(st.binary(min_size=6, max_size=6))
def test_mac_roundtrip(b: bytes) -> None:
    assert mac_to_bytes(bytes_to_mac(b)) == b


def test_masks() -> None:
    assert prefix_to_mask(0) == 0
    assert prefix_to_mask(24) == 0xFFFFFF00
    assert prefix_to_mask(32) == 0xFFFFFFFF
    assert mask_to_prefix(0xFFFFFF00) == 24
    assert mask_to_prefix(0) == 0
    assert mask_to_prefix(0xFFFFFFFF) == 32
    for plen in range(33):
        assert mask_to_prefix(prefix_to_mask(plen)) == plen


@pytest.mark.parametrize("bad", [0xFF00FF00, 0x00FFFFFF, 0xFFFFFFFE + 0x100000000, -1, 1])
def test_mask_rejects(bad: int) -> None:
    with pytest.raises(ValueError):
        mask_to_prefix(bad)


@pytest.mark.parametrize("bad", [-1, 33])
def test_prefix_rejects(bad: int) -> None:
    with pytest.raises(ValueError):
        prefix_to_mask(bad)
