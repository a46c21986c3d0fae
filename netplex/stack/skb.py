"""Per-packet metadata the kernel keeps in the sk_buff, attached to a frame only when needed.

A frame (`netplex.packet.Ethernet`) carries `meta = None` on the fast path.
Netfilter, tc and the bridge attach an `SkbMeta` when they need one of the
kernel's per-packet fields: `mark` (skb->mark), `ct`/`ctinfo` (the conntrack
entry and its state for this packet), `priority` (skb->priority, tc's
classid from CLASSIFY or SO_PRIORITY), `tc_index`, the bridge ports a bridged
packet came in and goes out on (`physin`, `physout`, for br_netfilter's
physdev match), `nf_trace` (iptables TRACE), `local_socket` (owner match),
`sp` (the sec_path of SAs that decrypted it), `dst_xfrm` (the SAs skb_dst's
xfrm bundle will apply: xt_policy's `--dir out` reads them) and `xfrm_transformed`.
"""
from __future__ import annotations

from typing import Any, Protocol


class SockOwner(Protocol):
    """What a packet's socket (skb->sk) tells netfilter and tc: its owner (`-m owner`, LOG's
    UID/GID) and its cgroup's net_cls classid (`-m cgroup`, `tc filter ... cgroup`)."""

    uid: int
    gid: int
    sk_cgrp_classid: int   # sk_cgrp_data's net_cls classid (cls_cgroup, xt_cgroup)


class Task(Protocol):
    """What a socket knows of the task it belongs to: its net_cls cgroup's classid."""

    net_cls_classid: int


class SockCgroupData:
    """sk_cgrp_data (include/linux/cgroup-defs.h): the net_cls classid a socket carries.

    The kernel copies the task's classid into the socket and rewrites it when the
    task moves or its cgroup's classid is written (netclassid_cgroup.c); netplex reads
    it through the task the socket belongs to (`sk_task`, set by the program that
    opened it), which gives the same value. A socket of no task has classid 0."""

    sk_task: Task | None = None

    @property
    def sk_cgrp_classid(self) -> int:
        t = self.sk_task
        return t.net_cls_classid if t is not None else 0


class SkbMeta:
    """The sk_buff fields netplex models."""

    __slots__ = ("mark", "ct", "ctinfo", "priority", "tc_index", "physin", "physout", "nf_trace",
                 "local_socket", "iif", "sp", "dst_xfrm", "xfrm_transformed")

    def __init__(self) -> None:
        self.mark = 0
        self.ct: Any = None
        self.ctinfo = 0
        self.priority = 0
        self.tc_index = 0
        self.physin: Any = None
        self.physout: Any = None
        self.nf_trace = False
        self.local_socket: SockOwner | None = None
        self.iif = 0
        self.sp: tuple[Any, ...] = ()       # sec_path: the SAs that decrypted this packet (xfrm_input)
        self.dst_xfrm: tuple[Any, ...] = ()  # skb_dst(skb)->xfrm and its children: the bundle xfrm_lookup chose
        self.xfrm_transformed = False      # IPSKB_XFRM_TRANSFORMED: an ESP packet xfrm built

    def copy(self) -> SkbMeta:
        """skb_clone: a clone keeps the metadata (and a reference to the same conntrack)."""
        m = SkbMeta.__new__(SkbMeta)
        m.mark = self.mark
        m.ct = self.ct
        m.ctinfo = self.ctinfo
        m.priority = self.priority
        m.tc_index = self.tc_index
        m.physin = self.physin
        m.physout = self.physout
        m.nf_trace = self.nf_trace
        m.local_socket = self.local_socket
        m.iif = self.iif
        m.sp = self.sp
        m.dst_xfrm = self.dst_xfrm
        m.xfrm_transformed = self.xfrm_transformed
        return m


def skb_meta(frame: Any) -> SkbMeta:
    """The frame's metadata, created on first use."""
    m = frame.meta
    if m is None:
        m = frame.meta = SkbMeta()
    return m
