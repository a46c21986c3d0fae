"""Packet capture on the kernel twin: one pcap per interface, as `--pcap DIR` gives in the simulator.

    python capture.py DIR NODE IFNAME [IFNAME ...]

Runs inside NODE's namespace. For each interface it opens an AF_PACKET
socket (every frame, both directions), stamps frames with the kernel's
nanosecond receive time (SO_TIMESTAMPNS) and appends them to
DIR/NODE-IFNAME.pcap — classic libpcap, nanosecond magic, LINKTYPE_ETHERNET.
Prints `ready` once every socket is bound; SIGTERM ends it cleanly.
Standard library only: this file runs as a program, not imported from netplex.
"""
from __future__ import annotations

import errno
import os
import selectors
import signal
import socket
import struct
import sys

ETH_P_ALL = 0x0003
SO_TIMESTAMPNS = 35          # also SCM_TIMESTAMPNS
PCAP_MAGIC_NS = 0xA1B23C4D
SNAPLEN = 262144
LINKTYPE_ETHERNET = 1


def open_pcap(path: str) -> object:
    f = open(path, "wb")
    f.write(struct.pack("<IHHiIII", PCAP_MAGIC_NS, 2, 4, 0, 0, SNAPLEN, LINKTYPE_ETHERNET))
    f.flush()
    return f


def main(argv: list[str]) -> int:
    outdir, node, ifnames = argv[0], argv[1], argv[2:]
    sel = selectors.DefaultSelector()
    files = {}
    for ifname in ifnames:
        s = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(ETH_P_ALL))
        s.bind((ifname, 0))
        s.setsockopt(socket.SOL_SOCKET, SO_TIMESTAMPNS, 1)
        s.setblocking(False)
        files[s.fileno()] = open_pcap(os.path.join(outdir, f"{node}-{ifname}.pcap"))
        sel.register(s, selectors.EVENT_READ)
    running = [True]

    def stop(signum: int, frame: object) -> None:
        running[0] = False

    signal.signal(signal.SIGTERM, stop)
    signal.signal(signal.SIGINT, stop)
    print("ready", flush=True)
    while running[0]:
        for key, _ in sel.select(timeout=0.2):
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            while True:
                try:
                    data, anc, _flags, _addr = sock.recvmsg(65535, socket.CMSG_SPACE(16))
                except BlockingIOError:
                    break
                except OSError as exc:
                    if exc.errno in (errno.ENETDOWN, errno.ENXIO):
                        break   # the device went down (or was not up yet): the socket reports it once
                    raise
                sec = nsec = 0
                for level, kind, value in anc:
                    if level == socket.SOL_SOCKET and kind == SO_TIMESTAMPNS and len(value) >= 16:
                        sec, nsec = struct.unpack("qq", value[:16])
                f = files[sock.fileno()]
                f.write(struct.pack("<IIII", sec & 0xFFFFFFFF, nsec, len(data), len(data)) + data)
                f.flush()
    for f in files.values():
        f.close()
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
