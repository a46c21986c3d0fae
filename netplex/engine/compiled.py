"""What the optional mypyc build (netplex/build.py, `make fast`) needs from the sources.

`mypyc_attr` marks a class an interpreted module may subclass although it is
compiled (`allow_interpreted_subclasses`: NetDevice, which a dozen device
kinds extend; Qdisc, which new qdisc kinds extend through stack/qdisc/api.py).
mypyc reads the decorator when it compiles; the pure-Python install needs no
mypy_extensions, so without it the decorator is the identity.
"""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from _typeshed import IdentityFunction

try:
    from mypy_extensions import mypyc_attr
except ImportError:
    def mypyc_attr(*attrs: str, **kwattrs: object) -> IdentityFunction:
        return lambda cls: cls

__all__ = ["mypyc_attr"]
