"""paused_gc: the collector is off inside (nested too) and back as it was after, even on error."""
from __future__ import annotations

import gc

import pytest

from netplex.engine.gcpause import paused_gc


def test_paused_and_restored_nested_and_on_error() -> None:
    assert gc.isenabled()
    with paused_gc():
        assert not gc.isenabled()
        with paused_gc():
            assert not gc.isenabled()
        assert not gc.isenabled()      # the inner block does not turn it back on
    assert gc.isenabled()
    with pytest.raises(ValueError), paused_gc():
        raise ValueError
    assert gc.isenabled()


def test_left_off_when_it_was_off() -> None:
    gc.disable()
    try:
        with paused_gc():
            pass
        assert not gc.isenabled()
    finally:
        gc.enable()
