"""BGP-4 messages (netplex/packet/bgp.py): exact bytes, round trips, scapy's contrib BGP layer
as an independent decoder, and the NOTIFICATION codes malformed input earns."""
from __future__ import annotations

import pytest
from scapy.contrib import bgp as sbgp

from netplex.packet import bgp
from netplex.packet.bgp import Attributes, BgpError, Open, Update

P = lambda a, n: (int.from_bytes(bytes(map(int, a.split("."))), "big"), n)  # noqa: E731


def test_keepalive_is_the_bare_19_byte_header() -> None:
    assert bgp.encode_keepalive() == b"\xff" * 16 + b"\x00\x13\x04"


def test_open_round_trips_and_scapy_reads_its_fields() -> None:
    o = Open(asn=4200000001, hold_time=9, router_id=P("10.0.0.1", 0)[0], hostname="l1")
    raw = bgp.encode_open(o)
    buf = bytearray(raw)
    [(mtype, body)] = bgp.split_messages(buf)
    assert mtype == bgp.OPEN and not buf
    back = bgp.decode(mtype, body)
    assert isinstance(back, Open)
    assert (back.asn, back.hold_time, back.router_id, back.as4, back.route_refresh, back.hostname) == \
        (4200000001, 9, o.router_id, True, True, "l1")
    s = sbgp.BGPHeader(raw)
    assert s[sbgp.BGPOpen].my_as == bgp.AS_TRANS and s[sbgp.BGPOpen].hold_time == 9
    assert s[sbgp.BGPOpen].bgp_id == "10.0.0.1"
    caps = [p.param_value for p in s[sbgp.BGPOpen].opt_params]     # one capability per parameter, as FRR
    assert [c.code for c in caps] == [1, 2, 65, 73]   # multiprotocol, route refresh, 4-octet AS, hostname
    assert (caps[0].afi, caps[0].safi, caps[2].asn) == (1, 1, 4200000001)


def test_update_round_trips_and_scapy_decodes_path_and_nlri() -> None:
    u = Update(withdrawn=[P("10.9.0.0", 16)],
               attrs=Attributes(origin=bgp.ORIGIN_IGP, as_path=((bgp.AS_SEQUENCE, (65000, 65002)),),
                                next_hop=P("10.11.0.1", 0)[0], med=0),
               nlri=[P("10.2.0.0", 24), P("10.128.0.0", 9)])
    raw = bgp.encode_update(u)
    [(mtype, body)] = bgp.split_messages(bytearray(raw))
    assert bgp.decode(mtype, body) == u
    sbgp.bgp_module_conf.use_2_bytes_asn = False     # both ends announced four-octet AS
    try:
        s = sbgp.BGPHeader(raw)[sbgp.BGPUpdate]
    finally:
        sbgp.bgp_module_conf.use_2_bytes_asn = True
    assert [str(w.prefix) for w in s.withdrawn_routes] == ["10.9.0.0/16"]
    assert [str(n.prefix) for n in s.nlri] == ["10.2.0.0/24", "10.128.0.0/9"]
    attrs = {a.type_code: a for a in s.path_attr}
    assert attrs[2].attribute.segments[0].segment_value == [65000, 65002]
    assert attrs[3].attribute.next_hop == "10.11.0.1"
    assert attrs[4].attribute.med == 0


def test_two_octet_as_paths_use_as_trans_for_large_asns() -> None:
    a = Attributes(origin=0, as_path=((bgp.AS_SEQUENCE, (65001, 4200000001)),), next_hop=1)
    raw = bgp.encode_update(Update(attrs=a, nlri=[P("10.0.0.0", 8)]), as4=False)
    back = bgp.decode(bgp.UPDATE, raw[19:], as4=False)
    assert isinstance(back, Update) and back.attrs is not None
    assert back.attrs.as_path == ((bgp.AS_SEQUENCE, (65001, bgp.AS_TRANS)),)


def test_a_stream_is_cut_into_whole_messages_and_a_partial_tail_waits() -> None:
    ka = bgp.encode_keepalive()
    note = bgp.encode_notification(bgp.ERR_HOLD, 0)
    buf = bytearray(ka + note + ka[:7])
    assert [m for m, _ in bgp.split_messages(buf)] == [bgp.KEEPALIVE, bgp.NOTIFICATION]
    assert bytes(buf) == ka[:7]
    buf += ka[7:]
    assert [m for m, _ in bgp.split_messages(buf)] == [bgp.KEEPALIVE]


@pytest.mark.parametrize("raw, code, subcode", [
    (b"\x00" * 16 + b"\x00\x13\x04", 1, 1),                       # bad marker
    (b"\xff" * 16 + b"\x00\x12\x04", 1, 2),                       # length below 19
    (b"\xff" * 16 + b"\x00\x13\x09", 1, 3),                       # unknown type
])
def test_bad_headers_earn_their_notification(raw: bytes, code: int, subcode: int) -> None:
    with pytest.raises(BgpError) as e:
        bgp.split_messages(bytearray(raw))
    assert (e.value.code, e.value.subcode) == (code, subcode)


def test_an_update_with_nlri_and_no_next_hop_is_missing_a_mandatory_attribute() -> None:
    raw = bgp.encode_update(Update(attrs=Attributes(origin=0, as_path=()), nlri=[P("10.0.0.0", 8)]))
    with pytest.raises(BgpError) as e:
        bgp.decode(bgp.UPDATE, raw[19:])
    assert (e.value.code, e.value.subcode, e.value.data) == (3, 3, bytes((bgp.ATTR_NEXT_HOP,)))


def test_open_with_another_version_is_refused_naming_ours() -> None:
    raw = bytearray(bgp.encode_open(Open(asn=65001, hold_time=180, router_id=1)))
    raw[19] = 3
    with pytest.raises(BgpError) as e:
        bgp.decode(bgp.OPEN, bytes(raw[19:]))
    assert (e.value.code, e.value.subcode, e.value.data) == (2, 1, b"\x00\x04")
