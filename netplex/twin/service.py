"""The listeners of SCENARIO.md's `services`, run inside a node's namespace.

    python service.py tcp:80 udp:53 ...

`tcp:PORT` accepts connections; for each it reads up to one line and answers
`peer <ip>:<port>\\n` (the address it saw), then closes. `udp:PORT` answers
each datagram with the same line. Prints `ready` on stdout once every socket
listens (the backend waits for it), or an error on stderr and exits 1.
Standard library only: this file runs as a program, not imported from netplex.
"""
from __future__ import annotations

import selectors
import socket
import sys
import threading


def _answer_tcp(conn: socket.socket, peer: tuple[str, int]) -> None:
    try:
        conn.settimeout(2.0)
        data = b""
        try:
            while b"\n" not in data and len(data) < 4096:
                chunk = conn.recv(4096)
                if not chunk:
                    break
                data += chunk
        except OSError:
            pass  # no line within the timeout: answer anyway
        conn.sendall(f"peer {peer[0]}:{peer[1]}\n".encode())
    except OSError:
        pass
    finally:
        conn.close()


def main(argv: list[str]) -> int:
    sel = selectors.DefaultSelector()
    try:
        for spec in argv:
            proto, _, port_text = spec.partition(":")
            port = int(port_text)
            if proto == "tcp":
                s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
                s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
                s.bind(("0.0.0.0", port))
                s.listen(128)
            elif proto == "udp":
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.bind(("0.0.0.0", port))
            else:
                raise ValueError(f"unknown service {spec!r}")
            sel.register(s, selectors.EVENT_READ, proto)
    except (OSError, ValueError) as exc:
        print(f"service {spec}: {exc}", file=sys.stderr, flush=True)
        return 1
    print("ready", flush=True)
    while True:
        for key, _ in sel.select():
            sock = key.fileobj
            assert isinstance(sock, socket.socket)
            try:
                if key.data == "tcp":
                    conn, peer = sock.accept()
                    threading.Thread(target=_answer_tcp, args=(conn, peer), daemon=True).start()
                else:
                    _data, peer = sock.recvfrom(65535)
                    sock.sendto(f"peer {peer[0]}:{peer[1]}\n".encode(), peer)
            except OSError:
                continue


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(0)
