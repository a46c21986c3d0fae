"""Helpers of the mobile core's tests."""
from __future__ import annotations

import random
from collections.abc import Callable, Iterator
from typing import Any


def corrupted(valid: bytes, seed: int, count: int = 300) -> Iterator[bytes]:
    """`count` copies of `valid` with one to four random octets changed, every fifth also cut short."""
    rng = random.Random(seed)
    for i in range(count):
        data = bytearray(valid)
        for _ in range(rng.randint(1, 4)):
            data[rng.randrange(len(data))] = rng.randrange(256)
        if i % 5 == 0:
            data = data[:rng.randrange(len(data))]
        yield bytes(data)


def fuzz(be: Any, node: str, valid: bytes, seed: int, targets: list[int], port: int,
         read_cause: Callable[[bytes], int | None]) -> set[int]:
    """Send `valid` corrupted (`corrupted`) from `node` to each of `targets`; the causes of the answers."""
    sk = be.node(node).ns.sockets.udp_socket()
    sk.bind(0, 40000)
    answers: list[bytes] = []
    sk.on_recv = lambda data, src, sport: answers.append(data)
    for data in corrupted(valid, seed):
        for dst in targets:
            sk.sendto(data, dst, port)
        be.net.run_for(1_000_000)
    sk.close()
    return {c for c in map(read_cause, answers) if c is not None}
