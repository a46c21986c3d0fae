"""Diameter S6a (RFC 6733, TS 29.272) as real bytes over TCP between the MME and the HSS: the codec,
its refusals with the RFC's Result-Codes, tshark's reading of an attach's capture, and fuzzed requests
that never crash the HSS."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

import netplex.mobile  # noqa: F401  (registers the mobile node kinds)
from netplex.mobile.diameter_link import plmn_digits, plmn_octets, realm
from netplex.packet.addr import ip_to_int
from netplex.packet.diameter import (
    APP_S6A,
    CMD,
    DIAMETER_PORT,
    RESULT,
    Avp,
    Diameter,
    DiameterError,
    Framer,
)
from netplex.scenario.loader import load_scenario
from netplex.scenario.model import Probe
from netplex.scenario.runner import prepare, run_probe, run_scenario
from netplex.scenario.sim import SimBackend
from netplex.stack.tcp import TcpSocket
from tests.mobile.conftest import corrupted

ROOT = Path(__file__).resolve().parents[2]
ATTACH = ROOT / "examples" / "mobile" / "lte-attach.yaml"


def air(imsi: str = "001010000000001", hop: int = 7) -> Diameter:
    return Diameter(CMD["Authentication-Information"], APP_S6A, True, [
        Avp.make("Session-Id", f"mme9.{realm('00101')};1;1;AIR"), Avp.make("Auth-Session-State", 1),
        Avp.make("Origin-Host", f"mme9.{realm('00101')}"), Avp.make("Origin-Realm", realm("00101")),
        Avp.make("Destination-Realm", realm("00101")), Avp.make("User-Name", imsi),
        Avp.make("Visited-PLMN-Id", plmn_octets("00101")),
        Avp.make("Requested-EUTRAN-Authentication-Info", [Avp.make("Number-Of-Requested-Vectors", 1)])], hop, hop)


def test_codec_roundtrip_grouped_and_typed() -> None:
    msg = air()
    data = msg.encode()
    assert len(data) % 4 == 0 and data[0] == 1 and int.from_bytes(data[1:4], "big") == len(data)
    back = Diameter.decode(data)
    assert back == msg and back.name == "Authentication-Information-Request"
    assert back.get("User-Name") == "001010000000001"
    assert back.need("Requested-EUTRAN-Authentication-Info").get("Number-Of-Requested-Vectors") == 1
    assert plmn_digits(back.get("Visited-PLMN-Id")) == "00101" and plmn_octets("21407") == bytes.fromhex("12f470")
    assert Avp.make("MIP-Home-Agent-Address", "10.0.0.5").py() == "10.0.0.5"
    assert realm("46000") == "epc.mnc000.mcc460.3gppnetwork.org"


@pytest.mark.parametrize("mutate,result", [
    (lambda d: b"\x02" + d[1:], "DIAMETER_UNSUPPORTED_VERSION"),
    (lambda d: d[:-4], "DIAMETER_INVALID_MESSAGE_LENGTH"),
    (lambda d: d[:4] + b"\x83" + d[5:], "DIAMETER_INVALID_HDR_BITS"),          # a reserved header bit
    (lambda d: d[:24] + b"\x5f" + d[25:], "DIAMETER_INVALID_AVP_BITS"),        # Session-Id with reserved bits
    (lambda d: d[:25] + b"\xff\xff\xff" + d[28:], "DIAMETER_INVALID_AVP_LENGTH"),   # runs past the message
])
def test_malformed_gives_the_result_code(mutate, result: str) -> None:
    with pytest.raises(DiameterError) as e:
        Diameter.decode(mutate(air().encode()))
    assert e.value.result == RESULT[result]


def test_missing_avp_and_framing() -> None:
    with pytest.raises(DiameterError) as e:
        Diameter(318, APP_S6A, True, []).need("User-Name")
    assert e.value.result == RESULT["DIAMETER_MISSING_AVP"]
    a, b = air(hop=1).encode(), air(hop=2).encode()
    f = Framer()
    assert f.feed(a[:10]) == [] and f.feed(a[10:] + b[:30]) == [a] and f.feed(b[30:]) == [b]
    with pytest.raises(DiameterError):
        Framer().feed(b"\x01\x00\x00\x05" + bytes(16))


def _tshark(path: Path, *args: str) -> str:
    proc = subprocess.run(["tshark", "-r", str(path), *args], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.tools("tshark")
def test_tshark_decodes_s6a_over_tcp(tmp_path: Path) -> None:
    """The attach's S6a exchange on the HSS's link: CER/CEA, AIR/AIA, ULR/ULA over TCP 3868, read by
    `tshark -V` with no malformed packet and no warning; the AIA's vector and the ULA's PGW are the HSS's."""
    result = run_scenario(load_scenario(ATTACH), SimBackend(seed=0, pcap_dir=tmp_path))
    assert result.passed
    pcap = tmp_path / "hss1-eth0.pcap"
    text = _tshark(pcap, "-V", "-o", "tcp.check_checksum:TRUE")
    assert "Malformed" not in text and "[Expert Info (Warning" not in text and "[Expert Info (Error" not in text
    rows = [r.split("|") for r in _tshark(
        pcap, "-Y", "diameter", "-T", "fields", "-E", "separator=|", "-e", "diameter.cmd.code", "-e",
        "diameter.flags.request", "-e", "diameter.Result-Code", "-e", "diameter.User-Name", "-e",
        "diameter.applicationId").splitlines()]
    assert [(r[0], r[1]) for r in rows] == [("257", "1"), ("257", "0"), ("318", "1"), ("318", "0"),
                                            ("316", "1"), ("316", "0")]
    assert {r[2] for r in rows if r[1] == "0"} == {"2001"}
    assert {r[3] for r in rows if r[0] != "257" and r[1] == "1"} == {"001010000000001"}
    assert {r[4] for r in rows if r[0] != "257"} == {"16777251"}
    for want in ("Command Code: 3GPP-Authentication-Information (318)", "E-UTRAN-Vector", "KASME:",
                 "Visited-PLMN-Id: 00f110", "MIP-Home-Agent-Address(334) l=14 f=-M- val=10.0.0.5", "Service-Selection: internet",
                 "Max-Requested-Bandwidth-DL: 100000000", "Product-Name: netplex"):
        assert want in text, want


def _connect(be: SimBackend, node: str, dst: str) -> tuple[TcpSocket, list[bytes], list[bool]]:
    sk = be.node(node).ns.sockets.tcp_socket()
    got: list[bytes] = []
    closed: list[bool] = []
    framer = Framer()
    sk.on_data = lambda s, data: got.extend(framer.feed(data))
    sk.on_close = lambda s: closed.append(True)
    assert sk.connect(ip_to_int(dst), DIAMETER_PORT) == 0
    be.net.run_for(10_000_000)
    return sk, got, closed


def test_the_hss_answers_s6a_errors_and_survives_fuzzing() -> None:
    be = SimBackend(seed=0)
    assert prepare(load_scenario(ATTACH), be) is None
    sk, got, closed = _connect(be, "mme1", "10.0.0.3")
    sk.send(air("001010000000077", hop=5).encode())   # no CER first: the HSS answers all the same
    be.net.run_for(10_000_000)
    ans = Diameter.decode(got[-1])
    assert ans.result() == RESULT["DIAMETER_ERROR_USER_UNKNOWN"] and ans.hop == 5
    assert ans.find("Experimental-Result") is not None and ans.find("Result-Code") is None
    bad = air(hop=6)
    bad.avps = [a for a in bad.avps if a.name != "Visited-PLMN-Id"]
    sk.send(bad.encode())
    be.net.run_for(10_000_000)
    assert Diameter.decode(got[-1]).result() == RESULT["DIAMETER_MISSING_AVP"]
    results: set[int] = set()
    reconnects = 0
    for data in corrupted(air(hop=9).encode(), 23, 200):
        if closed or sk.state != 1:   # ESTABLISHED
            reconnects += 1
            sk, got, closed = _connect(be, "mme1", "10.0.0.3")
        sk.send(data)
        be.net.run_for(2_000_000)
        for raw in got:
            results.add(Diameter.decode(raw).result())
        got.clear()
    allowed = {RESULT[n] for n in ("DIAMETER_SUCCESS", "DIAMETER_ERROR_USER_UNKNOWN", "DIAMETER_MISSING_AVP",
                                   "DIAMETER_INVALID_AVP_LENGTH", "DIAMETER_INVALID_AVP_BITS",
                                   "DIAMETER_INVALID_HDR_BITS", "DIAMETER_UNABLE_TO_COMPLY",
                                   "DIAMETER_APPLICATION_UNSUPPORTED", "DIAMETER_COMMAND_UNSUPPORTED",
                                   "DIAMETER_INVALID_MESSAGE_LENGTH", "DIAMETER_UNSUPPORTED_VERSION")}
    assert results <= allowed, results - allowed
    assert len(results) >= 3 and reconnects >= 1
    assert be.node("hss1").daemon.alive
    r = run_probe(Probe.model_validate({"attach": {"ue": "ue1"}}), 0, be)
    assert r.passed, r.observed


@pytest.mark.tools("tshark")
def test_tshark_decodes_gx_and_the_gates_follow_the_rules(tmp_path: Path) -> None:
    """Gx (TS 29.212) over TCP: the PGW's CCR (INITIAL_REQUEST, the UE's IMSI and address) and the PCRF's
    CCA with one Charging-Rule-Definition per denied network, Flow-Status DISABLED; the PGW's gates are
    exactly those rules."""
    path = ROOT / "examples" / "mobile" / "lte-pcrf-block.yaml"
    result = run_scenario(load_scenario(path), SimBackend(seed=0, pcap_dir=tmp_path))
    assert result.passed, [p.to_json() for p in result.probes if not p.passed]
    pcap = tmp_path / "pcrf1-eth0.pcap"
    text = _tshark(pcap, "-V", "-o", "tcp.check_checksum:TRUE")
    assert "Malformed" not in text and "[Expert Info (Warning" not in text and "[Expert Info (Error" not in text
    rows = [r.split("|") for r in _tshark(
        pcap, "-Y", "diameter", "-T", "fields", "-E", "separator=|", "-e", "diameter.cmd.code", "-e",
        "diameter.flags.request", "-e", "diameter.Subscription-Id-Data", "-e", "diameter.Flow-Status", "-e",
        "diameter.Charging-Rule-Name", "-e", "diameter.applicationId").splitlines()]
    assert [(r[0], r[1]) for r in rows] == [("257", "1"), ("257", "0"), ("272", "1"), ("272", "0")]
    assert rows[2][2] == "001010000000001" and rows[2][5] == "16777238"
    assert rows[3][3] == "3,3" and rows[3][4] == f"{b'deny-0-0'.hex()},{b'deny-0-1'.hex()}"   # OctetString
    for want in ("CC-Request-Type: INITIAL_REQUEST (1)", "Framed-IP-Address(8) l=12 f=-M- val=10.45.0.2",
                 "Flow-Description: permit out ip from 157.240.0.0/16 to 10.45.0.2",
                 "Flow-Description: permit out ip from 31.13.64.0/18 to 10.45.0.2"):
        assert want in text, want
