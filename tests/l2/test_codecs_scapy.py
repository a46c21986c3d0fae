"""scapy, an independent dissector, reads our 802.1Q, VXLAN, GRE, IGMPv3 and BPDU bytes to the same fields."""
from __future__ import annotations

import pytest

pytest.importorskip("scapy")

from scapy.contrib.igmpv3 import IGMPv3, IGMPv3mr  # noqa: E402
from scapy.layers.inet import ICMP, IP, UDP  # noqa: E402
from scapy.layers.l2 import ARP, GRE, LLC, STP, Dot1Q, Ether  # noqa: E402
from scapy.layers.vxlan import VXLAN  # noqa: E402

from netplex.packet import Arp, Bpdu, Ethernet, Gre, Icmp, Igmp, IPv4, Udp, Vxlan, ip_to_int  # noqa: E402
from netplex.packet import Dot1Q as NDot1Q
from netplex.packet.gre import ETH_P_TEB, GRE_CSUM, GRE_KEY, GRE_SEQ  # noqa: E402
from netplex.packet.igmp import IGMPV3_CHANGE_TO_EXCLUDE, IGMPV3_HOST_MEMBERSHIP_REPORT, IPOPT_RA, IgmpGroupRecord  # noqa: E402
from netplex.packet.stp import BPDU_TYPE_TCN, BR_GROUP_ADDRESS, STP_CONFIG_LEN, STP_TCN_LEN  # noqa: E402

MAC1, MAC2 = b"\x02\x00\x00\x00\x01\x01", b"\x02\x00\x00\x00\x01\x02"


def _icmp_frame() -> Ethernet:
    ip = IPv4(ip_to_int("10.0.0.1"), ip_to_int("10.0.0.2"), 1, Icmp(8, 0, 7, 1, b"x" * 16), ttl=64, id=5)
    return Ethernet(MAC2, MAC1, 0x0800, ip)


@pytest.mark.parametrize("vid,pcp", [(1, 0), (100, 5), (4094, 7)])
def test_dot1q_fields(vid: int, pcp: int) -> None:
    f = _icmp_frame()
    f.vlans = (NDot1Q(vid, pcp),)
    s = Ether(f.encode())
    assert s.type == 0x8100
    assert (s[Dot1Q].vlan, s[Dot1Q].prio, s[Dot1Q].type) == (vid, pcp, 0x0800)
    assert s[ICMP].id == 7 and s[IP].dst == "10.0.0.2"
    back = Ethernet.decode(bytes(s))
    assert back.vlans[0].vid == vid and back.encode() == f.encode()


@pytest.mark.parametrize("port", [4789, 8472])
def test_vxlan_fields(port: int) -> None:
    inner = Ethernet(b"\xff" * 6, MAC1, 0x0806, Arp(1, MAC1, ip_to_int("10.0.0.1"), b"\x00" * 6,
                                                       ip_to_int("10.0.0.2")))
    outer = Ethernet(b"\x01\x00\x5e\x01\x01\x01", b"\x02" * 6, 0x0800,
                     IPv4(ip_to_int("192.168.1.1"), ip_to_int("239.1.1.1"), 17,
                          Udp(40000, port, Vxlan(101, inner)), ttl=1))
    data = outer.encode()
    from scapy.packet import bind_layers

    bind_layers(UDP, VXLAN, dport=port)
    s = Ether(data)
    assert s[UDP].dport == port and s[UDP].len == 8 + 8 + inner.wire_len()
    assert s[VXLAN].vni == 101 and s[VXLAN].flags == 0x08
    assert s[VXLAN].payload[Ether].src == "02:00:00:00:01:01"
    assert s[ARP].pdst == "10.0.0.2"
    # our UDP checksum is the one scapy computes (the kernel's udpcsum default: present)
    chk = s[UDP].chksum
    rebuilt = Ether(data)
    rebuilt[UDP].chksum = None
    assert chk and Ether(bytes(rebuilt))[UDP].chksum == chk
    assert len(data) - inner.wire_len() == 50   # the overhead VXLAN adds
    assert Ethernet.decode(data).encode() == data


@pytest.mark.parametrize("flags,key,seq", [(0, 0, 0), (GRE_KEY, 42, 0), (GRE_KEY | GRE_CSUM | GRE_SEQ, 7, 3),
                                           (GRE_CSUM, 0, 0)])
def test_gre_fields(flags: int, key: int, seq: int) -> None:
    inner = _icmp_frame().payload
    outer = IPv4(ip_to_int("192.0.2.1"), ip_to_int("192.0.2.2"), 47, Gre(0x0800, inner, flags, key, seq), ttl=64)
    data = outer.encode()
    s = IP(data)
    g = s[GRE]
    assert g.proto == 0x0800
    assert bool(g.key_present) == bool(flags & GRE_KEY) and bool(g.chksum_present) == bool(flags & GRE_CSUM)
    if flags & GRE_KEY:
        assert g.key == key
    if flags & GRE_SEQ:
        assert g.sequence_number == seq
    if flags & GRE_CSUM:
        chk = g.chksum
        g.chksum = None
        assert GRE(bytes(g)).chksum == chk
    assert g[IP].dst == "10.0.0.2" and g[ICMP].id == 7
    assert IPv4.decode(data).encode() == data


def test_gretap_carries_ethernet() -> None:
    inner = _icmp_frame()
    data = IPv4(1, 2, 47, Gre(ETH_P_TEB, inner, GRE_KEY, 9)).encode()
    s = IP(data)
    assert s[GRE].proto == 0x6558 and s[GRE].key == 9
    assert s[GRE].payload[Ether].dst == "02:00:00:00:01:02"
    assert IPv4.decode(data).encode() == data


def test_igmpv3_report() -> None:
    rep = Igmp(IGMPV3_HOST_MEMBERSHIP_REPORT, records=[IgmpGroupRecord(IGMPV3_CHANGE_TO_EXCLUDE,
                                                                       ip_to_int("239.1.1.1"))])
    ip = IPv4(ip_to_int("192.168.0.1"), ip_to_int("224.0.0.22"), 2, rep, ttl=1, tos=0xC0, flags=2,
              options=IPOPT_RA)
    data = ip.encode()
    s = IP(data)
    assert s.ttl == 1 and s.tos == 0xC0 and s.options[0].option == 20   # router alert
    g = s[IGMPv3]
    assert g.type == 0x22
    mr = s[IGMPv3mr]
    assert mr.numgrp == 1
    gr = mr.records[0]
    assert (gr.rtype, gr.maddr) == (4, "239.1.1.1")
    chk = g.chksum
    g.chksum = None
    assert IGMPv3(bytes(g)).chksum == chk
    assert IPv4.decode(data).encode() == data


def test_igmpv3_join_matches_the_kernels_bytes() -> None:
    """The join report a Linux 6.x VTEP sent for 239.1.1.1 (a leave differs only in record type 3)."""
    kernel = bytes.fromhex("46c0002800004000010243" "50c0a80001e0000016940400002200eafb00000001030000"
                           "00ef010101")
    rep = Igmp(IGMPV3_HOST_MEMBERSHIP_REPORT, records=[IgmpGroupRecord(3, ip_to_int("239.1.1.1"))])
    ours = IPv4(ip_to_int("192.168.0.1"), ip_to_int("224.0.0.22"), 2, rep, ttl=1, tos=0xC0, flags=2,
                options=IPOPT_RA).encode()
    assert ours == kernel


def test_config_bpdu() -> None:
    root = bytes.fromhex("1000020000000001")
    bridge = bytes.fromhex("2000020000000002")
    b = Bpdu(0, 0x01, root, 2, bridge, 0x8002, 256, 20 * 256, 2 * 256, 15 * 256)
    f = Ethernet(BR_GROUP_ADDRESS, MAC1, STP_CONFIG_LEN, b)
    data = f.encode()
    assert len(data) == 14 + 38
    s = Ether(data)
    assert s[LLC].dsap == 0x42 and s[LLC].ssap == 0x42 and s[LLC].ctrl == 3
    st = s[STP]
    assert (st.proto, st.version, st.bpdutype, st.bpduflags) == (0, 0, 0, 1)
    assert (st.rootid, st.rootmac, st.pathcost) == (0x1000, "02:00:00:00:00:01", 2)
    assert (st.bridgeid, st.bridgemac, st.portid) == (0x2000, "02:00:00:00:00:02", 0x8002)
    assert (st.age, st.maxage, st.hellotime, st.fwddelay) == (1, 20, 2, 15)
    back = Ethernet.decode(data)
    assert isinstance(back.payload, Bpdu) and back.payload == b


def test_tcn_bpdu() -> None:
    f = Ethernet(BR_GROUP_ADDRESS, MAC1, STP_TCN_LEN, Bpdu(BPDU_TYPE_TCN))
    data = f.encode()
    assert data[12:] == bytes.fromhex("0007424203000000" "80")
    assert Ethernet.decode(data).payload.type == BPDU_TYPE_TCN
