"""Hypothesis strategies for netplex.packet headers.

Every strategy draws only values that survive decode(encode(x)) == x: e.g. a
bytes payload under IPv4 uses a protocol with no registered decoder (or the
packet is a fragment), echo-type ICMP carries id/seq and no ``rest``.
"""
from __future__ import annotations

from hypothesis import strategies as st

from netplex.packet import (
    ETH_P_8021AD,
    ETH_P_8021Q,
    ETH_P_ARP,
    ETH_P_IP,
    IP_DF,
    IP_MF,
    IPPROTO_ICMP,
    IPPROTO_TCP,
    IPPROTO_UDP,
    Arp,
    Dot1Q,
    Ethernet,
    Icmp,
    IPv4,
    Tcp,
    Udp,
)
from netplex.packet.esp import IPPROTO_ESP, Esp
from netplex.packet.mpls import ETH_P_MPLS_UC, Mpls
from netplex.packet.udp import UDP_PORTS

u8 = st.integers(0, 0xFF)
u16 = st.integers(0, 0xFFFF)
u32 = st.integers(0, 0xFFFFFFFF)
macs = st.binary(min_size=6, max_size=6)
ports = u16.filter(lambda p: p != 4754)  # scapy binds GRE-in-UDP to 4754
small_payload = st.binary(max_size=64)

ECHO_TYPES = (0, 8, 13, 14, 15, 16, 17, 18)

dot1qs = st.builds(Dot1Q, vid=st.integers(0, 4095), pcp=st.integers(0, 7),
                   dei=st.integers(0, 1), tpid=st.sampled_from([ETH_P_8021Q, ETH_P_8021AD]))

arps = st.builds(Arp, op=st.sampled_from([1, 2]), sha=macs, spa=u32, tha=macs, tpa=u32)


@st.composite
def icmps(draw: st.DrawFn) -> Icmp:
    t = draw(st.sampled_from([0, 3, 4, 5, 8, 11, 12, 13, 14, 15, 16, 17, 18, 42]))
    code = draw(st.integers(0, 15))
    if t in (13, 14):  # originate/receive/transmit timestamps
        payload = draw(st.binary(min_size=12, max_size=12))
    elif t in (17, 18):  # address mask
        payload = draw(st.binary(min_size=4, max_size=4))
    else:
        payload = draw(small_payload)
    if t in ECHO_TYPES:
        return Icmp(t, code, id=draw(u16), seq=draw(u16), payload=payload)
    return Icmp(t, code, payload=payload, rest=draw(u32))


# raw payloads go to ports with no registered decoder (VXLAN binds 4789 and 8472)
udps = st.builds(Udp, sport=ports, dport=ports.filter(lambda p: p not in UDP_PORTS), payload=small_payload)

# Options that are not MSS/WS/SACK_PERM/SACK/TS (kind, data) -> raw bytes.
_extra_option = st.builds(
    lambda kind, data: bytes((kind, 2 + len(data))) + data,
    # not 8 (timestamps, modelled) nor kinds scapy gives a fixed layout (its TCPOptions table:
    # 14/15 alternate checksum, 19 MD5 signature, 25 "Mood" (a Pascal string), 28 user timeout,
    # 29 TCP-AO, 30 MPTCP, 34 TFO; 254 experimental)
    st.integers(6, 253).filter(lambda k: k not in (8, 14, 15, 19, 25, 28, 29, 30, 34)),
    st.binary(max_size=6),
)


@st.composite
def tcps(draw: st.DrawFn, extra: bool = True) -> Tcp:
    seg = Tcp(draw(ports), draw(ports), draw(u32), draw(u32),
              draw(st.integers(0, 0x1FF)), draw(u16), draw(small_payload), draw(u16))
    if draw(st.booleans()):
        seg.mss = draw(u16)
    if draw(st.booleans()):
        seg.wscale = draw(st.integers(0, 14))
    seg.sack_perm = draw(st.booleans())
    if draw(st.booleans()):
        seg.timestamps = (draw(u32), draw(u32))
    room = 40 - seg.options_len()
    nblocks = draw(st.integers(0, max(0, (room - 4) // 8)))
    seg.sack = tuple((draw(u32), draw(u32)) for _ in range(nblocks))
    room = 40 - seg.options_len()
    if extra and room >= 4 and draw(st.booleans()):
        opt = draw(_extra_option)
        if (len(opt) + 3) & ~3 <= room:
            seg.extra_options = opt
    return seg


# IP options as raw bytes (IPv4 keeps them opaque); 4-byte multiples.
raw_ip_options = st.integers(0, 10).flatmap(lambda n: st.binary(min_size=4 * n, max_size=4 * n))
# Well-formed options any dissector accepts: NOP, Router Alert, Record Route.
sane_ip_options = st.sampled_from([
    b"",
    b"\x94\x04\x00\x00",                               # router alert
    b"\x01\x01\x01\x00",                               # NOP NOP NOP EOL
    b"\x07\x07\x04\x0a\x00\x00\x01\x00",               # record route, 1 slot used
    b"\x94\x04\x00\x00\x07\x0b\x04" + bytes(8) + b"\x00",  # RA + RR(2 slots) + EOL
])

_transport = st.one_of(
    st.tuples(st.just(IPPROTO_ICMP), icmps()),
    st.tuples(st.just(IPPROTO_TCP), tcps()),
    st.tuples(st.just(IPPROTO_UDP), udps),
    st.tuples(st.just(IPPROTO_ESP), st.builds(Esp, u32, u32, small_payload)),
    # protocols with no registered decoder stay bytes (OSPF, PIM, SCTP)
    st.tuples(st.sampled_from([89, 103, 132]), small_payload),
)


@st.composite
def ipv4s(draw: st.DrawFn, options: st.SearchStrategy[bytes] = raw_ip_options,
          tcp_extra: bool = True) -> IPv4:
    opts = draw(options)
    common = dict(ttl=draw(u8), tos=draw(u8), id=draw(u16), options=opts)
    if draw(st.integers(0, 4)) == 0:
        # a fragment: MF set or a non-zero offset, payload stays bytes
        frag = draw(st.integers(0, 0x1FFF))
        flags = draw(st.sampled_from([IP_MF, IP_MF | IP_DF] if frag == 0 else [0, IP_MF]))
        return IPv4(draw(u32), draw(u32), draw(u8), draw(small_payload),
                    flags=flags, frag=frag, **common)
    if tcp_extra:
        proto, payload = draw(_transport)
    else:
        proto, payload = draw(st.one_of(
            st.tuples(st.just(IPPROTO_ICMP), icmps()),
            st.tuples(st.just(IPPROTO_TCP), tcps(extra=False)),
            st.tuples(st.just(IPPROTO_UDP), udps)))
    return IPv4(draw(u32), draw(u32), proto, payload,
                flags=draw(st.sampled_from([0, IP_DF])), **common)


@st.composite
def ethernets(draw: st.DrawFn, ip: st.SearchStrategy[IPv4] | None = None) -> Ethernet:
    vlans = tuple(draw(st.lists(dot1qs, max_size=2)))
    kind = draw(st.integers(0, 4))
    if kind <= 1:
        etype, payload = ETH_P_IP, draw(ip if ip is not None else ipv4s())
    elif kind == 2:
        etype, payload = ETH_P_ARP, draw(arps)
    elif kind == 3:
        # IPv6, LLDP: no decoder registered here, payload stays bytes
        etype, payload = draw(st.sampled_from([0x86DD, 0x88CC])), draw(small_payload)
    else:
        # MPLS (RFC 3032): a label stack over IPv4
        entries = draw(st.lists(st.tuples(st.integers(0, (1 << 20) - 1), st.integers(0, 7), st.integers(0, 255)),
                                min_size=1, max_size=3))
        etype, payload = ETH_P_MPLS_UC, Mpls(entries, draw(ip if ip is not None else ipv4s()))
    return Ethernet(draw(macs), draw(macs), etype, payload, vlans)
