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


TAPS = r"""
import json, select, socket, time
socks = {}
for name, dev, typ, proto in [("br_ip", "br0", socket.SOCK_DGRAM, 0x800), ("port_ip", "eth0", socket.SOCK_DGRAM, 0x800),
                              ("port_all", "eth0", socket.SOCK_RAW, 3), ("br_all", "br0", socket.SOCK_RAW, 3)]:
    s = socket.socket(socket.AF_PACKET, typ, socket.htons(proto))
    s.bind((dev, proto))
    socks[s] = name
print("ready", flush=True)
end = time.time() + 3
seen = []
while time.time() < end and len(seen) < 3:
    r, _, _ = select.select(list(socks), [], [], 0.2)
    for s in r:
        data, addr = s.recvfrom(2000)
        if b"DISCOVER" in data:
            seen.append([socks[s], addr[2]])
print(json.dumps(sorted(seen)), flush=True)
for s in socks:
    s.close()
"""

SEND = r"""
import socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.setsockopt(socket.SOL_SOCKET, socket.SO_BINDTODEVICE, b"eth0")
s.setsockopt(socket.SOL_SOCKET, socket.SO_BROADCAST, 1)
s.bind(("0.0.0.0", 68))
s.sendto(b"DISCOVER", ("255.255.255.255", 67))
"""


def _sim_taps() -> list[list[object]]:
    from netplex.network import Network
    from netplex.stack.af_packet import ETH_P_ALL, ETH_P_IP, SOCK_DGRAM, SOCK_RAW

    net = Network()
    host, vm = net.add_node("host"), net.add_node("vm")
    net.add_link("host:eth0", "vm:eth0")
    for line in ("ip link add br0 type bridge", "ip link set eth0 master br0", "ip link set eth0 up",
                 "ip addr add 10.0.0.1/24 dev br0", "ip link set br0 up"):
        assert host.run(line).status == 0
    assert vm.run("ip link set eth0 up").status == 0
    seen: list[list[object]] = []
    for name, dev, typ, proto in [("br_ip", "br0", SOCK_DGRAM, ETH_P_IP), ("port_ip", "eth0", SOCK_DGRAM, ETH_P_IP),
                                  ("port_all", "eth0", SOCK_RAW, ETH_P_ALL), ("br_all", "br0", SOCK_RAW, ETH_P_ALL)]:
        ps = host.ns.sockets.packet_socket(typ, proto)
        assert ps.bind(host.ns.devices[dev].ifindex) == 0
        ps.on_recv = lambda data, sll, name=name: seen.append([name, sll.pkttype]) if b"DISCOVER" in data else None
    net.run_for(2_000_000_000)       # the bridge's own start-up traffic (IGMP) first
    sk = vm.ns.sockets.udp_socket()
    assert sk.bind(0, 68) == 0
    sk.bound_dev, sk.broadcast = vm.ns.devices["eth0"], True
    assert sk.sendto(b"DISCOVER", 0xFFFFFFFF, 67) == 0
    net.run_for(100_000_000)
    return sorted(seen)


def test_packet_sockets_on_a_bridge_and_its_port_agree_with_the_kernel() -> None:
    """ETH_P_ALL on a port sees the frame before the bridge takes it, ETH_P_IP on the
    port does not, both on br0 see what the bridge passes up (PACKET_BROADCAST)."""
    tag = f"npxprocs-{os.getpid()}"
    host, vm = f"{tag}-h", f"{tag}-v"
    try:
        _ip("netns", "add", host)
        _ip("netns", "add", vm)
        _ip("link", "add", f"{tag[:9]}a", "netns", host, "type", "veth", "peer", "name", f"{tag[:9]}b", "netns", vm)
        _ip("-n", host, "link", "set", f"{tag[:9]}a", "name", "eth0")
        _ip("-n", vm, "link", "set", f"{tag[:9]}b", "name", "eth0")
        _ip("-n", host, "link", "add", "br0", "type", "bridge")
        _ip("-n", host, "link", "set", "eth0", "master", "br0")
        _ip("-n", host, "addr", "add", "10.0.0.1/24", "dev", "br0")
        for ns, dev in ((host, "eth0"), (host, "br0"), (vm, "eth0")):
            _ip("-n", ns, "link", "set", dev, "up")
        with subprocess.Popen(["ip", "netns", "exec", host, sys.executable, "-I", "-c", TAPS],
                              stdout=subprocess.PIPE, text=True) as taps:
            try:
                assert taps.stdout is not None and taps.stdout.readline().strip() == "ready"
                subprocess.run(["ip", "netns", "exec", vm, sys.executable, "-I", "-c", SEND], check=True, timeout=20)
                kernel = json.loads(taps.stdout.readline())
            finally:
                taps.kill()
        assert kernel == [["br_all", 1], ["br_ip", 1], ["port_all", 1]]
        assert _sim_taps() == kernel
    finally:
        for ns in (host, vm):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True)
