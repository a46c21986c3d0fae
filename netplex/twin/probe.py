"""The tcp and udp probes of SCENARIO.md, run inside the source node's namespace.

    python probe.py tcp|udp DST PORT

Prints one JSON object, the probe's `observed`: on success
{peer, peer_port, reply, local}, parsed from the service's `peer IP:PORT`;
on failure {"error": TEXT} (udp also `reply: ""`), TEXT worded as the C
library words the socket's errno (SCENARIO.md's list), or `timed out`.
tcp: connect with a 2 s timeout, send one line, read the answer.
udp: send one datagram on a connected socket, wait 1 s for the answer (an
ICMP port unreachable surfaces as ECONNREFUSED on the connected socket).
Standard library only: this file runs as a program, not imported from netplex.
"""
from __future__ import annotations

import errno
import json
import os
import socket
import sys

TCP_TIMEOUT = 2.0
UDP_TIMEOUT = 1.0


def error_text(exc: BaseException) -> str:
    if isinstance(exc, (socket.timeout, TimeoutError)):
        return "timed out"
    code = getattr(exc, "errno", None)
    if code == errno.ETIMEDOUT:
        return "timed out"
    if isinstance(code, int):
        return os.strerror(code)
    return str(exc)


def parse_reply(reply: str) -> dict[str, object]:
    """`peer 1.2.3.4:5678` -> peer, peer_port; anything else gives only reply."""
    out: dict[str, object] = {}
    word, _, addr = reply.partition(" ")
    host, sep, port = addr.rpartition(":")
    if word == "peer" and sep and port.isdigit():
        out["peer"] = host
        out["peer_port"] = int(port)
    out["reply"] = reply
    return out


def tcp(dst: str, port: int) -> dict[str, object]:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(TCP_TIMEOUT)
    try:
        s.connect((dst, port))
        local = s.getsockname()
        s.sendall(b"netplex probe\n")
        data = b""
        while b"\n" not in data:
            chunk = s.recv(4096)
            if not chunk:
                break
            data += chunk
    except OSError as exc:
        return {"error": error_text(exc)}
    finally:
        s.close()
    reply = data.decode(errors="replace").strip()
    if not reply:
        return {"error": "no answer", "reply": ""}
    out = parse_reply(reply)
    out["local"] = f"{local[0]}:{local[1]}"
    return out


def udp(dst: str, port: int) -> dict[str, object]:
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.settimeout(UDP_TIMEOUT)
    try:
        s.connect((dst, port))
        local = s.getsockname()
        s.send(b"netplex probe\n")
        data = s.recv(65535)
    except OSError as exc:
        return {"reply": "", "error": error_text(exc)}
    finally:
        s.close()
    out = parse_reply(data.decode(errors="replace").strip())
    out["local"] = f"{local[0]}:{local[1]}"
    return out


def main(argv: list[str]) -> int:
    kind, dst, port = argv[0], argv[1], int(argv[2])
    observed = tcp(dst, port) if kind == "tcp" else udp(dst, port)
    print(json.dumps(observed), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
