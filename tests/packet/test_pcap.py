"""PcapWriter output read back by us and by tshark."""
from __future__ import annotations

import io
import shutil
import struct
import subprocess
from pathlib import Path

import pytest

from netplex.packet import (
    ARPOP_REQUEST,
    BROADCAST_MAC,
    ETH_P_ARP,
    ETH_P_IP,
    ICMP_ECHO,
    IPPROTO_ICMP,
    IPPROTO_TCP,
    IPPROTO_UDP,
    SYN,
    Arp,
    Dot1Q,
    Ethernet,
    Icmp,
    IPv4,
    PcapWriter,
    Tcp,
    Udp,
    ip_to_int,
    mac_to_bytes,
    read_pcap,
)

A = ip_to_int("10.0.0.1")
B = ip_to_int("10.0.0.2")
M1 = mac_to_bytes("02:00:00:00:00:01")
M2 = mac_to_bytes("02:00:00:00:00:02")

FRAMES = [
    (1_500_000_123, Ethernet(BROADCAST_MAC, M1, ETH_P_ARP, Arp(ARPOP_REQUEST, M1, A, b"\x00" * 6, B))),
    (1_600_000_000, Ethernet(M2, M1, ETH_P_IP, IPv4(A, B, IPPROTO_ICMP, Icmp(ICMP_ECHO, 0, 9, 1, b"p" * 56)))),
    (2_000_000_001, Ethernet(M2, M1, ETH_P_IP, IPv4(A, B, IPPROTO_TCP, Tcp(
        40000, 80, 1, 0, SYN, 64240, mss=1460, sack_perm=True, timestamps=(5, 0), wscale=7)))),
    (3_000_000_000, Ethernet(M2, M1, ETH_P_IP, IPv4(A, B, IPPROTO_UDP, Udp(5001, 9, b"hello")),
                             vlans=(Dot1Q(42, pcp=3),))),
]


def _write(path: Path) -> None:
    with PcapWriter(path) as w:
        for ts, frame in FRAMES:
            w.write(ts, frame.encode())


def test_header_and_records(tmp_path: Path) -> None:
    path = tmp_path / "x.pcap"
    _write(path)
    raw = path.read_bytes()
    assert struct.unpack_from("<IHHiIII", raw) == (0xA1B23C4D, 2, 4, 0, 0, 262144, 1)
    sec, nsec, cap, orig = struct.unpack_from("<IIII", raw, 24)
    assert (sec, nsec, cap, orig) == (1, 500_000_123, 42, 42)
    assert read_pcap(path) == [(ts, f.encode()) for ts, f in FRAMES]


def test_file_object_and_objects() -> None:
    buf = io.BytesIO()
    w = PcapWriter(buf)
    w.write(7, FRAMES[1][1])  # a header object is encoded on write
    w.close()
    assert not buf.closed and len(buf.getvalue()) == 24 + 16 + FRAMES[1][1].wire_len()


def test_read_microsecond_big_endian(tmp_path: Path) -> None:
    path = tmp_path / "us.pcap"
    path.write_bytes(struct.pack(">IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
                     + struct.pack(">IIII", 3, 250, 4, 4) + b"abcd")
    assert read_pcap(path) == [(3_000_250_000, b"abcd")]


TSHARK = shutil.which("tshark")


@pytest.mark.skipif(TSHARK is None, reason="tshark is not installed (apt-get install tshark)")
def test_tshark_reads_our_pcap(tmp_path: Path) -> None:
    path = tmp_path / "t.pcap"
    _write(path)
    fields = ["frame.time_epoch", "frame.len", "eth.type", "vlan.id", "arp.opcode", "ip.src",
              "ip.dst", "ip.checksum.status", "icmp.checksum.status", "tcp.srcport",
              "tcp.options.mss_val", "tcp.options.wscale.shift", "tcp.options.sack_perm",
              "tcp.options.timestamp.tsval", "tcp.checksum.status", "udp.dstport",
              "udp.checksum.status", "_ws.malformed"]
    cmd = [TSHARK, "-n", "-r", str(path), "-T", "fields", "-E", "separator=|", "-E", "occurrence=l"]
    for proto in ("ip", "tcp", "udp"):  # ICMP checksums are always checked
        cmd += ["-o", f"{proto}.check_checksum:TRUE"]
    for f in fields:
        cmd += ["-e", f]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    rows = [dict(zip(fields, line.split("|"))) for line in out.stdout.splitlines()]
    assert len(rows) == 4
    arp, icmp, tcp, udp = rows
    assert [r["frame.time_epoch"] for r in rows] == [
        "1.500000123", "1.600000000", "2.000000001", "3.000000000"]
    assert [int(r["frame.len"]) for r in rows] == [f.wire_len() for _, f in FRAMES]
    assert arp["arp.opcode"] == "1"
    for r in (icmp, tcp, udp):
        assert (r["ip.src"], r["ip.dst"]) == ("10.0.0.1", "10.0.0.2")
        assert r["ip.checksum.status"] == "1"  # 1 = Good
        assert r["_ws.malformed"] == ""
    assert icmp["icmp.checksum.status"] == "1"
    assert tcp["tcp.srcport"] == "40000" and tcp["tcp.options.mss_val"] == "1460"
    assert tcp["tcp.options.wscale.shift"] == "7" and tcp["tcp.options.timestamp.tsval"] == "5"
    assert tcp["tcp.options.sack_perm"] != "" and tcp["tcp.checksum.status"] == "1"
    assert udp["vlan.id"] == "42" and udp["udp.dstport"] == "9" and udp["udp.checksum.status"] == "1"
