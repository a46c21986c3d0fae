"""The kernel agrees with the simulator's socket model for a DHCP-like exchange:
UDP from 0.0.0.0 with SO_BINDTODEVICE and SO_BROADCAST to 255.255.255.255,
EACCES without SO_BROADCAST (tests/stack/test_raw_packet.py is the sim side)."""
from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

pytestmark = pytest.mark.linux

SERVER = r"""
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"eth0")
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
s.bind(("0.0.0.0", 67))
print("ready", flush=True)
s.settimeout(5)
data, (src, sport) = s.recvfrom(100)
s.sendto(b"OFFER 10.0.0.50", ("255.255.255.255", 68))
print(src, sport, data.decode(), flush=True)
"""

CLIENT = r"""
import errno, json, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"eth0")
s.bind(("0.0.0.0", 68))
out = {}
try:
    s.sendto(b"DISCOVER", ("255.255.255.255", 67))
    out["without_broadcast"] = 0
except OSError as e:
    out["without_broadcast"] = e.errno
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
s.sendto(b"DISCOVER", ("255.255.255.255", 67))
s.settimeout(5)
data, (src, sport) = s.recvfrom(100)
out["got"] = [data.decode(), src, sport]
print(json.dumps(out), flush=True)
"""


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True)


def test_dhcp_like_exchange_on_the_kernel() -> None:
    tag = f"npxprocs-{os.getpid()}"
    srv, cli = f"{tag}-s", f"{tag}-c"
    try:
        _ip("netns", "add", srv)
        _ip("netns", "add", cli)
        _ip("link", "add", f"{tag[:9]}a", "netns", srv, "type", "veth", "peer", "name", f"{tag[:9]}b", "netns", cli)
        _ip("-n", srv, "link", "set", f"{tag[:9]}a", "name", "eth0")
        _ip("-n", cli, "link", "set", f"{tag[:9]}b", "name", "eth0")
        _ip("-n", srv, "addr", "add", "10.0.0.1/24", "dev", "eth0")
        for ns in (srv, cli):
            _ip("-n", ns, "link", "set", "eth0", "up")
        with subprocess.Popen(["ip", "netns", "exec", srv, sys.executable, "-I", "-c", SERVER],
                              stdout=subprocess.PIPE, text=True) as server:
            try:
                assert server.stdout is not None and server.stdout.readline().strip() == "ready"
                res = subprocess.run(["ip", "netns", "exec", cli, sys.executable, "-I", "-c", CLIENT],
                                     capture_output=True, text=True, timeout=20)
                seen = server.stdout.readline().split()
            finally:
                server.kill()
        out = json.loads(res.stdout)
        assert out["without_broadcast"] == 13                       # EACCES, as the simulator says
        assert out["got"] == ["OFFER 10.0.0.50", "10.0.0.1", 67]
        assert seen == ["0.0.0.0", "68", "DISCOVER"]
    finally:
        for ns in (srv, cli):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
