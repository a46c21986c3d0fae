"""The layer graph's tables, kept apart from the header classes so that no
module imports another just to find its decoder.  They are filled in one
visible place, ``netplex/packet/__init__.py``; UDP port bindings live in
``udp.UDP_PORTS``.
"""
from __future__ import annotations

__all__ = ["ETHERTYPES", "IP_PROTOS", "Payload"]

#: What a header carries: the next header object, or bytes. A name of its own because the
#: compiled build (netplex/build.py) resolves a dataclass field's type by its name in the
#: module, where the builtin `object` is not found.
Payload = object

#: EtherType -> header class with ``decode(data)``.
ETHERTYPES: dict[int, type] = {}
#: IPv4 protocol number -> header class with ``decode(data)``.
IP_PROTOS: dict[int, type] = {}
