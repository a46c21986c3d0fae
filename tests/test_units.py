"""netplex.units: one table per unit kind, read by the scenario loader and by tc alike."""
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
