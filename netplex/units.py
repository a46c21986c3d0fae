"""Rates, sizes and times as people write them (`100kbit`, `1500b`, `1ms`): the one parser.

Both edges that read units use it: the scenario loader (SCENARIO.md `rate:`,
`delay:`, `size:`, `duration:`) and the shell's `tc`. One table per kind
holds the suffixes of tc(8) "PARAMETERS" (iproute2 tc/tc_util.c get_rate64,
get_size, get_time; lib/json_print_math.c sprint_*), so the two cannot drift:

- rates: bits per second; a bare number is bits/s, `bps` means *bytes*/s,
  `k`/`m`/`g`/`t` are SI and `ki`/`mi`/... binary; suffixes ignore case;
- sizes: bytes; `k`, `m`, `g` (and `kb`...) are binary multiples, `kbit` is 128 bytes;
- times: a bare number is seconds in a scenario file, microseconds in tc.

Two front-ends over the tables, because the two edges answer differently:
`parse_rate`/`parse_size`/`parse_time` (scenario files: decimal numbers,
integer bits/s, bytes, nanoseconds, a ValueError whose text names the
problem) and `get_rate`/`get_size`/`get_time` (tc: C strtod() numbers,
tc's own integer units, None for anything tc refuses). Formatting follows
tc: `format_rate` (bits/s), `sprint_rate` (bytes/s), `sprint_size`, `sprint_time`.

This module imports nothing of netplex: every layer may use it.
"""
from __future__ import annotations

import math
import re

__all__ = [
    "RATE_UNITS", "SIZE_UNITS", "TIME_UNITS",
    "parse_rate", "parse_size", "parse_time", "format_rate",
    "strtod", "get_rate", "get_rate32", "get_size", "get_time",
    "sprint_rate", "sprint_size", "sprint_time",
]

# tc(8) RATES: lower-cased suffix -> bits per second.
RATE_UNITS: dict[str, float] = {
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

# tc(8) SIZES: lower-cased suffix -> bytes.
SIZE_UNITS: dict[str, int] = {
    "": 1, "b": 1,
    "k": 1024, "kb": 1024, "kbit": 1024 // 8,
    "m": 1024**2, "mb": 1024**2, "mbit": 1024**2 // 8,
    "g": 1024**3, "gb": 1024**3, "gbit": 1024**3 // 8,
}

# tc(8) TIMES: lower-cased suffix -> nanoseconds. tc's get_time knows s, ms and us only;
# scenario files may also write ns.
TIME_UNITS: dict[str, int] = {
    "s": 1_000_000_000, "sec": 1_000_000_000, "secs": 1_000_000_000,
    "ms": 1_000_000, "msec": 1_000_000, "msecs": 1_000_000,
    "us": 1_000, "usec": 1_000, "usecs": 1_000,
    "ns": 1, "nsec": 1, "nsecs": 1,
}
_TC_TIME_UNITS = {k: v for k, v in TIME_UNITS.items() if v >= 1_000}
NSEC_PER_USEC = 1_000


# --- scenario files -------------------------------------------------------------------

# A decimal number (no sign, no exponent gymnastics beyond what people write).
MAX_VALUE = 1e30   # beyond any rate, size or time a link or a qdisc can hold (2^64 is 1.8e19)
_DECIMAL = re.compile(r"\s*(\d+(?:\.\d*)?|\.\d+)(?:[eE]([+-]?\d+))?\s*([A-Za-z%]*)\s*")


def _split(s: str | int | float, what: str) -> tuple[float, str]:
    if isinstance(s, bool):
        raise ValueError(f"invalid {what} {s!r}")
    if isinstance(s, (int, float)):
        if s < 0 or not math.isfinite(s):
            raise ValueError(f"invalid {what} {s!r}")
        return float(s), ""
    m = _DECIMAL.fullmatch(s) if isinstance(s, str) else None
    if m is None:
        raise ValueError(f'invalid {what} "{s}"')
    value = float(m.group(1) + (f"e{m.group(2)}" if m.group(2) else ""))
    if not math.isfinite(value) or value > MAX_VALUE:   # 1e400 is inf: no integer holds it
        raise ValueError(f'invalid {what} "{s}": out of range')
    return value, m.group(3).lower()


def parse_rate(s: str | int | float) -> int:
    """`"100kbit"` -> 100000 bits/s; `"1mbps"` -> 8000000 (bytes/s x 8); a bare number is bits/s."""
    value, unit = _split(s, "rate")
    try:
        return round(value * RATE_UNITS[unit])
    except KeyError:
        raise ValueError(f'invalid rate "{s}": unknown unit "{unit}"') from None


def parse_time(s: str | int | float, default_unit: str = "s") -> int:
    """`"100us"` -> 100000 ns. A bare number is in `default_unit` ("s" here, "us" for tc)."""
    value, unit = _split(s, "time")
    try:
        return round(value * TIME_UNITS[unit or default_unit])
    except KeyError:
        raise ValueError(f'invalid time "{s}": unknown unit "{unit}"') from None


def parse_size(s: str | int | float) -> int:
    """`"1500b"` -> 1500, `"10kb"` -> 10240, `"8kbit"` -> 1024 bytes; a bare number is bytes."""
    value, unit = _split(s, "size")
    try:
        return round(value * SIZE_UNITS[unit])
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


# --- tc -------------------------------------------------------------------------------

_STRTOD = re.compile(r"\s*[+-]?(?:\d+\.?\d*|\.\d+)(?:[eE][+-]?\d+)?")


def strtod(s: str) -> tuple[float, str] | None:
    """C strtod(): the number at the start of `s` (decimal, or hexadecimal after `0x`) and the rest."""
    m = _STRTOD.match(s)
    if m is None:
        return None
    text = m.group(0)
    if s[m.end():m.end() + 1] in ("x", "X") and text.strip() in ("0", "+0", "-0"):
        try:
            end = m.end() + 1
            while end < len(s) and s[end] in "0123456789abcdefABCDEF":
                end += 1
            return float(int(s[:end], 16)), s[end:]
        except ValueError:
            return None
    return float(text), s[m.end():]


def get_rate(s: str) -> int | None:
    """tc's get_rate64: bytes per second, or None."""
    r = strtod(s)
    if r is None:
        return None
    bps, rest = r
    if rest:
        scale = RATE_UNITS.get(rest.lower())
        if scale is None:
            return None
        bps *= scale
    if bps < 0:
        return None
    return int(bps / 8)


def get_rate32(s: str) -> int | None:
    """tc's get_rate: bytes per second below 2^32, or None."""
    v = get_rate(s)
    if v is None or v >= 1 << 32:
        return None
    return v


def get_size(s: str) -> int | None:
    """tc's get_size: a whole number of bytes below 2^32, or None."""
    r = strtod(s)
    if r is None:
        return None
    sz, rest = r
    if rest:
        mult = SIZE_UNITS.get(rest.lower())
        if mult is None:
            return None
        sz *= mult
    if sz < 0 or sz >= 1 << 32 or sz != math.floor(sz):
        return None
    return int(sz)


def get_time(s: str) -> int | None:
    """tc's get_time: microseconds (a bare number is microseconds), or None."""
    r = strtod(s)
    if r is None:
        return None
    t, rest = r
    if rest:
        ns = _TC_TIME_UNITS.get(rest.lower())
        if ns is None:
            return None
        t *= ns // NSEC_PER_USEC
    return int(t)


def _g(x: float) -> str:
    return f"{x:g}"


def sprint_size(sz: int) -> str:
    """sprint_size (lib/json_print_math.c)."""
    sz = int(sz) & 0xFFFFFFFF
    kilo, mega = 1024, 1024 * 1024
    if sz >= mega and abs(mega * _rint(sz / mega) - sz) < 1024:
        return f"{_g(_rint(sz / mega))}Mb"
    if sz >= kilo and abs(kilo * _rint(sz / kilo) - sz) < 16:
        return f"{_g(_rint(sz / kilo))}Kb"
    return f"{sz}b"


def _rint(x: float) -> float:
    """C's rint() in the default rounding mode (half to even), as Python's round()."""
    return float(round(x))


def sprint_rate(rate_Bps: int) -> str:
    """sprint_rate: bytes/s printed as bits, SI units (`format_rate` of the bits)."""
    return format_rate(int(rate_Bps) * 8)


def sprint_time(us: float) -> str:
    """sprint_time: microseconds as tc prints them (`1s`, `2.5ms`, `100us`)."""
    t = int(us) & 0xFFFFFFFF
    if t >= 1e6:
        return f"{t / 1e6:.3g}s"
    if t >= 1e3:
        return f"{t / 1e3:.3g}ms"
    return f"{t}us"
