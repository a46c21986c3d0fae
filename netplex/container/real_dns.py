"""The embedded DNS server of one container on the kernel twin (moby libnetwork resolver.go, as a process).

    python -m netplex.container.real_dns CONTAINER NETNS

dockerd runs one resolver per container inside the daemon; the twin has no
resident dockerd, so `docker run` (netplex/container/real.py) starts this
program in the docker-host node's namespace. It enters the container's network
namespace (setns(2) on /run/netns/NETNS) only to open its listeners on
127.0.0.11, UDP and TCP on random ports, as dockerd does, comes back, prints
`ready UDP_PORT TCP_PORT` and serves: the answers of netplex.container.dns read
from the daemon's state file at each query, other names forwarded from the
host's namespace to the host's resolv.conf servers (4 s each), SERVFAIL when
none answers. Standard library only.
"""
from __future__ import annotations

import ctypes
import json
import os
import select
import socket
import sys
from pathlib import Path

from netplex.container.dns import DNS_IP, EXT_TIMEOUT, NO_OVERRIDES, ext_servers, ndots_set, overrides_of
from netplex.container.dns import answer as dns_answer
from netplex.container.engine import STATE_PATH
from netplex.packet.dns import DNS_PORT, RCODE_REFUSED, RCODE_SERVFAIL, DnsError, DnsMessage

__all__ = ["main"]

CLONE_NEWNET = 0x40000000
MAX_UDP = 65535


def _setns(fd: int) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    if libc.setns(fd, CLONE_NEWNET) != 0:
        err = ctypes.get_errno()
        raise OSError(err, os.strerror(err))


def _listen(netns: str) -> tuple[socket.socket, socket.socket]:
    own = os.open("/proc/self/ns/net", os.O_RDONLY)
    target = os.open(f"/run/netns/{netns}", os.O_RDONLY)
    try:
        _setns(target)
        udp = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        udp.bind((DNS_IP, 0))
        tcp = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        tcp.bind((DNS_IP, 0))
        tcp.listen(16)
    finally:
        _setns(own)
        os.close(own)
        os.close(target)
    return udp, tcp


def _read(path: str) -> str | None:
    try:
        return Path(path).read_text()
    except OSError:
        return None


def _socket_in(netns: str | None) -> socket.socket:
    """A UDP socket of the host's namespace, or of `netns` (made there: it stays there)."""
    if netns is None:
        return socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    own = os.open("/proc/self/ns/net", os.O_RDONLY)
    target = os.open(f"/run/netns/{netns}", os.O_RDONLY)
    try:
        _setns(target)
        return socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    finally:
        _setns(own)
        os.close(own)
        os.close(target)


def _forward(query: DnsMessage, data: bytes, servers: list[tuple[str, bool]], netns: str) -> bytes:
    """forwardExtDNS: the host's servers from the host's namespace, --dns's from the container's."""
    for server, host_loopback in servers:
        got: tuple[DnsMessage, bytes] | None = None
        with _socket_in(None if host_loopback else netns) as s:
            s.settimeout(EXT_TIMEOUT)
            try:
                s.connect((server, DNS_PORT))
                s.send(data)
                while got is None:
                    d = s.recv(MAX_UDP)
                    try:
                        m = DnsMessage.decode(d)
                    except DnsError:
                        continue
                    if m.qr and m.id == query.id:
                        got = m, d
            except OSError:
                continue
        if got is not None and got[0].rcode not in (RCODE_SERVFAIL, RCODE_REFUSED):
            return got[1]
    return query.reply(RCODE_SERVFAIL).encode()


def serve(container: str, data: bytes, netns: str = "") -> bytes | None:
    try:
        query = DnsMessage.decode(data)
    except DnsError:
        return None
    if query.qr or not query.questions:
        return None
    text = _read(STATE_PATH)
    state = json.loads(text) if text else {"networks": {}, "containers": {}}
    host_rc = _read("/etc/resolv.conf")
    c = state["containers"].get(container)
    overrides = overrides_of(c) if c is not None else NO_OVERRIDES
    resp = dns_answer(state, container, query, ndots_set(host_rc, overrides))
    if resp is not None:
        return resp.encode()
    return _forward(query, data, ext_servers(host_rc, overrides), netns or container)


def main(argv: list[str]) -> int:
    if len(argv) != 2:
        print("usage: python -m netplex.container.real_dns CONTAINER NETNS", file=sys.stderr)
        return 2
    container, netns = argv
    udp, tcp = _listen(netns)
    print(f"ready {udp.getsockname()[1]} {tcp.getsockname()[1]}", flush=True)
    conns: dict[socket.socket, bytearray] = {}
    while True:
        ready, _, _ = select.select([udp, tcp, *conns], [], [])
        for s in ready:
            if s is udp:
                data, peer = udp.recvfrom(MAX_UDP)
                out = serve(container, data, netns)
                if out is not None:
                    udp.sendto(out, peer)
            elif s is tcp:
                c, _ = tcp.accept()
                conns[c] = bytearray()
            else:
                chunk = s.recv(MAX_UDP)
                if not chunk:
                    s.close()
                    del conns[s]
                    continue
                buf = conns[s]
                buf += chunk
                while len(buf) >= 2 and len(buf) >= 2 + int.from_bytes(buf[:2], "big"):
                    n = int.from_bytes(buf[:2], "big")
                    msg = bytes(buf[2:2 + n])
                    del buf[:2 + n]
                    out = serve(container, msg, netns)
                    if out is not None:
                        s.sendall(len(out).to_bytes(2, "big") + out)


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
