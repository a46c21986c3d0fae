"""NAT (net/netfilter/nf_nat_core.c, nf_nat_proto.c, nf_nat_masquerade.c).

The nat table is consulted for the first packet of a connection only: its
chains sit on the hooks (PREROUTING and OUTPUT at -100 for destination NAT,
INPUT and POSTROUTING at 100 for source NAT) through `nf_nat_inet_fn`, which
walks the chain (`Table.evaluate`) while the connection's manip of that kind
is not yet set up. A target (SNAT, DNAT, MASQUERADE, REDIRECT, NETMAP — in
`targets_nat`) calls `nf_nat_setup_info` with a range; when no rule set one
up, a null binding is made (`nf_nat_alloc_null_binding`), which is also where
a clash between two connections' tuples makes the kernel pick a new source
port. Every packet of the connection is then rewritten by `nf_nat_packet`
from the conntrack entry's tuples, replies in reverse; an ICMP error
RELATED to a NAT'd connection has its quoted header translated back too
(`nf_nat_icmp_reply_translation`, with the quoted header's checksums updated
incrementally as bytes, as the kernel does).

Choices follow the kernel: `get_unique_tuple` keeps the original tuple when
it is in range and unused, else reuses an existing mapping of the same
source (`find_appropriate_src`), picks the address from a range by the same
jhash2 the kernel uses (`find_best_ips_proto`: a client maps to the same
address each time; `--persistent` drops the destination from the hash), and
finds a free port by `nf_nat_l4proto_unique_tuple` (random start for source
NAT from the network's seeded RNG, first free port for destination NAT).

Helpers (nf_nat_ftp, nf_nat_tftp, registered in helpers.NAT_HOOKS as the
kernel fills nf_nat_ftp_hook): on a NAT'd control connection the FTP
address and port in PORT/EPRT/227/229 are rewritten to the translated ones
(the port kept when it is free for the expectation, else a random one above
it), a change of length shifts the connection's sequence numbers
(conntrack.nf_ct_seqadj_set); the expected connection is mapped like its
master (`nf_nat_follow_master`).
"""
from __future__ import annotations

from typing import Any

from netplex.packet.icmp import Icmp
from netplex.packet.ipv4 import IPPROTO_ICMP, IPPROTO_TCP, IPPROTO_UDP
from netplex.stack.netfilter.conntrack import (
    DIR_ORIGINAL,
    DIR_REPLY,
    EBUSY,
    ICMP_ERRORS,
    Conn,
    ConntrackTable,
    Tuple,
    invert,
    nf_ct_seqadj_set,
)
from netplex.stack.netfilter.core import (
    IP_CT_IS_REPLY,
    IP_CT_NEW,
    IP_CT_RELATED,
    IP_CT_RELATED_REPLY,
    IPS_DST_NAT,
    IPS_DST_NAT_DONE,
    IPS_SRC_NAT,
    IPS_SRC_NAT_DONE,
    NF_ACCEPT,
    NF_DROP,
    NF_IP_PRI_NAT_DST,
    NF_IP_PRI_NAT_SRC,
    TABLE_INIT,
    Netfilter,
    PacketCtx,
)
from netplex.stack.netfilter.helpers import FTP_EPRT, FTP_PASV, FTP_PORT, NAT_HOOKS

__all__ = ["NatRange", "MANIP_SRC", "MANIP_DST", "nf_nat_setup_info", "nf_nat_packet", "jhash2",
           "NF_NAT_RANGE_MAP_IPS", "NF_NAT_RANGE_PROTO_SPECIFIED", "NF_NAT_RANGE_PROTO_RANDOM",
           "NF_NAT_RANGE_PERSISTENT", "NF_NAT_RANGE_PROTO_RANDOM_FULLY", "NF_NAT_RANGE_NETMAP",
           "nf_nat_follow_master", "nf_nat_ftp", "nf_nat_tftp", "nf_nat_mangle_tcp_packet"]

MANIP_SRC, MANIP_DST = 0, 1
HOOK_MANIP = {"PREROUTING": MANIP_DST, "OUTPUT": MANIP_DST, "INPUT": MANIP_SRC, "POSTROUTING": MANIP_SRC}
HOOK_PRIORITY = {"PREROUTING": NF_IP_PRI_NAT_DST, "OUTPUT": NF_IP_PRI_NAT_DST,
                 "INPUT": NF_IP_PRI_NAT_SRC, "POSTROUTING": NF_IP_PRI_NAT_SRC}

# include/uapi/linux/netfilter/nf_nat.h
NF_NAT_RANGE_MAP_IPS = 1 << 0
NF_NAT_RANGE_PROTO_SPECIFIED = 1 << 1
NF_NAT_RANGE_PROTO_RANDOM = 1 << 2
NF_NAT_RANGE_PERSISTENT = 1 << 3
NF_NAT_RANGE_PROTO_RANDOM_FULLY = 1 << 4
NF_NAT_RANGE_PROTO_OFFSET = 1 << 5
NF_NAT_RANGE_NETMAP = 1 << 6
NF_NAT_RANGE_PROTO_RANDOM_ALL = NF_NAT_RANGE_PROTO_RANDOM | NF_NAT_RANGE_PROTO_RANDOM_FULLY
NF_NAT_MAX_ATTEMPTS = 128
IPS_NAT_MASK = IPS_SRC_NAT | IPS_DST_NAT
PORTED = (IPPROTO_TCP, IPPROTO_UDP, 132, 33, 136)   # protocols with ports (tcp udp sctp dccp udplite)


class NatRange:
    """struct nf_nat_range2 (addresses as ints, ports/ids as ints)."""

    __slots__ = ("flags", "min_addr", "max_addr", "min_proto", "max_proto")

    def __init__(self, flags: int = 0, min_addr: int = 0, max_addr: int = 0, min_proto: int = 0,
                 max_proto: int = 0) -> None:
        self.flags = flags
        self.min_addr = min_addr
        self.max_addr = max_addr
        self.min_proto = min_proto
        self.max_proto = max_proto


# -- jhash (include/linux/jhash.h), as find_best_ips_proto uses it ---------------------
def _rol32(x: int, k: int) -> int:
    return ((x << k) | (x >> (32 - k))) & 0xFFFFFFFF


def jhash2(words: list[int], initval: int) -> int:
    """jhash2(k, length, initval) over 32-bit words."""
    m = 0xFFFFFFFF
    length = len(words)
    a = b = c = (0xDEADBEEF + (length << 2) + initval) & m
    k = 0
    while length > 3:
        a = (a + words[k]) & m
        b = (b + words[k + 1]) & m
        c = (c + words[k + 2]) & m
        # __jhash_mix
        a = (a - c) & m; a ^= _rol32(c, 4); c = (c + b) & m
        b = (b - a) & m; b ^= _rol32(a, 6); a = (a + c) & m
        c = (c - b) & m; c ^= _rol32(b, 8); b = (b + a) & m
        a = (a - c) & m; a ^= _rol32(c, 16); c = (c + b) & m
        b = (b - a) & m; b ^= _rol32(a, 19); a = (a + c) & m
        c = (c - b) & m; c ^= _rol32(b, 4); b = (b + a) & m
        length -= 3
        k += 3
    if length == 0:
        return c
    if length >= 3:
        c = (c + words[k + 2]) & m
    if length >= 2:
        b = (b + words[k + 1]) & m
    a = (a + words[k]) & m
    # __jhash_final
    c ^= b; c = (c - _rol32(b, 14)) & m
    a ^= c; a = (a - _rol32(c, 11)) & m
    b ^= a; b = (b - _rol32(a, 25)) & m
    c ^= b; c = (c - _rol32(b, 16)) & m
    a ^= c; a = (a - _rol32(c, 4)) & m
    b ^= a; b = (b - _rol32(a, 14)) & m
    c ^= b; c = (c - _rol32(b, 24)) & m
    return c


def _le(addr: int) -> int:
    """A __be32 address read as a little-endian u32 (what the kernel hashes on x86)."""
    return int.from_bytes(addr.to_bytes(4, "big"), "little")


# -- choosing the new tuple -----------------------------------------------------------------
def _in_range(t: Tuple, rng: NatRange) -> bool:
    """nf_in_range (source side)."""
    if rng.flags & NF_NAT_RANGE_MAP_IPS and not rng.min_addr <= t[0] <= rng.max_addr:
        return False
    if not rng.flags & NF_NAT_RANGE_PROTO_SPECIFIED:
        return True
    return _l4_in_range(t, MANIP_SRC, rng)


def _l4_in_range(t: Tuple, manip: int, rng: NatRange) -> bool:
    proto = t[2]
    if proto == IPPROTO_ICMP:
        return rng.min_proto <= t[3] <= rng.max_proto
    if proto in PORTED:
        port = t[3] if manip == MANIP_SRC else t[4]
        return rng.min_proto <= port <= rng.max_proto
    return True


def _used(table: ConntrackTable, t: Tuple, ct: Conn) -> bool:
    """nf_nat_used_tuple: is the reply of `t` some other connection's tuple?"""
    return table.tuple_taken(invert(t), ct.zone, ct)


def _find_appropriate_src(table: ConntrackTable, orig: Tuple, rng: NatRange, ct: Conn) -> Tuple | None:
    """find_appropriate_src: an existing source mapping of the same (proto, src, sport)."""
    for other in table.conns:
        if other is ct or not other.status & IPS_SRC_NAT_DONE:
            continue
        o = other.tuple_orig
        if o[2] == orig[2] and o[0] == orig[0] and o[3] == orig[3] and other.zone == ct.zone:
            r = invert(other.tuple_reply)
            result = (r[0], orig[1], orig[2], r[3], orig[4])
            if _in_range(result, rng):
                return result
    return None


def _find_best_ips(t: Tuple, rng: NatRange, manip: int, ct: Conn) -> Tuple:
    """find_best_ips_proto: one address of the range, by jhash2 of the source (and destination)."""
    if not rng.flags & NF_NAT_RANGE_MAP_IPS:
        return t
    if rng.min_addr == rng.max_addr:
        addr = rng.min_addr
    else:
        initval = 0 if rng.flags & NF_NAT_RANGE_PERSISTENT else (_le(t[1]) ^ ct.zone)
        j = jhash2([_le(t[0]), 0, 0, 0], initval & 0xFFFFFFFF)
        dist = (rng.max_addr - rng.min_addr + 1) & 0xFFFFFFFF
        addr = (rng.min_addr + ((j * dist) >> 32)) & 0xFFFFFFFF
    if manip == MANIP_SRC:
        return (addr, t[1], t[2], t[3], t[4])
    return (t[0], addr, t[2], t[3], t[4])


def _set_key(t: Tuple, manip: int, value: int) -> Tuple:
    if t[2] == IPPROTO_ICMP:
        return (t[0], t[1], t[2], value, t[4])
    if manip == MANIP_SRC:
        return (t[0], t[1], t[2], value, t[4])
    return (t[0], t[1], t[2], t[3], value)


def _l4_unique_tuple(table: ConntrackTable, t: Tuple, rng: NatRange, manip: int, ct: Conn) -> Tuple:
    """nf_nat_l4proto_unique_tuple: search the port (or ICMP id) range for a free tuple."""
    proto = t[2]
    rand = table.ns.world.rng
    if proto == IPPROTO_ICMP:
        key = t[3]
        if not rng.flags & NF_NAT_RANGE_PROTO_SPECIFIED:
            lo, size = 0, 65536
        else:
            lo, size = rng.min_proto, rng.max_proto - rng.min_proto + 1
    elif proto in PORTED:
        key = t[3] if manip == MANIP_SRC else t[4]
        if not rng.flags & NF_NAT_RANGE_PROTO_SPECIFIED:
            if manip == MANIP_DST:
                return t
            if key < 1024:
                lo, size = (1, 511) if key < 512 else (600, 424)
            else:
                lo, size = 1024, 65535 - 1024 + 1
        else:
            lo, hi = sorted((rng.min_proto, rng.max_proto))
            size = hi - lo + 1
    else:
        return t
    if rng.flags & NF_NAT_RANGE_PROTO_RANDOM_ALL or manip != MANIP_DST:
        off = rand.getrandbits(16)
    else:
        off = 0
    attempts = min(size, NF_NAT_MAX_ATTEMPTS)
    while True:
        for _ in range(attempts):
            cand = _set_key(t, manip, lo + off % size)
            if not _used(table, cand, ct):
                return cand
            off += 1
        if attempts >= size or attempts < 16:
            return cand
        attempts //= 2
        off = rand.getrandbits(16)


def get_unique_tuple(table: ConntrackTable, orig: Tuple, rng: NatRange, ct: Conn, manip: int) -> Tuple:
    """get_unique_tuple (nf_nat_core.c)."""
    if manip == MANIP_SRC and not rng.flags & NF_NAT_RANGE_PROTO_RANDOM_ALL:
        if _in_range(orig, rng):
            if not _used(table, orig, ct):
                return orig
        else:
            found = _find_appropriate_src(table, orig, rng, ct)
            if found is not None and not _used(table, found, ct):
                return found
    t = _find_best_ips(orig, rng, manip, ct)
    if not rng.flags & NF_NAT_RANGE_PROTO_RANDOM_ALL:
        if rng.flags & NF_NAT_RANGE_PROTO_SPECIFIED:
            if (_l4_in_range(t, manip, rng)
                    and (rng.min_proto == rng.max_proto or not _used(table, t, ct))):
                return t
        elif not _used(table, t, ct):
            return t
    return _l4_unique_tuple(table, t, rng, manip, ct)


def nf_nat_setup_info(ct: Conn, rng: NatRange, manip: int) -> int:
    """nf_nat_setup_info: choose the connection's new tuple for one manip; mark it done."""
    done = IPS_SRC_NAT_DONE if manip == MANIP_SRC else IPS_DST_NAT_DONE
    if ct.status & done:
        return NF_ACCEPT
    table = ct.table
    curr = invert(ct.tuple_reply)     # the original tuple as the earlier manips left it
    new = get_unique_tuple(table, curr, rng, ct, manip)
    if new != curr:
        ct.tuple_reply = invert(new)  # nf_conntrack_alter_reply
        ct.status |= IPS_SRC_NAT if manip == MANIP_SRC else IPS_DST_NAT
    ct.status |= done
    return NF_ACCEPT


def nf_nat_alloc_null_binding(ct: Conn, manip: int) -> int:
    """No rule chose a mapping: map to the address the connection already has."""
    addr = ct.tuple_reply[1] if manip == MANIP_SRC else ct.tuple_reply[0]
    return nf_nat_setup_info(ct, NatRange(NF_NAT_RANGE_MAP_IPS, addr, addr), manip)


def nf_nat_initialized(ct: Conn, manip: int) -> bool:
    return bool(ct.status & (IPS_SRC_NAT_DONE if manip == MANIP_SRC else IPS_DST_NAT_DONE))


# -- rewriting packets --------------------------------------------------------------------------
def manip_pkt(frame: Any, target: Tuple, manip: int) -> None:
    """nf_nat_ipv4_manip_pkt for the packet's own headers (checksums follow on encode)."""
    ip = frame.payload.copy()   # headers are shared with clones until written
    frame.payload = ip
    p = ip.payload
    if manip == MANIP_SRC:
        ip.src = target[0]
    else:
        ip.dst = target[1]
    proto = ip.proto
    if isinstance(p, (bytes, bytearray)):
        return                  # a fragment: addresses only
    if proto == IPPROTO_TCP or proto == IPPROTO_UDP:
        port = target[3] if manip == MANIP_SRC else target[4]
        if (p.sport if manip == MANIP_SRC else p.dport) != port:
            p = p.copy()
            if manip == MANIP_SRC:
                p.sport = port
            else:
                p.dport = port
            ip.payload = p
    elif proto == IPPROTO_ICMP and isinstance(p, Icmp) and p.type not in ICMP_ERRORS:
        if p.type in (0, 8, 13, 14, 15, 16, 17, 18) and p.id != target[3]:
            p = p.copy()
            p.id = target[3]
            ip.payload = p


def nf_nat_packet(ct: Conn, ctinfo: int, manip: int, frame: Any) -> None:
    """nf_nat_packet: rewrite this packet as its direction and the hook's manip say."""
    statusbit = IPS_SRC_NAT if manip == MANIP_SRC else IPS_DST_NAT
    d = DIR_REPLY if ctinfo >= IP_CT_IS_REPLY else DIR_ORIGINAL
    if d == DIR_REPLY:
        statusbit ^= IPS_NAT_MASK
    if ct.status & statusbit:
        other = ct.tuple_reply if d == DIR_ORIGINAL else ct.tuple_orig
        manip_pkt(frame, invert(other), manip)


def _fold(s: int) -> int:
    while s >> 16:
        s = (s & 0xFFFF) + (s >> 16)
    return s


def csum_replace(check: int, old: bytes, new: bytes) -> int:
    """inet_proto_csum_replace (RFC 1624 eqn. 3): HC' = ~(~HC + ~m + m'), per 16-bit word."""
    s = (~check) & 0xFFFF
    for i in range(0, len(old), 2):
        s += (~int.from_bytes(old[i:i + 2], "big")) & 0xFFFF
        s += int.from_bytes(new[i:i + 2], "big")
    return (~_fold(s)) & 0xFFFF


def _manip_quoted(q: bytearray, target: Tuple, manip: int) -> None:
    """nf_nat_ipv4_manip_pkt on the datagram an ICMP error quotes (bytes, checksums incremental)."""
    if len(q) < 20:
        return
    ihl = (q[0] & 15) * 4
    off_addr = 12 if manip == MANIP_SRC else 16
    new_addr = (target[0] if manip == MANIP_SRC else target[1]).to_bytes(4, "big")
    old_addr = bytes(q[off_addr:off_addr + 4])
    proto = q[9]
    l4 = ihl
    avail = len(q) - l4
    if proto == IPPROTO_TCP or proto == IPPROTO_UDP:
        if avail >= 4:
            poff = l4 + (0 if manip == MANIP_SRC else 2)
            new_port = (target[3] if manip == MANIP_SRC else target[4]).to_bytes(2, "big")
            old_port = bytes(q[poff:poff + 2])
            coff = l4 + (16 if proto == IPPROTO_TCP else 6)
            # tcp_manip_pkt: the checksum only when the whole TCP header is quoted;
            # udp_manip_pkt: only when the datagram has one (non-zero)
            has_csum = (avail >= 20) if proto == IPPROTO_TCP else (avail >= 8 and (q[coff] or q[coff + 1]))
            if has_csum:
                c = int.from_bytes(q[coff:coff + 2], "big")
                c = csum_replace(c, old_addr, new_addr)
                c = csum_replace(c, old_port, new_port)
                if proto == IPPROTO_UDP and c == 0:
                    c = 0xFFFF          # CSUM_MANGLED_0
                q[coff:coff + 2] = c.to_bytes(2, "big")
            q[poff:poff + 2] = new_port
    elif proto == IPPROTO_ICMP and avail >= 8 and q[l4] in (0, 8, 13, 14, 15, 16, 17, 18):
        new_id = target[3].to_bytes(2, "big")
        old_id = bytes(q[l4 + 4:l4 + 6])
        c = csum_replace(int.from_bytes(q[l4 + 2:l4 + 4], "big"), old_id, new_id)
        q[l4 + 2:l4 + 4] = c.to_bytes(2, "big")
        q[l4 + 4:l4 + 6] = new_id
    ipc = csum_replace(int.from_bytes(q[10:12], "big"), old_addr, new_addr)
    q[10:12] = ipc.to_bytes(2, "big")
    q[off_addr:off_addr + 4] = new_addr


def nf_nat_icmp_reply_translation(ct: Conn, ctinfo: int, manip: int, frame: Any) -> int:
    """An ICMP error about a NAT'd connection: translate the quoted header back, then the outer one."""
    d = DIR_REPLY if ctinfo >= IP_CT_IS_REPLY else DIR_ORIGINAL
    statusbit = IPS_SRC_NAT if manip == MANIP_SRC else IPS_DST_NAT
    if d == DIR_REPLY:
        statusbit ^= IPS_NAT_MASK
    if not ct.status & statusbit:
        return NF_ACCEPT
    other = ct.tuple_reply if d == DIR_ORIGINAL else ct.tuple_orig
    ip = frame.payload.copy()
    frame.payload = ip
    icmp = ip.payload.copy()
    ip.payload = icmp
    q = bytearray(icmp.payload)
    # the inner packet gets the opposite manip, to look like what its sender sent
    _manip_quoted(q, other, MANIP_DST if manip == MANIP_SRC else MANIP_SRC)
    icmp.payload = bytes(q)
    target = invert(other)
    if manip == MANIP_SRC:
        ip.src = target[0]
    else:
        ip.dst = target[1]
    return NF_ACCEPT


# -- the nat table on the hooks ---------------------------------------------------------------
def _nat_hook(table: Any, chain: str, ch: Any) -> Any:
    manip = HOOK_MANIP[chain]
    done = IPS_SRC_NAT_DONE if manip == MANIP_SRC else IPS_DST_NAT_DONE
    evaluate = table.evaluate

    def nf_nat_inet_fn(ctx: PacketCtx) -> int:
        meta = ctx.meta
        ct = meta.ct
        if ct is None or ct.__class__ is not Conn:
            return NF_ACCEPT
        ctinfo = meta.ctinfo
        frame = ctx.frame
        if ctinfo == IP_CT_RELATED or ctinfo == IP_CT_RELATED_REPLY:
            ip = ctx.ip
            if ip.proto == IPPROTO_ICMP and isinstance(ip.payload, Icmp) and ip.payload.type in ICMP_ERRORS:
                v = nf_nat_icmp_reply_translation(ct, ctinfo, manip, frame)
                _trace_rewrite(ctx, frame, ip, "icmp error")
                return v
        if ctinfo == IP_CT_NEW or ctinfo == IP_CT_RELATED or ctinfo == IP_CT_RELATED_REPLY:
            if not ct.status & done:
                if ch.created:
                    v = evaluate(chain, ctx)
                    if v != NF_ACCEPT:
                        return v
                if not ct.status & done:
                    nf_nat_alloc_null_binding(ct, manip)
        before = frame.payload
        nf_nat_packet(ct, ctinfo, manip, frame)
        if frame.payload is not before:
            _trace_rewrite(ctx, frame, before, "SNAT" if manip == MANIP_SRC else "DNAT")
        return NF_ACCEPT

    return nf_nat_inet_fn


def _trace_rewrite(ctx: PacketCtx, frame: Any, before: Any, what: str) -> None:
    ns = ctx.ns
    if ns.world.tracer.on and frame.payload is not before:
        ns.trace(ctx.hook, f"nat {what}: {ns.describe(before)} → {ns.describe(frame.payload)}", hook=ctx.hook,
                 table="nat", verdict=what)


def _attach_nat(nf: Netfilter, table: Any) -> None:
    """TABLE_INIT["nat"]: with the first nat chain, NAT sits on all four hooks.

    As nf_nat_register_fn registers nf_nat_ipv4_ops (all four hooks) for the
    first nat chain of the family: the reverse translation of a reply happens
    at the hooks whose chains do not exist too (there a null binding is made).
    """
    chains = table.chains

    def created(ch: Any) -> None:
        if nf.state.get("nat_hooked"):
            return
        nf.state["nat_hooked"] = True
        for name in HOOK_MANIP:
            nf.register(name, HOOK_PRIORITY[name], _nat_hook(table, name, chains[name]), f"nat:{name}")

    table.on_chain_created = created
    for ch in table.chains.values():
        if ch.builtin and ch.created:
            created(ch)


# conntrack wraps TABLE_INIT entries (it is imported first): keep its wrapper around ours
_prev_nat_init = TABLE_INIT.get("nat")


def _nat_init(nf: Netfilter, table: Any) -> None:
    _attach_nat(nf, table)
    if _prev_nat_init is not None:
        _prev_nat_init(nf, table)


TABLE_INIT["nat"] = _nat_init


def masquerade_source(ns: Any, out: Any, dst: int) -> int | None:
    """nf_nat_masquerade_ipv4's address: inet_select_addr(out, nexthop, RT_SCOPE_UNIVERSE)."""
    r = ns.fib.lookup(dst)
    nh = r.gw if r is not None and r.gw is not None else dst
    addrs = ns.dev_addrs(out)
    for a in addrs:
        if not a.secondary and a.scope == 0 and (nh & a.mask) == a.prefix:
            return a.addr
    for a in addrs:
        if not a.secondary and a.scope == 0:
            return a.addr
    return None


# -- the NAT halves of the helpers (nf_nat_helper.c, nf_nat_ftp.c, nf_nat_tftp.c) -------------------
def nf_nat_follow_master(ct: Conn, exp: Any) -> None:
    """An expected connection is mapped like its master: its source to where the master
    sends, its destination to the master's peer at the port the helper saved."""
    master = ct.master
    assert master is not None
    t = master.tuple(DIR_REPLY if exp.dir == DIR_ORIGINAL else DIR_ORIGINAL)
    nf_nat_setup_info(ct, NatRange(NF_NAT_RANGE_MAP_IPS, t[1], t[1]), MANIP_SRC)
    nf_nat_setup_info(ct, NatRange(NF_NAT_RANGE_MAP_IPS | NF_NAT_RANGE_PROTO_SPECIFIED, t[0], t[0],
                                   exp.saved_proto, exp.saved_proto), MANIP_DST)


def nf_nat_exp_find_port(table: ConntrackTable, exp: Any, port: int) -> int:
    """The expectation at `port` if free, else at random ports above it (128 attempts); 0: none."""
    lo = port
    span = 0xFFFF - port
    attempts = min(span, 128)
    rand = table.ns.world.rng
    while True:
        exp.tuple = (*exp.tuple[:4], port)
        res = table.expect_related(exp)
        if res == 0:
            return port
        attempts -= 1
        if res != EBUSY or attempts < 0 or span <= 0:
            return 0
        port = lo + rand.randrange(span)


def nf_nat_mangle_tcp_packet(frame: Any, ct: Conn, ctinfo: int, off: int, length: int, text: bytes) -> None:
    """Replace `length` payload bytes at `off` by `text`; a size change shifts the sequence numbers
    of what follows in this direction (lengths and checksums follow on encode)."""
    ip = frame.payload.copy()
    seg = ip.payload.copy()
    data = bytes(seg.payload)
    seg.payload = data[:off] + text + data[off + length:]
    ip.payload = seg
    frame.payload = ip
    nf_ct_seqadj_set(ct, ctinfo, seg.seq, len(text) - length)


def _ftp_fmt_cmd(kind: int, addr: int, port: int) -> bytes:
    """nf_nat_ftp_fmt_cmd: the numbers as the command or reply writes them."""
    a = addr.to_bytes(4, "big")
    if kind in (FTP_PORT, FTP_PASV):
        return f"{a[0]},{a[1]},{a[2]},{a[3]},{port >> 8},{port & 0xFF}".encode()
    if kind == FTP_EPRT:
        return f"|1|{a[0]}.{a[1]}.{a[2]}.{a[3]}|{port}|".encode()
    return f"|||{port}|".encode()


def nf_nat_ftp(ctx: PacketCtx, ct: Conn, ctinfo: int, kind: int, off: int, length: int, exp: Any) -> int:
    """nf_nat_ftp: the data connection will come to where this packet goes; announce that
    address and a free port in the payload, and expect the connection there."""
    d = DIR_REPLY if ctinfo >= IP_CT_IS_REPLY else DIR_ORIGINAL
    newaddr = ct.tuple(1 - d)[1]
    exp.saved_proto = exp.tuple[4]
    exp.dir = 1 - d
    exp.expectfn = nf_nat_follow_master
    port = nf_nat_exp_find_port(ct.table, exp, exp.saved_proto)
    if port == 0:
        return NF_DROP          # "all ports in use"
    nf_nat_mangle_tcp_packet(ctx.frame, ct, ctinfo, off, length, _ftp_fmt_cmd(kind, newaddr, port))
    return NF_ACCEPT


def nf_nat_tftp(ctx: PacketCtx, ct: Conn, ctinfo: int, exp: Any) -> int:
    """nf_nat_tftp: the answer is mapped back to the client's own port."""
    exp.saved_proto = ct.tuple_orig[3]
    exp.dir = DIR_REPLY
    exp.expectfn = nf_nat_follow_master
    if ct.table.expect_related(exp) != 0:
        return NF_DROP
    return NF_ACCEPT


NAT_HOOKS["ftp"] = nf_nat_ftp
NAT_HOOKS["tftp"] = nf_nat_tftp
