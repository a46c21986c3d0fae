"""Scenario errors; the tree itself lives in `netplex.errors`."""
from __future__ import annotations

from netplex.errors import NetplexError, ScenarioError

__all__ = ["NetplexError", "ScenarioError"]
