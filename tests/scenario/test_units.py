"""Unit strings as tc(8) reads and prints them."""
from __future__ import annotations

import pytest

from netplex.units import format_rate, parse_rate, parse_size, parse_time


@pytest.mark.parametrize("text, bps", [
    ("100kbit", 100_000), ("1gbit", 10**9), ("1Gbit", 10**9), ("1.5mbit", 1_500_000), ("800bit", 800),
    ("800", 800), (800, 800), ("1kibit", 1024), ("1mibit", 1024**2), ("2tbit", 2 * 10**12),
    ("100bps", 800), ("1kbps", 8000), ("1KBps", 8000), ("1mbps", 8_000_000), ("1gbps", 8 * 10**9),
    ("1kibps", 8192),
])
def test_parse_rate(text, bps):
    assert parse_rate(text) == bps


@pytest.mark.parametrize("junk", ["", "fast", "10 mbitz", "-1kbit", "kbit", "1..2kbit", "0x10kbit", True])
def test_parse_rate_rejects_junk(junk):
    with pytest.raises(ValueError):
        parse_rate(junk)


@pytest.mark.parametrize("text, ns", [
    ("1s", 10**9), ("2sec", 2 * 10**9), ("10secs", 10 * 10**9), ("100ms", 10**8), ("1msec", 10**6),
    ("100us", 100_000), ("3usec", 3000), ("7ns", 7), ("1.5ms", 1_500_000), ("10", 10 * 10**9), (2, 2 * 10**9),
])
def test_parse_time(text, ns):
    assert parse_time(text) == ns


def test_parse_time_bare_number_unit():
    assert parse_time("100", default_unit="us") == 100_000
    with pytest.raises(ValueError):
        parse_time("1 fortnight")


@pytest.mark.parametrize("text, size", [
    ("1500", 1500), ("1500b", 1500), ("10k", 10240), ("10kb", 10240), ("8kbit", 1024),
    ("1m", 1024**2), ("1mb", 1024**2), ("8mbit", 1024**2), ("1g", 1024**3), ("1gbit", 1024**3 // 8),
])
def test_parse_size(text, size):
    assert parse_size(text) == size


def test_parse_size_rejects_junk():
    with pytest.raises(ValueError):
        parse_size("10 parsecs")


@pytest.mark.parametrize("bps, text", [
    (100_000, "100Kbit"), (10**9, "1Gbit"), (800, "800bit"), (1_500_000, "1500Kbit"),
    (1000, "1Kbit"), (999, "999bit"), (1001, "1001bit"), (123_456_789, "123456Kbit"),
    (2 * 10**12, "2Tbit"), (5 * 10**15, "5000Tbit"), (0, "0bit"),
])
def test_format_rate(bps, text):
    assert format_rate(bps) == text
