"""The variants of a sweep: `--param NAME=V1,V2,...` and `--param NAME=FIRST..LAST`, crossed.

Each `--param` gives one parameter its values: a comma-separated list as
written, or a range of whole numbers, both ends included (`seed=1..100`).
A value that merely contains `..` between two words (`209kbit..231kbit`,
an `expect_rate`) is a plain value; one with a number or nothing on a side
of `..` is a range and must be a whole one. The variants are the cartesian
product, numbered from 0 with the last `--param` varying fastest (as nested
loops written in the order given).
"""
from __future__ import annotations

import itertools
import re
from dataclasses import dataclass, field

from netplex.errors import NetplexError
from netplex.scenario.params import PARAM_NAME

__all__ = ["SweepUsage", "Variant", "parse_param", "parse_params", "variants", "MAX_VARIANTS"]

MAX_VARIANTS = 1_000_000
_INT = re.compile(r"-?[0-9]+")


class SweepUsage(NetplexError):
    """A `netplex sweep` command line that cannot be run (status 2)."""

    def __init__(self, message: str) -> None:
        super().__init__(message, status=2)


@dataclass(frozen=True, slots=True)
class Variant:
    """One point of the grid: its number and each parameter's value."""

    index: int
    params: dict[str, str] = field(default_factory=dict)


def parse_param(spec: str) -> tuple[str, list[str]]:
    """`rate=1mbit,10mbit` -> ("rate", ["1mbit", "10mbit"]); `seed=1..3` -> ("seed", ["1", "2", "3"])."""
    name, eq, text = spec.partition("=")
    if not eq:
        raise SweepUsage(f'--param "{spec}": expected NAME=VALUE[,VALUE...] or NAME=FIRST..LAST')
    if not PARAM_NAME.fullmatch(name):
        raise SweepUsage(f'--param "{spec}": "{name}" is not a parameter name (letters, digits and _)')
    first, dots, last = text.partition("..")
    if dots and "," not in text and (_INT.fullmatch(first) or _INT.fullmatch(last) or not first or not last):
        if not (_INT.fullmatch(first) and _INT.fullmatch(last)):
            raise SweepUsage(f'--param {spec}: a range is FIRST..LAST in whole numbers, e.g. {name}=1..100')
        lo, hi = int(first), int(last)
        if lo > hi:
            raise SweepUsage(f"--param {spec}: the range is empty ({lo} > {hi})")
        if hi - lo >= MAX_VARIANTS:
            raise SweepUsage(f"--param {spec}: more than {MAX_VARIANTS:,} values")
        return name, [str(v) for v in range(lo, hi + 1)]
    values = text.split(",")
    if any(v == "" for v in values):
        raise SweepUsage(f"--param {spec}: an empty value (write each value between commas)")
    return name, values


def parse_params(specs: list[str]) -> dict[str, list[str]]:
    """Every `--param`, in order; a name given twice is an error."""
    grid: dict[str, list[str]] = {}
    for spec in specs:
        name, values = parse_param(spec)
        if name in grid:
            raise SweepUsage(f"--param {name} is given twice (list every value in one --param)")
        grid[name] = values
    total = 1
    for values in grid.values():
        total *= len(values)
    if total > MAX_VARIANTS:
        raise SweepUsage(f"{total:,} variants: more than {MAX_VARIANTS:,}")
    return grid


def variants(grid: dict[str, list[str]]) -> list[Variant]:
    """The cartesian product, the last parameter varying fastest; one empty variant without parameters."""
    names = list(grid)
    return [Variant(i, dict(zip(names, combo)))
            for i, combo in enumerate(itertools.product(*(grid[n] for n in names)))]
