"""A TCP socket's send queue: the bytes from snd_una on (sk_write_queue, net/ipv4/tcp.c).

The kernel keeps what tcp_sendmsg copied in as a list of skbs and frees each one
once it is wholly acknowledged (tcp_clean_rtx_queue); nothing is moved when the
head is acknowledged or the tail grows. `SendQueue` does the same with the
application's writes: each write is kept as it came (one `bytes` object, never
copied again), an acknowledgement moves the head's offset, and a segment's payload
is one slice of one write (a join only when it spans two). A `bytearray` would
copy the whole queue whenever it grows after its head was trimmed (CPython moves
the data to a new buffer), megabytes per write at a gigabit.

The queue is addressed by offsets from snd_una, as `TcpSocket` counts.
"""
from __future__ import annotations

from bisect import bisect_right

__all__ = ["SendQueue"]

COMPACT = 64        # dropped writes kept as None before the lists are trimmed


class SendQueue:
    """The unacknowledged and unsent bytes of one TCP socket, offsets from snd_una."""

    __slots__ = ("chunks", "starts", "first", "head", "total", "size")

    def __init__(self) -> None:
        self.chunks: list[bytes | None] = []   # the writes, oldest first (None: wholly acknowledged)
        self.starts: list[int] = []            # the stream position where each write begins
        self.first = 0                         # index of the oldest write still (partly) queued
        self.head = 0                          # stream position of snd_una (the queue's offset 0)
        self.total = 0                         # stream position after the last byte written
        self.size = 0                          # bytes queued: total - head

    def __len__(self) -> int:
        return self.size

    def __bool__(self) -> bool:
        return self.size > 0

    def __bytes__(self) -> bytes:
        return self.read(0, self.size)

    def append(self, data: bytes) -> None:
        """tcp_sendmsg: queue `data` after what is queued."""
        n = len(data)
        if not n:
            return
        if data.__class__ is not bytes:
            data = bytes(data)        # the caller's buffer may change after the write returns
        self.chunks.append(data)
        self.starts.append(self.total)
        self.total += n
        self.size += n

    def read(self, offset: int, n: int) -> bytes:
        """The `n` bytes at `offset` from snd_una (fewer at the queue's end)."""
        if offset < 0:      # as a slice of the queue's bytes would answer
            return bytes(self)[offset:offset + n]
        pos = self.head + offset
        end = pos + n
        if end > self.total:
            end = self.total
        if end <= pos:
            return b""
        starts = self.starts
        chunks = self.chunks
        i = bisect_right(starts, pos, self.first) - 1
        c = chunks[i]
        assert c is not None
        base = starts[i]
        if end - base <= len(c):
            return c[pos - base:end - base]     # within one write: one slice
        s = pos - base
        parts = [c[s:]]
        got = len(c) - s
        want = end - pos
        while got < want:
            i += 1
            c = chunks[i]
            assert c is not None
            take = min(len(c), want - got)
            parts.append(c[:take] if take < len(c) else c)
            got += take
        return b"".join(parts)

    def drop(self, n: int) -> None:
        """tcp_clean_rtx_queue: the first `n` bytes are acknowledged."""
        if n <= 0:
            return
        n = min(n, self.size)
        self.head += n
        self.size -= n
        starts = self.starts
        chunks = self.chunks
        last = len(chunks) - 1
        i = self.first
        head = self.head
        while i < last and starts[i + 1] <= head:
            chunks[i] = None
            i += 1
        if i == last and head >= self.total:
            chunks[i] = None
            i += 1
        self.first = i
        if i >= COMPACT:
            del chunks[:i]
            del starts[:i]
            self.first = 0

    def clear(self) -> None:
        """Forget everything queued (the socket is gone)."""
        self.chunks = []
        self.starts = []
        self.first = 0
        self.head = self.total
        self.size = 0
