"""A socket's send buffer accounting (include/net/sock.h sk_wmem_alloc, skb_set_owner_w,
sock_wfree; net/core/sock.c sock_alloc_send_pskb, sock_def_write_space).

A datagram a socket sends is charged to it (its `truesize`) while it waits
in a device's queue — the qdisc, or the queue of a busy link — and released
when the device puts it on the wire or drops it (the kernel frees or orphans
the skb then). A socket whose charged bytes reach its send buffer
(SO_SNDBUF, net.core.wmem_default) cannot send: `sendto` returns EAGAIN and
the application waits for `on_writable`, called once less than half of the
buffer is in use (sock_def_write_space). So a local sender under a full
queue is slowed, as on Linux, instead of losing datagrams in the queue.

The owner is known while the socket's send is on the stack (`Namespace.tx_owner`,
skb->sk as the skb is built); charged frames are remembered by identity
in `Namespace.wmem_owned` (empty: one test on the transmit path).
"""
from __future__ import annotations

from typing import Any

__all__ = ["skb_truesize", "wmem_charge", "wmem_release", "wmem_release_dev"]

SKB_HEAD = 256          # SKB_DATA_ALIGN(sizeof(struct sk_buff))
SKB_SHINFO = 320        # SKB_DATA_ALIGN(sizeof(struct skb_shared_info))
LL_RESERVE = 16 + 15    # ip_append_data: hh_len (LL_RESERVED_SPACE) + 15 of alignment
KMALLOC_SIZES = (64, 96, 128, 192, 256, 512, 1024, 2048, 4096, 8192)


_TRUESIZE: dict[int, int] = {}     # l3_len -> truesize (a pure function: computed once per length)


def skb_truesize(l3_len: int) -> int:
    """The truesize ip_append_data's skb gets for an IP packet of `l3_len` bytes:
    the linear data rounded up to its kmalloc size class, plus the sk_buff itself."""
    size = _TRUESIZE.get(l3_len)
    if size is None:
        data = l3_len + LL_RESERVE + SKB_SHINFO
        size = next((c for c in KMALLOC_SIZES if c >= data), -(-data // 4096) * 4096) + SKB_HEAD
        if len(_TRUESIZE) < 1 << 16:
            _TRUESIZE[l3_len] = size
    return size


def wmem_charge(ns: Any, frame: Any, dev: Any, l3_len: int) -> None:
    """skb_set_owner_w: charge the frame being queued to the socket sending it."""
    sk = ns.tx_owner
    size = skb_truesize(l3_len)
    ns.wmem_owned[id(frame)] = (sk, size, dev)
    sk.wmem_alloc += size


def wmem_release(ns: Any, frame: Any) -> None:
    """sock_wfree: the frame left the queue (sent or dropped)."""
    owned = ns.wmem_owned.pop(id(frame), None)
    if owned is not None:
        owned[0].wmem_free(owned[1])


def wmem_release_dev(ns: Any, dev: Any) -> None:
    """Every frame charged while queued on `dev` is gone (qdisc_reset, the device went down)."""
    for key, owned in [item for item in ns.wmem_owned.items() if item[1][2] is dev]:
        del ns.wmem_owned[key]
        owned[0].wmem_free(owned[1])
