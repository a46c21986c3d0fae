"""Unit strings as tc(8) reads and prints them, parsed once at the edge into
integers: bits per second, nanoseconds and bytes.

Conventions follow tc(8), section "PARAMETERS" (and iproute2's tc_util.c
behaviour): suffixes are case-insensitive; a bare rate is bits per second,
`bps` means *bytes* per second; sizes use binary multiples (`k` = 1024 bytes,
`kbit` = 128 bytes); a bare time is seconds in a scenario file but
microseconds in tc, hence `default_unit`.
"""
from __future__ import annotations

import re

__all__ = ["parse_rate", "parse_time", "parse_size", "format_rate"]

# A decimal number (no sign, no exponent gymnastics beyond what people write).
_NUMBER = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)(?:[eE]([+-]?\d+))?\s*([A-Za-z%]*)\s*")

# tc(8) RATES: multiplier to bits per second, keyed by lower-cased suffix.
_RATE_UNITS: dict[str, float] = {
    "": 1.0,
    "bit": 1.0,
    "kibit": 1024.0,
    "kbit": 1e3,
    "mibit": 1024.0**2,
    "mbit": 1e6,
    "gibit": 1024.0**3,
    "gbit": 1e9,
    "tibit": 1024.0**4,
    "tbit": 1e12,
    "bps": 8.0,
    "kibps": 8.0 * 1024,
    "kbps": 8e3,
    "mibps": 8.0 * 1024**2,
    "mbps": 8e6,
    "gibps": 8.0 * 1024**3,
    "gbps": 8e9,
    "tibps": 8.0 * 1024**4,
    "tbps": 8e12,
}

# tc(8) TIMES: multiplier to nanoseconds.
_TIME_UNITS: dict[str, int] = {
    "s": 1_000_000_000, "sec": 1_000_000_000, "secs": 1_000_000_000,
    "ms": 1_000_000, "msec": 1_000_000, "msecs": 1_000_000,
    "us": 1_000, "usec": 1_000, "usecs": 1_000,
    "ns": 1, "nsec": 1, "nsecs": 1,
}

# tc(8) SIZES: multiplier to bytes.
_SIZE_UNITS: dict[str, int] = {
    "": 1, "b": 1,
    "k": 1024, "kb": 1024, "kbit": 1024 // 8,
    "m": 1024**2, "mb": 1024**2, "mbit": 1024**2 // 8,
    "g": 1024**3, "gb": 1024**3, "gbit": 1024**3 // 8,
}


def _split(s: str | int | float, what: str) -> tuple[float, str]:
    if isinstance(s, bool):
        raise ValueError(f"invalid {what} {s!r}")
    if isinstance(s, (int, float)):
        if s < 0:
            raise ValueError(f"invalid {what} {s!r}")
        return float(s), ""
    m = _NUMBER.fullmatch(s) if isinstance(s, str) else None
    if m is None:
        raise ValueError(f'invalid {what} "{s}"')
    value = float(m.group(1) + (f"e{m.group(2)}" if m.group(2) else ""))
    return value, m.group(3).lower()


def parse_rate(s: str | int | float) -> int:
    """`"100kbit"` -> 100000 bits/s; `"1mbps"` -> 8000000 (bytes/s x 8); a bare number is bits/s."""
    value, unit = _split(s, "rate")
    try:
        return round(value * _RATE_UNITS[unit])
    except KeyError:
        raise ValueError(f'invalid rate "{s}": unknown unit "{unit}"') from None


def parse_time(s: str | int | float, default_unit: str = "s") -> int:
    """`"100us"` -> 100000 ns. A bare number is in `default_unit` ("s" here, "us" for tc)."""
    value, unit = _split(s, "time")
    try:
        return round(value * _TIME_UNITS[unit or default_unit])
    except KeyError:
        raise ValueError(f'invalid time "{s}": unknown unit "{unit}"') from None


def parse_size(s: str | int | float) -> int:
    """`"1500b"` -> 1500, `"10kb"` -> 10240, `"8kbit"` -> 1024 bytes; a bare number is bytes."""
    value, unit = _split(s, "size")
    try:
        return round(value * _SIZE_UNITS[unit])
    except KeyError:
        raise ValueError(f'invalid size "{s}": unknown unit "{unit}"') from None


def format_rate(bps: int) -> str:
    """Bits/s as tc prints a rate: `100Kbit`, `1Gbit`, `800bit`, `1500Kbit`.

    tc divides by 1000 while the value is a whole multiple of 1000, or while it
    is still at least a million (dropping the remainder), up to `T`.
    """
    rate = int(bps)
    units = ("", "K", "M", "G", "T")
    i = 0
    while i < len(units) - 1:
        if rate < 1000 or (rate % 1000 != 0 and rate < 1000 * 1000):
            break
        rate //= 1000
        i += 1
    return f"{rate}{units[i]}bit"
