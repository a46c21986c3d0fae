"""Open vSwitch's hash functions where a choice OVS makes depends on them: the dp_hash a
select group's bucket is chosen by (lib/hash.h's murmur-based `hash_add`/`hash_finish`,
the build Debian ships for x86-64 without SSE 4.2; lib/flow.c
`flow_hash_symmetric_l3l4` and `flow_hash_symmetric_l2`, which the userspace datapath's
`hash(sym_l4(0))` action computes, lib/odp-execute.c), so that a packet takes the bucket the
real switch gives it. Fields are hashed as the C code reads them: network-order words
read as little-endian integers.
"""
from __future__ import annotations

__all__ = ["flow_hash_symmetric_l3l4", "hash_add", "hash_finish"]

_M32 = 0xFFFFFFFF
_ETH_TYPE_IP, _ETH_TYPE_IPV6 = 0x0800, 0x86DD
_IPPROTO_TCP, _IPPROTO_SCTP = 6, 132


def _rot(x: int, k: int) -> int:
    return ((x << k) | (x >> (32 - k))) & _M32


def hash_add(hash_: int, data: int) -> int:
    """mhash_add: one 32-bit word into the running hash (a zero word changes only the mix)."""
    data &= _M32
    if data:
        data = (data * 0xCC9E2D51) & _M32
        data = _rot(data, 15)
        data = (data * 0x1B873593) & _M32
        hash_ ^= data
    hash_ = _rot(hash_, 13)
    return (hash_ * 5 + 0xE6546B64) & _M32


def hash_finish(hash_: int, final: int) -> int:
    """mhash_finish(hash ^ final)."""
    h = (hash_ ^ final) & _M32
    h ^= h >> 16
    h = (h * 0x85EBCA6B) & _M32
    h ^= h >> 13
    h = (h * 0xC2B2AE35) & _M32
    h ^= h >> 16
    return h


def _le(value: int, nbytes: int) -> int:
    """A network-order field of `nbytes` as the C code's integer load reads it (x86: little-endian)."""
    return int.from_bytes(value.to_bytes(nbytes, "big"), "little")


def flow_hash_symmetric_l2(flow: dict[str, int], basis: int = 0) -> int:
    """flow_hash_symmetric_l2: Ethernet type, the VLAN id, source ^ destination MAC."""
    mac = (flow.get("dl_src", 0) ^ flow.get("dl_dst", 0)).to_bytes(6, "big")
    tci = flow.get("vlan_tci", 0) & 0x0FFF
    raw = flow.get("dl_type", 0).to_bytes(2, "big") + tci.to_bytes(2, "big") + mac + bytes(2)
    h = basis
    for i in range(0, 12, 4):
        h = hash_add(h, int.from_bytes(raw[i:i + 4], "little"))
    return hash_finish(h, basis)


def flow_hash_symmetric_l3l4(flow: dict[str, int], basis: int = 0, inc_udp_ports: bool = False) -> int:
    """flow_hash_symmetric_l3l4: source ^ destination address, the protocol, and TCP/SCTP
    (with `inc_udp_ports`, UDP too) source ^ destination port; L2 fields for non-IP."""
    if flow.get("dl_type") != _ETH_TYPE_IP:
        return flow_hash_symmetric_l2(flow, basis)      # (IPv6 flows: netplex's OVS is IPv4-only)
    h = hash_add(basis, _le(flow.get("nw_src", 0) ^ flow.get("nw_dst", 0), 4))
    proto = flow.get("nw_proto", 0)
    h = hash_add(h, proto)
    if proto in (_IPPROTO_TCP, _IPPROTO_SCTP) or (inc_udp_ports and proto == 17):
        h = hash_add(h, _le(flow.get("tp_src", 0) ^ flow.get("tp_dst", 0), 2))
    return hash_finish(h, basis)
