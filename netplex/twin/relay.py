"""A hypervisor's virtual NIC, reduced to its data path: two TAP devices, one relay.

    python relay.py NS_A IF_A NS_B IF_B

Enters namespace NS_A (setns on /run/netns/NS_A), opens /dev/net/tun and
attaches TAP device IF_A (created by TUNSETIFF, as a hypervisor creates its
tap); does the same for IF_B in NS_B; prints `ready`; then copies every frame
read from one fd to the other, both ways, until killed. The TAP devices live
as long as this process holds them. See Documentation/networking/tuntap.rst.
Standard library only: this file runs as a program, not imported from netplex.
"""
from __future__ import annotations

import ctypes
import errno
import fcntl
import os
import select
import signal
import struct
import sys

CLONE_NEWNET = 0x40000000
TUNSETIFF = 0x400454CA
IFF_TAP = 0x0002
IFF_NO_PI = 0x1000

_libc = ctypes.CDLL(None, use_errno=True)


def enter(ns: str) -> None:
    fd = os.open(f"/run/netns/{ns}", os.O_RDONLY | os.O_CLOEXEC)
    try:
        if _libc.setns(fd, CLONE_NEWNET) != 0:
            err = ctypes.get_errno()
            raise OSError(err, f"setns {ns}: {os.strerror(err)}")
    finally:
        os.close(fd)


def open_tap(ns: str, name: str) -> int:
    enter(ns)
    fd = os.open("/dev/net/tun", os.O_RDWR | os.O_CLOEXEC)
    fcntl.ioctl(fd, TUNSETIFF, struct.pack("16sH22x", name.encode(), IFF_TAP | IFF_NO_PI))
    os.set_blocking(fd, False)
    return fd


def main(argv: list[str]) -> int:
    ns_a, if_a, ns_b, if_b = argv
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    try:
        a = open_tap(ns_a, if_a)
        b = open_tap(ns_b, if_b)
    except OSError as exc:
        print(f"relay: {exc}", file=sys.stderr, flush=True)
        return 1
    print("ready", flush=True)
    other = {a: b, b: a}
    while True:
        readable, _, _ = select.select([a, b], [], [])
        for fd in readable:
            while True:
                try:
                    frame = os.read(fd, 65536)
                except BlockingIOError:
                    break
                except OSError as exc:
                    if exc.errno == errno.EIO:  # the device is down: nothing to read
                        break
                    raise
                try:
                    os.write(other[fd], frame)
                except OSError:
                    pass  # peer down or its queue full: the frame is dropped, as on a wire


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
