"""`docker-proxy` on the kernel twin: dockerd's userland TCP/UDP port proxy, as a real program.

    python docker_proxy.py -proto tcp -host-ip 0.0.0.0 -host-port 10080 \\
        -container-ip 172.17.0.2 -container-port 80

Binds host-ip:host-port first (so a busy port fails the command with Go's
`listen tcp4 0.0.0.0:10080: bind: address already in use`, exit 1), then
goes to the background and returns 0 — the simulator's `docker-proxy` does
the same, so a setup line behaves alike on both backends. Each TCP
connection is relayed to the container over a new connection (the container
sees the host's address), with half-closes passed on; each UDP client
address gets its own upstream socket. Standard library only: this file runs
as a program inside the node's namespace, not imported from netplex.
"""
from __future__ import annotations

import os
import selectors
import socket
import sys
import threading

FLAGS = {"proto": "tcp", "host-ip": "", "host-port": "-1", "container-ip": "", "container-port": "-1"}


def parse(args: list[str]) -> dict[str, str]:
    vals = dict(FLAGS)
    i = 0
    while i < len(args):
        a = args[i]
        i += 1
        if not a.startswith("-") or a in ("-", "--"):
            break
        name = a.lstrip("-")
        value = None
        if "=" in name:
            name, value = name.split("=", 1)
        if name == "use-listen-fd":
            continue
        if name not in FLAGS:
            print(f"flag provided but not defined: -{name}", file=sys.stderr)
            sys.exit(2)
        if value is None:
            if i >= len(args):
                print(f"flag needs an argument: -{name}", file=sys.stderr)
                sys.exit(2)
            value = args[i]
            i += 1
        vals[name] = value
    return vals


def _pipe(src: socket.socket, dst: socket.socket) -> None:
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            dst.sendall(data)
    except OSError:
        pass
    try:
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def _tcp_conn(client: socket.socket, upstream: tuple[str, int]) -> None:
    try:
        up = socket.create_connection(upstream, timeout=10)
        up.settimeout(None)
    except OSError:
        client.close()
        return
    t = threading.Thread(target=_pipe, args=(up, client), daemon=True)
    t.start()
    _pipe(client, up)
    t.join()
    client.close()
    up.close()


def serve_tcp(lst: socket.socket, upstream: tuple[str, int]) -> None:
    while True:
        client, _ = lst.accept()
        threading.Thread(target=_tcp_conn, args=(client, upstream), daemon=True).start()


def serve_udp(sock: socket.socket, upstream: tuple[str, int]) -> None:
    sel = selectors.DefaultSelector()
    sel.register(sock, selectors.EVENT_READ, None)
    flows: dict[tuple[str, int], socket.socket] = {}
    while True:
        for key, _ in sel.select():
            s = key.fileobj
            assert isinstance(s, socket.socket)
            if key.data is None:
                data, peer = s.recvfrom(65535)
                up = flows.get(peer)
                if up is None:
                    up = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                    up.connect(upstream)
                    flows[peer] = up
                    sel.register(up, selectors.EVENT_READ, peer)
                try:
                    up.send(data)
                except OSError:
                    pass
            else:
                try:
                    data = s.recv(65535)
                except OSError:
                    continue
                sock.sendto(data, key.data)


def main(argv: list[str]) -> int:
    v = parse(argv)
    proto = v["proto"]
    host = v["host-ip"] or "0.0.0.0"
    hport = int(v["host-port"], 0)
    upstream = (v["container-ip"], int(v["container-port"], 0))
    if proto not in ("tcp", "udp"):
        print(f"Unsupported protocol {proto}", file=sys.stderr)
        return 1
    try:
        if proto == "tcp":
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            s.bind((host, hport))
            s.listen(128)
        else:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((host, hport))
    except OSError as exc:
        word = "address already in use" if exc.errno == 98 else (exc.strerror or str(exc)).lower()
        print(f"listen {proto}4 {host}:{hport}: bind: {word}", file=sys.stderr)
        return 1
    if os.environ.get("NETPLEX_PROXY_FOREGROUND") != "1" and os.fork() > 0:
        return 0   # the parent returns at once; the child keeps proxying
    os.setsid()
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(devnull, fd)
    if proto == "tcp":
        serve_tcp(s, upstream)
    else:
        serve_udp(s, upstream)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main(sys.argv[1:]))
    except KeyboardInterrupt:
        sys.exit(0)
