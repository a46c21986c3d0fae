"""mininet.clean: `cleanup()` (`mn -c`); a netplex network leaves nothing behind to clean."""
from __future__ import annotations

from netplex.mininet.log import info

__all__ = ["cleanup"]


def cleanup() -> None:
    info("*** Removing excess controllers/ofprotocols/ofdatapaths/pings/noxes\n")
    info("*** Cleanup complete.\n")
