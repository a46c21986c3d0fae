"""S1-MME as real bytes: S1AP (TS 36.413, aligned PER) carrying NAS (TS 24.301) over SCTP (RFC 9260).

The oracle is tshark's `sctp`, `s1ap` and `nas-eps` dissectors on the MME's capture; the PER
encoding of two IEs is also checked byte for byte against an eNodeB's InitialUEMessage.
"""
from __future__ import annotations

import json
import random
import subprocess
from pathlib import Path

import pytest

import netplex.mobile  # noqa: F401  (registers the mobile node kinds)
from netplex.mobile.gateways import Sgw
from netplex.mobile.milenage import Milenage, kasme
from netplex.mobile.mme import Mme
from netplex.mobile.ran import Enodeb
from netplex.packet.addr import ip_to_int
from netplex.packet.nas_eps import Nas, NasError
from netplex.packet.nas_security import NasSecurity, aes_cmac, eea2, eia2, kdf, kenb, nas_keys
from netplex.packet.s1ap import _W, IES, S1ap, S1apError, _field
from netplex.packet.sctp import Data, Sctp, SctpError, crc32c, crc32c_py
from netplex.scenario.loader import load_scenario, load_scenario_text
from netplex.scenario.runner import prepare
from netplex.scenario.sim import SimBackend
from tests.mobile.conftest import corrupted
from tests.mobile.test_epc import ATTACH, probe

needs_tshark = pytest.mark.tools("tshark")

IMSI = "001010000000001"
DATA = Path(__file__).resolve().parents[1] / "data" / "3gpp"


def test_crc32c_matches_rfc3720_vectors() -> None:
    """RFC 3720 §B.4 (the same CRC32c as SCTP's): 32 zero octets, 32 0xFF octets, 0..31 — by the C
    package when it is installed and by the pure-Python fallback, which must agree on any input."""
    for f in (crc32c, crc32c_py):
        assert f(bytes(32)) == 0x8A9136AA
        assert f(b"\xff" * 32) == 0x62A8AB43
        assert f(bytes(range(32))) == 0x46DD794E
    for n in (0, 1, 3, 17, 1500):
        data = bytes((i * 37 + n) & 0xFF for i in range(n))
        assert crc32c(data) == crc32c_py(data)


def test_per_encoding_of_ies_matches_an_enodeb() -> None:
    """EUTRAN-CGI (PLMN 450-06, cell 0x000010e) and RRC-Establishment-Cause mo-Signalling as an
    eNodeB's InitialUEMessage carries them: id, criticality ignore, open type length, value."""
    w = _W()
    _field(w, 100, 1, IES["EUTRAN-CGI"][1], {"PLMN": "45006", "cell-ID": 0x000010E})
    assert w.data().hex() == "006440080054f060000010e0"
    w = _W()
    _field(w, 134, 1, IES["RRC-Establishment-Cause"][1], "mo-Signalling")
    assert w.data().hex() == "0086400130"


def test_decoders_refuse_garbage_with_their_own_error() -> None:
    """Corrupted S1AP, NAS and SCTP bytes raise S1apError / NasError / SctpError, nothing else."""
    ue = S1ap("InitialUEMessage", {
        "ENB-UE-S1AP-ID": 1, "TAI": {"PLMN": "00101", "TAC": 1}, "RRC-Establishment-Cause": "mo-Signalling",
        "EUTRAN-CGI": {"PLMN": "00101", "cell-ID": 0x100}, "NAS-PDU": Nas("Attach Request", {
            "EPS mobile identity": {"IMSI": IMSI}, "ESM message container": {
                "name": "PDN Connectivity Request", "ies": {"PTI": 1, "Access point name": "internet"}}}).encode()})
    s1 = ue.encode()
    assert S1ap.decode(s1) == ue
    nas = ue.ies["NAS-PDU"]
    pkt = Sctp(36412, 36412, 7, []).encode()
    for data in corrupted(s1, 1, 500):
        try:
            S1ap.decode(data)
        except S1apError:
            pass
    causes = set()
    for data in corrupted(nas, 2, 500):
        try:
            Nas.decode(data)
        except NasError as e:
            causes.add(e.cause)
    assert causes <= {96, 97, 111} and 96 in causes
    rng = random.Random(3)
    for _ in range(200):
        with pytest.raises(SctpError):
            Sctp.decode(pkt + bytes(rng.randrange(256) for _ in range(rng.randrange(1, 9))))


@needs_tshark
def test_tshark_decodes_the_s1_mme_capture(tmp_path: Path) -> None:
    """Attach and MME-initiated detach on the MME's wire: the SCTP handshake, then S1 Setup and every
    S1AP message with its NAS message, no expert warning, every SCTP checksum verified; the E-RAB's
    GTP-TEIDs are t7 and t8. NAS is protected from the Security Mode Command on (security header types
    3, 4, then 2, sequence numbers counting up per direction), and the test reads it back with keys it
    derives itself from the USIM's K and the RAND/AUTN on the wire: every MAC verifies, every
    deciphered message is the one the attach sends."""
    be = SimBackend(seed=0, pcap_dir=tmp_path)
    assert prepare(load_scenario(ATTACH), be) is None
    teids = probe(be, {"attach": {"ue": "ue1"}}).observed["teids"]
    assert probe(be, {"cmd": {"node": "mme1", "run": f"mme detach {IMSI}"}}).passed
    be.net.run_for(1_000_000_000)
    be.net.stop_pcap()
    rows = subprocess.run(
        ["tshark", "-r", str(tmp_path / "mme1-eth0.pcap"), "-o", "sctp.checksum:CRC-32C", "-Y", "sctp", "-T",
         "fields", "-E", "separator=|", "-e", "frame.protocols", "-e", "_ws.expert.message", "-e", "sctp.chunk_type",
         "-e", "s1ap.procedureCode", "-e", "nas_eps.nas_msg_emm_type", "-e", "s1ap.gTP_TEID",
         "-e", "sctp.checksum.status", "-e", "nas_eps.security_header_type", "-e", "nas_eps.seq_no",
         "-e", "s1ap.NAS_PDU", "-e", "s1ap.nAS_PDU"], capture_output=True, text=True, timeout=60, check=True).stdout.splitlines()
    cells = [r.split("|") for r in rows]
    assert not [c for c in cells if c[1]], [c for c in cells if c[1]]
    assert {c[6] for c in cells} == {"1"}                       # checksum good
    assert [c[2] for c in cells[:4]] == ["1", "2", "10", "11"]  # INIT, INIT ACK, COOKIE ECHO, COOKIE ACK
    s1ap = [(int(c[3]), c[4], c[7].split(",")[0], c[8]) for c in cells if c[0].endswith(("s1ap", "nas-eps"))]
    assert s1ap == [
        (17, "", "", ""), (17, "", "", ""), (12, "0x41", "0", ""), (11, "0x52", "0", ""), (13, "0x53", "0", ""),
        (11, "0x5d", "3", "0"), (13, "", "4", "0"), (9, "", "2", "1"), (9, "", "", ""), (13, "", "2", "1"),
        (11, "", "2", "2"), (13, "", "2", "2"), (23, "", "", ""), (23, "", "", "")]
    assert [int(c[5], 16) for c in cells if c[5]] == [int(teids["t7"], 16), int(teids["t8"], 16)]
    # the keys, from the USIM's K and what crossed the wire (TS 33.401 A.2, A.7)
    pdus = [(int(c[3]), bytes.fromhex((c[9] or c[10]).replace(":", ""))) for c in cells if c[9] or c[10]]
    auth = Nas.decode(pdus[1][1])
    usim = Milenage(bytes.fromhex("465b5ce8b199b49faa5f0a2ee238a6bc"), bytes.fromhex("cd63cb71954a9f4e48a5994e37a02baf"))
    _, ck, ik, _, _ = usim.f2345(bytes.fromhex(auth.ies["RAND"]))
    k_asme = kasme(ck, ik, "00101", bytes.fromhex(auth.ies["AUTN"])[:6])     # P1 = SQN xor AK
    ue_side, mme_side = NasSecurity(k_asme, downlink=False), NasSecurity(k_asme, downlink=True)
    names = []
    for code, pdu in pdus[3:]:
        side = ue_side if code in (11, 9) else mme_side    # Downlink NAS, Initial Context Setup: the UE reads
        names.append(Nas.decode(side.unprotect(pdu)).name)
    assert names == ["Security Mode Command", "Security Mode Complete", "Attach Accept", "Attach Complete",
                     "Detach Request", "Detach Accept"]
    tampered = bytearray(pdus[-1][1])
    tampered[-1] ^= 1
    with pytest.raises(NasError):
        NasSecurity(k_asme, downlink=True).unprotect(bytes(tampered))   # the Detach Accept, as the MME reads it


def test_eea2_and_eia2_match_the_3gpp_test_sets() -> None:
    """TS 33.401 Annex C.1 (128-EEA2, sets 1-5) and C.2 (128-EIA2, sets 1-7), bit lengths included."""
    sets = json.loads((DATA / "eea2_eia2_test_sets.json").read_text())
    for t in sets["eea2"]:
        key, count, plain = bytes.fromhex(t["key"]), int(t["count"], 16), bytes.fromhex(t["plaintext"])
        out = eea2(key, count, t["bearer"], t["direction"], plain, t["bits"])
        want = bytes.fromhex(t["ciphertext"])
        assert out == want[:len(out)] and not any(want[len(out):])
        assert eea2(key, count, t["bearer"], t["direction"], out, t["bits"]) == plain[:len(out)]
    for t in sets["eia2"]:
        mac = eia2(bytes.fromhex(t["key"]), int(t["count"], 16), t["bearer"], t["direction"],
                   bytes.fromhex(t["message"]), t["bits"])
        assert mac.hex() == t["mac"]
    assert len(sets["eea2"]) == 5 and len(sets["eia2"]) == 7


def test_aes_cmac_and_the_kdf() -> None:
    """AES-CMAC against RFC 4493 §4 (empty, one block, 40 octets, 64 octets); the NAS keys are the
    low 128 bits of the A.7 KDF, distinct per algorithm type; a replayed COUNT is refused."""
    k = bytes.fromhex("2b7e151628aed2a6abf7158809cf4f3c")
    m = bytes.fromhex("6bc1bee22e409f96e93d7e117393172aae2d8a571e03ac9c9eb76fac45af8e51"
                      "30c81c46a35ce411e5fbc1191a0a52eff69f2445df4f9b17ad2b417be66c3710")
    assert aes_cmac(k, b"").hex() == "bb1d6929e95937287fa37d129b756746"
    assert aes_cmac(k, m[:16]).hex() == "070a16b46b4d4144f79bdd9dd04a287c"
    assert aes_cmac(k, m[:40]).hex() == "dfa66747de9ae63030ca32611497c827"
    assert aes_cmac(k, m).hex() == "51f0bebf7e3b9d92fc49741779363cfe"
    k_asme = bytes(range(32))
    enc, integ = nas_keys(k_asme)
    assert enc == kdf(k_asme, 0x15, b"\x01", b"\x02")[16:] and integ == kdf(k_asme, 0x15, b"\x02", b"\x02")[16:]
    assert enc != integ and kenb(k_asme, 0) != kenb(k_asme, 1)
    mme, ue = NasSecurity(k_asme, downlink=True), NasSecurity(k_asme, downlink=False)
    pdu = mme.protect(Nas("Detach Request").encode())
    assert Nas.decode(ue.unprotect(pdu)).name == "Detach Request"
    with pytest.raises(NasError):
        ue.unprotect(pdu)


IDLE = ATTACH.read_text().replace("    mme: mme1\n", "    mme: mme1\n    inactivity: 5\n", 1)


@needs_tshark
def test_idle_paging_and_service_request(tmp_path: Path) -> None:
    """`inactivity: 5` on the eNodeB: five quiet seconds after the attach it asks for the release
    (UEContextReleaseRequest), the MME has the SGW drop t8 (Release Access Bearers) and releases the
    UE: ECM-IDLE. A packet for the UE then waits at the SGW, which tells the MME (Downlink Data
    Notification); the MME pages the S-TMSI, the UE answers with a SERVICE REQUEST whose short MAC the
    MME verifies, and the bearer comes back to a new t8 — the ping gets its answer. Then, idle
    again, the UE's own packet brings it back the same way (cause mo-Data). tshark reads it all."""
    be = SimBackend(seed=0, pcap_dir=tmp_path)
    assert prepare(load_scenario_text(IDLE, str(ATTACH)), be) is None
    t8 = probe(be, {"attach": {"ue": "ue1"}}).observed["teids"]["t8"]
    mme, sgw = be.node("mme1").daemon, be.node("sgw1").daemon
    assert isinstance(mme, Mme) and isinstance(sgw, Sgw)
    be.net.run_for(12_000_000_000)
    ue, session = mme.by_imsi(IMSI), sgw.by_imsi(IMSI)
    assert ue is not None and session is not None
    assert ue.state == "IDLE" and session.t8 is None
    assert "IDLE" in probe(be, {"cmd": {"node": "mme1", "run": "mme show ue"}}).observed["output"]
    assert probe(be, {"ping": {"from": "pgw1", "to": "10.45.0.2"}}).passed          # paged
    assert ue.state == "ATTACHED" and session.t8 not in (None, int(t8, 16))
    be.net.run_for(12_000_000_000)
    assert ue.state == "IDLE"
    assert probe(be, {"ping": {"from": "ue1", "to": "8.8.8.8", "count": 3}}).passed   # mo-Data
    assert ue.state == "ATTACHED"
    be.net.stop_pcap()
    rows = subprocess.run(
        ["tshark", "-r", str(tmp_path / "mme1-eth0.pcap"), "-o", "sctp.checksum:CRC-32C", "-Y", "s1ap or gtpv2",
         "-T", "fields", "-E", "separator=|", "-e", "_ws.expert.message", "-e", "s1ap.procedureCode",
         "-e", "gtpv2.message_type", "-e", "nas_eps.security_header_type", "-e", "s1ap.RRC_Establishment_Cause"],
        capture_output=True, text=True, timeout=60, check=True).stdout.splitlines()
    cells = [r.split("|") for r in rows]
    assert not [c for c in cells if c[0]], [c for c in cells if c[0]]
    seq = [c[1] or c[2] for c in cells]
    after = seq[seq.index("18"):]                 # from the first UEContextReleaseRequest on
    assert after[:6] == ["18", "170", "171", "23", "23", "176"]
    assert after[6:10] == ["177", "10", "12", "9"], after
    assert [c[3] for c in cells if c[1] == "12"][1:] == ["12", "12"]    # the two SERVICE REQUESTs
    assert [c[4] for c in cells if c[1] == "12"] == ["3", "2", "4"]     # mo-Signalling, mt-Access, mo-Data


def test_fuzzed_s1_mme_never_crashes_the_mme() -> None:
    """Seeded corruptions on S1-MME: 300 SCTP packets from another node (bad checksums, and with the
    checksum recomputed: chunks nobody's association knows, answered by ABORT), 300 S1AP messages and
    300 NAS messages on the eNodeB's own association. The MME counts and drops what it cannot read
    (an unreadable NAS message of a known UE is answered with EMM STATUS and its TS 24.301 cause),
    crashes on none, and attaches the UE again and forwards its ping afterwards."""
    be = SimBackend(seed=0)
    assert prepare(load_scenario(ATTACH), be) is None
    assert probe(be, {"attach": {"ue": "ue1"}}).passed
    mme, enb = be.node("mme1").daemon, be.node("enb1").daemon
    assert isinstance(mme, Mme) and isinstance(enb, Enodeb)
    ue = mme.by_imsi(IMSI)
    assert ue is not None
    ids = {"MME-UE-S1AP-ID": ue.mme_ue_id, "ENB-UE-S1AP-ID": ue.enb_ue_id}
    valid = S1ap("UplinkNASTransport", {**ids, "NAS-PDU": Nas("Attach Complete", {"ESM message container": {
        "name": "Activate Default EPS Bearer Context Accept", "ies": {"EPS bearer identity": 5}}}).encode(),
        "TAI": {"PLMN": "00101", "TAC": 1}, "EUTRAN-CGI": {"PLMN": "00101", "cell-ID": 0x100}})
    for data in corrupted(valid.ies["NAS-PDU"], 6):
        enb.s1.send(enb.assoc, S1ap("UplinkNASTransport", {**valid.ies, "NAS-PDU": data}).encode(), 1)
        be.net.run_for(1_000_000)
    for data in corrupted(valid.encode(), 5):
        enb.s1.send(enb.assoc, data, 1)
        be.net.run_for(1_000_000)
    raw = be.node("hss1").ns.sockets.raw_socket(132)
    pkt = Sctp(36412, 36412, 0x1234, [Data(7, 1, 0, 18, S1ap("UEContextReleaseComplete", {
        "MME-UE-S1AP-ID": ue.mme_ue_id, "ENB-UE-S1AP-ID": ue.enb_ue_id}).encode()).chunk()])
    for i, data in enumerate(corrupted(pkt.encode(), 4)):
        if i % 2 and len(data) >= 12:   # a valid checksum over the corrupted bytes
            data = data[:8] + crc32c(data[:8] + bytes(4) + data[12:]).to_bytes(4, "little") + data[12:]
        raw.sendto(data, ip_to_int("10.0.0.2"))
        be.net.run_for(1_000_000)
    raw.close()
    c = mme.counters
    assert c["sctp_malformed"] > 50 and c["sctp_out_of_the_blue"] > 10
    assert c["s1ap_malformed"] > 50 and c["nas_malformed"] > 200 and c["nas_unprotected_dropped"] > 10
    assert c["nas_malformed"] == sum(v for k, v in c.items() if k.startswith("emm_status_cause_"))
    assert set(k for k in c if k.startswith("emm_status_cause_")) <= {f"emm_status_cause_{n}" for n in (96, 97, 111)}
    assert probe(be, {"ping": {"from": "ue1", "to": "8.8.8.8"}}).passed
    assert probe(be, {"cmd": {"node": "mme1", "run": f"mme detach {IMSI}"}}).passed
    be.net.run_for(1_000_000_000)
    assert probe(be, {"attach": {"ue": "ue1"}}).passed
    assert probe(be, {"ping": {"from": "ue1", "to": "8.8.8.8"}}).passed
