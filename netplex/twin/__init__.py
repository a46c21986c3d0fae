"""netplex.twin — helpers of the kernel twin (the `linux` backend).

The twin builds a scenario for real, as root, in network namespaces it owns:
`netns` creates and deletes them in-process (what `ip netns add` does),
`netlink` configures links with batched rtnetlink messages, `wire` is the
hidden namespace a link with rate, delay or loss runs through, `state` records
what a run owns so that `cleanup` can remove the leftovers of a dead run, and
`service`, `probe` and `relay` are the small programs run inside namespaces.

    NetplexError
     └── TwinError               the twin could not do what was asked
          └── TwinUnavailable    the twin cannot run here at all (not root, no netns)
"""
from __future__ import annotations

from netplex.errors import NetplexError

__all__ = ["TwinError", "TwinUnavailable"]


class TwinError(NetplexError):
    """The kernel twin failed to build or run something; the message says what."""


class TwinUnavailable(TwinError):
    """The kernel twin cannot run on this machine; the message is a one-line reason."""
