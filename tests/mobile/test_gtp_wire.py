"""GTPv1-U and GTPv2-C bytes checked by an independent decoder: tshark's gtp and gtpv2 dissectors."""
from __future__ import annotations

import subprocess

import pytest

from netplex.packet.addr import ip_to_int
from netplex.packet.ethernet import Ethernet
from netplex.packet.gtpu import (
    GTPU_ECHO_REQUEST,
    GTPU_END_MARKER,
    GTPU_PORT,
    GtpU,
    GtpUError,
    echo_response,
    error_indication,
)
from netplex.packet.gtpv2c import (
    CAUSE,
    GTPV2C_PORT,
    IE,
    MSG,
    Gtpv2,
    Gtpv2Error,
    Ie,
    ambr,
    apn_decode,
    apn_encode,
    bearer_qos,
    cause,
    fteid,
    paa,
    read_fteid,
    read_paa,
    serving_network,
    tbcd,
    untbcd,
)
from netplex.packet.icmp import Icmp
from netplex.packet.ipv4 import IPv4
from netplex.packet.pcap import PcapWriter
from netplex.packet.udp import Udp


def frame(src: str, dst: str, sport: int, dport: int, payload: bytes) -> bytes:
    s, d = ip_to_int(src), ip_to_int(dst)
    ip = IPv4(s, d, 17, Udp(sport, dport, payload))
    return Ethernet(b"\x02\0\0\0\0\x02", b"\x02\0\0\0\0\x01", 0x0800, ip).encode()


def create_session_request() -> Gtpv2:
    return Gtpv2(MSG["Create Session Request"], 7, 0, [
        Ie(IE["IMSI"], tbcd("001010000000001")),
        Ie(IE["RAT Type"], bytes((6,))),
        serving_network("001", "01"),
        fteid("S11 MME GTP-C", 0x1111, "10.0.1.1"),
        fteid("S5/S8 PGW GTP-C", 0, "10.0.3.1", instance=1),
        Ie(IE["APN"], apn_encode("internet")),
        Ie(IE["Selection Mode"], b"\x00"),
        Ie(IE["PDN Type"], b"\x01"),
        paa("0.0.0.0"),
        ambr(100000, 100000),
        Ie(IE["Bearer Context"], [Ie(IE["EBI"], b"\x05"), bearer_qos()]),
    ])


def create_session_response() -> Gtpv2:
    return Gtpv2(MSG["Create Session Response"], 7, 0x1111, [
        cause(CAUSE["Request accepted"]),
        fteid("S11/S4 SGW GTP-C", 0x6666, "10.0.2.1"),
        paa("10.45.0.2"),
        Ie(IE["APN Restriction"], b"\x00"),
        Ie(IE["Bearer Context"], [Ie(IE["EBI"], b"\x05"), cause(CAUSE["Request accepted"]),
                                  fteid("S1-U SGW GTP-U", 0x7777, "10.0.2.1")]),
    ])


def test_gtpv2_roundtrip_and_typed_ies() -> None:
    req = create_session_request()
    back = Gtpv2.decode(req.encode())
    assert back == req
    assert untbcd(back.need("IMSI").value) == "001010000000001"
    assert read_fteid(back.need("F-TEID")) == ("S11 MME GTP-C", 0x1111, "10.0.1.1")
    assert apn_decode(back.need("APN").value) == "internet"
    rsp = Gtpv2.decode(create_session_response().encode())
    assert read_paa(rsp.need("PAA")) == "10.45.0.2"
    bc = rsp.need("Bearer Context")
    assert read_fteid(bc.find("F-TEID")) == ("S1-U SGW GTP-U", 0x7777, "10.0.2.1")


@pytest.mark.parametrize("data,cause_name", [
    (b"\x48\x20\x00", "Invalid length"),                               # shorter than a header
    (b"\x48\x20\x00\x30" + bytes(8), "Invalid length"),                 # length past the datagram
    (b"\x28\x20\x00\x08" + bytes(8), "Invalid Message Format"),         # GTPv1 on 2123
    (b"\x48\x20\x00\x0c" + bytes(8) + b"\x57\x00\x09\x00", "Invalid length"),  # IE runs past the end
])
def test_gtpv2_malformed_gives_the_cause(data: bytes, cause_name: str) -> None:
    with pytest.raises(Gtpv2Error) as e:
        Gtpv2.decode(data)
    assert e.value.cause == CAUSE[cause_name]


def test_gtpv2_missing_mandatory_ie() -> None:
    with pytest.raises(Gtpv2Error) as e:
        Gtpv2(MSG["Create Session Request"], 1).need("IMSI")
    assert e.value.cause == CAUSE["Mandatory IE missing"]


def test_gtpu_roundtrip_and_malformed() -> None:
    inner = IPv4(ip_to_int("10.45.0.2"), ip_to_int("8.8.8.8"), 1, Icmp(8, 0, 1, 1, b"x" * 8)).encode()
    g = GtpU(0x7777, inner)
    assert GtpU.decode(g.encode()) == g
    assert GtpU.decode(GtpU(1, b"", GTPU_ECHO_REQUEST, 9).encode()).seq == 9
    for bad in (b"\x30\xff\x00", b"\x50\xff\x00\x00\0\0\0\0", b"\x30\xff\x00\x09\0\0\0\0"):
        with pytest.raises(GtpUError):
            GtpU.decode(bad)


def _tshark(path, fields: list[str]) -> list[list[str]]:
    cmd = ["tshark", "-r", str(path), "-o", "udp.check_checksum:TRUE", "-o", "ip.check_checksum:TRUE",
           "-T", "fields", "-E", "separator=|", "-e", "frame.protocols", "-e", "_ws.expert.message"]
    for f in fields:
        cmd += ["-e", f]
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    assert proc.returncode == 0, proc.stderr
    return [r.split("|") for r in proc.stdout.splitlines()]


@pytest.mark.tools("tshark")
def test_tshark_decodes_gtpv2c(tmp_path) -> None:
    path = tmp_path / "s11.pcap"
    msgs = [create_session_request(), create_session_response(),
            Gtpv2(MSG["Modify Bearer Request"], 8, 0x6666, [
                Ie(IE["Bearer Context"], [Ie(IE["EBI"], b"\x05"), fteid("S1-U eNodeB GTP-U", 0x8888, "10.0.0.1")])]),
            Gtpv2(MSG["Modify Bearer Response"], 8, 0x1111, [cause(CAUSE["Request accepted"])]),
            Gtpv2(MSG["Delete Session Request"], 9, 0x6666, [Ie(IE["EBI"], b"\x05")]),
            Gtpv2(MSG["Delete Session Response"], 9, 0x1111, [cause(CAUSE["Context Not Found"])]),
            Gtpv2(MSG["Echo Request"], 10, None, [Ie(IE["Recovery"], b"\x00")])]
    with PcapWriter(str(path)) as w:
        for i, m in enumerate(msgs):
            w.write(i * 1000, frame("10.0.1.1", "10.0.2.1", GTPV2C_PORT, GTPV2C_PORT, m.encode()))
    rows = _tshark(path, ["gtpv2.message_type", "gtpv2.teid", "gtpv2.f_teid_interface_type",
                          "gtpv2.f_teid_gre_key", "gtpv2.f_teid_ipv4", "gtpv2.cause", "gtpv2.pdn_addr_and_prefix.ipv4",
                          "e212.imsi", "gtpv2.apn"])
    assert len(rows) == len(msgs)
    for r in rows:
        assert r[0] == "eth:ethertype:ip:udp:gtp:gtpv2", r   # tshark hands version 2 from gtp to gtpv2
        assert r[1] == "", r      # no expert warnings: nothing malformed
    assert [int(r[2]) for r in rows] == [32, 33, 34, 35, 36, 37, 1]
    assert rows[0][4] == "10,7" and rows[0][5] == "0x00001111,0x00000000" and rows[0][9] == "001010000000001"
    assert rows[0][10] == "internet"
    assert rows[1][3] == "0x00001111" and rows[1][4] == "11,1" and rows[1][5] == "0x00006666,0x00007777"
    assert rows[1][7] == "16,16" and rows[1][8] == "10.45.0.2"
    assert rows[2][4] == "0" and rows[2][6] == "10.0.0.1" and rows[5][7] == "64"


@pytest.mark.tools("tshark")
def test_tshark_decodes_gtpu(tmp_path) -> None:
    path = tmp_path / "s1u.pcap"
    inner = IPv4(ip_to_int("10.45.0.2"), ip_to_int("8.8.8.8"), 1, Icmp(8, 0, 1, 1, b"x" * 8))
    req = GtpU(0, b"", GTPU_ECHO_REQUEST, 5)
    msgs = [GtpU(0x7777, inner.encode()), req, echo_response(req), GtpU(0x7777, b"", GTPU_END_MARKER),
            error_indication(0x9999, ip_to_int("10.0.2.1"))]
    with PcapWriter(str(path)) as w:
        for i, m in enumerate(msgs):
            w.write(i * 1000, frame("10.0.0.1", "10.0.2.1", GTPU_PORT, GTPU_PORT, m.encode()))
    rows = _tshark(path, ["gtp.message", "gtp.teid", "gtp.seq_number"])
    assert [r[0] for r in rows] == ["eth:ethertype:ip:udp:gtp:ip:icmp:data"] + ["eth:ethertype:ip:udp:gtp"] * 4
    assert all(r[1] == "" for r in rows), rows
    assert [int(r[2], 0) for r in rows] == [255, 1, 2, 254, 26]
    assert rows[0][3] == "0x00007777"


def test_scapy_dissects_gtpv2c_and_gtpu() -> None:
    """A second independent decoder: scapy's contrib gtp_v2 and gtp layers."""
    from scapy.contrib import gtp, gtp_v2

    p = gtp_v2.GTPHeader(create_session_request().encode())
    assert (p.gtp_type, p.teid, p.seq) == (32, 0, 7)
    assert [type(ie).__name__ for ie in p.IE_list] == [
        "IE_IMSI", "IE_RAT", "IE_ServingNetwork", "IE_FTEID", "IE_FTEID", "IE_APN", "IE_SelectionMode",
        "IE_PDN_type", "IE_PAA", "IE_AMBR", "IE_BearerContext"]
    fteids = [(f.InterfaceType, f.GRE_Key, f.ipv4, f.instance) for f in p.IE_list if isinstance(f, gtp_v2.IE_FTEID)]
    assert fteids == [(10, 0x1111, "10.0.1.1", 0), (7, 0, "10.0.3.1", 1)]
    r = gtp_v2.GTPHeader(create_session_response().encode())
    assert next(ie for ie in r.IE_list if isinstance(ie, gtp_v2.IE_PAA)).ipv4 == "10.45.0.2"
    u = gtp.GTP_U_Header(GtpU(0x7777, b"\x45" + bytes(19)).encode())
    assert (u.teid, u.gtp_type, u.length) == (0x7777, 255, 20)


def test_a_partial_checksum_is_completed_for_the_tunnel() -> None:
    """On the twin a veth hands AF_PACKET a TCP packet whose checksum the sender left partial;
    the user plane completes it before encapsulating (realnet.complete_checksum)."""
    from netplex.mobile.realnet import complete_checksum
    from netplex.packet.ipv4 import verify as ip_ok
    from netplex.packet.tcp import Tcp
    from netplex.packet.udp import verify as udp_ok

    src, dst = ip_to_int("10.45.0.2"), ip_to_int("93.184.216.34")
    good = IPv4(src, dst, 6, Tcp(40000, 443, 1, 0, 0x02, 64240)).encode()
    partial = good[:36] + b"\x12\x34" + good[38:]
    assert complete_checksum(partial) == good and complete_checksum(good) == good
    dgram = IPv4(src, dst, 17, Udp(5000, 53, b"query")).encode()
    fixed = complete_checksum(dgram[:26] + b"\0\0" + dgram[28:])
    assert ip_ok(fixed) and udp_ok(fixed[20:], src, dst)
