"""The net_device flags (include/uapi/linux/if.h `enum net_device_flags`): a leaf module, so the
neighbour layer and the device model can both name them (netplex.stack.device re-exports them)."""
from __future__ import annotations

__all__ = ["IFF_ALLMULTI", "IFF_BROADCAST", "IFF_DYNAMIC", "IFF_LOOPBACK", "IFF_MULTICAST", "IFF_NOARP",
           "IFF_NOTRAILERS", "IFF_POINTOPOINT", "IFF_PROMISC", "IFF_UP", "IFF_USER_SETTABLE", "IFF_MASTER",
           "IFF_SLAVE"]

IFF_UP = 0x1
IFF_BROADCAST = 0x2
IFF_LOOPBACK = 0x8
IFF_POINTOPOINT = 0x10
IFF_NOTRAILERS = 0x20
IFF_NOARP = 0x80
IFF_PROMISC = 0x100
IFF_ALLMULTI = 0x200
IFF_MASTER = 0x400
IFF_SLAVE = 0x800
IFF_MULTICAST = 0x1000
IFF_DYNAMIC = 0x8000
# the dev->flags bits `ip link set` may change besides up/down (IFF_VOLATILE's complement, dev_change_flags)
IFF_USER_SETTABLE = IFF_NOARP | IFF_MULTICAST | IFF_DYNAMIC | IFF_NOTRAILERS
