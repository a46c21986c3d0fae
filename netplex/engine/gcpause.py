"""Pausing Python's cyclic garbage collector while a large topology is built.

A build allocates millions of long-lived objects that hold reference cycles
(a device and its namespace). The cyclic collector walks the ever-growing
old generation again and again while they are made — half of the build time
of 10,000 hosts, more beyond. `paused_gc()` turns the collector off for the
build and back on after it (nesting is counted); nothing the collector would
have freed is lost, only collected later, and no simulated result depends on
when that happens.

    with paused_gc():
        build(...)
"""
from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

__all__ = ["paused_gc"]

_depth = [0]


@contextmanager
def paused_gc() -> Iterator[None]:
    """The cyclic collector off for the block (if it was on), back on after the outermost one."""
    outer = _depth[0] == 0
    was_on = gc.isenabled()
    if outer and was_on:
        gc.disable()
    _depth[0] += 1
    try:
        yield
    finally:
        _depth[0] -= 1
        if outer and was_on:
            gc.enable()
