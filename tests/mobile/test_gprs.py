"""The 2.5G/3G packet core as a user meets it: the gprs-pdp-context and generations scenarios, the
GPRS attach and PDP context activation, GTPv1-C bytes read by tshark, refusals with the 3GPP causes,
and fuzzed GTPv1-C that never crashes a node."""
from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

import netplex.mobile  # noqa: F401  (registers the mobile node kinds)
from netplex.errors import ScenarioError
from netplex.packet.addr import ip_to_int
from netplex.packet.gtpv1c import (
    CAUSE,
    GTPV1C_PORT,
    IE,
    MSG,
    Gtpv1,
    Gtpv1Error,
    Ie,
    end_user_address,
    gsn_address,
    read_end_user_address,
    read_gsn_address,
)
from netplex.packet.gtpv2c import apn_encode, tbcd
from netplex.scenario.loader import load_scenario, load_scenario_text
from netplex.scenario.model import Probe
from netplex.scenario.runner import prepare, run_probe, run_scenario
from netplex.scenario.sim import SimBackend
from tests.mobile.conftest import fuzz

ROOT = Path(__file__).resolve().parents[2]
PDP = ROOT / "examples" / "mobile" / "gprs-pdp-context.yaml"
GENERATIONS = ROOT / "examples" / "mobile" / "generations.yaml"


def prepared(text: str | None = None, path: Path = PDP, seed: int = 0) -> SimBackend:
    be = SimBackend(seed=seed)
    sc = load_scenario(path) if text is None else load_scenario_text(text, str(path))
    assert prepare(sc, be) is None
    return be


def probe(be: SimBackend, spec: dict):
    return run_probe(Probe.model_validate(spec), 0, be)


def create_pdp_request(imsi: str = "001010000000009") -> Gtpv1:
    return Gtpv1(MSG["Create PDP Context Request"], 3, 0, [
        Ie(IE["IMSI"], tbcd(imsi)), Ie(IE["Selection Mode"], b"\xfc"), Ie(IE["TEID Data I"], b"\0\0\0\x11"),
        Ie(IE["TEID Control Plane"], b"\0\0\0\x22"), Ie(IE["NSAPI"], b"\x05"), end_user_address(None),
        Ie(IE["APN"], apn_encode("internet")), gsn_address("10.1.0.9"), gsn_address("10.1.0.9")])


def test_gtpv1c_roundtrip_orders_ies_and_reads_them() -> None:
    req = create_pdp_request()
    back = Gtpv1.decode(req.encode())
    assert [ie.type for ie in back.ies] == sorted(ie.type for ie in req.ies)
    assert back.seq == 3 and back.teid == 0 and back.need_u32("TEID Control Plane") == 0x22
    assert read_end_user_address(back) is None and read_gsn_address(back, 1) == "10.1.0.9"
    rsp = Gtpv1(MSG["Create PDP Context Response"], 3, 0x22, [Ie(IE["Cause"], bytes((128,))),
                                                               end_user_address("10.46.0.2")])
    assert read_end_user_address(Gtpv1.decode(rsp.encode())) == "10.46.0.2"


@pytest.mark.parametrize("data,cause", [
    (b"\x32\x10\x00", "Invalid message format"),                          # shorter than a header
    (b"\x32\x10\x00\x30" + bytes(8), "Invalid message format"),            # length past the datagram
    (b"\x48\x10\x00\x04" + bytes(8), "Version not supported"),             # GTPv2 on a GTPv1 path
    (b"\x32\x10\x00\x06" + bytes(8) + b"\x02\x00", "Invalid message format"),   # TV IMSI cut short
    (b"\x32\x10\x00\x06" + bytes(8) + b"\x66\x00", "Invalid message format"),   # unknown TV type
    (b"\x32\x10\x00\x08" + bytes(8) + b"\x14\x05\x0e\x00", "Invalid message format"),   # IEs out of order
])
def test_gtpv1c_malformed_gives_the_cause(data: bytes, cause: str) -> None:
    with pytest.raises(Gtpv1Error) as e:
        Gtpv1.decode(data)
    assert e.value.cause == CAUSE[cause]


def test_gtpv1c_missing_and_wrong_sized_mandatory_ies() -> None:
    msg = Gtpv1(MSG["Create PDP Context Request"], 1, 0, [Ie(IE["APN"], b"")])
    with pytest.raises(Gtpv1Error) as e:
        msg.need("IMSI")
    assert e.value.cause == CAUSE["Mandatory IE missing"]
    with pytest.raises(Gtpv1Error) as e:
        Gtpv1(MSG["Create PDP Context Request"], 1, 0, [gsn_address("10.0.0.1")]).need("GSN Address", size=16)
    assert e.value.cause == CAUSE["Mandatory IE incorrect"]


def test_3g_attach_and_pdp_context() -> None:
    be = prepared()
    r = probe(be, {"attach": {"ue": "ms1"}})
    assert r.passed, r.observed
    o = r.observed
    assert o["ip"] == "10.46.0.2" and o["generation"] == "3G" and o["ran"] == "rnc1" and o["ggsn"] == "ggsn1"
    assert sorted(o["teids"]) == ["ggsn_teid_c", "ggsn_teid_u", "rnc_iu_teid", "sgsn_iu_teid", "sgsn_teid_c",
                                  "sgsn_teid_u"]
    assert len({int(v, 16) for v in o["teids"].values()}) == 6
    assert o["allocated_by"]["ggsn_teid_u"] == "ggsn1 (Gn GGSN GTP-U)"
    assert o["allocated_by"]["rnc_iu_teid"] == "rnc1 (Iu-U RNC GTP-U)"
    assert probe(be, {"ping": {"from": "ms1", "to": "8.8.8.8"}}).passed
    out = be.node("sgsn1").run("sgsn show pdp")
    assert out.status == 0
    row = out.output.splitlines()[1].split()
    assert row[:5] == ["001010000000001", "3G", "PDP-ACTIVE", "internet", "10.46.0.2"]
    assert o["teids"]["sgsn_teid_c"] in row and o["teids"]["rnc_iu_teid"] in row
    assert row[-2:] == ["1", "1"]   # one ping out, its reply back
    g = be.node("ggsn1").run("ggsn show pdp")
    assert g.status == 0 and o["teids"]["ggsn_teid_u"] in g.output and "10.46.0.2" in g.output
    h = be.node("hlr1").run("hlr show subscriber 001010000000001")
    assert h.status == 0 and "SGSN:   sgsn1" in h.output and "MSISDN: 33612345678" in h.output
    assert be.node("hlr1").run("hlr show subscriber 1234567").status == 1
    assert be.node("sgsn1").run("sgsn show").status == 2
    assert be.node("rnc1").run("sgsn show pdp").status == 1   # no SGSN daemon there
    again = probe(be, {"attach": {"ue": "ms1"}})
    assert not again.passed and again.observed["error"] == "ms1 is attached already"


def test_generations_side_by_side() -> None:
    result = run_scenario(load_scenario(GENERATIONS), SimBackend(seed=0))
    assert result.passed, [p.to_json() for p in result.probes if not p.passed]
    obs = [p.observed for p in result.probes]
    assert [o.get("generation") for o in obs[:2]] == ["2.5G", "3G"]
    assert "rnc_iu_teid" not in obs[0]["teids"]    # 2.5G: the user plane crosses Gb, not Iu-U
    assert sorted(obs[2]["teids"]) == [f"t{i}" for i in range(1, 9)]
    assert obs[0]["ip"].startswith("10.46.") and obs[1]["ip"].startswith("10.46.") and obs[2]["ip"].startswith("10.45.")
    rtts = [o["rtt_ms"] for o in obs[3:6]]
    assert rtts[0] > rtts[1] > rtts[2]   # Um, then UMTS Uu, then LTE: the radios' delays


WRONG_KEY = "00112233445566778899aabbccddeeff"


@pytest.mark.parametrize("edit,error,network", [
    (('key: "465b5ce8b199b49faa5f0a2ee238a6bc",\n           opc', f'key: "{WRONG_KEY}",\n           opc'),
     "Authentication and Ciphering Failure: GMM cause #20 (MAC failure)", "Authentication and Ciphering Failure"),
    (('{kind: ms, imsi: "001010000000001"', '{kind: ms, imsi: "001010000000002"'),
     "Attach Reject: GMM cause #8 (GPRS services and non-GPRS services not allowed)", "HLR: MAP unknownSubscriber"),
    (("opc: \"cd63cb71954a9f4e48a5994e37a02baf\", apn: internet}", "opc: \"cd63cb71954a9f4e48a5994e37a02baf\", apn: ims}"),
     "Activate PDP Context Reject: SM cause #33 (Requested service option not subscribed)", 'APN "ims" is not subscribed'),
])
def test_refusals_carry_the_24_008_cause(edit: tuple[str, str], error: str, network: str) -> None:
    text = PDP.read_text()
    assert edit[0] in text
    be = prepared(text.replace(edit[0], edit[1], 1))
    r = probe(be, {"attach": {"ue": "ms1"}})
    assert not r.passed and r.observed["error"].startswith(error), r.observed
    assert r.observed["network"].startswith(network)
    assert not probe(be, {"ping": {"from": "ms1", "to": "8.8.8.8"}}).passed


def test_2g_sres_mismatch_is_rejected() -> None:
    """2.5G: a GSM triplet cannot authenticate the network, so a wrong key shows at the SGSN: SRES differs."""
    text = GENERATIONS.read_text().replace(
        'ms2g:  {kind: ms, imsi: "001010000000021", key: "465b5ce8b199b49faa5f0a2ee238a6bc"',
        f'ms2g:  {{kind: ms, imsi: "001010000000021", key: "{WRONG_KEY}"', 1)
    be = prepared(text, GENERATIONS)
    r = probe(be, {"attach": {"ue": "ms2g"}})
    assert not r.passed and r.observed["error"] == "Authentication and Ciphering Reject"
    assert r.observed["network"] == "the MS's SRES does not match the HLR's vector"
    assert probe(be, {"attach": {"ue": "ms3g"}}).passed


@pytest.mark.parametrize("edit,message", [
    (("  nodeb1: {kind: nodeb}", "  nodeb1: {kind: nodeb, sgsn: sgsn1}"), "nodes.nodeb1.sgsn"),
    (("    sgsn: sgsn1\n", "    sgsn: hlr1\n"), 'nodes.rnc1.sgsn: node "hlr1" is of kind hlr, not sgsn'),
    (('msisdn: "33612345678"', 'msisdn: 33612345678'), "nodes.hlr1.subscribers[0].msisdn: write the MSISDN in quotes"),
    (("    hlr: hlr1\n", "    hlr: ggsn1\n"), 'nodes.sgsn1.hlr: node "ggsn1" is of kind ggsn, not hlr'),
])
def test_bad_keys_name_the_field(edit: tuple[str, str], message: str) -> None:
    text = PDP.read_text()
    assert edit[0] in text
    with pytest.raises(ScenarioError) as e:
        load_scenario_text(text.replace(edit[0], edit[1], 1), "x.yaml")
    assert message in str(e.value)


def test_fuzzed_gtpv1c_never_crashes_the_sgsn_or_the_ggsn() -> None:
    """Seeded fuzz: 300 corrupted Create PDP Context Requests at the GGSN and the SGSN. Each is answered
    with a TS 29.060 cause or dropped; both keep running and an attach works afterwards."""
    be = prepared()

    def cause_of(answer: bytes) -> int | None:
        ie = Gtpv1.decode(answer).find("Cause")
        return None if ie is None else ie.value[0]

    causes = fuzz(be, "hlr1", create_pdp_request().encode(), 17, [ip_to_int("10.1.0.4"), ip_to_int("10.1.0.2")],
                  GTPV1C_PORT, cause_of)
    allowed = {CAUSE[c] for c in ("Request accepted", "Invalid message format", "Mandatory IE missing",
                                  "Mandatory IE incorrect", "Context not found", "Service not supported",
                                  "Non-existent")}
    assert causes <= allowed, causes - allowed
    assert {CAUSE["Invalid message format"], CAUSE["Mandatory IE incorrect"]} <= causes
    assert be.node("sgsn1").daemon.alive and be.node("ggsn1").daemon.alive
    assert probe(be, {"attach": {"ue": "ms1"}}).passed
    assert probe(be, {"ping": {"from": "ms1", "to": "8.8.8.8"}}).passed


def _tshark_verbose(path: Path) -> str:
    proc = subprocess.run(["tshark", "-r", str(path), "-V", "-o", "udp.check_checksum:TRUE",
                           "-o", "ip.check_checksum:TRUE"], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return proc.stdout


@pytest.mark.tools("tshark")
def test_tshark_decodes_the_gprs_captures(tmp_path: Path) -> None:
    """Every GTPv1-C and GTP-U message of the 3G attach, ping and TCP connection, read by `tshark -V`
    with no malformed packet and no expert warning on the GTP layers; the TEIDs are the probe's."""
    result = run_scenario(load_scenario(PDP), SimBackend(seed=0, pcap_dir=tmp_path))
    assert result.passed
    teids = result.probes[0].observed["teids"]
    text = _tshark_verbose(tmp_path / "sgsn1-eth0.pcap")
    assert "Malformed" not in text and "Bad checksum" not in text
    assert "[Expert Info (Warning" not in text and "[Expert Info (Error" not in text
    assert text.count("Message Type: Create PDP context request (0x10)") == 1
    assert text.count("Message Type: Create PDP context response (0x11)") == 1
    assert "Cause: Request accepted (128)" in text and "APN: internet" in text
    assert "End user address IPv4: 10.46.0.2" in text and "E.164 number (MSISDN): 33612345678" in text
    for name in ("sgsn_teid_c", "sgsn_teid_u", "ggsn_teid_c", "ggsn_teid_u"):
        assert f"TEID {'Control Plane' if name.endswith('_c') else 'Data I'}: {teids[name]}" in text, name
    rows = subprocess.run(["tshark", "-r", str(tmp_path / "sgsn1-eth0.pcap"), "-Y", "gtp.message == 0xff",
                           "-T", "fields", "-e", "gtp.teid"], capture_output=True, text=True, timeout=60,
                          check=True).stdout.split()
    want = {int(teids[k], 16) for k in ("sgsn_iu_teid", "rnc_iu_teid", "sgsn_teid_u", "ggsn_teid_u")}
    assert {int(t, 16) for t in rows} == want
