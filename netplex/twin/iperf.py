"""The iperf probe's programs on the kernel twin: a receiver and a sender, run inside namespaces.

    python -I iperf.py recv udp|tcp PORT START DURATION [GAP]
    python -I iperf.py send udp|tcp DST PORT START DURATION [RATE_BPS SIZE TOS]

Both start at the wall-clock time START (time.time()) and stop DURATION
seconds later. The receiver prints `ready` once listening and, at the end,
one JSON object: payload bytes and datagrams (or segments) per one-second
interval, and every pause between two arrivals longer than GAP seconds
(`gaps`: [last arrival before, first arrival after], `last`: the last
arrival, in time.time() seconds). The sender prints one JSON object: datagrams sent, error. UDP
datagrams are paced at RATE bits/s of payload; TCP writes SIZE-byte blocks
(128 KiB when 0) as fast as the kernel's congestion control and qdiscs allow,
or, with a RATE, as iperf3 -b throttles them.
"""
from __future__ import annotations

import json
import socket
import sys
import time

IP_TOS = 1
TCP_BLOCK = 128 * 1024      # iperf3's DEFAULT_TCP_BLKSIZE
PACING_S = 0.001            # iperf3's --pacing-timer default


def recv(proto: str, port: int, start: float, duration: float, gap: float = 0.02) -> None:
    end = start + duration
    drain = end + 2.0
    nint = max(1, int(-(-duration // 1)))
    good = [0] * nint
    pkts = [0] * nint
    total = 0
    gaps: list[list[float]] = []
    last = 0.0

    def arrived(now: float) -> None:
        nonlocal last
        if last and now - last > gap:
            gaps.append([last, now])
        last = now

    if proto == "udp":
        s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4 << 20)
        s.bind(("0.0.0.0", port))
        print("ready", flush=True)
        while True:
            now = time.time()
            if now >= drain:
                break
            s.settimeout(max(0.01, drain - now))
            try:
                data = s.recv(65536)
            except (TimeoutError, OSError):
                break
            now = time.time()
            arrived(now)
            total += 1
            i = int(now - start)
            if 0 <= i < nint and now < end:
                good[i] += len(data)
                pkts[i] += 1
        print(json.dumps({"good": good, "pkts": pkts, "received": total, "gaps": gaps, "last": last}), flush=True)
        return
    ls = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    ls.bind(("0.0.0.0", port))
    ls.listen(4)
    print("ready", flush=True)
    ls.settimeout(max(0.1, drain - time.time()))
    mss = 1448
    try:
        c, _ = ls.accept()
        try:
            mss = c.getsockopt(socket.IPPROTO_TCP, socket.TCP_MAXSEG) or mss
        except OSError:
            pass
        while True:
            now = time.time()
            if now >= drain:
                break
            c.settimeout(max(0.01, drain - now))
            try:
                data = c.recv(1 << 16)
            except (TimeoutError, OSError):
                break
            if not data:
                break
            now = time.time()
            arrived(now)
            i = int(now - start)
            if 0 <= i < nint and now < end:
                good[i] += len(data)
    except TimeoutError:
        pass
    segs = [-(-g // mss) for g in good]
    print(json.dumps({"good": good, "pkts": segs, "mss": mss, "gaps": gaps, "last": last}), flush=True)


def send(proto: str, dst: str, port: int, start: float, duration: float, rate: int, size: int,
         tos: int) -> None:
    end = start + duration
    sent = 0
    err = ""
    first_err = ""
    try:
        if proto == "udp":
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            if tos:
                s.setsockopt(socket.IPPROTO_IP, IP_TOS, tos)
            gap = size * 8 / max(rate, 1)
            payload = b"\x00" * size
            while time.time() < start:
                time.sleep(min(0.01, max(0.0, start - time.time())))
            t = start
            while True:
                now = time.time()
                if now >= end:
                    break
                if now < t:
                    time.sleep(min(t - now, 0.005))
                    continue
                try:
                    s.sendto(payload, (dst, port))
                    sent += 1
                except OSError as e:   # ENOBUFS when a qdisc is full: the datagram is lost;
                    # no route or no carrier for now (an outage): lost too, the flow goes on,
                    # and the error is reported only if no datagram ever left
                    if e.errno in (100, 101, 113):
                        first_err = first_err or e.strerror or str(e)
                    elif e.errno not in (105, 11):
                        err = e.strerror or str(e)
                        break
                t += gap
        else:
            s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
            if tos:
                s.setsockopt(socket.IPPROTO_IP, IP_TOS, tos)
            while time.time() < start:
                time.sleep(min(0.01, max(0.0, start - time.time())))
            s.settimeout(5)
            s.connect((dst, port))
            s.settimeout(0.2)
            # iperf3's client: blocks of -l bytes (128 KiB by default); with -b, the throttle
            # of iperf_check_throttle: write while the average rate since the start is below
            # RATE, checked after each block and on a 1 ms pacing timer
            block = memoryview(b"\x00" * (size or TCP_BLOCK))
            began = time.time()
            pos = written = 0
            while True:
                now = time.time()
                if now >= end:
                    break
                if rate and pos == 0 and written * 8 >= rate * (now - began):
                    time.sleep(PACING_S)
                    continue
                try:
                    n = s.send(block[pos:])
                except TimeoutError:
                    continue
                written += n
                pos = (pos + n) % len(block)
            s.close()
    except OSError as e:
        err = e.strerror or str(e)
    if not sent and not err:
        err = first_err
    print(json.dumps({"sent": sent, "error": err}), flush=True)


def main(argv: list[str]) -> None:
    if argv[0] == "recv":
        recv(argv[1], int(argv[2]), float(argv[3]), float(argv[4]), *(float(a) for a in argv[5:6]))
    else:
        default = (1_000_000, 1460, 0) if argv[1] == "udp" else (0, 0, 0)
        rate, size, tos = (int(argv[6]), int(argv[7]), int(argv[8])) if len(argv) > 6 else default
        send(argv[1], argv[2], int(argv[3]), float(argv[4]), float(argv[5]), rate, size, tos)


if __name__ == "__main__":
    main(sys.argv[1:])
