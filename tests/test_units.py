"""netplex.units: unit strings as tc(8) reads and prints them, one table per unit kind, read by
the scenario loader and by tc alike."""
from __future__ import annotations

import pytest

from netplex.units import (
    RATE_UNITS,
    SIZE_UNITS,
    TIME_UNITS,
    format_rate,
    get_rate,
    get_size,
    get_time,
    parse_rate,
    parse_size,
    parse_time,
    sprint_rate,
)


@pytest.mark.parametrize("unit", [u for u in RATE_UNITS if u])
def test_tc_and_scenario_read_a_rate_alike(unit: str) -> None:
    for text in (f"3{unit}", f"3{unit.upper()}"):
        assert get_rate(text) == parse_rate(text) // 8  # tc keeps bytes/s, scenarios bits/s


@pytest.mark.parametrize("unit", list(SIZE_UNITS))
def test_tc_and_scenario_read_a_size_alike(unit: str) -> None:
    assert get_size(f"3{unit}") == parse_size(f"3{unit}")


@pytest.mark.parametrize("unit", list(TIME_UNITS))
def test_tc_and_scenario_read_a_time_alike(unit: str) -> None:
    if TIME_UNITS[unit] < 1000:
        assert get_time(f"3{unit}") is None  # tc's get_time knows s, ms and us only
    else:
        assert get_time(f"3{unit}") * 1000 == parse_time(f"3{unit}")  # type: ignore[operator]


def test_bare_numbers_and_tc_only_syntax() -> None:
    assert parse_time("2") == 2_000_000_000 and get_time("2") == 2  # seconds in a file, microseconds in tc
    assert get_rate("0x10") == 2 and get_size("0x10") == 16  # C strtod reads hexadecimal
    assert get_rate("1mbitx") is None and get_size("1.5") is None
    with pytest.raises(ValueError, match='invalid rate "-1kbit"'):
        parse_rate("-1kbit")


def test_one_rate_printer() -> None:
    assert format_rate(100_000) == "100Kbit" and sprint_rate(12_500) == "100Kbit"
    assert sprint_rate(1_500_000 // 8) == format_rate(1_500_000) == "1500Kbit"

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
