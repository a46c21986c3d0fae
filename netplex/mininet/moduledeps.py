"""mininet.moduledeps: `pathCheck` and `moduleDeps` (nothing is needed on this machine)."""
from __future__ import annotations

from typing import Any

__all__ = ["moduleDeps", "pathCheck"]


def pathCheck(*args: Any, **kwargs: Any) -> None:
    """Mininet checks the programs exist; netplex's nodes have their own."""


def moduleDeps(subtract: Any = None, add: Any = None) -> None:
    """Mininet loads kernel modules; netplex needs none."""
