"""scapy, an independent dissector, agrees with our bytes both ways."""
from __future__ import annotations

import pytest
from hypothesis import given, settings

pytest.importorskip("scapy")

from scapy.contrib.mpls import MPLS  # noqa: E402  # binds EtherType 0x8847
from scapy.layers.inet import ICMP, IP, TCP, UDP, IPerror, IPOption_Router_Alert, IPOption_RR, UDPerror  # noqa: E402
from scapy.layers.inet import fragment as scapy_fragment  # noqa: E402
from scapy.layers.l2 import ARP, Dot1AD, Ether  # noqa: E402
from scapy.layers.l2 import Dot1Q as SDot1Q
from scapy.packet import Raw  # noqa: E402

from netplex.packet import (  # noqa: E402
    ACK,
    ETH_P_8021AD,
    ETH_P_8021Q,
    ETH_P_IP,
    ICMP_DEST_UNREACH,
    ICMP_FRAG_NEEDED,
    IP_MF,
    IPPROTO_UDP,
    SYN,
    Arp,
    Ethernet,
    Icmp,
    IPv4,
    Tcp,
    Udp,
    bytes_to_mac,
    int_to_ip,
    ip_to_int,
)
from netplex.packet.mpls import Mpls  # noqa: E402

from ._strategies import ECHO_TYPES, ethernets, ipv4s, sane_ip_options  # noqa: E402

_CHECKSUMMED = (IP, TCP, UDP, ICMP)


def _compare_ip(ours: IPv4, s: IP) -> None:
    data = ours.encode()
    assert s.version == 4
    assert s.ihl * 4 == 20 + len(ours.options)
    assert (s.tos, s.len, s.id, int(s.flags), s.frag, s.ttl, s.proto) == (
        ours.tos, len(data), ours.id, ours.flags, ours.frag, ours.ttl, ours.proto)
    assert (s.src, s.dst) == (int_to_ip(ours.src), int_to_ip(ours.dst))
    assert s.chksum == int.from_bytes(data[10:12], "big")
    p = ours.payload
    if isinstance(p, (bytes, bytearray)):
        assert bytes(s.payload) == p
    elif isinstance(p, Tcp):
        t = s[TCP]
        assert (t.sport, t.dport, t.seq, t.ack, int(t.flags), t.window, t.urgptr) == (
            p.sport, p.dport, p.seq, p.ack, p.flags & 0x1FF, p.window, p.urgent)
        assert t.dataofs * 4 == 20 + p.options_len()
        opts = {name: val for name, val in t.options if not isinstance(name, int)}
        if p.mss is not None:
            assert opts["MSS"] == p.mss
        if p.wscale is not None:
            assert opts["WScale"] == p.wscale
        assert ("SAckOK" in opts) == p.sack_perm
        if p.timestamps is not None:
            assert opts["Timestamp"] == p.timestamps
        if p.sack:
            assert opts["SAck"] == tuple(x for blk in p.sack for x in blk)
        assert bytes(t.payload) == p.payload
    elif isinstance(p, Udp):
        u = s[UDP]
        assert (u.sport, u.dport, u.len) == (p.sport, p.dport, p.wire_len())
        assert bytes(u.payload) == p.payload
    elif isinstance(p, Icmp):
        m = s[ICMP]
        assert (m.type, m.code) == (p.type, p.code)
        word = int.from_bytes(bytes(m)[4:8], "big")
        if p.type in ECHO_TYPES:
            assert word == (p.id << 16) | p.seq
            if p.type in (0, 8):
                assert (m.id, m.seq) == (p.id, p.seq)
        else:
            assert word == p.rest
            if p.type == 3 and p.code == 4:
                assert m.nexthopmtu == p.rest & 0xFFFF
            if p.type == 5:
                assert m.gw == int_to_ip(p.rest)


def _rebuilt_by_scapy(s: Ether) -> bytes:
    """scapy's bytes for the same fields with every checksum/length recomputed."""
    q = s.copy()
    layer, orig = q, s       # orig: the same layer in the dissected packet (a copy loses .original)
    while layer is not None and layer.name != "NoPayload":
        if isinstance(layer, IPerror) or isinstance(layer, UDPerror):
            break  # quoted headers inside ICMP errors keep their values
        if isinstance(layer, IP) and (layer.flags.MF or layer.frag):
            # a fragment: what follows is a slice of a datagram, not a header whose
            # checksum covers it (scapy still dissects a first fragment's transport)
            del layer.chksum
            del layer.len
            del layer.ihl
            if layer.payload:   # the slice stays the bytes it was, and the options those the header
                # held: scapy's IGMP, once bound (scapy.contrib.igmpv3), gives an IP layer it is
                # dissected under a Router Alert option; the header alone has no payload to do so
                layer.options = IP(bytes(orig.original)[:orig.ihl * 4]).options
                raw = orig.payload.original
                layer.remove_payload()
                layer.add_payload(Raw(raw))
            break
        if isinstance(layer, _CHECKSUMMED):
            del layer.chksum
        if isinstance(layer, (IP, UDP)):
            del layer.len
        if isinstance(layer, TCP):
            del layer.dataofs
        if isinstance(layer, IP):
            del layer.ihl
            if layer.payload and not isinstance(layer.payload, (TCP, UDP, ICMP)):
                # a protocol netplex keeps as opaque bytes (SCTP, say): scapy would rebuild
                # its header from random bytes, so it stays the bytes it was
                raw = orig.payload.original
                layer.remove_payload()
                layer.add_payload(Raw(raw))
                break
        layer, orig = (layer.payload, orig.payload) if layer.payload else (None, None)
    return bytes(q)


def check_frame(frame: Ethernet) -> None:
    data = frame.encode()
    s = Ether(data)
    assert s.dst == bytes_to_mac(frame.dst) and s.src == bytes_to_mac(frame.src)
    layer = s
    types = [t.tpid for t in frame.vlans] + [frame.type]
    assert s.type == types[0]
    for tag, next_type in zip(frame.vlans, types[1:]):
        layer = layer.payload
        assert isinstance(layer, (SDot1Q, Dot1AD))
        assert (layer.vlan, layer.prio, layer.dei, layer.type) == (tag.vid, tag.pcp, tag.dei, next_type)
    inner = layer.payload
    p = frame.payload
    if isinstance(p, IPv4):
        assert isinstance(inner, IP)
        _compare_ip(p, inner)
    elif isinstance(p, Arp):
        assert isinstance(inner, ARP)
        assert (inner.hwtype, inner.ptype, inner.hwlen, inner.plen, inner.op) == (
            p.hwtype, p.ptype, 6, 4, p.op)
        assert (inner.hwsrc, inner.psrc, inner.hwdst, inner.pdst) == (
            bytes_to_mac(p.sha), int_to_ip(p.spa), bytes_to_mac(p.tha), int_to_ip(p.tpa))
    elif isinstance(p, Mpls):
        for n, (label, tc, ttl) in enumerate(p.entries):
            assert isinstance(inner, MPLS)
            assert (inner.label, inner.cos, inner.s, inner.ttl) == (label, tc, n == len(p.entries) - 1, ttl)
            inner = inner.payload
        assert isinstance(p.payload, IPv4) and isinstance(inner, IP)
        _compare_ip(p.payload, inner)
    else:
        assert bytes(inner) == p
    # Every checksum and length, recomputed by scapy, equals ours.
    assert _rebuilt_by_scapy(s) == data


@given(ethernets(ip=ipv4s(options=sane_ip_options)))
@settings(max_examples=300, deadline=None)
def test_scapy_dissects_our_frames(frame: Ethernet) -> None:
    check_frame(frame)


def test_scapy_dissects_a_first_fragment_of_igmp() -> None:
    # scapy reads the slice as an IGMP message and would give the header it rebuilds a Router Alert
    check_frame(Ethernet(b"\x02" * 6, b"\x04" * 6, ETH_P_IP, IPv4(1, 2, 2, bytes(range(8)), flags=IP_MF)))


A = ip_to_int("192.0.2.1")
B = ip_to_int("198.51.100.7")


def test_scapy_reads_linux_syn() -> None:
    syn = Ethernet(b"\x02" * 6, b"\x04" * 6, ETH_P_IP,
                   IPv4(A, B, 6, Tcp(51000, 443, 1, 0, SYN, 64240, mss=1460, sack_perm=True,
                                     timestamps=(3735928559, 0), wscale=7)))
    check_frame(syn)
    opts = Ether(syn.encode())[TCP].options
    assert [o[0] for o in opts] == ["MSS", "SAckOK", "Timestamp", "NOP", "WScale"]


# ---- scapy-built bytes through our decoder --------------------------------------

def _ours(spkt: Ether) -> Ethernet:
    data = bytes(spkt)
    frame = Ethernet.decode(data)
    assert frame.encode() == data  # byte-exact, checksums included
    return frame


def test_decode_scapy_tcp_syn_options() -> None:
    s = Ether() / IP(src="10.1.1.1", dst="10.2.2.2") / TCP(
        sport=33000, dport=22, flags="S", seq=1000,
        options=[("MSS", 1460), ("SAckOK", b""), ("Timestamp", (123456, 0)),
                 ("NOP", None), ("WScale", 7)])
    seg = _ours(s).payload.payload
    assert (seg.mss, seg.sack_perm, seg.timestamps, seg.wscale) == (1460, True, (123456, 0), 7)
    assert seg.flags == SYN and seg.seq == 1000 and seg.extra_options == b""


def test_decode_scapy_tcp_sack_blocks() -> None:
    s = Ether() / IP() / TCP(flags="A", options=[
        ("NOP", None), ("NOP", None), ("Timestamp", (7, 8)),
        ("NOP", None), ("NOP", None), ("SAck", (1000, 2000, 3000, 4000))])
    seg = _ours(s).payload.payload
    assert seg.sack == ((1000, 2000), (3000, 4000)) and seg.timestamps == (7, 8)
    assert seg.flags == ACK


def test_decode_scapy_tcp_unknown_option() -> None:
    s = Ether() / IP() / TCP(options=[("MSS", 1400), (30, b"\x00\x01\x02\x03")])
    seg = _ours(s).payload.payload
    assert seg.mss == 1400 and seg.extra_options == b"\x1e\x06\x00\x01\x02\x03"


def test_decode_scapy_icmp_frag_needed() -> None:
    quoted = IP(src="10.0.0.1", dst="10.9.9.9", flags="DF") / UDP(sport=5000, dport=6000) / (b"q" * 100)
    s = Ether() / IP(src="10.0.0.254", dst="10.0.0.1") / ICMP(type=3, code=4, nexthopmtu=1400) / bytes(quoted)[:28]
    m = _ours(s).payload.payload
    assert (m.type, m.code, m.rest & 0xFFFF) == (ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, 1400)
    assert m.payload == bytes(quoted)[:28]
    ours = Icmp.error(ICMP_DEST_UNREACH, ICMP_FRAG_NEEDED, bytes(quoted)[:28], rest=1400)
    assert ours.encode() == bytes(s[ICMP])


def test_decode_scapy_icmp_echo() -> None:
    s = Ether() / IP() / ICMP(type=8, id=77, seq=3) / b"ping-payload"
    m = _ours(s).payload.payload
    assert (m.type, m.id, m.seq, m.payload) == (8, 77, 3, b"ping-payload")


def test_decode_scapy_vlan_frames() -> None:
    s = Ether(src="02:00:00:00:00:01") / SDot1Q(vlan=100, prio=5, dei=1) / IP() / UDP(sport=1, dport=2)
    frame = _ours(s)
    assert [(t.vid, t.pcp, t.dei, t.tpid) for t in frame.vlans] == [(100, 5, 1, ETH_P_8021Q)]
    assert frame.type == ETH_P_IP and isinstance(frame.payload.payload, Udp)
    qinq = Ether() / Dot1AD(vlan=10) / SDot1Q(vlan=20) / ARP(psrc="10.0.0.1", pdst="10.0.0.2")
    frame = _ours(qinq)
    assert [(t.vid, t.tpid) for t in frame.vlans] == [(10, ETH_P_8021AD), (20, ETH_P_8021Q)]
    assert isinstance(frame.payload, Arp) and frame.payload.tpa == ip_to_int("10.0.0.2")


def test_decode_scapy_ip_options() -> None:
    s = Ether() / IP(options=[IPOption_RR(routers=["1.2.3.4"]), IPOption_Router_Alert()]) / UDP() / b"x"
    frame = _ours(s)
    ihl = Ether(bytes(s))[IP].ihl
    raw = bytes(s[IP])[20:ihl * 4]
    assert ihl == 5 + 3  # RR with one slot (7 bytes) + RA (4 bytes), padded
    assert frame.payload.options == raw and len(raw) % 4 == 0
    assert isinstance(frame.payload.payload, Udp)


def test_decode_scapy_fragments() -> None:
    whole = IP(src="10.0.0.1", dst="10.0.0.2", id=999) / UDP(sport=7, dport=9) / (b"F" * 3000)
    frags = scapy_fragment(whole, fragsize=1480)
    assert len(frags) == 3
    parts = []
    for f in frags:
        frame = _ours(Ether() / f)
        ip = frame.payload
        assert isinstance(ip.payload, bytes) and ip.id == 999 and ip.proto == IPPROTO_UDP
        parts.append((ip.frag, ip.flags, ip.payload))
    assert [fl & IP_MF for _, fl, _ in parts] == [IP_MF, IP_MF, 0]
    assert b"".join(p for _, _, p in sorted(parts)) == bytes(whole[UDP])


def test_decode_scapy_arp_and_padding() -> None:
    s = Ether(dst="ff:ff:ff:ff:ff:ff") / ARP(op=2, hwsrc="02:aa:bb:cc:dd:ee", psrc="10.0.0.9",
                                            hwdst="02:00:00:00:00:01", pdst="10.0.0.1")
    data = bytes(s) + b"\x00" * 18  # a padded 60-byte frame from a real NIC
    frame = Ethernet.decode(data)
    assert frame.payload == Arp(2, bytes.fromhex("02aabbccddee"), ip_to_int("10.0.0.9"),
                                bytes.fromhex("020000000001"), ip_to_int("10.0.0.1"))
    ip_padded = bytes(Ether() / IP() / ICMP()) + b"\x00" * 18
    assert Ethernet.decode(ip_padded).encode() == ip_padded[:-18]
