"""Classic libpcap capture files (draft-ietf-opsawg-pcap; tcpdump.org
"pcap-savefile"), written with nanosecond timestamps, little-endian, link
type LINKTYPE_ETHERNET.  Readable by tcpdump, tshark and Wireshark.
"""
from __future__ import annotations

import os
import struct
from typing import BinaryIO

__all__ = ["LINKTYPE_ETHERNET", "PCAP_MAGIC_NS", "PCAP_MAGIC_US", "SNAPLEN",
           "PcapWriter", "read_pcap"]

PCAP_MAGIC_US = 0xA1B2C3D4
PCAP_MAGIC_NS = 0xA1B23C4D
LINKTYPE_ETHERNET = 1
SNAPLEN = 262144

_FILE_HDR = struct.Struct("<IHHiIII")
_REC_HDR = struct.Struct("<IIII")


class PcapWriter:
    """Writes one capture file.  ``write(ts_ns, data)`` appends a frame
    (bytes, or a header object with ``encode()``) stamped ``ts_ns``
    nanoseconds of simulated time.  A path is opened and owned; a file
    object is written to and left open by ``close()`` (only flushed)."""

    def __init__(self, path_or_file: str | os.PathLike[str] | BinaryIO) -> None:
        if isinstance(path_or_file, (str, os.PathLike)):
            self._f: BinaryIO = open(path_or_file, "wb")
            self._owned = True
        else:
            self._f = path_or_file
            self._owned = False
        self._f.write(_FILE_HDR.pack(PCAP_MAGIC_NS, 2, 4, 0, 0, SNAPLEN, LINKTYPE_ETHERNET))

    def write(self, ts_ns: int, frame: bytes | bytearray | memoryview | object) -> None:
        """One record: `frame` as bytes, or a header object with `encode()`."""
        data = frame if isinstance(frame, (bytes, bytearray, memoryview)) else frame.encode()  # type: ignore[attr-defined]
        sec, nsec = divmod(ts_ns, 1_000_000_000)
        n = len(data)
        cap = n if n <= SNAPLEN else SNAPLEN
        self._f.write(_REC_HDR.pack(sec, nsec, cap, n))
        self._f.write(data[:cap] if cap < n else data)

    def close(self) -> None:
        if self._owned:
            if not self._f.closed:
                self._f.close()
        else:
            self._f.flush()

    def __enter__(self) -> PcapWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def read_pcap(path: str | os.PathLike[str]) -> list[tuple[int, bytes]]:
    """Every record of a classic pcap file as (timestamp in ns, captured
    bytes); accepts either byte order and micro- or nanosecond files."""
    with open(path, "rb") as f:
        raw = f.read()
    if len(raw) < _FILE_HDR.size:
        raise ValueError(f"{path}: not a pcap file (too short)")
    for endian in "<>":
        magic = struct.unpack_from(endian + "I", raw)[0]
        if magic in (PCAP_MAGIC_NS, PCAP_MAGIC_US):
            break
    else:
        raise ValueError(f"{path}: not a pcap file (magic {raw[:4].hex()})")
    scale = 1 if magic == PCAP_MAGIC_NS else 1000
    rec = struct.Struct(endian + "IIII")
    out: list[tuple[int, bytes]] = []
    off = _FILE_HDR.size
    while off + rec.size <= len(raw):
        sec, frac, cap, _orig = rec.unpack_from(raw, off)
        off += rec.size
        if off + cap > len(raw):
            raise ValueError(f"{path}: truncated record at offset {off - rec.size}")
        out.append((sec * 1_000_000_000 + frac * scale, raw[off:off + cap]))
        off += cap
    return out
