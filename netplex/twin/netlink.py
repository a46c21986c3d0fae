"""Batched rtnetlink requests: the few the twin needs, encoded by hand.

rtnetlink(7), netlink(7); message layouts from <linux/rtnetlink.h>,
<linux/if_link.h>, <linux/veth.h> and <linux/if_addr.h>. Requests are queued
and sent many per `sendmsg`, then every acknowledgement is read; the first
error is raised with its errno and the request it answered. A few lines of
`struct` here are ~20x faster than building the same messages with pyroute2's
generic encoder, which matters when a scenario has thousands of links.
"""
from __future__ import annotations

import errno as _errno
import ipaddress
import os
import socket
import struct

from netplex.twin import TwinError

__all__ = ["NetlinkError", "Rtnl", "getlink", "rtnl_socket"]

RTM_NEWLINK = 16
RTM_GETLINK = 18
RTM_SETLINK = 19
RTM_NEWADDR = 20
NLMSG_ERROR = 2
NLMSG_DONE = 3
NLM_F_REQUEST = 0x1
NLM_F_ACK = 0x4
NLM_F_DUMP = 0x300
NLM_F_EXCL = 0x200
NLM_F_CREATE = 0x400

IFLA_IFNAME = 3
IFLA_MTU = 4
IFLA_MASTER = 10
IFLA_LINKINFO = 18
IFLA_NET_NS_FD = 28
IFLA_INFO_KIND = 1
IFLA_INFO_DATA = 2
IFLA_INFO_SLAVE_KIND = 4
IFLA_INFO_SLAVE_DATA = 5
VETH_INFO_PEER = 1
# <linux/if_link.h>: bridge options (IFLA_INFO_DATA of kind "bridge") and port options
# (IFLA_INFO_SLAVE_DATA of slave kind "bridge"), with their payload sizes in bytes
IFLA_BR_AGEING_TIME = 4  # u32, centiseconds
IFLA_BR_STP_STATE = 5  # u32
IFLA_BR_GROUP_FWD_MASK = 9  # u16
IFLA_BR_MCAST_SNOOPING = 23  # u8
IFLA_BR_NF_CALL_IPTABLES = 36  # u8
IFLA_BR_NF_CALL_IP6TABLES = 37  # u8
IFLA_BR_NF_CALL_ARPTABLES = 38  # u8
IFLA_BRPORT_LEARNING = 8  # u8
IFLA_BRPORT_UNICAST_FLOOD = 9  # u8
IFLA_BRPORT_MCAST_FLOOD = 27  # u8
IFLA_BRPORT_BCAST_FLOOD = 30  # u8
IFA_ADDRESS = 1
IFA_LOCAL = 2
IFA_BROADCAST = 4
IFF_UP = 0x1
IFF_RUNNING = 0x40
IFF_LOWER_UP = 0x10000

_NLMSGHDR = struct.Struct("=IHHII")
_IFINFOMSG = struct.Struct("=BxHiII")
_IFADDRMSG = struct.Struct("=BBBBI")


class NetlinkError(TwinError):
    """The kernel refused a request: `errno` is its error, `strerror` its text, `request` names the request."""

    def __init__(self, code: int, request: str) -> None:
        super().__init__(f"{request}: {os.strerror(code)}", code)
        self.strerror = os.strerror(code)
        self.request = request


def rtnl_socket() -> socket.socket:
    """A NETLINK_ROUTE socket in the calling thread's network namespace, with room for big acks."""
    sock = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, socket.NETLINK_ROUTE)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 1 << 20)
    sock.bind((0, 0))
    return sock


def getlink(sock: socket.socket, seq: int, index: int = 0) -> dict[int, int]:
    """RTM_GETLINK: a dump (index 0) or one device; the answer as {ifindex: ifi_flags}.

    A non-dump request also runs the device's pending linkwatch event
    (net/core/rtnetlink.c rtnl_getlink calls linkwatch_sync_dev).
    """
    flags = NLM_F_REQUEST | (0 if index else NLM_F_DUMP)
    body = _IFINFOMSG.pack(socket.AF_UNSPEC, 0, index, 0, 0)
    sock.send(_NLMSGHDR.pack(_NLMSGHDR.size + len(body), RTM_GETLINK, flags, seq, 0) + body)
    found: dict[int, int] = {}
    while True:
        data = sock.recv(1 << 16)
        off = 0
        while off + _NLMSGHDR.size <= len(data):
            length, mtype, _flags, mseq, _pid = _NLMSGHDR.unpack_from(data, off)
            if length < _NLMSGHDR.size:
                return found
            if mseq == seq:
                if mtype == RTM_NEWLINK:
                    _fam, _type, idx, ifflags, _chg = _IFINFOMSG.unpack_from(data, off + _NLMSGHDR.size)
                    found[idx] = ifflags
                    if index:
                        return found
                elif mtype in (NLMSG_ERROR, NLMSG_DONE):
                    return found
            off += (length + 3) & ~3


def _attr(kind: int, payload: bytes) -> bytes:
    n = 4 + len(payload)
    return struct.pack("=HH", n, kind) + payload + b"\0" * (-n & 3)


def _name(s: str) -> bytes:
    return s.encode() + b"\0"


def _u32(v: int) -> bytes:
    return struct.pack("=I", v)


def _u16(v: int) -> bytes:
    return struct.pack("=H", v)


def _u8(v: int) -> bytes:
    return struct.pack("=B", v)


_SIZED = {1: _u8, 2: _u16, 4: _u32}


class Rtnl:
    """A queue of rtnetlink requests over one socket (bound in one namespace)."""

    CHUNK = 128  # requests per sendmsg; keeps their acks well inside the receive buffer

    def __init__(self, sock: socket.socket) -> None:
        self.sock = sock
        self._queue: list[tuple[int, int, bytes, str]] = []
        self._seq = 0

    def close(self) -> None:
        self.sock.close()

    def _push(self, mtype: int, flags: int, body: bytes, what: str) -> None:
        self._queue.append((mtype, NLM_F_REQUEST | NLM_F_ACK | flags, body, what))

    # --- requests -----------------------------------------------------------
    def veth_add(
        self,
        name: str,
        peer: str,
        peer_netns_fd: int,
        mtu: int | None = None,
        index: int = 0,
        peer_index: int = 0,
        peer_mtu: int | None = None,
    ) -> None:
        """`ip link add NAME type veth peer name PEER netns FD` (both ends down).

        `mtu` applies to both ends unless `peer_mtu` gives the peer its own.
        """
        mtu_attr = _attr(IFLA_MTU, _u32(mtu)) if mtu else b""
        peer_mtu = peer_mtu or mtu
        peer_body = (
            _IFINFOMSG.pack(0, 0, peer_index, 0, 0)
            + _attr(IFLA_IFNAME, _name(peer))
            + (_attr(IFLA_MTU, _u32(peer_mtu)) if peer_mtu else b"")
            + _attr(IFLA_NET_NS_FD, _u32(peer_netns_fd))
        )
        info = _attr(IFLA_INFO_KIND, b"veth\0") + _attr(
            IFLA_INFO_DATA, _attr(VETH_INFO_PEER, peer_body)
        )
        body = (
            _IFINFOMSG.pack(0, 0, index, 0, 0)
            + _attr(IFLA_IFNAME, _name(name))
            + mtu_attr
            + _attr(IFLA_LINKINFO, info)
        )
        self._push(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, body, f"veth {name} peer {peer}")

    def link_add(
        self, name: str, kind: str, index: int = 0, options: dict[int, tuple[int, int]] | None = None
    ) -> None:
        """`ip link add NAME type KIND [OPTIONS]` (e.g. bridge), down.

        `options` are the kind's IFLA_INFO_DATA attributes: {type: (size in bytes, value)}.
        """
        info = _attr(IFLA_INFO_KIND, _name(kind))
        if options:
            info += _attr(IFLA_INFO_DATA, _sized_attrs(options))
        body = (
            _IFINFOMSG.pack(0, 0, index, 0, 0)
            + _attr(IFLA_IFNAME, _name(name))
            + _attr(IFLA_LINKINFO, info)
        )
        self._push(RTM_NEWLINK, NLM_F_CREATE | NLM_F_EXCL, body, f"{kind} {name}")

    def port_set(self, index: int, master_kind: str, options: dict[int, tuple[int, int]]) -> None:
        """`ip link set dev IDX type MASTER_KIND_slave OPTIONS` (e.g. a bridge port's `learning off`).

        The device must already be enslaved (an earlier request in the queue may do it).
        """
        info = _attr(IFLA_INFO_SLAVE_KIND, _name(master_kind)) + _attr(
            IFLA_INFO_SLAVE_DATA, _sized_attrs(options)
        )
        body = _IFINFOMSG.pack(0, 0, index, 0, 0) + _attr(IFLA_LINKINFO, info)
        self._push(RTM_NEWLINK, 0, body, f"set {index} type {master_kind}_slave")

    def link_set(
        self,
        name: str | None = None,
        index: int = 0,
        up: bool | None = None,
        master: int | None = None,
        mtu: int | None = None,
    ) -> None:
        """`ip link set DEV [up|down] [master IDX] [mtu N]`, by name or index."""
        flags = change = 0
        if up is not None:
            flags, change = (IFF_UP if up else 0), IFF_UP
        body = _IFINFOMSG.pack(0, 0, index, flags, change)
        if name is not None:
            body += _attr(IFLA_IFNAME, _name(name))
        if master is not None:
            body += _attr(IFLA_MASTER, _u32(master))
        if mtu is not None:
            body += _attr(IFLA_MTU, _u32(mtu))
        self._push(RTM_SETLINK, 0, body, f"set {name or index}")

    def addr_add(self, index: int, cidr: str) -> None:
        """`ip addr add CIDR dev IDX` for IPv4 (with the broadcast `ip ... brd +` gives)."""
        iface = ipaddress.IPv4Interface(cidr)
        local = iface.ip.packed
        body = _IFADDRMSG.pack(socket.AF_INET, iface.network.prefixlen, 0, 0, index)
        body += _attr(IFA_LOCAL, local) + _attr(IFA_ADDRESS, local)
        if iface.network.prefixlen < 31:
            body += _attr(IFA_BROADCAST, iface.network.broadcast_address.packed)
        self._push(RTM_NEWADDR, NLM_F_CREATE | NLM_F_EXCL, body, f"addr {cidr} dev {index}")

    # --- transport ----------------------------------------------------------
    def commit(self) -> None:
        """Send every queued request; raise NetlinkError for the first refused one."""
        queue, self._queue = self._queue, []
        first_error: NetlinkError | None = None
        for start in range(0, len(queue), self.CHUNK):
            chunk = queue[start : start + self.CHUNK]
            pending: dict[int, str] = {}
            buf = bytearray()
            for mtype, flags, body, what in chunk:
                self._seq += 1
                pending[self._seq] = what
                buf += _NLMSGHDR.pack(_NLMSGHDR.size + len(body), mtype, flags, self._seq, 0)
                buf += body
            self.sock.send(bytes(buf))
            while pending:
                data = self.sock.recv(1 << 16)
                off = 0
                while off + _NLMSGHDR.size <= len(data):
                    length, mtype, _fl, seq, _pid = _NLMSGHDR.unpack_from(data, off)
                    if length < _NLMSGHDR.size:
                        break
                    if mtype == NLMSG_ERROR and seq in pending:
                        (code,) = struct.unpack_from("=i", data, off + _NLMSGHDR.size)
                        what = pending.pop(seq)
                        if code and first_error is None:
                            first_error = NetlinkError(-code, what)
                    off += (length + 3) & ~3
        if first_error is not None:
            raise first_error


def _sized_attrs(options: dict[int, tuple[int, int]]) -> bytes:
    return b"".join(_attr(kind, _SIZED[size](value)) for kind, (size, value) in options.items())


def errno_name(code: int) -> str:
    return _errno.errorcode.get(code, str(code))
